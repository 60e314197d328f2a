/**
 * Training losses of DDPM and Improved DDPM: L_simple (noise MSE), the variational bound L_vlb,
 * and the hybrid L_simple + lambda L_vlb, plus the prior term of the bound.
 *
 * Conventions: every per-example value is a mean over the non-batch axes ("per dimension"); bound
 * terms are in BITS per dimension. The bound estimated from one uniformly drawn t is T * L_t
 * (its expectation over t is the sum of all T terms), and that is what `vlb` holds.
 *
 * @module
 */
import { type ModelFn, tf } from "./tf.ts";
import type { Schedule } from "./schedule.ts";
import { meanSquaredError } from "./backend/ops.ts";
import {
  modelOnSchedule,
  pMeanVariance,
  qMeanVariance,
  qPosteriorMeanVariance,
  qSample,
  splitModelOutput,
  type VarianceKind,
} from "./diffusion.ts";
import {
  continuousGaussianLogLikelihood,
  discretizedGaussianLogLikelihood,
  normalKl,
} from "./gaussian.ts";

/**
 * The training losses, the one list the CLI's choices and help come from.
 *
 * @example
 * ```ts
 * import { LOSS_KINDS } from "./loss.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...LOSS_KINDS], ["simple", "hybrid", "vlb"]);
 * ```
 */
export const LOSS_KINDS = ["simple", "hybrid", "vlb"] as const;

/** Which loss to train on. */
export type LossKind = typeof LOSS_KINDS[number];

/**
 * The kinds of data, for the decoder's likelihood at t = 0: discretized for images in [-1, 1],
 * a density for continuous data.
 *
 * @example
 * ```ts
 * import { DATA_KINDS } from "./loss.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...DATA_KINDS], ["image", "continuous"]);
 * ```
 */
export const DATA_KINDS = ["image", "continuous"] as const;

/** What the data is, for the decoder's likelihood at t = 0. */
export type DataKind = typeof DATA_KINDS[number];

/**
 * Returns the mean over every axis but the first.
 *
 * @param x A tensor `[B, ...]`.
 * @returns A `[B]` tensor.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { meanFlat } from "./loss.ts";
 * import assert from "node:assert/strict";
 * const m = meanFlat(tf.tensor3d([[[1, 3]], [[2, 2]]]));
 * assert.deepEqual(Array.from(m.dataSync()), [2, 2]);
 * ```
 */
export function meanFlat(x: tf.Tensor): tf.Tensor1D {
  if (x.rank < 1) throw new TypeError(`Expected a tensor with a batch axis, got a scalar`);
  if (x.rank === 1) return tf.clone(x) as tf.Tensor1D;
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i + 1);
  return tf.mean(x, axes) as tf.Tensor1D;
}

/**
 * The identity whose gradient is zero: what `stop_gradient` does elsewhere (tf.js has no such
 * op). Gradients reaching the result do not flow to `x`.
 *
 * @param x Any tensor.
 * @returns A copy of `x`, cut from the gradient tape.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { stopGradient } from "./loss.ts";
 * import assert from "node:assert/strict";
 * const [g] = tf.grads((x: tf.Tensor) => tf.add(tf.sum(x), tf.sum(tf.square(stopGradient(x)))))(
 *   [tf.tensor1d([1, 2])],
 * );
 * assert.deepEqual(Array.from(g!.dataSync()), [1, 1]);
 * ```
 */
