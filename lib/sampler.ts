/**
 * Sampling loops as generators that yield each step: ancestral sampling (DDPM; on a respaced
 * schedule it is the strided sampler of Improved DDPM) and DDIM. {@linkcode sample} drains one.
 *
 * Memory: the yielded tensors belong to the generator. They stay valid until the next call of
 * `next()` (or `return()`, e.g. leaving a `for..of` early), which disposes them; `tf.clone` what
 * you want to keep, and never dispose them yourself. Nothing else outlives the loop.
 *
 * Reproducibility: all noise (x_T and each step's) is drawn from `new Rng(seed)` in a fixed order,
 * so the same seed gives the same samples on any backend up to float rounding.
 *
 * @module
 */
import { type ModelFn, tf } from "./tf.ts";
import { Rng } from "./random.ts";
import type { Schedule } from "./schedule.ts";
import { pMeanVariance, predictEpsFromXstart, type VarianceKind } from "./diffusion.ts";

/** Options shared by the sampling loops. */
export interface SampleLoopOptions {
  /**
   * The seed of the noise.
   *
   * @default {0}
   */
  seed?: number;
  /**
   * Clip each predicted x_0 to [-1, 1] (for data in [-1, 1], e.g. images).
   *
   * @default {false}
   */
  clipDenoised?: boolean;
  /**
   * The reverse variance (for "learned-range" the model outputs twice the data's channels).
   *
   * @default {"fixed-small"}
   */
  variance?: VarianceKind;
  /** The initial x_T, of `shape` (copied; the caller keeps it). Default: N(0, I) from the seed. */
  noise?: tf.Tensor;
  /**
   * Yield only every k-th step (the first and the last are always yielded).
   *
   * @default {1}
   */
  trajectoryEvery?: number;
}

/** Options of {@linkcode ddimSampleLoopProgressive}. */
export interface DdimOptions extends SampleLoopOptions {
  /**
   * DDIM's eta: 0 is deterministic, 1 has ancestral-like noise.
   *
   * @default {0}
   */
  eta?: number;
}

/** One step of a sampling loop. */
export interface SampleStep {
  /** The schedule index i of the step just taken (counts down from T - 1 to 0). */
  index: number;
  /** The original timestep of the step, `schedule.timestepMap[index]`. */
  t: number;
  /** x_{i-1}, the sample after the step (at index 0: the final sample). Owned by the generator. */
  sample: tf.Tensor;
  /** The model's x_0 prediction at this step. Owned by the generator. */
  predXstart: tf.Tensor;
}

function _setup(schedule: Schedule, shape: readonly number[], opts: SampleLoopOptions) {
  if (shape.length < 1 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new TypeError(`Cannot sample: expected a shape of positive integers, got [${shape}]`);
  }
  const every = opts.trajectoryEvery ?? 1;
  if (!Number.isInteger(every) || every < 1) {
    throw new RangeError(
      `Cannot sample: expected trajectoryEvery a positive integer, got ${every}`,
    );
  }
  const rng = new Rng(opts.seed ?? 0);
  const size = shape.reduce((a, b) => a * b, 1);
  const draw = () => tf.tensor(rng.fillNormal(new Float32Array(size)), [...shape], "float32");
  let x: tf.Tensor;
  if (opts.noise !== undefined) {
    const n = opts.noise;
    if (n.rank !== shape.length || n.shape.some((d, i) => d !== shape[i])) {
      throw new TypeError(`Cannot sample: expected noise of shape [${shape}], got [${n.shape}]`);
    }
    x = tf.cast(n, "float32");
  } else {
    x = draw();
  }
  const n = schedule.numTimesteps;
  const yields = (i: number) => i === 0 || (n - 1 - i) % every === 0;
  return { draw, x, yields, batch: shape[0]! };
}

