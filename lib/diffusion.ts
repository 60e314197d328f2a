/**
 * The Gaussian diffusion process as pure functions of `(schedule, tensors, options)`: the forward
 * process q, its posterior, and the model's reverse step p.
 *
 * Tensors have any shape `[B, ...]` (the S-curve is `[B, 2]`, MNIST is NHWC `[B, 28, 28, 1]`);
 * timesteps `t` are an int32 `Tensor1D` of length B holding indices INTO THE GIVEN schedule. The
 * model is always called with the ORIGINAL timesteps, `schedule.timestepMap[t]`, through one
 * doorway, {@linkcode modelOnSchedule}.
 *
 * Every function returns new tensors the caller owns and disposes nothing it was given.
 *
 * @module
 */
import { type ModelFn, tf } from "./tf.ts";
import type { Schedule } from "./schedule.ts";
import { VARIANCE_KINDS, type VarianceKind } from "./variance_kinds.ts";

export { VARIANCE_KINDS, type VarianceKind } from "./variance_kinds.ts";

/** A diagonal Gaussian as tensors. */
export interface GaussianParams {
  /** The mean, of the data's shape. */
  mean: tf.Tensor;
  /** The variance, broadcastable to the data's shape (`[B, 1, ..., 1]` when it is per-step). */
  variance: tf.Tensor;
  /** The log of the variance, of the same shape as `variance`. */
  logVariance: tf.Tensor;
}

/** The model's reverse step p(x_{t-1} | x_t) and what it predicted. */
export interface PMeanVariance extends GaussianParams {
  /** The predicted x_0 (clipped to [-1, 1] when asked). */
  predXstart: tf.Tensor;
  /** The model's predicted noise (the first half of the channels for "learned-range"). */
  eps: tf.Tensor;
}

/** Options of {@linkcode pMeanVariance}. */
export interface PMeanVarianceOptions {
  /**
   * The variance of the reverse step: "fixed-small" is the posterior variance (beta tilde),
   * "fixed-large" is beta_t (with the posterior variance at t = 0), "learned-range" interpolates
   * log beta_t and log beta tilde_t with the model's second half of channels v in [-1, 1].
   *
   * @default {"fixed-small"}
   */
  variance?: VarianceKind;
  /**
   * Clip the predicted x_0 to [-1, 1] before forming the mean.
   *
   * @default {false}
   */
  clipDenoised?: boolean;
  /**
   * The model's output for `(xt, t)`, if already computed; the model is then not called. The
   * caller keeps ownership.
   */
  modelOutput?: tf.Tensor;
}

/**
 * Gathers `arr[t[b]]` for each example and reshapes to `[B, 1, ..., 1]` with `ndim` axes, as a
 * float32 tensor that broadcasts against the data.
 *
 * @param arr A schedule array.
 * @param t int32 indices into `arr`, shape `[B]`.
 * @param ndim The rank of the data it will broadcast against.
 * @returns A float32 tensor of shape `[B, 1, ..., 1]`.
 * @throws {TypeError} If `t` is not an int32 Tensor1D.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { extract } from "./diffusion.ts";
 * import assert from "node:assert/strict";
 * const c = extract(new Float64Array([10, 20, 30]), tf.tensor1d([2, 0], "int32"), 4);
 * assert.deepEqual(c.shape, [2, 1, 1, 1]);
 * assert.deepEqual(Array.from(c.dataSync()), [30, 10]);
 * ```
 */
export function extract(arr: Float64Array, t: tf.Tensor1D, ndim: number): tf.Tensor {
  _checkT(t);
  return tf.tidy(() => {
    const g = tf.gather(tf.tensor1d(Float32Array.from(arr), "float32"), t);
    const shape = [t.shape[0], ...new Array<number>(Math.max(ndim - 1, 0)).fill(1)];
    return tf.reshape(g, shape);
  });
}

function _checkT(t: tf.Tensor): void {
  if (t.dtype !== "int32" || t.rank !== 1) {
    throw new TypeError(
      `Expected timesteps as an int32 Tensor1D, got a ${t.dtype} tensor of shape [${t.shape}]`,
    );
  }
}

