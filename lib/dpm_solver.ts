/**
 * DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
 * Probabilistic Models", Algorithm 2): the multistep second-order solver of the diffusion ODE in
 * its data-prediction form, for an epsilon-prediction model.
 *
 * @module
 */
import { type ModelFn, tf } from "./tf.ts";
import type { Schedule } from "./schedule.ts";
import { sampleLoop, type SampleLoopOptions, type SampleStep } from "./_sample_loop.ts";
import { dataPredictor, solverGrid } from "./_solver.ts";

/**
 * DPM-Solver++(2M), step by step. With lambda = log(alpha / sigma), h = lambda_{i-1} - lambda_i
 * and the data predictions m_i = x_0(x_i) (clipped when asked), each step is
 *
 * x_{i-1} = (sigma_{i-1} / sigma_i) x_i - alpha_{i-1} (e^{-h} - 1) D,
 *
 * with D = m_i at the first step (first order: DDIM) and D = m_i + (m_i - m_{i+1}) / (2 r),
 * r = (lambda_i - lambda_{i+1}) / h, at the others (second order, from the previous step's
 * prediction: one model call a step). The last step, from index 0 to the data (sigma = 0,
 * lambda = +inf), is first order and gives x_0 = m_0, as diffusers' `lower_order_final` and
 * `final_sigmas_type="zero"` do. Deterministic: the seed only draws x_T. The scalars are float64
 * from `schedule.alphasCumprod`; use a respaced schedule (`samplingSchedule(base, "dpm++20")`)
 * for few steps. With "learned-range" only the noise half of the output is used.
 *
 * @param schedule The schedule (usually respaced).
 * @param model The epsilon-prediction model, called with original timesteps.
 * @param shape The shape of the batch to sample, `[B, ...]`.
 * @param options Seed, clipping, variance (the output's layout), initial noise, yield stride.
 * @returns A generator of {@linkcode SampleStep}; the last has index 0 and holds the samples.
 * @throws {TypeError} If the shape or the noise is wrong.
 * @throws {RangeError} If `trajectoryEvery` is not a positive integer.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { samplingSchedule } from "./respace.ts";
 * import { dpmSolverSampleLoopProgressive } from "./dpm_solver.ts";
 * import assert from "node:assert/strict";
 * const base = createSchedule("cosine", { numTimesteps: 100 });
 * const { schedule } = samplingSchedule(base, "dpm++5");
 * const before = tf.memory().numTensors;
 * const steps: number[] = [];
 * let last = NaN;
 * for (const step of dpmSolverSampleLoopProgressive(schedule, (x) => tf.zerosLike(x), [2, 1])) {
 *   steps.push(step.t);
 *   last = step.sample.dataSync()[0]!;
 * }
 * assert.deepEqual(steps, [99, 79, 59, 39, 19]);
 * assert.ok(Number.isFinite(last));
 * assert.equal(tf.memory().numTensors, before);
 * ```
 */
export function dpmSolverSampleLoopProgressive(
  schedule: Schedule,
  model: ModelFn,
  shape: readonly number[],
  options: SampleLoopOptions = {},
): Generator<SampleStep, void, undefined> {
  const { alpha, sigma, lambda } = solverGrid(schedule);
  const predict = dataPredictor(schedule, model, options);
  // The previous step's data prediction, kept across steps (owned here).
  let previous: tf.Tensor | null = null;
  return sampleLoop(schedule, shape, options, {
    step(x, t, i) {
      // Grid index k = i + 1 is x's step, k - 1 the target, k + 1 the previous step.
      const k = i + 1;
      const m = predict(x, t, i);
      let sample: tf.Tensor;
      if (i === 0) {
        sample = tf.clone(m); // sigma = 0: x_0 = m_0 (first order)
      } else {
        const h = lambda[k - 1]! - lambda[k]!;
        const cx = sigma[k - 1]! / sigma[k]!, cm = -alpha[k - 1]! * Math.expm1(-h);
        let d = m;
        if (previous !== null) {
          const r = (lambda[k]! - lambda[k + 1]!) / h;
          d = tf.add(m, tf.mul(tf.sub(m, previous), 0.5 / r));
        }
        sample = tf.add(tf.mul(x, cx), tf.mul(d, cm));
      }
      previous?.dispose();
      previous = tf.keep(tf.clone(m));
      return { sample, predXstart: m };
    },
    dispose() {
      previous?.dispose();
      previous = null;
    },
  });
}
