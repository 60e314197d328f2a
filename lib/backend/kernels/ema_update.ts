/**
 * `DiffusionEmaUpdate` for `wasm` and `cpu`: one update of an exponential moving average of
 * every weight in one kernel call, in JavaScript. Inputs `e*` (the averages) and `w*` (the
 * weights), float32 of equal sizes; attributes {@linkcode EmaAttrs}. Per value, in double
 * precision: `e' = decay e + d1 w`, rounded to float32 when stored. The averages are updated in
 * place, or written to new outputs where the attribute `fresh` says so (returned in order).
 * The C kernel (`ema_update_c.ts`) gives the same bits.
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import { EMA_UPDATE, type EmaAttrs, listInputs, updateTargets } from "./_optim.ts";
import type { KernelArgs, KernelContext, KernelSpec } from "./_spec.ts";
import { memoryStore } from "./_store.ts";

function _emaUpdate(args: KernelArgs, ctx: KernelContext): tf.TensorInfo[] {
  const store = memoryStore(ctx.backendName, args.backend)!;
  const a = args.attrs as unknown as EmaAttrs;
  const e = listInputs(args.inputs, "e", a.count), w = listInputs(args.inputs, "w", a.count);
  const outs: tf.TensorInfo[] = [];
  const ed = updateTargets(store, e, a.fresh, 0, outs);
  const { decay, d1 } = a;
  for (let i = 0; i < a.count; i++) {
    const es = store.f32(e[i]!), eo = store.f32(ed[i]!), wv = store.f32(w[i]!);
    for (let j = 0; j < es.length; j++) eo[j] = decay * es[j]! + d1 * wv[j]!;
  }
  return outs;
}

/**
 * The `DiffusionEmaUpdate` kernel spec (JavaScript).
 *
 * @example
 * ```ts
 * import { emaUpdate } from "./ema_update.ts";
 * import assert from "node:assert/strict";
 * assert.equal(emaUpdate.kernelName, "DiffusionEmaUpdate");
 * ```
 */
export const emaUpdate: KernelSpec = {
  kernelName: EMA_UPDATE,
  backends: ["wasm", "cpu"],
  needs: "none",
  kernelFunc: _emaUpdate,
};