function _checkBatch(x: tf.Tensor, t: tf.Tensor1D, what: string): void {
  _checkT(t);
  if (x.rank < 1 || x.shape[0] !== t.shape[0]) {
    throw new TypeError(
      `Expected ${what} with batch size ${t.shape[0]} (the length of t), got shape [${x.shape}]`,
    );
  }
}

/**
 * Maps indices into the schedule to the original timesteps the model is called with.
 *
 * @param schedule The schedule.
 * @param t int32 indices into `schedule`.
 * @returns `schedule.timestepMap[t]`, int32.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { respace } from "./respace.ts";
 * import { mapTimesteps } from "./diffusion.ts";
 * import assert from "node:assert/strict";
 * const s = respace(createSchedule("cosine", { numTimesteps: 10 }), [0, 5, 9]);
 * const m = mapTimesteps(s, tf.tensor1d([2, 1], "int32"));
 * assert.deepEqual(Array.from(m.dataSync()), [9, 5]);
 * ```
 */
export function mapTimesteps(schedule: Schedule, t: tf.Tensor1D): tf.Tensor1D {
  _checkT(t);
  return tf.tidy(() => tf.gather(tf.tensor1d(schedule.timestepMap, "int32"), t));
}

/** A model bound to a schedule by {@linkcode modelOnSchedule}. */
export interface ScheduledModel {
  /** The schedule whose indices {@linkcode ScheduledModel.at} takes. */
  readonly schedule: Schedule;
  /**
   * The model's output at steps `t` of the schedule: the model is called with the original
   * timesteps `schedule.timestepMap[t]`. The caller owns the result.
   *
   * @param xt Noisy data `[B, ...]`.
   * @param t int32 indices into the schedule, `[B]`.
   * @returns The model's output.
   */
  at(xt: tf.Tensor, t: tf.Tensor1D): tf.Tensor;
}

/**
 * The one doorway through which the process calls a model: binds it to a schedule so that
 * callers pass indices into the schedule and the model sees the original timesteps it was
 * trained with (`schedule.timestepMap[t]`, which differs from `t` on a respaced schedule).
 * Every function of this library that runs a model on a schedule goes through it. It is not a
 * {@linkcode ModelFn}, so it cannot be handed on as a raw model and mapped twice.
 *
 * @param schedule The schedule (possibly respaced).
 * @param model The model, taking original timesteps.
 * @returns The model on the schedule.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { respace } from "./respace.ts";
 * import { modelOnSchedule } from "./diffusion.ts";
 * import assert from "node:assert/strict";
 * const s = respace(createSchedule("cosine", { numTimesteps: 10 }), [0, 5, 9]);
 * const seen: number[] = [];
 * const net = modelOnSchedule(s, (x, t) => {
 *   seen.push(...t.dataSync());
 *   return tf.zerosLike(x);
 * });
 * net.at(tf.zeros([2, 1]), tf.tensor1d([2, 1], "int32")).dispose();
 * assert.deepEqual(seen, [9, 5]); // indices 2 and 1 of the schedule are timesteps 9 and 5
 * ```
 */
export function modelOnSchedule(schedule: Schedule, model: ModelFn): ScheduledModel {
  return {
    schedule,
    at: (xt, t) => {
      _checkBatch(xt, t, "xt");
      return tf.tidy(() => model(xt, mapTimesteps(schedule, t)));
    },
  };
}

/**
 * Samples the forward process: x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps.
 *
 * @param schedule The schedule.
 * @param x0 Clean data `[B, ...]`.
 * @param t Timesteps `[B]`, int32.
 * @param noise eps, of the shape of `x0`.
 * @returns x_t.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { qSample } from "./diffusion.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("linear", { numTimesteps: 1000 });
 * const xt = qSample(s, tf.ones([1, 2]), tf.tensor1d([0], "int32"), tf.zeros([1, 2]));
 * assert.ok(Math.abs(xt.dataSync()[0]! - Math.sqrt(1 - 1e-4)) < 1e-6);
 * ```
 */
export function qSample(
  schedule: Schedule,
  x0: tf.Tensor,
  t: tf.Tensor1D,
  noise: tf.Tensor,
): tf.Tensor {
  _checkBatch(x0, t, "x0");
  _checkSameShape(noise, x0, "noise");
  return tf.tidy(() =>
    tf.add(
      tf.mul(extract(schedule.sqrtAlphasCumprod, t, x0.rank), x0),
      tf.mul(extract(schedule.sqrtOneMinusAlphasCumprod, t, x0.rank), noise),
    )
  );
}

