/**
 * Gaussian building blocks of the variational bound: the KL divergence between diagonal
 * Gaussians, and the decoder log-likelihoods (discretized for 8-bit images, a plain density for
 * continuous data). All elementwise, in nats, differentiable.
 *
 * @module
 */
import { tf } from "./tf.ts";

/**
 * KL(N(mean1, exp(logvar1)) || N(mean2, exp(logvar2))), elementwise, in nats. Arguments
 * broadcast against each other.
 *
 * @param mean1 The first mean.
 * @param logvar1 The first log-variance.
 * @param mean2 The second mean.
 * @param logvar2 The second log-variance.
 * @returns The KL divergence, of the broadcast shape.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { normalKl } from "./gaussian.ts";
 * import assert from "node:assert/strict";
 * const kl = normalKl(tf.scalar(0), tf.scalar(0), tf.scalar(0), tf.scalar(0));
 * assert.equal(kl.dataSync()[0], 0);
 * ```
 */
export function normalKl(
  mean1: tf.Tensor,
  logvar1: tf.Tensor,
  mean2: tf.Tensor,
  logvar2: tf.Tensor,
): tf.Tensor {
  return tf.tidy(() => {
    // 0.5 * (-1 + lv2 - lv1 + exp(lv1 - lv2) + (m1 - m2)^2 exp(-lv2))
    const d = tf.sub(mean1, mean2);
    const inner = tf.add(
      tf.add(tf.sub(logvar2, logvar1), tf.exp(tf.sub(logvar1, logvar2))),
      tf.mul(tf.square(d), tf.exp(tf.neg(logvar2))),
    );
    return tf.mul(0.5, tf.sub(inner, 1));
  });
}

/**
 * A fast approximation of the standard normal CDF (the tanh form used by GELU and by
 * improved-diffusion): 0.5 (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
 *
 * @param x Any tensor.
 * @returns Phi(x), approximately, elementwise.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { approxStandardNormalCdf } from "./gaussian.ts";
 * import assert from "node:assert/strict";
 * const p = approxStandardNormalCdf(tf.tensor1d([0, 1.96])).dataSync();
 * assert.equal(p[0], 0.5);
 * assert.ok(Math.abs(p[1]! - 0.975) < 1e-3);
 * ```
 */
export function approxStandardNormalCdf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inner = tf.mul(
      Math.sqrt(2 / Math.PI),
      tf.add(x, tf.mul(0.044715, tf.mul(x, tf.square(x)))),
    );
    return tf.mul(0.5, tf.add(1, tf.tanh(inner)));
  });
}

/**
 * The log-likelihood of 8-bit data scaled to [-1, 1] under a Gaussian discretized into its 256
 * bins of width 2/255 (the outermost bins extend to -inf and +inf), elementwise, in nats.
 *
 * @param x The data, in [-1, 1] on the 256-level grid; any shape.
 * @param means The Gaussian means, broadcastable to `x`.
 * @param logScales The log standard deviations, broadcastable to `x`.
 * @returns log P(x), of the broadcast shape.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { discretizedGaussianLogLikelihood } from "./gaussian.ts";
 * import assert from "node:assert/strict";
 * const x = tf.tensor1d([-1, 0, 1]);
 * const ll = discretizedGaussianLogLikelihood(x, tf.zeros([3]), tf.fill([3], Math.log(1e-3)));
 * const [lo, mid, hi] = ll.dataSync();
 * assert.ok(mid! > -1e-3); // nearly all the mass lies in the bin around 0
 * assert.ok(lo! < -20 && hi! < -20); // clamped at log(1e-12)
 * ```
 */
export function discretizedGaussianLogLikelihood(
  x: tf.Tensor,
  means: tf.Tensor,
  logScales: tf.Tensor,
): tf.Tensor {
  return tf.tidy(() => {
    const centered = tf.sub(x, means);
    const invStd = tf.exp(tf.neg(logScales));
    const cdfPlus = approxStandardNormalCdf(tf.mul(invStd, tf.add(centered, 1 / 255)));
    const cdfMin = approxStandardNormalCdf(tf.mul(invStd, tf.sub(centered, 1 / 255)));
    const logCdfPlus = tf.log(tf.maximum(cdfPlus, 1e-12));
    const logOneMinusCdfMin = tf.log(tf.maximum(tf.sub(1, cdfMin), 1e-12));
    const logDelta = tf.log(tf.maximum(tf.sub(cdfPlus, cdfMin), 1e-12));
    // Every intermediate already has the broadcast shape of (x, means, logScales).
    const xb = tf.broadcastTo(x, logDelta.shape);
    const top = tf.where(tf.greater(xb, 0.999), logOneMinusCdfMin, logDelta);
    return tf.where(tf.less(xb, -0.999), logCdfPlus, top);
  });
}

/**
 * The log-density of x under N(means, exp(logScales)^2), elementwise, in nats: the decoder
 * likelihood for continuous data (the 2-D S-curve).
 *
 * @param x The data; any shape.
 * @param means The means, broadcastable to `x`.
 * @param logScales The log standard deviations, broadcastable to `x`.
 * @returns log p(x), of the broadcast shape.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { continuousGaussianLogLikelihood } from "./gaussian.ts";
 * import assert from "node:assert/strict";
 * const ll = continuousGaussianLogLikelihood(tf.scalar(0), tf.scalar(0), tf.scalar(0));
 * assert.ok(Math.abs(ll.dataSync()[0]! + 0.5 * Math.log(2 * Math.PI)) < 1e-6);
 * ```
 */
export function continuousGaussianLogLikelihood(
  x: tf.Tensor,
  means: tf.Tensor,
  logScales: tf.Tensor,
): tf.Tensor {
  return tf.tidy(() => {
    const z = tf.mul(tf.sub(x, means), tf.exp(tf.neg(logScales)));
    return tf.neg(
      tf.addN([
        tf.mul(0.5, tf.square(z)),
        tf.broadcastTo(logScales, z.shape),
        tf.fill(z.shape, 0.5 * Math.log(2 * Math.PI)),
      ]),
    );
  });
}
