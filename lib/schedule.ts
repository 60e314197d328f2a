/**
 * Noise schedules: the betas of a diffusion process and every array derived from them, computed
 * once in float64 and frozen.
 *
 * Names follow DDPM / Improved DDPM (and improved-diffusion's `GaussianDiffusion`) in camelCase.
 *
 * @module
 */

/**
 * The named beta schedules, the one list the CLI's choices and help come from.
 *
 * @example
 * ```ts
 * import { BETA_SCHEDULES, createSchedule } from "./schedule.ts";
 * import assert from "node:assert/strict";
 * assert.ok(BETA_SCHEDULES.includes("cosine"));
 * for (const kind of BETA_SCHEDULES) assert.equal(createSchedule(kind, { numTimesteps: 50 }).numTimesteps, 50);
 * ```
 */
export const BETA_SCHEDULES = ["linear", "cosine", "sigmoid"] as const;

/** A named beta schedule. */
export type BetaScheduleKind = typeof BETA_SCHEDULES[number];

/**
 * A diffusion process's schedule: the betas and every quantity derived from them, in float64.
 *
 * Index `i` of every array is a step of THIS schedule; `timestepMap[i]` is the timestep of the
 * original (unrespaced) process that the model is called with.
 */
export interface Schedule {
  /** The number of steps T of this schedule. */
  readonly numTimesteps: number;
  /** beta_t, each in (0, 1). */
  readonly betas: Float64Array;
  /** alpha_t = 1 - beta_t. */
  readonly alphas: Float64Array;
  /** abar_t = prod_{s <= t} alpha_s. */
  readonly alphasCumprod: Float64Array;
  /** abar_{t-1}, with abar_{-1} = 1. */
  readonly alphasCumprodPrev: Float64Array;
  /** abar_{t+1}, with abar_T = 0. */
  readonly alphasCumprodNext: Float64Array;
  /** sqrt(abar_t). */
  readonly sqrtAlphasCumprod: Float64Array;
  /** sqrt(1 - abar_t). */
  readonly sqrtOneMinusAlphasCumprod: Float64Array;
  /** log(1 - abar_t). */
  readonly logOneMinusAlphasCumprod: Float64Array;
  /** 1 / sqrt(abar_t). */
  readonly sqrtRecipAlphasCumprod: Float64Array;
  /** sqrt(1 / abar_t - 1). */
  readonly sqrtRecipm1AlphasCumprod: Float64Array;
  /** The variance of q(x_{t-1} | x_t, x_0): beta_t (1 - abar_{t-1}) / (1 - abar_t). */
  readonly posteriorVariance: Float64Array;
  /** log of the posterior variance, with the value at t = 0 (which is 0) replaced by t = 1's. */
  readonly posteriorLogVarianceClipped: Float64Array;
  /** The coefficient of x_0 in the posterior mean: beta_t sqrt(abar_{t-1}) / (1 - abar_t). */
  readonly posteriorMeanCoef1: Float64Array;
  /** The coefficient of x_t in the posterior mean: (1 - abar_{t-1}) sqrt(alpha_t) / (1 - abar_t). */
  readonly posteriorMeanCoef2: Float64Array;
  /** For each step of this schedule, the original timestep the model is called with. */
  readonly timestepMap: Int32Array;
}

/** Options of {@linkcode createSchedule}. */
export interface ScheduleOptions {
  /**
   * The number of steps T, for a named schedule (ignored, or checked, for a beta array).
   *
   * @default {1000}
   */
  numTimesteps?: number;
  /**
   * The original timestep of each step (for respaced schedules; see `respace`).
   *
   * @default {the identity 0..T-1}
   */
  timestepMap?: ArrayLike<number>;
}

function _checkT(numTimesteps: number): void {
  if (!Number.isInteger(numTimesteps) || numTimesteps < 1) {
    throw new RangeError(
      `Cannot build a schedule: expected a positive integer number of timesteps, got ${numTimesteps}`,
    );
  }
}

/**
 * DDPM's linear betas, 1e-4 to 0.02 at T = 1000, both ends scaled by 1000 / T for other T (as
 * improved-diffusion does, so the process ends as noisy for every T).
 *
 * @param numTimesteps T, more than 20 (at T = 20 the last beta reaches 1).
 * @returns T betas in float64.
 * @throws {RangeError} If T <= 20.
 *
 * @example
 * ```ts
 * import { linearBetas } from "./schedule.ts";
 * import assert from "node:assert/strict";
 * const b = linearBetas(1000);
 * assert.equal(b[0], 1e-4);
 * assert.ok(Math.abs(b[999]! - 0.02) < 1e-15);
 * ```
 */