function _checkSameShape(a: tf.Tensor, b: tf.Tensor, what: string): void {
  if (a.rank !== b.rank || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new TypeError(`Expected ${what} of shape [${b.shape}], got [${a.shape}]`);
  }
}

/**
 * The distribution q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I).
 *
 * @param schedule The schedule.
 * @param x0 Clean data `[B, ...]`.
 * @param t Timesteps `[B]`, int32.
 * @returns Its mean (shape of `x0`), variance and log-variance (`[B, 1, ..., 1]`).
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { qMeanVariance } from "./diffusion.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("cosine", { numTimesteps: 100 });
 * const q = qMeanVariance(s, tf.ones([1, 2]), tf.tensor1d([99], "int32"));
 * assert.ok(q.variance.dataSync()[0]! > 0.999);
 * ```
 */
export function qMeanVariance(schedule: Schedule, x0: tf.Tensor, t: tf.Tensor1D): GaussianParams {
  _checkBatch(x0, t, "x0");
  return tf.tidy(() => {
    const variance = tf.sub(1, extract(schedule.alphasCumprod, t, x0.rank));
    return {
      mean: tf.mul(extract(schedule.sqrtAlphasCumprod, t, x0.rank), x0),
      variance,
      logVariance: extract(schedule.logOneMinusAlphasCumprod, t, x0.rank),
    };
  });
}

/**
 * The true posterior q(x_{t-1} | x_t, x_0) = N(coef1 x_0 + coef2 x_t, beta tilde_t I), with the
 * log-variance clipped at t = 0 as in Improved DDPM.
 *
 * @param schedule The schedule.
 * @param x0 Clean data `[B, ...]`.
 * @param xt Noisy data of the same shape.
 * @param t Timesteps `[B]`, int32.
 * @returns Its mean, variance and (clipped) log-variance.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { qPosteriorMeanVariance } from "./diffusion.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("cosine", { numTimesteps: 10 });
 * const p = qPosteriorMeanVariance(s, tf.ones([1, 1]), tf.ones([1, 1]), tf.tensor1d([0], "int32"));
 * assert.ok(Math.abs(p.mean.dataSync()[0]! - 1) < 1e-6); // at t = 0 the posterior is x_0
 * ```
 */
export function qPosteriorMeanVariance(
  schedule: Schedule,
  x0: tf.Tensor,
  xt: tf.Tensor,
  t: tf.Tensor1D,
): GaussianParams {
  _checkBatch(x0, t, "x0");
  _checkSameShape(xt, x0, "xt");
  return tf.tidy(() => ({
    mean: tf.add(
      tf.mul(extract(schedule.posteriorMeanCoef1, t, x0.rank), x0),
      tf.mul(extract(schedule.posteriorMeanCoef2, t, x0.rank), xt),
    ),
    variance: extract(schedule.posteriorVariance, t, x0.rank),
    logVariance: extract(schedule.posteriorLogVarianceClipped, t, x0.rank),
  }));
}

/**
 * x_0 from x_t and the noise: x_0 = sqrt(1 / abar_t) x_t - sqrt(1 / abar_t - 1) eps.
 *
 * @param schedule The schedule.
 * @param xt Noisy data `[B, ...]`.
 * @param t Timesteps `[B]`, int32.
 * @param eps The noise, shape of `xt`.
 * @returns The x_0 that, noised with `eps`, gives `xt`.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { predictXstartFromEps, qSample } from "./diffusion.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("linear", { numTimesteps: 100 });
 * const t = tf.tensor1d([50], "int32"), x0 = tf.tensor2d([[0.3, -0.2]]), eps = tf.tensor2d([[1, 2]]);
 * const back = predictXstartFromEps(s, qSample(s, x0, t, eps), t, eps).dataSync();
 * assert.ok(Math.abs(back[0]! - 0.3) < 1e-5 && Math.abs(back[1]! + 0.2) < 1e-5);
 * ```
 */