function* _loop(
  schedule: Schedule,
  shape: readonly number[],
  opts: SampleLoopOptions,
  step: (
    x: tf.Tensor,
    t: tf.Tensor1D,
    i: number,
    draw: () => tf.Tensor,
  ) => { sample: tf.Tensor; predXstart: tf.Tensor },
): Generator<SampleStep, void, undefined> {
  const setup = _setup(schedule, shape, opts);
  let x = setup.x;
  let pred: tf.Tensor | null = null;
  try {
    for (let i = schedule.numTimesteps - 1; i >= 0; i--) {
      const next = tf.tidy(() => {
        const t = tf.fill([setup.batch], i, "int32") as tf.Tensor1D;
        return step(x, t, i, setup.draw);
      });
      x.dispose();
      pred?.dispose();
      x = next.sample;
      pred = next.predXstart;
      if (setup.yields(i)) {
        yield { index: i, t: schedule.timestepMap[i]!, sample: x, predXstart: pred };
      }
    }
  } finally {
    x.dispose();
    pred?.dispose();
  }
}

/**
 * Ancestral sampling, step by step: x_T ~ N(0, I), then x_{t-1} = mu(x_t) + sigma_t z for t > 0
 * and x_0 = mu(x_1). On a respaced schedule this is Improved DDPM's strided sampler (learned
 * variances interpolate between the respaced betas, as pMeanVariance uses the respaced arrays).
 *
 * @param schedule The schedule (possibly respaced).
 * @param model The model, called with original timesteps.
 * @param shape The shape of the batch to sample, `[B, ...]`.
 * @param options Seed, clipping, variance, initial noise, yield stride.
 * @returns A generator of {@linkcode SampleStep}; the last has index 0 and holds the samples.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { pSampleLoopProgressive } from "./sampler.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("cosine", { numTimesteps: 20 });
 * const before = tf.memory().numTensors;
 * let last: number[] = [];
 * for (const step of pSampleLoopProgressive(s, (x) => tf.zerosLike(x), [3, 2], { seed: 1 })) {
 *   last = Array.from(step.sample.dataSync());
 * }
 * assert.equal(last.length, 6);
 * assert.equal(tf.memory().numTensors, before);
 * ```
 */
export function pSampleLoopProgressive(
  schedule: Schedule,
  model: ModelFn,
  shape: readonly number[],
  options: SampleLoopOptions = {},
): Generator<SampleStep, void, undefined> {
  const { variance = "fixed-small", clipDenoised = false } = options;
  return _loop(schedule, shape, options, (x, t, i, draw) => {
    const out = pMeanVariance(schedule, model, x, t, { variance, clipDenoised });
    const sample = i > 0
      ? tf.add(out.mean, tf.mul(tf.exp(tf.mul(0.5, out.logVariance)), draw()))
      : out.mean;
    return { sample, predXstart: out.predXstart };
  });
}

/**
 * DDIM sampling (Song et al. 2021), step by step: x_{t-1} = sqrt(abar_{t-1}) x0_hat +
 * sqrt(1 - abar_{t-1} - sigma^2) eps_hat + sigma z with sigma = eta sqrt((1 - abar_{t-1}) /
 * (1 - abar_t)) sqrt(1 - abar_t / abar_{t-1}); eta = 0 is deterministic. Use a respaced schedule
 * for fewer steps.
 *
 * @param schedule The schedule (usually respaced).
 * @param model The model, called with original timesteps.
 * @param shape The shape of the batch to sample, `[B, ...]`.
 * @param options eta, seed, clipping, variance (for the model's output layout), initial noise,
 * yield stride.
 * @returns A generator of {@linkcode SampleStep}; the last has index 0 and holds the samples.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { ddimSampleLoopProgressive } from "./sampler.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("cosine", { numTimesteps: 10 });
 * const steps = [...ddimSampleLoopProgressive(s, (x) => tf.zerosLike(x), [1, 2], {
 *   trajectoryEvery: 4,
 * })].map((step) => step.index);
 * assert.deepEqual(steps, [9, 5, 1, 0]);
 * ```
 */
