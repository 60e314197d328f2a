/**
 * Timestep samplers for training: which t each example of a batch is noised to, and the weight
 * that keeps the loss an unbiased estimate of the uniform-t loss.
 *
 * @module
 */
import type { Rng } from "./random.ts";

/**
 * The kinds of timestep sampler, the one list the CLI's choices and help come from.
 *
 * @example
 * ```ts
 * import { TIMESTEP_SAMPLERS } from "./timestep_sampler.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...TIMESTEP_SAMPLERS], ["uniform", "antithetic", "importance"]);
 * ```
 */
export const TIMESTEP_SAMPLERS = ["uniform", "antithetic", "importance"] as const;

/** The kind of timestep sampler. */
export type TimestepSamplerKind = typeof TIMESTEP_SAMPLERS[number];

/** Timesteps for a batch and their importance weights. */
export interface TimestepSample {
  /** One timestep index per example. */
  t: Int32Array;
  /** 1 / (T p_t) per example: multiply the per-example loss by it (all 1 unless "importance"). */
  weights: Float64Array;
}

/** The serialisable state of a timestep sampler (for checkpoints). */
export interface TimestepSamplerState {
  /** The kind it belongs to. */
  kind: TimestepSamplerKind;
  /** T. */
  numTimesteps: number;
  /** "importance" only: the last losses of each t, oldest first. */
  history?: number[][];
}

/** A timestep sampler. */
export interface TimestepSampler {
  /** The kind. */
  readonly kind: TimestepSamplerKind;
  /** T. */
  readonly numTimesteps: number;
  /**
   * Draws a timestep per example.
   *
   * @throws {RangeError} If the batch size is not a positive integer.
   */
  sample(batchSize: number, rng: Rng): TimestepSample;
  /**
   * Records the per-example losses observed at `t`, unweighted (the `loss` of `trainingLosses`
   * before multiplying by `weights`); a no-op except for "importance".
   *
   * @throws {RangeError} If a t is out of range or a loss is not finite.
   */
  update(t: Int32Array, losses: ArrayLike<number>): void;
  /** The current sampling probabilities p_t (a copy). */
  probabilities(): Float64Array;
  /** A JSON-serialisable copy of the state. */
  getState(): TimestepSamplerState;
  /** Restores a state from {@linkcode TimestepSampler.getState}. */
  setState(state: TimestepSamplerState): void;
}

/** Options of {@linkcode createTimestepSampler}. */
export interface TimestepSamplerOptions {
  /**
   * "importance": how many recent losses are kept per t (sampling is uniform until every t has
   * that many).
   *
   * @default {10}
   */
  historyPerTerm?: number;
  /**
   * "importance": the share of uniform probability mixed in.
   *
   * @default {0.001}
   */
  uniformProb?: number;
}

function _checkBatch(batchSize: number): void {
  if (batchSize === 0) throw new RangeError("Cannot sample timesteps: batch size is 0");
  if (!Number.isInteger(batchSize) || batchSize < 0) {
    throw new RangeError(
      `Cannot sample timesteps: expected a positive integer batch size, got ${batchSize}`,
    );
  }
}

/**
 * Creates a timestep sampler: "uniform" (t ~ U{0..T-1}); "antithetic" (the first half uniform,
 * the second half T-1-t of the first; an odd batch's extra example is uniform); "importance"
 * (Improved DDPM's loss-second-moment resampler: p_t ∝ sqrt(E[L_t^2]) over the last 10 losses of
 * each t, mixed with 0.001 of uniform, uniform until every t has 10 losses; weights 1 / (T p_t)).
 *
 * @param kind The sampler.
 * @param numTimesteps T.
 * @param options History length and uniform mix of "importance".
 * @returns The sampler.
 *
 * @example
 * ```ts
 * import { Rng } from "./random.ts";
 * import { createTimestepSampler } from "./timestep_sampler.ts";
 * import assert from "node:assert/strict";
 * const s = createTimestepSampler("antithetic", 100);
 * const { t, weights } = s.sample(4, new Rng(1));
 * assert.equal(t[0]! + t[2]!, 99);
 * assert.deepEqual(Array.from(weights), [1, 1, 1, 1]);
 * assert.throws(() => s.sample(0, new Rng(1)), RangeError);
 * ```
 */
export function createTimestepSampler(
  kind: TimestepSamplerKind,
  numTimesteps: number,
  options: TimestepSamplerOptions = {},
): TimestepSampler {
  if (!Number.isInteger(numTimesteps) || numTimesteps < 1) {
    throw new RangeError(
      `Cannot create a timestep sampler: expected a positive integer T, got ${numTimesteps}`,
    );
  }
  switch (kind) {
    case "uniform":
    case "antithetic":
      return _simpleSampler(kind, numTimesteps);
    case "importance":
      return _importanceSampler(numTimesteps, options);
    default: {
      const never: never = kind;
      throw new RangeError(
        `Unknown timestep sampler "${never}": expected one of ${TIMESTEP_SAMPLERS.join(", ")}`,
      );
    }
  }
}

function _checkState(state: TimestepSamplerState, kind: TimestepSamplerKind, n: number): void {
  if (state?.kind !== kind || state.numTimesteps !== n) {
    throw new TypeError(
      `Cannot restore a "${kind}" timestep sampler of T = ${n} from a state of kind "${state?.kind}" and T = ${state?.numTimesteps}`,
    );
  }
}