export function predictXstartFromEps(
  schedule: Schedule,
  xt: tf.Tensor,
  t: tf.Tensor1D,
  eps: tf.Tensor,
): tf.Tensor {
  _checkBatch(xt, t, "xt");
  return tf.tidy(() =>
    tf.sub(
      tf.mul(extract(schedule.sqrtRecipAlphasCumprod, t, xt.rank), xt),
      tf.mul(extract(schedule.sqrtRecipm1AlphasCumprod, t, xt.rank), eps),
    )
  );
}

/**
 * The noise from x_t and x_0: eps = (sqrt(1 / abar_t) x_t - x_0) / sqrt(1 / abar_t - 1).
 *
 * @param schedule The schedule.
 * @param xt Noisy data `[B, ...]`.
 * @param t Timesteps `[B]`, int32.
 * @param predXstart x_0, shape of `xt`.
 * @returns eps.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { predictEpsFromXstart, qSample } from "./diffusion.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("linear", { numTimesteps: 100 });
 * const t = tf.tensor1d([50], "int32"), x0 = tf.tensor2d([[0.3]]), eps = tf.tensor2d([[0.7]]);
 * const e = predictEpsFromXstart(s, qSample(s, x0, t, eps), t, x0).dataSync();
 * assert.ok(Math.abs(e[0]! - 0.7) < 1e-4);
 * ```
 */
export function predictEpsFromXstart(
  schedule: Schedule,
  xt: tf.Tensor,
  t: tf.Tensor1D,
  predXstart: tf.Tensor,
): tf.Tensor {
  _checkBatch(xt, t, "xt");
  return tf.tidy(() =>
    tf.div(
      tf.sub(tf.mul(extract(schedule.sqrtRecipAlphasCumprod, t, xt.rank), xt), predXstart),
      extract(schedule.sqrtRecipm1AlphasCumprod, t, xt.rank),
    )
  );
}

/**
 * The variances of "fixed-large": beta_t, except at t = 0 where the posterior variance of t = 1
 * is used (so that the decoder's log-likelihood is not degenerate), as Improved DDPM.
 *
 * @param schedule The schedule.
 * @returns A new array of T variances.
 *
 * @example
 * ```ts
 * import { createSchedule } from "./schedule.ts";
 * import { fixedLargeVariance } from "./diffusion.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("cosine", { numTimesteps: 10 });
 * const v = fixedLargeVariance(s);
 * assert.equal(v[0], s.posteriorVariance[1]);
 * assert.equal(v[5], s.betas[5]);
 * ```
 */
export function fixedLargeVariance(schedule: Schedule): Float64Array {
  const v = Float64Array.from(schedule.betas);
  if (schedule.numTimesteps > 1) v[0] = schedule.posteriorVariance[1]!;
  return v;
}

/**
 * The number of output channels a model needs (on the last axis) for a variance kind: the data's
 * own for fixed variances, twice that for "learned-range".
 *
 * @param variance The variance kind.
 * @param dataChannels The data's channels (last axis).
 * @returns The model's output channels.
 *
 * @example
 * ```ts
 * import { modelOutputChannels } from "./diffusion.ts";
 * import assert from "node:assert/strict";
 * assert.equal(modelOutputChannels("learned-range", 1), 2);
 * assert.equal(modelOutputChannels("fixed-small", 2), 2);
 * ```
 */
export function modelOutputChannels(variance: VarianceKind, dataChannels: number): number {
  switch (variance) {
    case "fixed-small":
    case "fixed-large":
      return dataChannels;
    case "learned-range":
      return 2 * dataChannels;
    default: {
      const never: never = variance;
      throw new RangeError(
        `Unknown variance "${never}": expected one of ${VARIANCE_KINDS.join(", ")}`,
      );
    }
  }
}

/**
 * Splits a model's output into the predicted noise and (for "learned-range") the variance
 * interpolation values v in [-1, 1], checking its shape against the data's.
 *
 * @param output The model's output.
 * @param xShape The data's shape.
 * @param variance The variance kind.
 * @returns `{ eps, v }`, `v` null for fixed variances.
 * @throws {TypeError} If the output's shape does not fit.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { splitModelOutput } from "./diffusion.ts";
 * import assert from "node:assert/strict";
 * const { eps, v } = splitModelOutput(tf.zeros([3, 4]), [3, 2], "learned-range");
 * assert.deepEqual(eps.shape, [3, 2]);
 * assert.deepEqual(v!.shape, [3, 2]);
 * ```
 */
