/**
 * Helpers and models shared by the unit tests of `lib/`: tensor comparisons and the exact noise
 * predictor of a 1-D Gaussian. Not a test file itself.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type ModelFn, tf } from "./tf.ts";
import type { Schedule } from "./schedule.ts";

/**
 * A tensor's values as a plain array.
 *
 * @example
 * ```ts
 * import { data } from "./_test_fixtures.ts";
 * import { tf } from "./tf.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(data(tf.tensor1d([1, 2])), [1, 2]);
 * ```
 */
export const data = (x: tf.Tensor): number[] => Array.from(x.dataSync());

/**
 * An int32 tensor of timesteps.
 *
 * @example
 * ```ts
 * import { ints } from "./_test_fixtures.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ints([3, 1]).dtype, "int32");
 * ```
 */
export const ints = (a: number[]): tf.Tensor1D => tf.tensor1d(a, "int32");

/**
 * Asserts `|a[i] - b[i]| ≤ atol + rtol·|b[i]|` for every `i`, and equal lengths.
 *
 * @example
 * ```ts
 * import { allClose } from "./_test_fixtures.ts";
 * import assert from "node:assert/strict";
 * allClose([1, 2.0005], [1, 2], 1e-3);
 * assert.throws(() => allClose([1, 2.1], [1, 2], 1e-3, 0, "x"), /x\[1\]/);
 * ```
 */
export function allClose(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  atol: number,
  rtol = 0,
  msg = "",
): void {
  assert.equal(a.length, b.length, msg);
  for (let i = 0; i < a.length; i++) {
    const tol = atol + rtol * Math.abs(b[i]!);
    assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `${msg}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

/** The mean of the 1-D Gaussian data of {@linkcode gaussianOracle}. */
export const MU = 0.6;
/** The standard deviation of the 1-D Gaussian data of {@linkcode gaussianOracle}. */
export const SD = 0.3;

/**
 * The exact noise predictor for 1-D data N(MU, SD^2): x_t = sqrt(abar) x_0 + sqrt(1 - abar) eps is
 * jointly Gaussian with eps, so E[eps | x_t] = Cov(eps, x_t) / Var(x_t) (x_t - E[x_t])
 * = sqrt(1 - abar) (x_t - sqrt(abar) MU) / (abar SD^2 + 1 - abar). `base` is the original
 * schedule: the model is called with original timesteps.
 *
 * @example
 * ```ts
 * import { gaussianOracle, MU } from "./_test_fixtures.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { tf } from "./tf.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("linear", { numTimesteps: 100 });
 * // x_t at its mean sqrt(abar) MU: the expected noise is zero.
 * const xt = tf.tensor2d([[Math.sqrt(s.alphasCumprod[0]!) * MU]]);
 * const eps = gaussianOracle(s)(xt, tf.tensor1d([0], "int32"));
 * assert.ok(Math.abs(eps.dataSync()[0]!) < 1e-6);
 * ```
 */
export function gaussianOracle(base: Schedule): ModelFn {
  return (x, t) =>
    tf.tidy(() => {
      const a = tf.reshape(tf.gather(tf.tensor1d(Float32Array.from(base.alphasCumprod)), t), [
        -1,
        1,
      ]);
      const oneMinus = tf.sub(1, a);
      return tf.div(
        tf.mul(tf.sqrt(oneMinus), tf.sub(x, tf.mul(tf.sqrt(a), MU))),
        tf.add(tf.mul(a, SD * SD), oneMinus),
      );
    });
}

/** A 2-D Gaussian N(mu, cov): its mean and its covariance `[[a, b], [b, c]]`. */
export interface Gaussian2d {
  /** The mean. */
  mu: readonly [number, number];
  /** The covariance, symmetric positive definite. */
  cov: readonly [readonly [number, number], readonly [number, number]];
}

/**
 * The exact noise predictor for 2-D data N(mu, Sigma): q(x_t) = N(sqrt(abar) mu, Cov_t) with
 * Cov_t = abar Sigma + (1 - abar) I, and eps is jointly Gaussian with x_t with
 * Cov(eps, x_t) = sqrt(1 - abar) I, so E[eps | x_t] = sqrt(1 - abar) Cov_t^{-1} (x_t - sqrt(abar) mu)
 * (minus sqrt(1 - abar) times the score). `base` is the original schedule: the model is called
 * with original timesteps.
 *
 * @example
 * ```ts
 * import { gaussian2dOracle } from "./_test_fixtures.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { tf } from "./tf.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("linear", { numTimesteps: 100 });
 * const g = { mu: [0.2, -0.1], cov: [[0.25, 0.2], [0.2, 0.25]] } as const;
 * const a = Math.sqrt(s.alphasCumprod[50]!);
 * // x_t at its mean: the expected noise is zero.
 * const eps = gaussian2dOracle(s, g)(tf.tensor2d([[a * 0.2, -a * 0.1]]), tf.tensor1d([50], "int32"));
 * assert.ok(Math.abs(eps.dataSync()[0]!) < 1e-6 && Math.abs(eps.dataSync()[1]!) < 1e-6);
 * ```
 */
export function gaussian2dOracle(base: Schedule, g: Gaussian2d): ModelFn {
  const T = base.numTimesteps;
  const [[a, b], [, c]] = g.cov;
  const inv = new Float32Array(T * 4), sa = new Float32Array(T), s1 = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    const ab = base.alphasCumprod[t]!;
    const p = ab * a + 1 - ab, q = ab * b, r = ab * c + 1 - ab;
    const det = p * r - q * q;
    inv.set([r / det, -q / det, -q / det, p / det], t * 4);
    sa[t] = Math.sqrt(ab);
    s1[t] = Math.sqrt(1 - ab);
  }
  return (x, t) =>
    tf.tidy(() => {
      const m = tf.gather(tf.tensor3d(inv, [T, 2, 2]), t);
      const mean = tf.mul(
        tf.reshape(tf.gather(tf.tensor1d(sa), t), [-1, 1]),
        tf.tensor2d([[...g.mu]]),
      );
      const d = tf.expandDims(tf.sub(x, mean), 1);
      const e = tf.reshape(tf.matMul(d, m), [-1, 2]);
      return tf.mul(tf.reshape(tf.gather(tf.tensor1d(s1), t), [-1, 1]), e);
    });
}
