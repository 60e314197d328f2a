/**
 * What the exponential-integrator solvers (DPM-Solver++ in `dpm_solver.ts`, UniPC in `unipc.ts`)
 * share: the schedule as alpha_t, sigma_t and the log-SNR lambda_t = log(alpha_t / sigma_t) in
 * float64, with the step after index 0 at the data (alpha = 1, sigma = 0, lambda = +inf), and
 * the model's prediction of the data x_0 from its noise prediction. Private to `lib/`.
 *
 * @module
 */
import { type ModelFn, tf } from "./tf.ts";
import type { Schedule } from "./schedule.ts";
import { modelOnSchedule, splitModelOutput, type VarianceKind } from "./diffusion.ts";

/** A schedule as the solvers see it, each array indexed by `i + 1` for schedule index `i`. */
export interface SolverGrid {
  /** alpha at schedule index i is `alpha[i + 1]`; `alpha[0]` = 1, the data. */
  alpha: Float64Array;
  /** sigma at schedule index i is `sigma[i + 1]`; `sigma[0]` = 0, the data. */
  sigma: Float64Array;
  /** lambda = log(alpha / sigma) at schedule index i is `lambda[i + 1]`; `lambda[0]` = +inf. */
  lambda: Float64Array;
}

/**
 * alpha_t = sqrt(abar_t), sigma_t = sqrt(1 - abar_t) and lambda_t = log(alpha_t / sigma_t) for
 * each step of the schedule, in float64, shifted by one so that index 0 is the data (the target
 * of the last step).
 *
 * @param schedule The schedule (possibly respaced).
 * @returns The grid.
 * @throws {RangeError} If some abar_t is not in (0, 1).
 *
 * @example
 * ```ts
 * import { createSchedule } from "./schedule.ts";
 * import { solverGrid } from "./_solver.ts";
 * import assert from "node:assert/strict";
 * const g = solverGrid(createSchedule("cosine", { numTimesteps: 10 }));
 * assert.equal(g.lambda[0], Infinity);
 * assert.ok(g.lambda[1]! > g.lambda[10]!); // lambda falls as t grows
 * ```
 */
export function solverGrid(schedule: Schedule): SolverGrid {
  const n = schedule.numTimesteps;
  const alpha = new Float64Array(n + 1), sigma = new Float64Array(n + 1);
  const lambda = new Float64Array(n + 1);
  alpha[0] = 1;
  sigma[0] = 0;
  lambda[0] = Infinity;
  for (let i = 0; i < n; i++) {
    const abar = schedule.alphasCumprod[i]!;
    if (!(abar > 0 && abar < 1)) {
      throw new RangeError(
        `Cannot run a solver on this schedule: expected alphas_cumprod in (0, 1), got ${abar} at step ${i}`,
      );
    }
    alpha[i + 1] = Math.sqrt(abar);
    sigma[i + 1] = Math.sqrt(1 - abar);
    lambda[i + 1] = 0.5 * (Math.log(abar) - Math.log1p(-abar));
  }
  return { alpha, sigma, lambda };
}

/** Options of {@linkcode dataPredictor}. */
export interface DataPredictorOptions {
  /**
   * The model's output layout: for "learned-range" only the first half (the noise) is used.
   *
   * @default {"fixed-small"}
   */
  variance?: VarianceKind;
  /**
   * Clip the predicted x_0 to [-1, 1].
   *
   * @default {false}
   */
  clipDenoised?: boolean;
}

/**
 * The data prediction x_0 = (x_t - sigma_t eps) / alpha_t of an epsilon-prediction model, at
 * schedule index `i` (the model is called with the original timestep through
 * {@linkcode modelOnSchedule}), clipped to [-1, 1] when asked. The caller owns the result.
 *
 * @param schedule The schedule (possibly respaced).
 * @param model The model, called with original timesteps.
 * @param options Output layout and clipping.
 * @returns `(x, t, i) => x_0`, `t` being `i` for every example.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { dataPredictor } from "./_solver.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("cosine", { numTimesteps: 10 });
 * const x0 = dataPredictor(s, (x) => tf.zerosLike(x))(tf.ones([1, 1]), tf.tensor1d([4], "int32"), 4);
 * assert.ok(Math.abs(x0.dataSync()[0]! - 1 / Math.sqrt(s.alphasCumprod[4]!)) < 1e-5);
 * ```
 */
export function dataPredictor(
  schedule: Schedule,
  model: ModelFn,
  options: DataPredictorOptions = {},
): (x: tf.Tensor, t: tf.Tensor1D, i: number) => tf.Tensor {
  const { variance = "fixed-small", clipDenoised = false } = options;
  const net = modelOnSchedule(schedule, model);
  return (x, t, i) =>
    tf.tidy(() => {
      const { eps } = splitModelOutput(net.at(x, t), x.shape, variance);
      const abar = schedule.alphasCumprod[i]!;
      const x0 = tf.mul(tf.sub(x, tf.mul(eps, Math.sqrt(1 - abar))), 1 / Math.sqrt(abar));
      return clipDenoised ? tf.clipByValue(x0, -1, 1) : x0;
    });
}
