/**
 * What the solvers' unit tests share: the exact answer of the probability-flow ODE for the 1-D
 * Gaussian data of {@linkcode gaussianOracle}, and the error of a sampler against it. Not a test
 * file itself.
 *
 * @module
 */
import { tf } from "./tf.ts";
import { createSchedule, type Schedule } from "./schedule.ts";
import { sample, type SampleMethod } from "./sampler.ts";
import { gaussianOracle, MU, SD } from "./_test_fixtures.ts";

/** The starts x_T of {@linkcode flowError}, spread over N(0, 1). */
export const STARTS: readonly number[] = [-2.2, -1.3, -0.6, -0.1, 0.4, 0.9, 1.5, 2.4];

/**
 * What a deterministic sampler whose last step is x_0 = E[x_0 | x_{t_1}] (DDIM, DPM-Solver++,
 * UniPC) gives for data N(MU, SD^2) when it solves the probability-flow ODE exactly from `xT`
 * at abar_T to t_1 at abar_1: the flow keeps z = (x - a MU) / sqrt(a^2 SD^2 + 1 - a^2) (a =
 * sqrt(abar)) fixed, as both marginals are Gaussian and the 1-D flow is monotone; the last step
 * then takes the posterior mean MU + a SD^2 (x - a MU) / (a^2 SD^2 + 1 - a^2).
 *
 * @param xT The start.
 * @param abarT abar at the first step.
 * @param abar1 abar at the last step.
 * @returns The exact final sample.
 *
 * @example
 * ```ts
 * import { exactFinal } from "./_solver_fixtures.ts";
 * import { MU } from "./_test_fixtures.ts";
 * import assert from "node:assert/strict";
 * // The mean path stays on the mean: x_T = sqrt(abar_T) MU lands on MU.
 * assert.ok(Math.abs(exactFinal(Math.sqrt(0.01) * MU, 0.01, 0.99) - MU) < 1e-12);
 * ```
 */
export function exactFinal(xT: number, abarT: number, abar1: number): number {
  const v = (abar: number) => abar * SD * SD + 1 - abar;
  const z = (xT - Math.sqrt(abarT) * MU) / Math.sqrt(v(abarT));
  const a = Math.sqrt(abar1);
  const x1 = a * MU + Math.sqrt(v(abar1)) * z;
  return MU + a * SD * SD * (x1 - a * MU) / v(abar1);
}

/**
 * A schedule of `n` steps whose log-SNR lambda = log(alpha / sigma) runs uniformly from `hi` (step
 * 0) to `lo` (step n - 1): the same smooth path for every n, so that errors at n, 2n, 4n steps
 * show a solver's order.
 *
 * @param n The number of steps.
 * @param lo lambda at the last step (the noisiest).
 * @param hi lambda at step 0.
 * @returns The schedule (its own original: identity timestep map).
 *
 * @example
 * ```ts
 * import { lambdaGrid } from "./_solver_fixtures.ts";
 * import assert from "node:assert/strict";
 * const s = lambdaGrid(5, -4, 4);
 * const lambda = (i: number) => 0.5 * Math.log(s.alphasCumprod[i]! / (1 - s.alphasCumprod[i]!));
 * assert.ok(Math.abs(lambda(0) - 4) < 1e-9 && Math.abs(lambda(4) + 4) < 1e-9);
 * ```
 */
export function lambdaGrid(n: number, lo: number, hi: number): Schedule {
  const betas = new Float64Array(n);
  let last = 1;
  for (let i = 0; i < n; i++) {
    const lambda = n === 1 ? hi : hi + (lo - hi) * i / (n - 1);
    const abar = 1 / (1 + Math.exp(-2 * lambda));
    betas[i] = 1 - abar / last;
    last = abar;
  }
  return createSchedule(betas);
}

/**
 * The largest error, over {@linkcode STARTS}, of a sampler's final sample from
 * {@linkcode exactFinal} with the exact noise of N(MU, SD^2) (from `base`, the original
 * schedule). Leaves no tensor behind.
 *
 * @param method The sampling method.
 * @param schedule The schedule sampled on (respaced from `base`, or `base` itself).
 * @param base The original schedule that the oracle knows.
 * @returns The largest absolute error.
 *
 * @example
 * ```ts
 * import { flowError, lambdaGrid } from "./_solver_fixtures.ts";
 * import assert from "node:assert/strict";
 * const s = lambdaGrid(20, -4, 3);
 * assert.ok(flowError("dpm++", s) < flowError("ddim", s) / 10);
 * ```
 */
export function flowError(method: SampleMethod, schedule: Schedule, base = schedule): number {
  const n = schedule.numTimesteps;
  const got = tf.tidy(() => {
    const noise = tf.tensor2d([...STARTS], [STARTS.length, 1]);
    const out = sample(schedule, gaussianOracle(base), [STARTS.length, 1], { method, noise });
    return Array.from(out.sample.dataSync());
  });
  let worst = 0;
  STARTS.forEach((x, j) => {
    const want = exactFinal(x, schedule.alphasCumprod[n - 1]!, schedule.alphasCumprod[0]!);
    worst = Math.max(worst, Math.abs(got[j]! - want));
  });
  return worst;
}

/**
 * The observed orders log2(e_n / e_2n) of a sequence of errors at n, 2n, 4n, ... steps.
 *
 * @param errors The errors, each at twice the steps of the one before.
 * @returns One order per doubling.
 *
 * @example
 * ```ts
 * import { observedOrders } from "./_solver_fixtures.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(observedOrders([0.4, 0.1, 0.025]), [2, 2]);
 * ```
 */
export function observedOrders(errors: readonly number[]): number[] {
  return errors.slice(1).map((e, i) => Math.log2(errors[i]! / e));
}
