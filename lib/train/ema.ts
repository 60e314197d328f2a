/**
 * The exponential moving average of the weights, with the decay warm-up of TensorFlow's
 * `ExponentialMovingAverage(num_updates=...)`.
 *
 * @module
 */
import { tf } from "../tf.ts";
import { fusedEmaUpdate } from "../backend/ops.ts";

/**
 * The decay used for the EMA update after `n` previous updates: `min(rate, (1 + n) / (10 + n))`.
 *
 * @example
 * ```ts
 * import { emaDecay } from "./ema.ts";
 * import assert from "node:assert/strict";
 * assert.equal(emaDecay(0.9999, 0), 0.1);
 * assert.equal(emaDecay(0.9, 1e6), 0.9);
 * ```
 *
 * @param rate The target decay in [0, 1].
 * @param n The number of updates already done.
 * @returns The decay in [0, rate].
 */
export function emaDecay(rate: number, n: number): number {
  if (!(rate >= 0 && rate <= 1)) {
    throw new RangeError(`Cannot compute the EMA decay: expected a rate in [0, 1], got ${rate}`);
  }
  return Math.min(rate, (1 + n) / (10 + n));
}

/**
 * One EMA update: `ema <- decay * ema + (1 - decay) * value` for each pair. Where the backend
 * has the fused kernel (`fusedEmaUpdate`) it is one call over all pairs, in double precision,
 * writing each average in place where that is safe and as new data where not; elsewhere it is
 * tfjs ops, which give every average new data.
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { emaUpdate } from "./ema.ts";
 * import assert from "node:assert/strict";
 * const e = tf.variable(tf.tensor1d([0]));
 * emaUpdate([e], [tf.tensor1d([10])], 0.9);
 * assert.ok(Math.abs(e.dataSync()[0]! - 1) < 1e-6);
 * ```
 *
 * @param ema The averaged variables.
 * @param values The current weights, parallel to `ema`.
 * @param decay The decay in [0, 1].
 */
export function emaUpdate(ema: tf.Variable[], values: tf.Tensor[], decay: number): void {
  if (ema.length !== values.length) {
    throw new TypeError(
      `Cannot update the EMA: expected ${ema.length} weights, got ${values.length}`,
    );
  }
  if (fusedEmaUpdate(ema, values, decay)) return;
  tf.tidy(() => {
    const d = tf.scalar(decay);
    const d1 = tf.scalar(1 - decay);
    ema.forEach((e, i) => e.assign(tf.add(tf.mul(e, d), tf.mul(values[i]!, d1))));
  });
}
