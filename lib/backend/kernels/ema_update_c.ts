/**
 * `DiffusionEmaUpdate` for `wasm` and `cpu` with the compiled C kernels: one EMA update of every
 * weight in one native call (`../native/c/optim.c`), bit for bit the JavaScript kernel's
 * (`ema_update.ts`, which documents the inputs and attributes).
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import { addresses, EMA_UPDATE, type EmaAttrs, listInputs, updateTargets } from "./_optim.ts";
import type { KernelArgs, KernelContext, KernelSpec } from "./_spec.ts";
import { memoryStore } from "./_store.ts";

function _emaUpdateC(args: KernelArgs, ctx: KernelContext): tf.TensorInfo[] {
  const store = memoryStore(ctx.backendName, args.backend)!;
  const a = args.attrs as unknown as EmaAttrs;
  const e = listInputs(args.inputs, "e", a.count), w = listInputs(args.inputs, "w", a.count);
  const outs: tf.TensorInfo[] = [];
  const ed = updateTargets(store, e, a.fresh, 0, outs);
  const { ptrs, sizes } = addresses(store, [e, ed, w]);
  ctx.native!.c!.ema(ptrs, sizes, a.count, a.decay, a.d1);
  return outs;
}

/**
 * The `DiffusionEmaUpdate` kernel spec in C (registered with the C kernels only).
 *
 * @example
 * ```ts
 * import { emaUpdateC } from "./ema_update_c.ts";
 * import assert from "node:assert/strict";
 * assert.equal(emaUpdateC.needs, "c");
 * ```
 */
export const emaUpdateC: KernelSpec = {
  kernelName: EMA_UPDATE,
  backends: ["wasm", "cpu"],
  needs: "c",
  kernelFunc: _emaUpdateC,
};
