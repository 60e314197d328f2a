/**
 * The loop every sampler runs (ancestral and DDIM in `sampler.ts`, DPM-Solver++ in
 * `dpm_solver.ts`, UniPC in `unipc.ts`): the checks, x_T from the seed or the caller, one step
 * per schedule index from T - 1 down to 0 inside a `tf.tidy`, the yields, and the disposal of
 * what it holds when it ends or is left early. Private to `lib/`; the samplers' modules export
 * the public loops.
 *
 * @module
 */
import { tf } from "./tf.ts";
import { Rng } from "./random.ts";
import type { Schedule } from "./schedule.ts";
import type { VarianceKind } from "./diffusion.ts";

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

/** What one step of a loop returns: the sample after it and the x_0 predicted on the way. */
export type StepResult = {
  /** x_{i-1}. */
  sample: tf.Tensor;
  /** The predicted x_0. */
  predXstart: tf.Tensor;
};

/**
 * One sampler's step, as {@linkcode sampleLoop} runs it.
 *
 * `step` runs inside a `tf.tidy`: its result is kept, everything else it makes is disposed. A
 * multistep solver that carries tensors to later steps `tf.keep`s them, owns them, and frees them
 * in `dispose`, which the loop calls once, when it ends or is left early.
 */
export interface Stepper {
  /**
   * Takes the step at schedule index `i` from `x` (which it must not dispose).
   *
   * @param x The sample x_i.
   * @param t `i` for every example, int32 `[B]`.
   * @param i The schedule index.
   * @param draw Draws fresh N(0, I) noise of the batch's shape from the loop's seeded stream.
   */
  step(x: tf.Tensor, t: tf.Tensor1D, i: number, draw: () => tf.Tensor): StepResult;
  /** Frees what the stepper keeps across steps. */
  dispose?(): void;
}

/** Checks the call before anything is drawn; returns the yield stride. */
function _check(shape: readonly number[], opts: SampleLoopOptions): number {
  if (shape.length < 1 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new TypeError(`Cannot sample: expected a shape of positive integers, got [${shape}]`);
  }
  const every = opts.trajectoryEvery ?? 1;
  if (!Number.isInteger(every) || every < 1) {
    throw new RangeError(
      `Cannot sample: expected trajectoryEvery a positive integer, got ${every}`,
    );
  }
  const n = opts.noise;
  if (n !== undefined && (n.rank !== shape.length || n.shape.some((d, i) => d !== shape[i]))) {
    throw new TypeError(`Cannot sample: expected noise of shape [${shape}], got [${n.shape}]`);
  }
  return every;
}

/**
 * Runs a sampler's steps from x_T down the schedule and yields them. The checks (shape, noise,
 * `trajectoryEvery`) run at once, so that a bad call throws where it is made; x_T is drawn (or
 * copied) at the first `next()`, so that a generator never started holds nothing.
 *
 * @param schedule The schedule to step down (possibly respaced).
 * @param shape The batch's shape `[B, ...]`.
 * @param options Seed, initial noise, yield stride.
 * @param stepper The sampler's step (and what it keeps across steps).
 * @returns A generator of {@linkcode SampleStep}; the last has index 0 and holds the samples.
 * @throws {TypeError} If the shape is not positive integers or the noise does not have it.
 * @throws {RangeError} If `trajectoryEvery` is not a positive integer.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { sampleLoop } from "./_sample_loop.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("cosine", { numTimesteps: 4 });
 * const halve = { step: (x: tf.Tensor) => ({ sample: tf.mul(x, 0.5), predXstart: tf.zerosLike(x) }) };
 * const before = tf.memory().numTensors;
 * const seen: number[][] = [];
 * for (const step of sampleLoop(s, [1, 1], { noise: tf.ones([1, 1]) }, halve)) {
 *   seen.push([step.index, step.sample.dataSync()[0]!]); // valid until the next step
 * }
 * assert.deepEqual(seen, [[3, 0.5], [2, 0.25], [1, 0.125], [0, 0.0625]]);
 * assert.equal(tf.memory().numTensors, before + 1); // the noise given, which the caller keeps
 * ```
 */
export function sampleLoop(
  schedule: Schedule,
  shape: readonly number[],
  options: SampleLoopOptions,
  stepper: Stepper,
): Generator<SampleStep, void, undefined> {
  const every = _check(shape, options);
  return _run(schedule, shape, options, every, stepper);
}

function* _run(
  schedule: Schedule,
  shape: readonly number[],
  options: SampleLoopOptions,
  every: number,
  stepper: Stepper,
): Generator<SampleStep, void, undefined> {
  const rng = new Rng(options.seed ?? 0);
  const size = shape.reduce((a, b) => a * b, 1);
  const draw = () => tf.tensor(rng.fillNormal(new Float32Array(size)), [...shape], "float32");
  const n = schedule.numTimesteps;
  const yields = (i: number) => i === 0 || (n - 1 - i) % every === 0;
  let x = options.noise !== undefined ? tf.cast(options.noise, "float32") : draw();
  let pred: tf.Tensor | null = null;
  try {
    for (let i = n - 1; i >= 0; i--) {
      const next = tf.tidy(() => {
        const t = tf.fill([shape[0]!], i, "int32") as tf.Tensor1D;
        return stepper.step(x, t, i, draw);
      });
      x.dispose();
      pred?.dispose();
      x = next.sample;
      pred = next.predXstart;
      if (yields(i)) {
        yield { index: i, t: schedule.timestepMap[i]!, sample: x, predXstart: pred };
      }
    }
  } finally {
    x.dispose();
    pred?.dispose();
    stepper.dispose?.();
  }
}
