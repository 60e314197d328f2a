/**
 * `DiffusionGroupNorm` for `wasm` and `cpu`: GroupNorm of NHWC `x` in JavaScript, statistics and
 * the affine map in two passes; outputs `z` and the per-group mean and 1/std (`[B, groups, 2]`).
 * The op is `groupNormSilu` of `../ops/group_norm_silu.ts`.
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import { channelStats, GROUP_NORM, groupStats } from "./_group_norm.ts";
import type { KernelArgs, KernelContext, KernelSpec } from "./_spec.ts";
import { memoryStore } from "./_store.ts";

function _groupNorm(args: KernelArgs, ctx: KernelContext): tf.TensorInfo[] {
  const store = memoryStore(ctx.backendName, args.backend)!;
  const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
  const groups = args.attrs!.groups as number;
  const eps = args.attrs!.eps as number;
  const [b, h, w, c] = x!.shape as [number, number, number, number];
  const hw = h * w;
  const z = store.alloc(x!.shape);
  const stats = store.alloc([b, groups, 2]);
  const xv = store.f32(x!), zv = store.f32(z), sv = store.f32(stats);
  const gv = store.f32(gamma!), bv = store.f32(beta!);
  groupStats(xv, b, hw, c, groups, eps, sv);
  // Per sample: z = x * (rstd * gamma) + (beta - mean * rstd * gamma), per channel.
  const mean = new Float32Array(c), rstd = new Float32Array(c);
  const scale = new Float32Array(c), shift = new Float32Array(c);
  for (let i = 0; i < b; i++) {
    channelStats(sv, i, groups, c, mean, rstd);
    for (let k = 0; k < c; k++) {
      scale[k] = rstd[k]! * gv[k]!;
      shift[k] = bv[k]! - mean[k]! * rstd[k]! * gv[k]!;
    }
    const base = i * hw * c;
    for (let s = 0; s < hw; s++) {
      const row = base + s * c;
      for (let k = 0; k < c; k++) zv[row + k] = xv[row + k]! * scale[k]! + shift[k]!;
    }
  }
  return [z, stats];
}

/**
 * The `DiffusionGroupNorm` kernel spec.
 *
 * @example
 * ```ts
 * import { groupNorm } from "./group_norm.ts";
 * import assert from "node:assert/strict";
 * assert.equal(groupNorm.kernelName, "DiffusionGroupNorm");
 * ```
 */
export const groupNorm: KernelSpec = {
  kernelName: GROUP_NORM,
  backends: ["wasm", "cpu"],
  needs: "none",
  kernelFunc: _groupNorm,
};
