/**
 * `DiffusionAdamUpdate` for `wasm` and `cpu`: one Adam update of every parameter in one kernel
 * call, in JavaScript. Inputs `w*` (parameters), `m*`, `v*` (moments) and `g*` (gradients), all
 * float32 of equal sizes; attributes {@linkcode AdamAttrs}. In double precision, per value:
 * `m' = b1 m + c1 g`, `v' = b2 v + c2 g g`, `w' = w - step m' / (sqrt(v') + epsHat)`, each
 * rounded to float32 when stored. Tensors are updated in place, or written to new outputs where
 * the attribute `fresh` says so (returned in order: parameters, then m, then v). The C kernel
 * (`adam_update_c.ts`) gives the same bits.
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import { ADAM_UPDATE, type AdamAttrs, listInputs, updateTargets } from "./_optim.ts";
import type { KernelArgs, KernelContext, KernelSpec } from "./_spec.ts";
import { memoryStore } from "./_store.ts";

function _adamUpdate(args: KernelArgs, ctx: KernelContext): tf.TensorInfo[] {
  const store = memoryStore(ctx.backendName, args.backend)!;
  const a = args.attrs as unknown as AdamAttrs;
  const n = a.count;
  const w = listInputs(args.inputs, "w", n), m = listInputs(args.inputs, "m", n);
  const v = listInputs(args.inputs, "v", n), g = listInputs(args.inputs, "g", n);
  const outs: tf.TensorInfo[] = [];
  const wd = updateTargets(store, w, a.fresh, 0, outs);
  const md = updateTargets(store, m, a.fresh, n, outs);
  const vd = updateTargets(store, v, a.fresh, 2 * n, outs);
  const { beta1: b1, beta2: b2, c1, c2, stepSize, epsHat } = a;
  // Views only after the allocations: a growing wasm heap detaches older ones.
  for (let i = 0; i < n; i++) {
    const ws = store.f32(w[i]!), ms = store.f32(m[i]!), vs = store.f32(v[i]!);
    const wo = store.f32(wd[i]!), mo = store.f32(md[i]!), vo = store.f32(vd[i]!);
    const gv = store.f32(g[i]!);
    const len = ws.length;
    for (let j = 0; j < len; j++) {
      const gj = gv[j]!;
      const mj = b1 * ms[j]! + c1 * gj;
      const vj = b2 * vs[j]! + c2 * gj * gj;
      mo[j] = mj;
      vo[j] = vj;
      wo[j] = ws[j]! - stepSize * mj / (Math.sqrt(vj) + epsHat);
    }
  }
  return outs;
}

/**
 * The `DiffusionAdamUpdate` kernel spec (JavaScript).
 *
 * @example
 * ```ts
 * import { adamUpdate } from "./adam_update.ts";
 * import assert from "node:assert/strict";
 * assert.equal(adamUpdate.kernelName, "DiffusionAdamUpdate");
 * ```
 */
export const adamUpdate: KernelSpec = {
  kernelName: ADAM_UPDATE,
  backends: ["wasm", "cpu"],
  needs: "none",
  kernelFunc: _adamUpdate,
};
