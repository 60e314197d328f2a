/**
 * The full variational bound of a batch in bits per dimension, term by term (Improved DDPM's
 * `calc_bpd_loop`): every one of the T terms plus the prior term.
 *
 * @module
 */
import { type ModelFn, tf } from "./tf.ts";
import { Rng } from "./random.ts";
import type { Schedule } from "./schedule.ts";
import { modelOnSchedule, predictEpsFromXstart, qSample, type VarianceKind } from "./diffusion.ts";
import { type DataKind, meanFlat, priorBpd, vbTermsBpd } from "./loss.ts";

/** Options of {@linkcode calcBpdLoop}. */
export interface BpdOptions {
  /** @default {"fixed-small"} */
  variance?: VarianceKind;
  /** @default {"image"} */
  data?: DataKind;
  /**
   * Clip the predicted x_0 to [-1, 1].
   *
   * @default {true for "image", false for "continuous"}
   */
  clipDenoised?: boolean;
  /**
   * With `clipDenoised`, also the bound without clipping, from the same model outputs and noise
   * (no extra model calls): the two differ only in how the posterior mean is formed.
   *
   * @default {false}
   */
  unclippedToo?: boolean;
  /**
   * The seed of the noise drawing each x_t.
   *
   * @default {0}
   */
  seed?: number;
  /** Called after each of the T terms with how many are done. */
  onStep?: (done: number, total: number) => void;
}

/** The bound of a batch, term by term. */
export interface BpdResult {
  /** The whole bound per example: the sum of the T terms plus the prior, bits per dim. */
  totalBpd: Float64Array;
  /** The prior term per example, bits per dim. */
  priorBpd: Float64Array;
  /** Each term L_t (index t of the schedule), mean over the batch, bits per dim. */
  vbTerms: Float64Array;
  /** The noise MSE at each t, mean over the batch. */
  mse: Float64Array;
  /** The x_0 MSE at each t, mean over the batch. */
  xstartMse: Float64Array;
  /** With `unclippedToo` (and clipping on): the same bound with the predicted x_0 unclipped. */
  unclipped?: { totalBpd: Float64Array; vbTerms: Float64Array };
}

/**
 * Computes the full variational bound of `x0` in bits per dimension: for every t (from T - 1 down
 * to 0) draws x_t ~ q(x_t | x_0) and evaluates the term L_t, then adds the prior term. Runs the
 * model T times on the batch, synchronously.
 *
 * @param schedule The schedule (a respaced one gives the bound of the respaced process).
 * @param model The model.
 * @param x0 Clean data `[B, ...]`.
 * @param options Variance, data kind, clipping, seed, progress callback.
 * @returns Per-example totals and prior, per-t means.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { calcBpdLoop } from "./bpd.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("cosine", { numTimesteps: 8 });
 * const r = calcBpdLoop(s, (x) => tf.zerosLike(x), tf.zeros([2, 2]), { data: "continuous" });
 * assert.equal(r.vbTerms.length, 8);
 * assert.equal(r.totalBpd.length, 2);
 * assert.ok(Number.isFinite(r.totalBpd[0]!));
 *
 * // Both clippings from one pass equal two separate passes with the same seed.
 * const model = (x: tf.Tensor) => tf.mul(x, 3);
 * const x0 = tf.tensor4d([-1, 1, 0.5, -0.5], [1, 2, 2, 1]);
 * const both = calcBpdLoop(s, model, x0, { unclippedToo: true });
 * const off = calcBpdLoop(s, model, x0, { clipDenoised: false });
 * assert.ok(Math.abs(both.unclipped!.totalBpd[0]! - off.totalBpd[0]!) < 1e-6);
 * assert.notEqual(both.totalBpd[0], off.totalBpd[0]);
 * ```
 */
export function calcBpdLoop(
  schedule: Schedule,
  model: ModelFn,
  x0: tf.Tensor,
  options: BpdOptions = {},
): BpdResult {
  const { variance = "fixed-small", data = "image", seed = 0, onStep } = options;
  const clipDenoised = options.clipDenoised ?? data === "image";
  const both = clipDenoised && (options.unclippedToo ?? false);
  const n = schedule.numTimesteps;
  const b = x0.shape[0]!;
  const rng = new Rng(seed);
  const size = x0.size;
  const totalBpd = new Float64Array(b);
  const vbTerms = new Float64Array(n), mse = new Float64Array(n), xstartMse = new Float64Array(n);
  const unclipped = both
    ? { totalBpd: new Float64Array(b), vbTerms: new Float64Array(n) }
    : undefined;
  const net = modelOnSchedule(schedule, model);
  for (let i = n - 1; i >= 0; i--) {
    const [vb, m, xm, vbRaw] = tf.tidy(() => {
      const t = tf.fill([b], i, "int32") as tf.Tensor1D;
      const noise = tf.tensor(rng.fillNormal(new Float32Array(size)), x0.shape, "float32");
      const xt = qSample(schedule, x0, t, noise);
      const modelOutput = both ? net.at(xt, t) : undefined;
      const out = vbTermsBpd(schedule, model, x0, xt, t, {
        variance,
        data,
        clipDenoised,
        modelOutput,
      });
      const eps = predictEpsFromXstart(schedule, xt, t, out.predXstart);
      const raw = both
        ? vbTermsBpd(schedule, model, x0, xt, t, {
          variance,
          data,
          clipDenoised: false,
          modelOutput,
        }).output.dataSync()
        : undefined;
      return [
        out.output.dataSync(),
        meanFlat(tf.squaredDifference(eps, noise)).dataSync(),
        meanFlat(tf.squaredDifference(out.predXstart, x0)).dataSync(),
        raw,
      ];
    });
    for (let k = 0; k < b; k++) totalBpd[k]! += vb[k]!;
    vbTerms[i] = _mean(vb);
    if (unclipped && vbRaw) {
      for (let k = 0; k < b; k++) unclipped.totalBpd[k]! += vbRaw[k]!;
      unclipped.vbTerms[i] = _mean(vbRaw);
    }
    mse[i] = _mean(m);
    xstartMse[i] = _mean(xm);
    onStep?.(n - i, n);
  }
  const priorT = priorBpd(schedule, x0);
  const prior = Float64Array.from(priorT.dataSync());
  priorT.dispose();
  for (let k = 0; k < b; k++) totalBpd[k]! += prior[k]!;
  if (unclipped) { for (let k = 0; k < b; k++) unclipped.totalBpd[k]! += prior[k]!; }
  return {
    totalBpd,
    priorBpd: prior,
    vbTerms,
    mse,
    xstartMse,
    ...(unclipped ? { unclipped } : {}),
  };
}

function _mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}
