/**
 * Denoising with the prior: an observation y = x + sigma n (x in the model's space, n ~ N(0, I))
 * is, scaled by sqrt(abar_t), a sample of q(x_t | x) at the step t whose noise level
 * sqrt(1 - abar_t) / sqrt(abar_t) equals sigma: sqrt(abar_t) y = sqrt(abar_t) x +
 * sqrt(1 - abar_t) n. Running the reverse process from that step to 0 then samples the posterior
 * p(x | y) of the model's prior (Kadkhodaie and Simoncelli 2021; the start of SDEdit, Meng et al.
 * 2022).
 *
 * The step is the schedule's step whose noise level is nearest to sigma (in log); the reverse
 * process keeps that step and, below it, the steps a sampling-steps value (`"all"`, `"50"`, ...)
 * keeps of the whole schedule.
 *
 * @module
 */
import { type ModelFn, tf } from "./tf.ts";
import type { Schedule } from "./schedule.ts";
import { parseSampleSteps, respace, spaceTimesteps } from "./respace.ts";
import { pSampleLoopProgressive, type SampleStep } from "./sampler.ts";
import type { VarianceKind } from "./diffusion.ts";

/**
 * The noise level of each step in the units of the data: sqrt((1 - abar_t) / abar_t), increasing
 * with t.
 *
 * @param schedule The schedule.
 * @returns T noise levels.
 *
 * @example
 * ```ts
 * import { createSchedule } from "./schedule.ts";
 * import { noiseLevels } from "./denoise.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("linear", { numTimesteps: 1000 });
 * const levels = noiseLevels(s);
 * assert.ok(Math.abs(levels[0]! - Math.sqrt(1e-4 / (1 - 1e-4))) < 1e-12);
 * assert.ok(levels[999]! > 100);
 * ```
 */
export function noiseLevels(schedule: Schedule): Float64Array {
  return schedule.alphasCumprod.map((a) => Math.sqrt((1 - a) / a));
}

/**
 * The step whose noise level is nearest to `sigma` (in log; the lower one on a tie).
 *
 * @param schedule The schedule.
 * @param sigma The observation's noise standard deviation, in the data's units.
 * @returns The index of the step.
 * @throws {RangeError} If sigma is not positive, or beyond the largest noise level.
 *
 * @example
 * ```ts
 * import { createSchedule } from "./schedule.ts";
 * import { noiseLevelIndex, noiseLevels } from "./denoise.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("cosine", { numTimesteps: 1000 });
 * assert.equal(noiseLevelIndex(s, noiseLevels(s)[300]!), 300);
 * assert.throws(() => noiseLevelIndex(s, 0), RangeError);
 * assert.throws(() => noiseLevelIndex(s, 1e6), /at most/);
 * ```
 */
export function noiseLevelIndex(schedule: Schedule, sigma: number): number {
  const levels = noiseLevels(schedule);
  const max = levels[levels.length - 1]!;
  if (!(sigma > 0) || !Number.isFinite(sigma)) {
    throw new RangeError(`Cannot denoise: expected a noise level sigma > 0, got ${sigma}`);
  }
  if (sigma > max) {
    throw new RangeError(
      `Cannot denoise: expected sigma at most ${
        max.toPrecision(4)
      }, the schedule's largest noise level, got ${sigma}`,
    );
  }
  let best = 0;
  for (let i = 1; i < levels.length; i++) {
    if (Math.abs(Math.log(levels[i]! / sigma)) < Math.abs(Math.log(levels[best]! / sigma))) {
      best = i;
    }
  }
  return best;
}

/** Where a denoising run starts: see {@linkcode denoisingSchedule}. */
export interface DenoisingStart {
  /** The schedule of the reverse process: its last step is the matched step. */
  schedule: Schedule;
  /** The matched step, an index into the given schedule. */
  index: number;
  /** The matched step's noise level (near sigma). */
  sigma: number;
  /** sqrt(abar) at the matched step: the observation's scale factor. */
  scale: number;
}

/**
 * The reverse process for an observation of noise level `sigma`: the matched step (see
 * {@linkcode noiseLevelIndex}) and, below it, the steps that `steps` keeps of the whole schedule,
 * as a respaced schedule that ends at the matched step.
 *
 * @param schedule The schedule the model was trained with (or one respaced from it).
 * @param sigma The observation's noise standard deviation, in the data's units.
 * @param steps A sampling-steps value: `"all"`, `"N"` or `"N1,N2,..."` (not `"ddimN"` or another
 *   solver's: denoising samples, so it runs the ancestral sampler).
 * @returns The reverse process's schedule, the matched step, its noise level and scale.
 * @throws {RangeError} If sigma is out of range or `steps` names a solver (`"ddimN"`, ...).
 *
 * @example
 * ```ts
 * import { createSchedule } from "./schedule.ts";
 * import { denoisingSchedule, noiseLevels } from "./denoise.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("cosine", { numTimesteps: 1000 });
 * const start = denoisingSchedule(s, noiseLevels(s)[400]!, "50");
 * assert.equal(start.index, 400);
 * assert.equal(start.schedule.timestepMap.at(-1), 400);
 * assert.equal(start.schedule.numTimesteps, 21); // 20 of the 50 steps lie below 400, then 400
 * ```
 */
