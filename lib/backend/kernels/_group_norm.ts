/**
 * What the GroupNorm kernels share: their names, and the per-group statistics of the
 * JavaScript pair (`group_norm.ts`, `group_norm_grad.ts`).
 *
 * @module
 */

/** GroupNorm (JavaScript): outputs `[z, stats]`, the affine output and per-group mean, 1/std. */
export const GROUP_NORM = "DiffusionGroupNorm";
/** Its gradient (JavaScript), through the SiLU when `z` and `s` (its sigmoid) are given. */
export const GROUP_NORM_GRAD = "DiffusionGroupNormGrad";
/** GroupNorm + optional SiLU in the compiled C kernels: outputs `[y, stats]`. */
export const GROUP_NORM_SILU_C = "DiffusionGroupNormSiluC";
/** Its gradient in C: outputs `[dx, dgamma, dbeta]`. */
export const GROUP_NORM_SILU_C_GRAD = "DiffusionGroupNormSiluCGrad";

/** Per (sample, group) mean and 1/std of NHWC `x`, in float64 sums over one pass. */
export function groupStats(
  x: Float32Array,
  b: number,
  hw: number,
  c: number,
  groups: number,
  eps: number,
  out: Float32Array,
): void {
  const cg = c / groups;
  const n = hw * cg;
  const s1 = new Float64Array(groups), s2 = new Float64Array(groups);
  for (let i = 0; i < b; i++) {
    s1.fill(0);
    s2.fill(0);
    const base = i * hw * c;
    for (let s = 0; s < hw; s++) {
      const row = base + s * c;
      for (let g = 0; g < groups; g++) {
        let a = 0, q = 0;
        const start = row + g * cg;
        for (let j = 0; j < cg; j++) {
          const v = x[start + j]!;
          a += v;
          q += v * v;
        }
        s1[g]! += a;
        s2[g]! += q;
      }
    }
    for (let g = 0; g < groups; g++) {
      const mean = s1[g]! / n;
      const variance = Math.max(0, s2[g]! / n - mean * mean);
      out[2 * (i * groups + g)] = mean;
      out[2 * (i * groups + g) + 1] = 1 / Math.sqrt(variance + eps);
    }
  }
}

/** Copies sample `i`'s per-group mean and 1/std from `stats` to each channel of the group. */
export function channelStats(
  stats: Float32Array,
  i: number,
  groups: number,
  c: number,
  mean: Float32Array,
  rstd: Float32Array,
): void {
  const cg = c / groups;
  for (let k = 0; k < c; k++) {
    const at = 2 * (i * groups + ((k / cg) | 0));
    mean[k] = stats[at]!;
    rstd[k] = stats[at + 1]!;
  }
}

/** `dy · d silu(z) / dz`, with `sig` the sigmoid of `z`. */
export function siluGrad(dy: number, z: number, sig: number): number {
  return dy * sig * (1 + z * (1 - sig));
}
