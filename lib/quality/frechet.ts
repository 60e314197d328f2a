/**
 * The Fréchet distance between two Gaussians fitted to feature sets (the quantity behind FID):
 * `|mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2)`, in float64, with the square roots
 * taken by symmetric eigendecomposition (the product `S1 S2` is not symmetric; the symmetric
 * form has the same trace of its square root and stays real).
 *
 * @module
 */
import { matmul, meanCov, sqrtPsd } from "./linalg.ts";

/** A Gaussian fitted to features. */
export interface FeatureStats {
  /** The dimension. */
  d: number;
  /** How many feature rows were used. */
  n: number;
  /** The mean (`d`). */
  mean: Float64Array;
  /** The unbiased covariance (`d * d`). */
  cov: Float64Array;
}

/**
 * Fits a Gaussian to feature rows.
 *
 * @param rows `n * d` features.
 * @param d The dimension.
 * @returns The statistics.
 *
 * @example
 * ```ts
 * import { featureStats } from "./frechet.ts";
 * import assert from "node:assert/strict";
 * const s = featureStats(new Float32Array([0, 2, 2, 0]), 2);
 * assert.equal(s.n, 2);
 * assert.deepEqual(Array.from(s.mean), [1, 1]);
 * ```
 */
export function featureStats(rows: ArrayLike<number>, d: number): FeatureStats {
  const { mean, cov } = meanCov(rows, d);
  return { d, n: rows.length / d, mean, cov };
}

/**
 * The Fréchet distance between two fitted Gaussians.
 *
 * @param a One set's statistics.
 * @param b The other's (same dimension).
 * @returns The distance (squared units of the features), never negative.
 *
 * @example
 * ```ts
 * import { frechetDistance } from "./frechet.ts";
 * import assert from "node:assert/strict";
 * // Two 1-D Gaussians: (mu1 - mu2)^2 + (sigma1 - sigma2)^2 = 1 + 1.
 * const a = { d: 1, n: 10, mean: new Float64Array([0]), cov: new Float64Array([1]) };
 * const b = { d: 1, n: 10, mean: new Float64Array([1]), cov: new Float64Array([4]) };
 * assert.ok(Math.abs(frechetDistance(a, b) - 2) < 1e-12);
 * ```
 */
export function frechetDistance(a: FeatureStats, b: FeatureStats): number {
  if (a.d !== b.d) {
    throw new RangeError(`Cannot compare features of dimension ${a.d} and ${b.d}`);
  }
  const d = a.d;
  let dm = 0;
  for (let i = 0; i < d; i++) dm += (a.mean[i]! - b.mean[i]!) ** 2;
  const s1 = sqrtPsd(a.cov, d);
  const middle = matmul(matmul(s1, b.cov, d), s1, d);
  // Symmetrise against rounding before the second square root.
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const v = (middle[i * d + j]! + middle[j * d + i]!) / 2;
      middle[i * d + j] = v;
      middle[j * d + i] = v;
    }
  }
  const root = sqrtPsd(middle, d);
  let tr = 0;
  for (let i = 0; i < d; i++) tr += a.cov[i * d + i]! + b.cov[i * d + i]! - 2 * root[i * d + i]!;
  return Math.max(0, dm + tr);
}