export const stopGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad(
  (...inputs) => ({
    value: tf.clone(inputs[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  }),
) as (x: tf.Tensor) => tf.Tensor;

/** Options of {@linkcode vbTermsBpd}. */
export interface VbTermsOptions {
  /** @default {"fixed-small"} */
  variance?: VarianceKind;
  /** @default {"image"} */
  data?: DataKind;
  /** @default {false} */
  clipDenoised?: boolean;
  /** The model's output at `(xt, t)`, if already computed (the caller keeps ownership). */
  modelOutput?: tf.Tensor;
}

/**
 * One term of the variational bound per example, in bits per dimension: L_t = KL(q(x_{t-1} | x_t,
 * x_0) || p(x_{t-1} | x_t)) for t > 0, and the decoder's negative log-likelihood
 * -log p(x_0 | x_1) at t = 0 (discretized over 256 bins for images, a density for continuous
 * data).
 *
 * @param schedule The schedule.
 * @param model The model.
 * @param x0 Clean data `[B, ...]`.
 * @param xt x_t drawn from q(x_t | x_0).
 * @param t Timesteps `[B]`, int32.
 * @param options Variance, data kind, clipping, precomputed output.
 * @returns `{ output: [B] bits per dim, predXstart }`.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { vbTermsBpd } from "./loss.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("cosine", { numTimesteps: 10 });
 * const x0 = tf.zeros([1, 2]), xt = tf.zeros([1, 2]);
 * const { output } = vbTermsBpd(s, (x) => tf.zerosLike(x), x0, xt, tf.tensor1d([5], "int32"), {
 *   data: "continuous",
 * });
 * assert.ok(Math.abs(output.dataSync()[0]!) < 1e-6); // the exact model: KL = 0
 * ```
 */
export function vbTermsBpd(
  schedule: Schedule,
  model: ModelFn,
  x0: tf.Tensor,
  xt: tf.Tensor,
  t: tf.Tensor1D,
  options: VbTermsOptions = {},
): { output: tf.Tensor1D; predXstart: tf.Tensor } {
  const { variance = "fixed-small", data = "image", clipDenoised = false, modelOutput } = options;
  return tf.tidy(() => {
    const truth = qPosteriorMeanVariance(schedule, x0, xt, t);
    const p = pMeanVariance(schedule, model, xt, t, { variance, clipDenoised, modelOutput });
    const kl = tf.div(
      meanFlat(normalKl(truth.mean, truth.logVariance, p.mean, p.logVariance)),
      Math.LN2,
    );
    const logScales = tf.mul(0.5, p.logVariance);
    let ll: tf.Tensor;
    switch (data) {
      case "image":
        ll = discretizedGaussianLogLikelihood(x0, p.mean, logScales);
        break;
      case "continuous":
        ll = continuousGaussianLogLikelihood(x0, p.mean, logScales);
        break;
      default: {
        const never: never = data;
        throw new RangeError(
          `Unknown data kind "${never}": expected one of ${DATA_KINDS.join(", ")}`,
        );
      }
    }
    const nll = tf.div(tf.neg(meanFlat(ll)), Math.LN2);
    const output = tf.where(tf.equal(t, 0), nll, kl) as tf.Tensor1D;
    return { output, predXstart: p.predXstart };
  });
}

/** Options of {@linkcode trainingLosses}. */
export interface TrainingLossOptions {
  /**
   * "simple": the noise MSE; "vlb": the bound T * L_t alone (mean and variance both trained);
   * "hybrid": MSE + lambda * T * L_t, the bound seeing the mean through a stop-gradient so that
   * only the variance learns from it.
   *
   * @default {"simple"}
   */
  loss?: LossKind;
  /** @default {"fixed-small"} */
  variance?: VarianceKind;
  /** @default {"image"} */
  data?: DataKind;
  /** The noise eps used to draw x_t, of the shape of `x0` (required: it makes runs reproducible). */
  noise: tf.Tensor;
  /**
   * The weight lambda of the bound in "hybrid" (Improved DDPM's 0.001: with the bound as T * L_t,
   * the per-t term enters with weight lambda * T, which is 1 at T = 1000).
   *
   * @default {0.001}
   */
  lambdaVlb?: number;
}

/** Per-example training losses. */
export interface TrainingLosses {
  /** The loss to minimise, `[B]` (weight it and take the mean). */
  loss: tf.Tensor1D;
  /** The noise MSE, mean over the non-batch axes, `[B]`. */
  mse: tf.Tensor1D;
  /** The bound estimate T * L_t in bits per dimension, `[B]`; zeros for "simple". */
  vlb: tf.Tensor1D;
}

/**
 * Computes the training losses for a batch at given timesteps: draws x_t = q_sample(x0, t, noise),
 * calls the model once, and forms the loss (see {@linkcode TrainingLossOptions.loss}).
 * Differentiable: use it inside `tf.variableGrads` / `tf.grads`.
 *
 * With a fixed variance, "hybrid"'s bound term has no trainable input (its mean is frozen), so it
 * contributes its value but no gradient.
 *
 * @param schedule The schedule.
 * @param model The model.
 * @param x0 Clean data `[B, ...]`.
 * @param t Timesteps `[B]`, int32, indices into `schedule`.
 * @param options The loss, variance, data kind and noise.
 * @returns `{ loss, mse, vlb }`, each `[B]`.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { trainingLosses } from "./loss.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("linear", { numTimesteps: 100 });
 * const noise = tf.ones([2, 2]);
 * const { loss, vlb } = trainingLosses(s, (x) => tf.zerosLike(x), tf.zeros([2, 2]),
 *   tf.tensor1d([3, 50], "int32"), { noise });
 * assert.deepEqual(Array.from(loss.dataSync()), [1, 1]); // predicting 0 for unit noise
 * assert.deepEqual(Array.from(vlb.dataSync()), [0, 0]);
 * ```
 */
export function trainingLosses(
  schedule: Schedule,
  model: ModelFn,
  x0: tf.Tensor,
  t: tf.Tensor1D,
  options: TrainingLossOptions,
): TrainingLosses {
  const { loss = "simple", variance = "fixed-small", data = "image", lambdaVlb = 0.001 } = options;
  const noise = options?.noise;
  if (!(noise instanceof tf.Tensor)) {
    throw new TypeError("Cannot compute training losses: expected options.noise, a tensor");
  }
  return tf.tidy(() => {
    const xt = qSample(schedule, x0, t, noise);
    const out = modelOnSchedule(schedule, model).at(xt, t);
    const { eps, v } = splitModelOutput(out, x0.shape, variance);
    const mse = meanSquaredError(eps, noise, "rows") as tf.Tensor1D;
    const T = schedule.numTimesteps;
    const vb = (modelOutput: tf.Tensor) =>
      tf.mul(
        T,
        vbTermsBpd(schedule, model, x0, xt, t, { variance, data, modelOutput }).output,
      ) as tf.Tensor1D;
    switch (loss) {
      case "simple":
        return { loss: mse, mse, vlb: tf.zeros([x0.shape[0]!]) as tf.Tensor1D };
      case "hybrid": {
        const frozen = v === null ? stopGradient(out) : tf.concat([stopGradient(eps), v], -1);
        const vlb = vb(frozen);
        return { loss: tf.add(mse, tf.mul(lambdaVlb, vlb)) as tf.Tensor1D, mse, vlb };
      }
      case "vlb": {
        const vlb = vb(out);
        return { loss: vlb, mse, vlb };
      }
      default: {
        const never: never = loss;
        throw new RangeError(`Unknown loss "${never}": expected one of ${LOSS_KINDS.join(", ")}`);
      }
    }
  });
}

/**
 * The prior term of the bound, KL(q(x_T | x_0) || N(0, I)), per example in bits per dimension. It
 * has no parameters; it is small when the schedule ends in near-pure noise.
 *
 * @param schedule The schedule.
 * @param x0 Clean data `[B, ...]`.
 * @returns `[B]` bits per dimension.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { priorBpd } from "./loss.ts";
 * import assert from "node:assert/strict";
 * const p = priorBpd(createSchedule("linear", { numTimesteps: 1000 }), tf.ones([1, 4]));
 * assert.ok(p.dataSync()[0]! < 1e-4);
 * ```
 */
export function priorBpd(schedule: Schedule, x0: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const b = x0.shape[0]!;
    const t = tf.fill([b], schedule.numTimesteps - 1, "int32") as tf.Tensor1D;
    const q = qMeanVariance(schedule, x0, t);
    const kl = normalKl(q.mean, q.logVariance, tf.scalar(0), tf.scalar(0));
    return tf.div(meanFlat(kl), Math.LN2) as tf.Tensor1D;
  });
}
