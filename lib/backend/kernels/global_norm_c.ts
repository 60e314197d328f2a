/**
 * `DiffusionGlobalNorm` for `wasm` and `cpu` with the compiled C kernels: the global L2 norm of
 * a list of float32 tensors in one native call (`../native/c/optim.c`), bit for bit the
 * JavaScript kernel's (`global_norm.ts`), which it replaces.
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import { addresses, GLOBAL_NORM, listInputs } from "./_optim.ts";
import type { KernelArgs, KernelContext, KernelSpec } from "./_spec.ts";
import { memoryStore } from "./_store.ts";

function _globalNormC(args: KernelArgs, ctx: KernelContext): tf.TensorInfo {
  const store = memoryStore(ctx.backendName, args.backend)!;
  const count = args.attrs!.count as number;
  const xs = listInputs(args.inputs, "x", count);
  const out = store.alloc([]);
  const { ptrs, sizes } = addresses(store, [xs]);
  store.f32(out)[0] = Math.sqrt(ctx.native!.c!.sumSquares(ptrs, sizes, count));
  return out;
}

/**
 * The `DiffusionGlobalNorm` kernel spec in C (registered with the C kernels only).
 *
 * @example
 * ```ts
 * import { globalNormC } from "./global_norm_c.ts";
 * import assert from "node:assert/strict";
 * assert.equal(globalNormC.needs, "c");
 * ```
 */
export const globalNormC: KernelSpec = {
  kernelName: GLOBAL_NORM,
  backends: ["wasm", "cpu"],
  needs: "c",
  kernelFunc: _globalNormC,
};
