/**
 * The global gradient norm and the clipping coefficient of `clip_grad_norm_`.
 *
 * @module
 */
import { tf } from "../tf.ts";
import { fusedGlobalNorm, hostScalar } from "../backend/ops.ts";

/**
 * The global L2 norm of a list of gradients, `sqrt(sum_i |g_i|^2)`. On the `wasm` and `cpu`
 * backends it is one kernel call over all the gradients (`fusedGlobalNorm`), summed in float64.
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { globalNorm } from "./clip.ts";
 * import assert from "node:assert/strict";
 * const n = globalNorm([tf.tensor1d([3]), tf.tensor2d([[4]])]);
 * assert.equal(n.dataSync()[0], 5);
 * ```
 *
 * @param grads The gradients (at least one).
 * @returns A scalar.
 */
export function globalNorm(grads: tf.Tensor[]): tf.Scalar {
  if (grads.length === 0) throw new RangeError("Cannot compute a global norm of no gradients");
  const fused = fusedGlobalNorm(grads);
  if (fused !== null) return fused;
  return tf.tidy(() => {
    const squares = grads.map((g) => tf.sum(tf.square(g)));
    return tf.sqrt(squares.length === 1 ? squares[0]! : tf.addN(squares)) as tf.Scalar;
  });
}

/**
 * The factor gradients are multiplied by when clipped to `maxNorm` by global norm, as
 * PyTorch's `clip_grad_norm_` computes it: `min(1, maxNorm / (norm + 1e-6))`, in float32. A
 * `maxNorm` of `Infinity` (or 0, meaning "off") gives 1. Where the backend holds the norm at
 * hand (`wasm`, `cpu`) the arithmetic runs in JavaScript, rounded to float32 after each
 * operation as the tfjs ops round it.
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { clipCoefficient } from "./clip.ts";
 * import assert from "node:assert/strict";
 * assert.ok(Math.abs(clipCoefficient(tf.scalar(4), 1).dataSync()[0]! - 0.25) < 1e-6);
 * assert.equal(clipCoefficient(tf.scalar(0.5), 1).dataSync()[0], 1);
 * ```
 *
 * @param norm The global norm.
 * @param maxNorm The largest allowed norm (> 0), or 0 / Infinity for no clipping.
 * @returns A scalar in (0, 1].
 */
export function clipCoefficient(norm: tf.Scalar, maxNorm: number): tf.Scalar {
  if (!(maxNorm >= 0)) {
    throw new RangeError(`Cannot clip gradients: expected maxNorm >= 0, got ${maxNorm}`);
  }
  if (maxNorm === 0 || maxNorm === Infinity) return tf.scalar(1);
  const x = hostScalar(norm);
  if (x !== null && !Number.isNaN(x)) {
    const f = Math.fround;
    return tf.scalar(Math.min(f(f(maxNorm) / f(x + f(1e-6))), 1));
  }
  return tf.tidy(() => tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1) as tf.Scalar);
}
