/**
 * The 2-D S-curve of the seed demo: scikit-learn's `make_s_curve` with the first and third
 * coordinates kept and divided by 10, so the points lie in about [-0.1, 0.1] × [-0.2, 0.2]
 * (plus the noise): `z ≤ 0` on the half with `t > 0`, `z ≥ 0` on the other.
 *
 * @module
 */
import { Rng } from "../lib/random.ts";

/** Options of {@linkcode makeSCurve}. */
export interface SCurveOptions {
  /**
   * Standard deviation of the gaussian noise added to each coordinate before the division by 10
   * (scikit-learn's `noise`).
   * @default {0.1}
   */
  noise?: number;
  /**
   * Seed of the generator. The training pipeline's fixed set is `makeSCurve(n, { noise, seed })`
   * with the run seed, so evaluate against fresh data with a different seed.
   * @default {0}
   */
  seed?: number;
}

/**
 * Fills `out` (pairs `x, z`) with S-curve points drawn from `rng`.
 *
 * With `u ~ U(0, 1)` and `t = 3π(u - 0.5)`: `x = sin t`, `z = sign(t)(cos t - 1)`, each plus
 * `noise · N(0, 1)`, then divided by 10. scikit-learn's second coordinate (`2 · U(0, 1)`) is
 * dropped, so it is not drawn.
 *
 * @param out The array to fill, of even length.
 * @param rng The generator to draw from.
 * @param noise The noise standard deviation (before the division by 10).
 * @returns The same array.
 *
 * @example
 * ```ts
 * import { fillSCurve } from "./s_curve.ts";
 * import { Rng } from "../lib/random.ts";
 * import assert from "node:assert/strict";
 * const pts = fillSCurve(new Float32Array(8), new Rng(1), 0);
 * for (let i = 0; i < 8; i += 2) assert.ok(Math.abs(pts[i]!) <= 0.1 && Math.abs(pts[i + 1]!) <= 0.2);
 * ```
 */
export function fillSCurve(out: Float32Array, rng: Rng, noise: number): Float32Array {
  if (out.length % 2 !== 0) {
    throw new TypeError(`Cannot fill S-curve points: expected an even length, got ${out.length}`);
  }
  for (let i = 0; i < out.length; i += 2) {
    const t = 3 * Math.PI * (rng.uniform() - 0.5);
    let x = Math.sin(t);
    let z = Math.sign(t) * (Math.cos(t) - 1);
    if (noise > 0) {
      x += noise * rng.normal();
      z += noise * rng.normal();
    }
    out[i] = x / 10;
    out[i + 1] = z / 10;
  }
  return out;
}

/**
 * Draws `n` points of the S-curve as a flat `Float32Array` of `n * 2` values (`x0, z0, x1, …`).
 *
 * @param n The number of points, a non-negative integer.
 * @param options Noise and seed.
 * @returns The points, row-major `[n, 2]`.
 *
 * @example
 * ```ts
 * import { makeSCurve } from "./s_curve.ts";
 * import assert from "node:assert/strict";
 * const a = makeSCurve(100, { seed: 7 });
 * assert.equal(a.length, 200);
 * assert.deepEqual(a, makeSCurve(100, { seed: 7 }));
 * assert.notDeepEqual(a, makeSCurve(100, { seed: 8 }));
 * ```
 */
export function makeSCurve(n: number, options: SCurveOptions = {}): Float32Array {
  const { noise = 0.1, seed = 0 } = options;
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`Cannot make an S-curve: expected a non-negative integer n, got ${n}`);
  }
  if (!(noise >= 0) || !Number.isFinite(noise)) {
    throw new RangeError(`Cannot make an S-curve: expected noise >= 0, got ${noise}`);
  }
  return fillSCurve(new Float32Array(n * 2), new Rng(seed), noise);
}
