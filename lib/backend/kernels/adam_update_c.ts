/**
 * `DiffusionAdamUpdate` for `wasm` and `cpu` with the compiled C kernels: one Adam update of
 * every parameter in one native call (`../native/c/optim.c`), bit for bit the JavaScript
 * kernel's (`adam_update.ts`, which documents the inputs and attributes).
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import { ADAM_UPDATE, type AdamAttrs, addresses, listInputs, updateTargets } from "./_optim.ts";
import type { KernelArgs, KernelContext, KernelSpec } from "./_spec.ts";
import { memoryStore } from "./_store.ts";

function _adamUpdateC(args: KernelArgs, ctx: KernelContext): tf.TensorInfo[] {
  const store = memoryStore(ctx.backendName, args.backend)!;
  const a = args.attrs as unknown as AdamAttrs;
  const n = a.count;
  const w = listInputs(args.inputs, "w", n), m = listInputs(args.inputs, "m", n);
  const v = listInputs(args.inputs, "v", n), g = listInputs(args.inputs, "g", n);
  const outs: tf.TensorInfo[] = [];
  const wd = updateTargets(store, w, a.fresh, 0, outs);
  const md = updateTargets(store, m, a.fresh, n, outs);
  const vd = updateTargets(store, v, a.fresh, 2 * n, outs);
  // Addresses only after the allocations: a growing wasm heap moves.
  const { ptrs, sizes } = addresses(store, [w, wd, m, md, v, vd, g]);
  ctx.native!.c!.adam(ptrs, sizes, n, a.beta1, a.beta2, a.c1, a.c2, a.stepSize, a.epsHat);
  return outs;
}

/**
 * The `DiffusionAdamUpdate` kernel spec in C (registered with the C kernels only).
 *
 * @example
 * ```ts
 * import { adamUpdateC } from "./adam_update_c.ts";
 * import assert from "node:assert/strict";
 * assert.equal(adamUpdateC.needs, "c");
 * ```
 */
export const adamUpdateC: KernelSpec = {
  kernelName: ADAM_UPDATE,
  backends: ["wasm", "cpu"],
  needs: "c",
  kernelFunc: _adamUpdateC,
};