export function denoisingSchedule(
  schedule: Schedule,
  sigma: number,
  steps = "all",
): DenoisingStart {
  const { method } = parseSampleSteps(steps);
  if (method !== "ancestral") {
    throw new RangeError(
      `Cannot denoise with steps "${steps}" (${method}): expected "all", "N" or "N1,N2,..." (denoising runs the ancestral sampler)`,
    );
  }
  const index = noiseLevelIndex(schedule, sigma);
  const keep = spaceTimesteps(schedule.numTimesteps, steps).filter((k) => k < index);
  keep.push(index);
  return {
    schedule: respace(schedule, keep),
    index,
    sigma: Math.sqrt((1 - schedule.alphasCumprod[index]!) / schedule.alphasCumprod[index]!),
    scale: schedule.sqrtAlphasCumprod[index]!,
  };
}

/** Options of {@linkcode denoiseLoopProgressive}. */
export interface DenoiseOptions {
  /**
   * Which steps below the matched one the reverse process takes (see
   * {@linkcode denoisingSchedule}).
   *
   * @default {"all"}
   */
  steps?: string;
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
}

/**
 * Denoises step by step: x_{t*} = sqrt(abar_{t*}) y at the step t* whose noise level matches
 * sigma, then ancestral sampling from t* to 0 (see {@linkcode denoisingSchedule}). Each example
 * of the batch is one draw of the posterior; tile an observation to draw it several times.
 *
 * Memory: the yielded tensors belong to the generator (as in `sampler.ts`); the caller keeps `y`.
 *
 * @param schedule The schedule the model was trained with.
 * @param model The model, called with original timesteps.
 * @param y The observations `[B, ...]`, in the model's space.
 * @param sigma Their noise standard deviation, in the model's units.
 * @param options Steps, seed, clipping, variance.
 * @returns A generator of `SampleStep`s of the reverse process (indices into its own schedule);
 *   the last has index 0 and holds the denoised batch.
 * @throws {RangeError} As {@linkcode denoisingSchedule}.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { denoiseLoopProgressive } from "./denoise.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("linear", { numTimesteps: 100 });
 * const y = tf.tensor2d([[0.5, -0.5]]);
 * const before = tf.memory().numTensors;
 * const ts: number[] = [];
 * for (const step of denoiseLoopProgressive(s, (x) => tf.zerosLike(x), y, 0.3)) ts.push(step.t);
 * assert.equal(ts.at(-1), 0);
 * assert.ok(ts[0]! > 0 && ts[0]! < 99);
 * assert.equal(tf.memory().numTensors, before);
 * ```
 */
export function denoiseLoopProgressive(
  schedule: Schedule,
  model: ModelFn,
  y: tf.Tensor,
  sigma: number,
  options: DenoiseOptions = {},
): Generator<SampleStep, void, undefined> {
  const start = denoisingSchedule(schedule, sigma, options.steps ?? "all");
  return _loop(start, model, y, options);
}

function* _loop(
  start: DenoisingStart,
  model: ModelFn,
  y: tf.Tensor,
  options: DenoiseOptions,
): Generator<SampleStep, void, undefined> {
  const xt = tf.tidy(() => tf.mul(tf.cast(y, "float32"), start.scale));
  try {
    yield* pSampleLoopProgressive(start.schedule, model, y.shape, {
      noise: xt,
      seed: options.seed,
      clipDenoised: options.clipDenoised,
      variance: options.variance,
    });
  } finally {
    xt.dispose();
  }
}

/** Options of {@linkcode denoise}. */
export interface DenoiseDrainOptions extends DenoiseOptions {
  /** Called with each step (e.g. for progress); its tensors are valid only during the call. */
  onStep?: (step: SampleStep) => void;
}

/**
 * Drains {@linkcode denoiseLoopProgressive}: the denoised batch, owned by the caller.
 *
 * @param schedule The schedule the model was trained with.
 * @param model The model, called with original timesteps.
 * @param y The observations `[B, ...]`.
 * @param sigma Their noise standard deviation.
 * @param options See {@linkcode DenoiseOptions}, and `onStep`.
 * @returns Draws of the posterior, of `y`'s shape.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { denoise } from "./denoise.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("linear", { numTimesteps: 100 });
 * const x = denoise(s, (x) => tf.zerosLike(x), tf.ones([3, 2]), 0.5, { steps: "10" });
 * assert.deepEqual(x.shape, [3, 2]);
 * x.dispose();
 * ```
 */
export function denoise(
  schedule: Schedule,
  model: ModelFn,
  y: tf.Tensor,
  sigma: number,
  options: DenoiseDrainOptions = {},
): tf.Tensor {
  let result: tf.Tensor | null = null;
  for (const step of denoiseLoopProgressive(schedule, model, y, sigma, options)) {
    options.onStep?.(step);
    if (step.index === 0) result = tf.clone(step.sample);
  }
  return result!;
}
