/**
 * `DiffusionGroupNormGrad` for `wasm` and `cpu`: the gradient of `DiffusionGroupNorm` (and of
 * the SiLU after it, when given `z` and its sigmoid `s`) in two passes, saving only `x`, the
 * statistics and the activation's inputs.
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import { channelStats, GROUP_NORM_GRAD, siluGrad } from "./_group_norm.ts";
import type { KernelArgs, KernelContext, KernelSpec } from "./_spec.ts";
import { memoryStore } from "./_store.ts";

function _groupNormGrad(args: KernelArgs, ctx: KernelContext): tf.TensorInfo[] {
  const store = memoryStore(ctx.backendName, args.backend)!;
  const { dy, x, gamma, stats, z, s } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const groups = args.attrs!.groups as number;
  const [b, h, w, c] = x!.shape as [number, number, number, number];
  const hw = h * w;
  const cg = c / groups;
  const n = hw * cg;
  const dx = store.alloc(x!.shape);
  const dgamma = store.alloc([c]);
  const dbeta = store.alloc([c]);
  const dyv = store.f32(dy!), xv = store.f32(x!), gv = store.f32(gamma!), sv = store.f32(stats!);
  const zv = z !== undefined ? store.f32(z) : null;
  const sg = s !== undefined ? store.f32(s) : null;
  const dxv = store.f32(dx);
  const dg = new Float64Array(c), db = new Float64Array(c);
  const sumA = new Float64Array(groups), sumB = new Float64Array(groups);
  // Per channel of the current sample: xhat = x * r + m; dx = r * dxhat + x * u + v.
  const r = new Float32Array(c), m = new Float32Array(c);
  const u = new Float32Array(c), v = new Float32Array(c);
  for (let i = 0; i < b; i++) {
    channelStats(sv, i, groups, c, m, r);
    for (let k = 0; k < c; k++) m[k] = -m[k]! * r[k]!;
    sumA.fill(0);
    sumB.fill(0);
    const base = i * hw * c;
    // Pass 1: dz (through SiLU when present), dxhat = dz * gamma into dx, and the sums.
    for (let p = 0; p < hw; p++) {
      const row = base + p * c;
      for (let g = 0; g < groups; g++) {
        let a = 0, q = 0;
        const k0 = g * cg;
        for (let k = k0; k < k0 + cg; k++) {
          const idx = row + k;
          const d = sg === null ? dyv[idx]! : siluGrad(dyv[idx]!, zv![idx]!, sg[idx]!);
          const xhat = xv[idx]! * r[k]! + m[k]!;
          dg[k]! += d * xhat;
          db[k]! += d;
          const dxh = d * gv[k]!;
          dxv[idx] = dxh;
          a += dxh;
          q += dxh * xhat;
        }
        sumA[g]! += a;
        sumB[g]! += q;
      }
    }
    // Pass 2: dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), as an affine map.
    for (let k = 0; k < c; k++) {
      const g = (k / cg) | 0;
      const ma = sumA[g]! / n, mb = sumB[g]! / n;
      u[k] = -r[k]! * r[k]! * mb;
      v[k] = -r[k]! * (ma + m[k]! * mb);
    }
    for (let p = 0; p < hw; p++) {
      const row = base + p * c;
      for (let k = 0; k < c; k++) {
        const idx = row + k;
        dxv[idx] = r[k]! * dxv[idx]! + xv[idx]! * u[k]! + v[k]!;
      }
    }
  }
  const dgv = store.f32(dgamma), dbv = store.f32(dbeta);
  for (let k = 0; k < c; k++) {
    dgv[k] = dg[k]!;
    dbv[k] = db[k]!;
  }
  return [dx, dgamma, dbeta];
}

/**
 * The `DiffusionGroupNormGrad` kernel spec.
 *
 * @example
 * ```ts
 * import { groupNormGrad } from "./group_norm_grad.ts";
 * import assert from "node:assert/strict";
 * assert.equal(groupNormGrad.kernelName, "DiffusionGroupNormGrad");
 * ```
 */
export const groupNormGrad: KernelSpec = {
  kernelName: GROUP_NORM_GRAD,
  backends: ["wasm", "cpu"],
  needs: "none",
  kernelFunc: _groupNormGrad,
};