export function linearBetas(numTimesteps: number): Float64Array {
  _checkT(numTimesteps);
  const scale = 1000 / numTimesteps;
  const start = scale * 1e-4, end = scale * 0.02;
  if (end >= 1) {
    throw new RangeError(
      `Cannot build linear betas for T = ${numTimesteps}: the last beta would be ${end} (>= 1); expected T > 20`,
    );
  }
  const out = new Float64Array(numTimesteps);
  for (let i = 0; i < numTimesteps; i++) {
    out[i] = numTimesteps === 1 ? start : start + (end - start) * (i / (numTimesteps - 1));
  }
  return out;
}

/**
 * Improved DDPM's cosine betas: abar(t) = cos(((t / T) + s) / (1 + s) * pi / 2)^2 with s = 0.008,
 * beta_i = 1 - abar((i + 1) / T) / abar(i / T), clipped at `maxBeta`.
 *
 * @param numTimesteps T.
 * @param maxBeta The largest beta allowed (keeps the last step from being singular).
 * @returns T betas in float64.
 *
 * @example
 * ```ts
 * import { cosineBetas } from "./schedule.ts";
 * import assert from "node:assert/strict";
 * const b = cosineBetas(1000);
 * assert.equal(b[999], 0.999);
 * assert.ok(b[0]! > 0 && b[0]! < 1e-4);
 * ```
 */
export function cosineBetas(numTimesteps: number, maxBeta = 0.999): Float64Array {
  _checkT(numTimesteps);
  const s = 0.008;
  const abar = (u: number) => Math.cos(((u + s) / (1 + s)) * Math.PI / 2) ** 2;
  const out = new Float64Array(numTimesteps);
  for (let i = 0; i < numTimesteps; i++) {
    const b = 1 - abar((i + 1) / numTimesteps) / abar(i / numTimesteps);
    out[i] = Math.min(b, maxBeta);
  }
  return out;
}

/**
 * The seed demo's sigmoid betas: sigmoid(linspace(-6, 6, T)) * (5e-3 - 1e-5) + 1e-5.
 *
 * These betas are small: at T = 100 the process ends at abar_{T-1} = 0.7780 (x_T keeps 88% of the
 * signal's scale), far from pure noise, so x_T is NOT close to N(0, I) and sampling from N(0, I)
 * starts off the process's end; at T = 1000 it reaches 0.0812. Kept for comparison with the seed
 * demo.
 *
 * @param numTimesteps T.
 * @returns T betas in float64.
 *
 * @example
 * ```ts
 * import { sigmoidBetas } from "./schedule.ts";
 * import assert from "node:assert/strict";
 * const b = sigmoidBetas(100);
 * assert.ok(b[0]! > 1e-5 && b[99]! < 5e-3);
 * ```
 */
export function sigmoidBetas(numTimesteps: number): Float64Array {
  _checkT(numTimesteps);
  const out = new Float64Array(numTimesteps);
  for (let i = 0; i < numTimesteps; i++) {
    const x = numTimesteps === 1 ? -6 : -6 + 12 * (i / (numTimesteps - 1));
    out[i] = (1 / (1 + Math.exp(-x))) * (5e-3 - 1e-5) + 1e-5;
  }
  return out;
}

/**
 * Returns the betas of a named schedule.
 *
 * @param kind The schedule's name.
 * @param numTimesteps T.
 * @returns T betas in float64.
 *
 * @example
 * ```ts
 * import { namedBetas } from "./schedule.ts";
 * import assert from "node:assert/strict";
 * assert.equal(namedBetas("cosine", 10).length, 10);
 * ```
 */
export function namedBetas(kind: BetaScheduleKind, numTimesteps: number): Float64Array {
  switch (kind) {
    case "linear":
      return linearBetas(numTimesteps);
    case "cosine":
      return cosineBetas(numTimesteps);
    case "sigmoid":
      return sigmoidBetas(numTimesteps);
    default: {
      const never: never = kind;
      throw new RangeError(
        `Unknown beta schedule "${never}": expected one of ${BETA_SCHEDULES.join(", ")}`,
      );
    }
  }
}

/**
 * Builds a frozen {@linkcode Schedule} from a named schedule or a beta array, deriving every
 * array once in float64.
 *
 * @param betasOrKind `"linear"`, `"cosine"`, `"sigmoid"`, or the betas themselves (each in (0, 1)).
 * @param options The number of timesteps (for a named schedule) and the timestep map.
 * @returns The schedule.
 * @throws {RangeError} If a beta is outside (0, 1), T is not a positive integer, or the map's
 * length differs from T.
 *
 * @example
 * ```ts
 * import { createSchedule } from "./schedule.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("linear", { numTimesteps: 1000 });
 * assert.equal(s.numTimesteps, 1000);
 * assert.ok(s.alphasCumprod[999]! < 1e-4);
 * assert.equal(s.timestepMap[7], 7);
 * assert.throws(() => createSchedule([0.1, 1.5]), RangeError);
 * ```
 */