export function ddimSampleLoopProgressive(
  schedule: Schedule,
  model: ModelFn,
  shape: readonly number[],
  options: DdimOptions = {},
): Generator<SampleStep, void, undefined> {
  const { variance = "fixed-small", clipDenoised = false, eta = 0 } = options;
  if (!(eta >= 0)) throw new RangeError(`Cannot sample with DDIM: expected eta >= 0, got ${eta}`);
  return _loop(schedule, shape, options, (x, t, i, draw) => {
    const out = pMeanVariance(schedule, model, x, t, { variance, clipDenoised });
    const eps = predictEpsFromXstart(schedule, x, t, out.predXstart);
    const abar = schedule.alphasCumprod[i]!, abarPrev = schedule.alphasCumprodPrev[i]!;
    const sigma = eta * Math.sqrt((1 - abarPrev) / (1 - abar)) * Math.sqrt(1 - abar / abarPrev);
    const dirCoef = Math.sqrt(Math.max(1 - abarPrev - sigma * sigma, 0));
    let sample = tf.add(tf.mul(out.predXstart, Math.sqrt(abarPrev)), tf.mul(eps, dirCoef));
    if (i > 0 && sigma > 0) sample = tf.add(sample, tf.mul(draw(), sigma));
    return { sample, predXstart: out.predXstart };
  });
}

/**
 * The sampling methods of {@linkcode sample}: ancestral (strided on a respaced schedule) and
 * DDIM, the one list the CLI's choices and help come from.
 *
 * @example
 * ```ts
 * import { SAMPLE_METHODS } from "./sampler.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...SAMPLE_METHODS], ["ancestral", "ddim"]);
 * ```
 */
export const SAMPLE_METHODS = ["ancestral", "ddim"] as const;

/** The sampling method of {@linkcode sample}. */
export type SampleMethod = typeof SAMPLE_METHODS[number];

/** Options of {@linkcode sample}. */
export interface SampleOptions extends DdimOptions {
  /**
   * The loop to drain.
   *
   * @default {"ancestral"}
   */
  method?: SampleMethod;
  /**
   * Called with each yielded step (e.g. for progress); its tensors are the generator's and valid
   * only during the call.
   */
  onStep?: (step: SampleStep) => void;
}

/** A frame of a sampling trajectory. */
export interface TrajectoryFrame {
  /** The schedule index of the step. */
  index: number;
  /** Its original timestep. */
  t: number;
  /** A copy of the sample after the step, row-major. */
  data: Float32Array;
}

/**
 * Drains a sampling loop and returns the final samples (owned by the caller) and, when
 * `trajectoryEvery` is given, a copy of every k-th intermediate x_t.
 *
 * @param schedule The schedule.
 * @param model The model.
 * @param shape The batch's shape `[B, ...]`.
 * @param options The method ("ancestral" or "ddim") and the loop's options.
 * @returns `{ sample, trajectory }`.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { sample } from "./sampler.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("cosine", { numTimesteps: 10 });
 * const a = sample(s, (x) => tf.zerosLike(x), [2, 2], { seed: 3 });
 * const b = sample(s, (x) => tf.zerosLike(x), [2, 2], { seed: 3, trajectoryEvery: 5 });
 * assert.deepEqual(a.sample.dataSync(), b.sample.dataSync());
 * assert.deepEqual(b.trajectory.map((f) => f.index), [9, 4, 0]);
 * a.sample.dispose();
 * b.sample.dispose();
 * ```
 */
export function sample(
  schedule: Schedule,
  model: ModelFn,
  shape: readonly number[],
  options: SampleOptions = {},
): { sample: tf.Tensor; trajectory: TrajectoryFrame[] } {
  const { method = "ancestral", onStep } = options;
  let gen: Generator<SampleStep, void, undefined>;
  switch (method) {
    case "ancestral":
      gen = pSampleLoopProgressive(schedule, model, shape, options);
      break;
    case "ddim":
      gen = ddimSampleLoopProgressive(schedule, model, shape, options);
      break;
    default: {
      const never: never = method;
      throw new RangeError(
        `Unknown sampling method "${never}": expected one of ${SAMPLE_METHODS.join(", ")}`,
      );
    }
  }
  const trajectory: TrajectoryFrame[] = [];
  let final: tf.Tensor | null = null;
  for (const step of gen) {
    onStep?.(step);
    if (options.trajectoryEvery !== undefined) {
      trajectory.push({
        index: step.index,
        t: step.t,
        data: Float32Array.from(step.sample.dataSync()),
      });
    }
    if (step.index === 0) final = tf.clone(step.sample);
  }
  return { sample: final!, trajectory };
}
