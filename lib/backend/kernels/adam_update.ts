/**
 * `DiffusionAdamUpdate` for `wasm` and `cpu`: one Adam update of every parameter in one kernel
 * call, in JavaScript. Inputs `w*` (parameters), `m*`, `v*` (moments) and `g*` (gradients), all
 * float32 of equal sizes; attributes {@linkcode AdamAttrs}. Per value, in float32 arithmetic with
 * each operation rounded as tfjs's ops round it (so that the result equals their composition):
 * `m' = m b1 + g c1`, `v' = v b2 + (g g) c2`, `w' = w - (m' step) / (sqrt(v') + epsHat)`. Tensors are updated in place, or written to new outputs where
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
  const f = Math.fround;
  const b1 = f(a.beta1), b2 = f(a.beta2), c1 = f(a.c1), c2 = f(a.c2);
  const stepSize = f(a.stepSize), epsHat = f(a.epsHat);
  // Views only after the allocations: a growing wasm heap detaches older ones.
  for (let i = 0; i < n; i++) {
    const ws = store.f32(w[i]!), ms = store.f32(m[i]!), vs = store.f32(v[i]!);
    const wo = store.f32(wd[i]!), mo = store.f32(md[i]!), vo = store.f32(vd[i]!);
    const gv = store.f32(g[i]!);
    const len = ws.length;
    for (let j = 0; j < len; j++) {
      const gj = gv[j]!;
      const mj = f(f(ms[j]! * b1) + f(gj * c1));
      const vj = f(f(vs[j]! * b2) + f(f(gj * gj) * c2));
      mo[j] = mj;
      vo[j] = vj;
      wo[j] = ws[j]! - f(f(mj * stepSize) / f(f(Math.sqrt(vj)) + epsHat));
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