export function createSchedule(
  betasOrKind: BetaScheduleKind | ArrayLike<number>,
  options: ScheduleOptions = {},
): Schedule {
  let betas: Float64Array;
  if (typeof betasOrKind === "string") {
    betas = namedBetas(betasOrKind, options.numTimesteps ?? 1000);
  } else {
    if (betasOrKind == null || typeof betasOrKind.length !== "number") {
      throw new TypeError(
        `Cannot build a schedule: expected a schedule name or an array of betas, got ${
          String(betasOrKind)
        }`,
      );
    }
    betas = Float64Array.from(betasOrKind as ArrayLike<number>);
    if (options.numTimesteps !== undefined && options.numTimesteps !== betas.length) {
      throw new RangeError(
        `Cannot build a schedule: numTimesteps is ${options.numTimesteps} but ${betas.length} betas were given`,
      );
    }
  }
  const n = betas.length;
  _checkT(n);
  for (let i = 0; i < n; i++) {
    const b = betas[i]!;
    if (!(b > 0 && b < 1)) {
      throw new RangeError(
        `Cannot build a schedule: expected every beta in (0, 1), beta[${i}] is ${b}`,
      );
    }
  }
  let timestepMap: Int32Array;
  if (options.timestepMap !== undefined) {
    if (options.timestepMap.length !== n) {
      throw new RangeError(
        `Cannot build a schedule: expected a timestep map of length ${n}, got ${options.timestepMap.length}`,
      );
    }
    timestepMap = Int32Array.from(options.timestepMap);
  } else {
    timestepMap = new Int32Array(n);
    for (let i = 0; i < n; i++) timestepMap[i] = i;
  }

  const f = () => new Float64Array(n);
  const alphas = f(), alphasCumprod = f(), alphasCumprodPrev = f(), alphasCumprodNext = f();
  const sqrtAlphasCumprod = f(), sqrtOneMinusAlphasCumprod = f(), logOneMinusAlphasCumprod = f();
  const sqrtRecipAlphasCumprod = f(), sqrtRecipm1AlphasCumprod = f();
  const posteriorVariance = f(), posteriorLogVarianceClipped = f();
  const posteriorMeanCoef1 = f(), posteriorMeanCoef2 = f();
  let prod = 1;
  for (let i = 0; i < n; i++) {
    alphas[i] = 1 - betas[i]!;
    prod *= alphas[i]!;
    alphasCumprod[i] = prod;
  }
  for (let i = 0; i < n; i++) {
    const a = alphasCumprod[i]!;
    const ap = i === 0 ? 1 : alphasCumprod[i - 1]!;
    const b = betas[i]!;
    alphasCumprodPrev[i] = ap;
    alphasCumprodNext[i] = i === n - 1 ? 0 : alphasCumprod[i + 1]!;
    sqrtAlphasCumprod[i] = Math.sqrt(a);
    sqrtOneMinusAlphasCumprod[i] = Math.sqrt(1 - a);
    logOneMinusAlphasCumprod[i] = Math.log(1 - a);
    sqrtRecipAlphasCumprod[i] = Math.sqrt(1 / a);
    sqrtRecipm1AlphasCumprod[i] = Math.sqrt(1 / a - 1);
    posteriorVariance[i] = (b * (1 - ap)) / (1 - a);
    posteriorMeanCoef1[i] = (b * Math.sqrt(ap)) / (1 - a);
    posteriorMeanCoef2[i] = ((1 - ap) * Math.sqrt(alphas[i]!)) / (1 - a);
  }
  for (let i = 0; i < n; i++) {
    // At t = 0 the posterior variance is 0; Improved DDPM uses t = 1's value there. With a single
    // step there is no t = 1, and beta_0 stands in.
    const v = i === 0 ? (n > 1 ? posteriorVariance[1]! : betas[0]!) : posteriorVariance[i]!;
    posteriorLogVarianceClipped[i] = Math.log(v);
  }
  return Object.freeze({
    numTimesteps: n,
    betas,
    alphas,
    alphasCumprod,
    alphasCumprodPrev,
    alphasCumprodNext,
    sqrtAlphasCumprod,
    sqrtOneMinusAlphasCumprod,
    logOneMinusAlphasCumprod,
    sqrtRecipAlphasCumprod,
    sqrtRecipm1AlphasCumprod,
    posteriorVariance,
    posteriorLogVarianceClipped,
    posteriorMeanCoef1,
    posteriorMeanCoef2,
    timestepMap,
  });
}
