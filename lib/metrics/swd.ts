/**
 * Sliced Wasserstein-1 distance between two sets of 2-D (or d-D) points: the mean, over fixed
 * random unit directions, of the 1-D Wasserstein-1 distance between the projected sets.
 *
 * @module
 */
import { Rng } from "../random.ts";

/** Options of {@linkcode slicedWasserstein}. */
export interface SwdOptions {
  /** Number of random directions. @default 256 */
  directions?: number;
  /** Seed of the directions (fixed so that runs compare). @default 0 */
  seed?: number;
  /** Dimension of each point. @default 2 */
  dim?: number;
}

/**
 * Computes the sliced Wasserstein-1 distance between point sets `a` and `b` (interleaved
 * coordinates). Sets of unequal size are compared through their quantile functions.
 *
 * @param a The first set, `n * dim` values.
 * @param b The second set, `m * dim` values.
 * @param options See {@linkcode SwdOptions}.
 * @returns The distance, in the units of the data.
 *
 * @example
 * ```ts
 * import { slicedWasserstein } from "./swd.ts";
 * import assert from "node:assert/strict";
 * const a = new Float32Array([0, 0, 1, 1]);
 * assert.equal(slicedWasserstein(a, a), 0);
 * const shifted = new Float32Array([1, 0, 2, 1]);
 * assert.ok(slicedWasserstein(a, shifted) > 0.5);
 * ```
 */
export function slicedWasserstein(
  a: Float32Array,
  b: Float32Array,
  options: SwdOptions = {},
): number {
  const dim = options.dim ?? 2;
  const directions = options.directions ?? 256;
  const n = a.length / dim, m = b.length / dim;
  if (!Number.isInteger(n) || !Number.isInteger(m) || n === 0 || m === 0) {
    throw new TypeError(
      `Cannot compute the sliced Wasserstein distance: expected non-empty sets of ${dim}-D points, got ${a.length} and ${b.length} values`,
    );
  }
  const rng = new Rng(options.seed ?? 0, 0x5ad);
  const pa = new Float64Array(n), pb = new Float64Array(m);
  const dir = new Float64Array(dim);
  let total = 0;
  for (let k = 0; k < directions; k++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      dir[d] = rng.normal();
      norm += dir[d]! * dir[d]!;
    }
    norm = Math.sqrt(norm);
    for (let d = 0; d < dim; d++) dir[d]! /= norm;
    _project(a, dir, pa);
    _project(b, dir, pb);
    pa.sort();
    pb.sort();
    total += _w1Sorted(pa, pb);
  }
  return total / directions;
}

function _project(points: Float32Array, dir: Float64Array, out: Float64Array): void {
  const dim = dir.length;
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += points[i * dim + d]! * dir[d]!;
    out[i] = s;
  }
}

/** W1 between two sorted samples: the integral of |F_a^-1(q) - F_b^-1(q)| over q in (0, 1). */
function _w1Sorted(a: Float64Array, b: Float64Array): number {
  if (a.length === b.length) {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
    return s / a.length;
  }
  // Merge the two step functions' breakpoints.
  let i = 0, j = 0, q = 0, s = 0;
  const n = a.length, m = b.length;
  while (i < n && j < m) {
    const qa = (i + 1) / n, qb = (j + 1) / m;
    const next = Math.min(qa, qb);
    s += (next - q) * Math.abs(a[i]! - b[j]!);
    q = next;
    if (qa <= next) i++;
    if (qb <= next) j++;
  }
  return s;
}