export function splitModelOutput(
  output: tf.Tensor,
  xShape: readonly number[],
  variance: VarianceKind,
): { eps: tf.Tensor; v: tf.Tensor | null } {
  const c = xShape[xShape.length - 1] ?? 0;
  const want = [...xShape.slice(0, -1), modelOutputChannels(variance, c)];
  if (output.rank !== want.length || output.shape.some((d, i) => d !== want[i])) {
    throw new TypeError(
      `Expected a model output of shape [${want}] for variance "${variance}", got [${output.shape}]`,
    );
  }
  if (variance !== "learned-range") return { eps: tf.clone(output), v: null };
  const [eps, v] = tf.split(output, 2, -1);
  return { eps: eps!, v: v! };
}

/**
 * The model's reverse step p(x_{t-1} | x_t): its mean (the posterior mean at the predicted x_0),
 * variance and log-variance, with the predicted x_0 and noise. The model is called as
 * `model(xt, schedule.timestepMap[t])` unless `modelOutput` is given.
 *
 * For fixed variances `variance` and `logVariance` have shape `[B, 1, ..., 1]`; for
 * "learned-range" they have the data's shape.
 *
 * @param schedule The schedule.
 * @param model The model.
 * @param xt Noisy data `[B, ...]`.
 * @param t Timesteps `[B]`, int32, indices into `schedule`.
 * @param options Variance kind, clipping, precomputed output.
 * @returns `{ mean, variance, logVariance, predXstart, eps }`.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { pMeanVariance } from "./diffusion.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("linear", { numTimesteps: 100 });
 * const zeroEps = (x: tf.Tensor) => tf.zerosLike(x);
 * const out = pMeanVariance(s, zeroEps, tf.ones([1, 2]), tf.tensor1d([10], "int32"));
 * const expected = 1 / Math.sqrt(s.alphas[10]!);
 * assert.ok(Math.abs(out.mean.dataSync()[0]! - expected) < 1e-5);
 * ```
 */
export function pMeanVariance(
  schedule: Schedule,
  model: ModelFn,
  xt: tf.Tensor,
  t: tf.Tensor1D,
  options: PMeanVarianceOptions = {},
): PMeanVariance {
  const { variance: kind = "fixed-small", clipDenoised = false, modelOutput } = options;
  _checkBatch(xt, t, "xt");
  return tf.tidy(() => {
    const out = modelOutput ?? modelOnSchedule(schedule, model).at(xt, t);
    const { eps, v } = splitModelOutput(out, xt.shape, kind);
    let logVariance: tf.Tensor, variance: tf.Tensor;
    switch (kind) {
      case "fixed-small":
        // The variance is exactly 0 at t = 0 (no noise is added there); its log is clipped.
        variance = extract(schedule.posteriorVariance, t, xt.rank);
        logVariance = extract(schedule.posteriorLogVarianceClipped, t, xt.rank);
        break;
      case "fixed-large": {
        const large = fixedLargeVariance(schedule);
        variance = extract(large, t, xt.rank);
        logVariance = extract(large.map(Math.log), t, xt.rank);
        break;
      }
      case "learned-range": {
        const minLog = extract(schedule.posteriorLogVarianceClipped, t, xt.rank);
        const maxLog = extract(schedule.betas.map(Math.log), t, xt.rank);
        const frac = tf.div(tf.add(v!, 1), 2);
        logVariance = tf.add(tf.mul(frac, maxLog), tf.mul(tf.sub(1, frac), minLog));
        variance = tf.exp(logVariance);
        break;
      }
      default: {
        const never: never = kind;
        throw new RangeError(
          `Unknown variance "${never}": expected one of ${VARIANCE_KINDS.join(", ")}`,
        );
      }
    }
    let predXstart = predictXstartFromEps(schedule, xt, t, eps);
    if (clipDenoised) predXstart = tf.clipByValue(predXstart, -1, 1);
    const { mean } = qPosteriorMeanVariance(schedule, predXstart, xt, t);
    return { mean, variance, logVariance, predXstart, eps };
  });
}
