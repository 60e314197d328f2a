/**
 * Small dense linear algebra in float64 for the quality measures: feature means and
 * covariances, the eigendecomposition of a symmetric matrix (cyclic Jacobi, accurate to machine
 * precision for the 128 x 128 covariances used here), and the square root of a symmetric
 * positive semi-definite matrix.
 *
 * Matrices are row-major `Float64Array`s of `n * n` elements.
 *
 * @module
 */

/**
 * The mean and the unbiased covariance (divided by N - 1) of N feature rows of dimension `d`.
 *
 * @param rows `N * d` values, one row per sample.
 * @param d The dimension.
 * @returns `mean` (`d`) and `cov` (`d * d`).
 *
 * @example
 * ```ts
 * import { meanCov } from "./linalg.ts";
 * import assert from "node:assert/strict";
 * const { mean, cov } = meanCov(new Float32Array([1, 0, 3, 2]), 2);
 * assert.deepEqual(Array.from(mean), [2, 1]);
 * assert.deepEqual(Array.from(cov), [2, 2, 2, 2]);
 * ```
 */
export function meanCov(
  rows: ArrayLike<number>,
  d: number,
): { mean: Float64Array; cov: Float64Array } {
  const n = rows.length / d;
  if (!Number.isInteger(n) || n < 2) {
    throw new RangeError(
      `Cannot estimate a covariance: need at least 2 rows of ${d}, got ${rows.length} values`,
    );
  }
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += rows[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= n;
  const cov = new Float64Array(d * d);
  const c = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) c[j] = rows[i * d + j]! - mean[j]!;
    for (let a = 0; a < d; a++) {
      const ca = c[a]!;
      if (ca === 0) continue;
      const row = a * d;
      for (let b = a; b < d; b++) cov[row + b]! += ca * c[b]!;
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b]! / (n - 1);
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  }
  return { mean, cov };
}

/**
 * Eigenvalues and eigenvectors of a symmetric matrix, by cyclic Jacobi rotations.
 *
 * @param m The matrix (`n * n`, symmetric; not modified).
 * @param n Its order.
 * @returns `values` (`n`) and `vectors` (`n * n`, column `k` is the eigenvector of `values[k]`).
 *
 * @example
 * ```ts
 * import { symmetricEigen } from "./linalg.ts";
 * import assert from "node:assert/strict";
 * const { values } = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2);
 * assert.deepEqual(Array.from(values).map((v) => Math.round(v * 1e9) / 1e9).sort(), [1, 3]);
 * ```
 */
export function symmetricEigen(
  m: Float64Array,
  n: number,
): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(m);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale += a[i]! * a[i]!;
  const tol = 1e-30 * Math.max(scale, 1e-300);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    if (off <= tol) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const app = a[p * n + p]!, aqq = a[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!, akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!, aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!, vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
  return { values, vectors: v };
}

/**
 * The symmetric square root of a symmetric positive semi-definite matrix (eigenvalues below
 * zero, from rounding, are taken as zero).
 *
 * @param m The matrix (`n * n`).
 * @param n Its order.
 * @returns `S` with `S · S = m`, symmetric.
 *
 * @example
 * ```ts
 * import { sqrtPsd } from "./linalg.ts";
 * import assert from "node:assert/strict";
 * const s = sqrtPsd(new Float64Array([4, 0, 0, 9]), 2);
 * assert.deepEqual(Array.from(s).map((x) => Math.round(x * 1e9) / 1e9), [2, 0, 0, 3]);
 * ```
 */
export function sqrtPsd(m: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(m, n);
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const r = Math.sqrt(Math.max(0, values[k]!));
    if (r === 0) continue;
    for (let i = 0; i < n; i++) {
      const vi = vectors[i * n + k]! * r;
      if (vi === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j]! += vi * vectors[j * n + k]!;
    }
  }
  return out;
}

/**
 * `a · b` for `n * n` matrices.
 *
 * @example
 * ```ts
 * import { matmul } from "./linalg.ts";
 * import assert from "node:assert/strict";
 * const c = matmul(new Float64Array([1, 2, 3, 4]), new Float64Array([0, 1, 1, 0]), 2);
 * assert.deepEqual(Array.from(c), [2, 1, 4, 3]);
 * ```
 */
export function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j]! += aik * b[k * n + j]!;
    }
  }
  return c;
}
