/**
 * `DiffusionGroupNormSiluCGrad` for `wasm` and `cpu` with the compiled C kernels: the gradient
 * of `DiffusionGroupNormSiluC` from `x`, the parameters and the statistics.
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import { openFenv } from "../native/fenv.ts";
import { GROUP_NORM_SILU_C_GRAD } from "./_group_norm.ts";
import type { KernelArgs, KernelContext, KernelSpec } from "./_spec.ts";
import { memoryStore } from "./_store.ts";

let _partial = new Float64Array(0);

function _groupNormSiluCGrad(args: KernelArgs, ctx: KernelContext): tf.TensorInfo[] {
  const store = memoryStore(ctx.backendName, args.backend)!;
  const c = ctx.native!.c!;
  const { dy, x, gamma, beta, stats } = args.inputs as Record<string, tf.TensorInfo>;
  const { groups, silu } = args.attrs as { groups: number; silu: boolean };
  const [b, h, w, ch] = x!.shape as [number, number, number, number];
  const dx = store.alloc(x!.shape);
  const dgamma = store.alloc([ch]);
  const dbeta = store.alloc([ch]);
  if (_partial.length < 2 * b * ch) _partial = new Float64Array(2 * b * ch);
  const p = store.pointer;
  const fenv = openFenv();
  fenv?.enter();
  const status = c.gnBackward(
    p(dy!),
    p(x!),
    p(gamma!),
    p(beta!),
    p(stats!),
    p(dx),
    p(dgamma),
    p(dbeta),
    Deno.UnsafePointer.of(_partial),
    b,
    h * w,
    ch,
    groups,
    silu,
  );
  fenv?.leave();
  if (status !== 0) throw new Error(`GroupNorm C kernel: unsupported shape [${x!.shape}]`);
  return [dx, dgamma, dbeta];
}

/**
 * The `DiffusionGroupNormSiluCGrad` kernel spec (registered with the C kernels only).
 *
 * @example
 * ```ts
 * import { groupNormSiluCGrad } from "./group_norm_silu_c_grad.ts";
 * import assert from "node:assert/strict";
 * assert.equal(groupNormSiluCGrad.kernelName, "DiffusionGroupNormSiluCGrad");
 * ```
 */
export const groupNormSiluCGrad: KernelSpec = {
  kernelName: GROUP_NORM_SILU_C_GRAD,
  backends: ["wasm", "cpu"],
  needs: "c",
  kernelFunc: _groupNormSiluCGrad,
};