function _simpleSampler(kind: "uniform" | "antithetic", n: number): TimestepSampler {
  return {
    kind,
    numTimesteps: n,
    sample(batchSize, rng) {
      _checkBatch(batchSize);
      const t = new Int32Array(batchSize);
      if (kind === "uniform") {
        for (let i = 0; i < batchSize; i++) t[i] = rng.int(n);
      } else {
        const half = Math.floor(batchSize / 2);
        for (let i = 0; i < half; i++) {
          t[i] = rng.int(n);
          t[i + half] = n - 1 - t[i]!;
        }
        if (batchSize % 2 === 1) t[batchSize - 1] = rng.int(n);
      }
      return { t, weights: new Float64Array(batchSize).fill(1) };
    },
    update() {},
    probabilities: () => new Float64Array(n).fill(1 / n),
    getState: () => ({ kind, numTimesteps: n }),
    setState(state) {
      _checkState(state, kind, n);
    },
  };
}

function _importanceSampler(n: number, options: TimestepSamplerOptions): TimestepSampler {
  const { historyPerTerm = 10, uniformProb = 0.001 } = options;
  if (!Number.isInteger(historyPerTerm) || historyPerTerm < 1) {
    throw new RangeError(
      `Cannot create an importance sampler: expected historyPerTerm a positive integer, got ${historyPerTerm}`,
    );
  }
  if (!(uniformProb >= 0 && uniformProb <= 1)) {
    throw new RangeError(
      `Cannot create an importance sampler: expected uniformProb in [0, 1], got ${uniformProb}`,
    );
  }
  let history: number[][] = Array.from({ length: n }, () => []);

  const probabilities = (): Float64Array => {
    const p = new Float64Array(n);
    if (history.some((h) => h.length < historyPerTerm)) return p.fill(1 / n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const h = history[i]!;
      p[i] = Math.sqrt(h.reduce((a, l) => a + l * l, 0) / h.length);
      sum += p[i]!;
    }
    for (let i = 0; i < n; i++) {
      p[i] = (sum > 0 ? p[i]! / sum : 1 / n) * (1 - uniformProb) + uniformProb / n;
    }
    return p;
  };

  return {
    kind: "importance",
    numTimesteps: n,
    sample(batchSize, rng) {
      _checkBatch(batchSize);
      const p = probabilities();
      const cdf = new Float64Array(n);
      let acc = 0;
      for (let i = 0; i < n; i++) cdf[i] = acc += p[i]!;
      const t = new Int32Array(batchSize);
      const weights = new Float64Array(batchSize);
      for (let b = 0; b < batchSize; b++) {
        const u = rng.uniform() * acc;
        let lo = 0, hi = n - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (cdf[mid]! > u) hi = mid;
          else lo = mid + 1;
        }
        t[b] = lo;
        weights[b] = 1 / (n * (p[lo]! / acc));
      }
      return { t, weights };
    },
    update(t, losses) {
      if (t.length !== losses.length) {
        throw new TypeError(
          `Cannot update the importance sampler: ${t.length} timesteps but ${losses.length} losses`,
        );
      }
      for (let i = 0; i < t.length; i++) {
        const ti = t[i]!, l = losses[i]!;
        if (!(ti >= 0 && ti < n)) {
          throw new RangeError(
            `Cannot update the importance sampler: expected t in [0, ${n}), got ${ti}`,
          );
        }
        if (!Number.isFinite(l)) {
          throw new RangeError(
            `Cannot update the importance sampler: expected finite losses, got ${l} at t = ${ti}`,
          );
        }
        const h = history[ti]!;
        if (h.length === historyPerTerm) h.shift();
        h.push(l);
      }
    },
    probabilities,
    getState: () => ({ kind: "importance", numTimesteps: n, history: history.map((h) => [...h]) }),
    setState(state) {
      _checkState(state, "importance", n);
      const h = state.history;
      if (!Array.isArray(h) || h.length !== n) {
        throw new TypeError(
          `Cannot restore the importance sampler: expected a history of ${n} arrays`,
        );
      }
      history = h.map((x) => x.slice(-historyPerTerm).map(Number));
    },
  };
}

/**
 * Stratified timesteps for `n` items of an evaluation: item i gets
 * t_i = floor((π(i) + u_i) · T / n) for a random permutation π and u_i ~ U[0, 1). Each t_i alone is
 * uniform on [0, T), so a mean of per-item terms T · L_{t_i} stays an unbiased estimate of the
 * bound, while together the t_i cover [0, T) evenly (with n = T, each t exactly once), which
 * removes most of the variance that independent draws leave.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Rng } from "./random.ts";
 * import { stratifiedTimesteps } from "./timestep_sampler.ts";
 * const t = stratifiedTimesteps(10, 10, new Rng(0));
 * assert.deepEqual([...t].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
 * ```
 *
 * @param n Number of items.
 * @param numTimesteps T.
 * @param rng Random source.
 * @returns One timestep per item.
 */
export function stratifiedTimesteps(n: number, numTimesteps: number, rng: Rng): Int32Array {
  const strata = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  return strata.map((k) =>
    Math.min(numTimesteps - 1, Math.floor(((k + rng.uniform()) * numTimesteps) / n))
  );
}
