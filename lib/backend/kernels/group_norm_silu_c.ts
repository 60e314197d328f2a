/**
 * `DiffusionGroupNormSiluC` for `wasm` and `cpu` with the compiled C kernels: GroupNorm (+ SiLU)
 * vectorised and parallel, outputs `y` and the statistics, nothing else saved.
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import { openFenv } from "../native/fenv.ts";
import { GROUP_NORM_SILU_C } from "./_group_norm.ts";
import type { KernelArgs, KernelContext, KernelSpec } from "./_spec.ts";
import { memoryStore } from "./_store.ts";

/** GroupNorm (+ SiLU) in the compiled C kernels: y and the statistics, nothing else saved. */
function _groupNormSiluC(args: KernelArgs, ctx: KernelContext): tf.TensorInfo[] {
  const store = memoryStore(ctx.backendName, args.backend)!;
  const c = ctx.native!.c!;
  const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
  const { groups, eps, silu } = args.attrs as { groups: number; eps: number; silu: boolean };
  const [b, h, w, ch] = x!.shape as [number, number, number, number];
  const y = store.alloc(x!.shape);
  const stats = store.alloc([b, groups, 2]);
  const p = store.pointer;
  const fenv = openFenv();
  fenv?.enter();
  const status = c.gnForward(
    p(x!),
    p(gamma!),
    p(beta!),
    p(y),
    p(stats),
    b,
    h * w,
    ch,
    groups,
    eps,
    silu,
  );
  fenv?.leave();
  if (status !== 0) throw new Error(`GroupNorm C kernel: unsupported shape [${x!.shape}]`);
  return [y, stats];
}

/**
 * The `DiffusionGroupNormSiluC` kernel spec (registered with the C kernels only).
 *
 * @example
 * ```ts
 * import { groupNormSiluC } from "./group_norm_silu_c.ts";
 * import assert from "node:assert/strict";
 * assert.equal(groupNormSiluC.kernelName, "DiffusionGroupNormSiluC");
 * ```
 */
export const groupNormSiluC: KernelSpec = {
  kernelName: GROUP_NORM_SILU_C,
  backends: ["wasm", "cpu"],
  needs: "c",
  kernelFunc: _groupNormSiluC,
};
