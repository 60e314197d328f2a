/**
 * Sampling loops as generators that yield each step: ancestral sampling (DDPM; on a respaced
 * schedule it is the strided sampler of Improved DDPM) and DDIM here, DPM-Solver++(2M) in
 * `dpm_solver.ts` and UniPC in `unipc.ts`. {@linkcode sample} drains any of them.
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
import type { Schedule } from "./schedule.ts";
import { pMeanVariance, predictEpsFromXstart } from "./diffusion.ts";
import { sampleLoop, type SampleLoopOptions, type SampleStep } from "./_sample_loop.ts";
import { dpmSolverSampleLoopProgressive } from "./dpm_solver.ts";
import { unipcSampleLoopProgressive } from "./unipc.ts";
import { SAMPLE_METHODS, type SampleMethod } from "./sample_methods.ts";

export type { SampleLoopOptions, SampleStep } from "./_sample_loop.ts";
export { SAMPLE_METHODS, type SampleMethod } from "./sample_methods.ts";

/** Options of {@linkcode ddimSampleLoopProgressive}. */
export interface DdimOptions extends SampleLoopOptions {
  /**
   * DDIM's eta: 0 is deterministic, 1 has ancestral-like noise.
   *
   * @default {0}
   */
  eta?: number;
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
  return sampleLoop(schedule, shape, options, {
    step(x, t, i, draw) {
      const out = pMeanVariance(schedule, model, x, t, { variance, clipDenoised });
      const sample = i > 0
        ? tf.add(out.mean, tf.mul(tf.exp(tf.mul(0.5, out.logVariance)), draw()))
        : out.mean;
      return { sample, predXstart: out.predXstart };
    },
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
  return sampleLoop(schedule, shape, options, {
    step(x, t, i, draw) {
      const out = pMeanVariance(schedule, model, x, t, { variance, clipDenoised });
      const eps = predictEpsFromXstart(schedule, x, t, out.predXstart);
      const abar = schedule.alphasCumprod[i]!, abarPrev = schedule.alphasCumprodPrev[i]!;
      const sigma = eta * Math.sqrt((1 - abarPrev) / (1 - abar)) * Math.sqrt(1 - abar / abarPrev);
      const dirCoef = Math.sqrt(Math.max(1 - abarPrev - sigma * sigma, 0));
      let sample = tf.add(tf.mul(out.predXstart, Math.sqrt(abarPrev)), tf.mul(eps, dirCoef));
      if (i > 0 && sigma > 0) sample = tf.add(sample, tf.mul(draw(), sigma));
      return { sample, predXstart: out.predXstart };
    },
  });
}

/** Options of {@linkcode sample}. */
export interface SampleOptions extends DdimOptions {
  /**
   * The loop to drain.
   *
   * @default {"ancestral"}
   */
  method?: SampleMethod;
  /**
   * Called after every step, one model call each, whatever `trajectoryEvery` keeps (e.g. for
   * progress); its tensors are the generator's and valid only during the call.
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
 * @param options The method (one of {@linkcode SAMPLE_METHODS}) and the loop's options (eta is
 * DDIM's only).
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
  const { method = "ancestral", onStep, trajectoryEvery: every } = options;
  if (every !== undefined && !(Number.isInteger(every) && every >= 1)) {
    throw new RangeError(
      `Cannot sample: expected trajectoryEvery a positive integer, got ${every}`,
    );
  }
  // Every step is drained (onStep sees each model call); frames are kept every `every` steps.
  const each = { ...options, trajectoryEvery: undefined };
  let gen: Generator<SampleStep, void, undefined>;
  switch (method) {
    case "ancestral":
      gen = pSampleLoopProgressive(schedule, model, shape, each);
      break;
    case "ddim":
      gen = ddimSampleLoopProgressive(schedule, model, shape, each);
      break;
    case "dpm++":
      gen = dpmSolverSampleLoopProgressive(schedule, model, shape, each);
      break;
    case "unipc":
      gen = unipcSampleLoopProgressive(schedule, model, shape, each);
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
  const last = schedule.numTimesteps - 1;
  for (const step of gen) {
    onStep?.(step);
    if (every !== undefined && ((last - step.index) % every === 0 || step.index === 0)) {
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
