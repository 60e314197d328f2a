/**
 * Sampling and evaluation shared by `train`, `sample` and `eval`: draw samples from a model
 * with a chosen respacing, and measure them (sliced Wasserstein distance for the S-curve; the
 * variational bound in bits per dimension and L_simple on the test split for MNIST, and with
 * `quality` the sample-quality measures of `lib/quality` beside their floors).
 *
 * @module
 */
import { join } from "node:path";
import { tf } from "../lib/tf.ts";
import { decodeNpy, encodeNpy } from "../lib/io/npy.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import { guidedModelFn } from "../lib/guidance.ts";
import type { Schedule } from "../lib/schedule.ts";
import { samplingSchedule } from "../lib/respace.ts";
import { sample } from "../lib/sampler.ts";
import {
  batchSeed,
  clipsByDefault,
  SAMPLE_BATCH,
  SAMPLE_ITEM_SHAPES,
} from "../lib/sample_batches.ts";
import { calcBpdLoop } from "../lib/bpd.ts";
import { priorBpd, trainingLosses } from "../lib/loss.ts";
import type { VarianceKind } from "../lib/diffusion.ts";
import type { DiffusionModel } from "../lib/model/mod.ts";
import { slicedWasserstein } from "../lib/metrics/swd.ts";
import { Rng } from "../lib/random.ts";
import { stratifiedTimesteps } from "../lib/timestep_sampler.ts";
import { makeSCurve } from "../workers/mod.ts";
import type { DatasetName } from "./_pictures.ts";
import { createQualityEvaluator, type QualityEvaluator } from "../lib/quality/evaluator.ts";
import { loadClassifier } from "../lib/quality/weights.ts";
import { classProbabilities, type DigitClassifier } from "../lib/quality/classifier.ts";
import { type QualityFields, qualityFields, samplerOf } from "../lib/quality/record.ts";

/** MNIST is loaded on first use only: importing it costs ~100 MB, which S-curve runs never pay. */
async function _loadMnist() {
  return (await import("../workers/mnist.ts")).loadMnist();
}

/** The S-curve's generating noise (the seed demo's). */
const S_NOISE = 0.1;

/**
 * A sample of real data for pictures: fresh S-curve points, or test digits of every class.
 *
 * @param dataset The data set.
 * @param n How many.
 * @param seed Seed of the S-curve points.
 * @returns The data, flattened, and the count.
 */
export async function dataSample(
  dataset: DatasetName,
  n: number,
  seed: number,
): Promise<{ x: Float32Array; n: number }> {
  switch (dataset) {
    case "s-curve":
      return { x: makeSCurve(n, { noise: S_NOISE, seed: seed + 0x5eed }), n };
    case "mnist": {
      // One digit of each class in turn (the split is ordered by class).
      const test = (await _loadMnist()).test;
      const k = Math.min(n, test.n);
      const byClass: number[][] = Array.from({ length: 10 }, () => []);
      test.labels.forEach((label, i) => byClass[label]!.push(i));
      const x = new Float32Array(k * 784);
      for (let j = 0; j < k; j++) {
        const i = byClass[j % 10]![Math.floor(j / 10)]!;
        x.set(test.images.subarray(i * 784, (i + 1) * 784), j * 784);
      }
      return { x, n: k };
    }
  }
}

/** Options of {@linkcode generateSamples}. */
export interface GenerateOptions {
  dataset: DatasetName;
  /** Number of samples. */
  n: number;
  /** "all", a respacing such as "50" or "10,15,20", "ddimN", "dpm++N" or "unipcN". */
  steps: string;
  variance: VarianceKind;
  seed: number;
  /** DDIM's eta. @default 0 */
  eta?: number;
  /** Keep x_t every k steps. */
  trajectoryEvery?: number;
  /** Clip predicted x_0 to [-1, 1]. @default true for images, false for points */
  clip?: boolean;
  /** Batch size of the sampling loop. @default 10000 for points, 64 for images */
  batch?: number;
  /** Called after every model call: steps done and steps in all (batches times steps). */
  onProgress?: (done: number, total: number) => void;
  /**
   * A folder that keeps each finished batch (`batch_0003.npy`), so that a long sampling job
   * that is stopped resumes at its first missing batch. Each batch has its own seed, so the
   * result does not depend on where it stopped. The caller names the folder after everything
   * the samples depend on (weights, steps, seed, batch size); a kept batch of the wrong shape is
   * sampled again.
   */
  cacheDir?: string;
  /**
   * A class-conditional model's classes: sample i is of class `classOf(i)`, drawn with
   * classifier-free guidance of weight `guidance` (0 unconditional, 1 conditional, above 1
   * guided; see `lib/guidance.ts`). @default unconditional (the null label)
   */
  guided?: { classOf: (i: number) => number; guidance: number };
}

/** The file of batch `b` in a {@linkcode GenerateOptions.cacheDir}. */
export function cachedBatchName(b: number): string {
  return `batch_${String(b).padStart(4, "0")}.npy`;
}

async function _readBatch(path: string, shape: number[]): Promise<Float32Array | null> {
  try {
    const { data, shape: got } = decodeNpy(await Deno.readFile(path));
    return got.join() === shape.join() ? data : null;
  } catch {
    return null; // missing, or cut short by a kill: sampled again
  }
}

/**
 * Draws `n` samples from a model, in batches.
 *
 * @param model The model (its EMA copy, usually).
 * @param schedule The training schedule.
 * @param options See {@linkcode GenerateOptions}.
 * @returns The samples, flattened, their shape, and the trajectory frames if asked.
 */
export async function generateSamples(
  model: DiffusionModel,
  schedule: Schedule,
  options: GenerateOptions,
): Promise<
  { x: Float32Array; shape: number[]; trajectory: Float32Array[]; trajectorySteps: number[] }
> {
  const { schedule: s, method } = samplingSchedule(schedule, options.steps);
  const item = [...SAMPLE_ITEM_SHAPES[options.dataset]];
  const size = item.reduce((a, b) => a * b, 1);
  const batch = options.batch ?? SAMPLE_BATCH[options.dataset];
  const x = new Float32Array(options.n * size);
  const trajectory: Float32Array[] = [];
  let trajectorySteps: number[] = [];
  const apply = (xt: tf.Tensor, t: tf.Tensor1D) => model.apply(xt, t, { training: false });
  const total = Math.ceil(options.n / batch) * s.numTimesteps;
  let done = 0;
  const onStep = options.onProgress && (() => options.onProgress!(++done, total));
  if (options.cacheDir) await Deno.mkdir(options.cacheDir, { recursive: true });
  for (let start = 0, b = 0; start < options.n; start += batch, b++) {
    const n = Math.min(batch, options.n - start);
    const cached = options.cacheDir && !(b === 0 && options.trajectoryEvery)
      ? join(options.cacheDir, cachedBatchName(b))
      : undefined;
    const kept = cached ? await _readBatch(cached, [n, ...item]) : null;
    if (kept) {
      x.set(kept, start * size);
      done += s.numTimesteps;
      options.onProgress?.(done, total);
      continue;
    }
    const labels = options.guided &&
      tf.tensor1d(
        Int32Array.from({ length: n }, (_, i) => options.guided!.classOf(start + i)),
        "int32",
      );
    const net = labels
      ? guidedModelFn(model, { labels, guidance: options.guided!.guidance })
      : apply;
    let out: ReturnType<typeof sample>;
    try {
      out = sample(s, net, [n, ...item], {
        method,
        eta: options.eta ?? 0,
        seed: batchSeed(options.seed, b),
        variance: options.variance,
        clipDenoised: options.clip ?? clipsByDefault(options.dataset),
        trajectoryEvery: b === 0 ? options.trajectoryEvery : undefined,
        onStep,
      });
    } finally {
      labels?.dispose();
    }
    const data = await out.sample.data() as Float32Array;
    x.set(data, start * size);
    out.sample.dispose();
    if (cached) await writeFileAtomic(cached, encodeNpy(data, [n, ...item]));
    if (b === 0) {
      trajectory.push(...out.trajectory.map((f) => f.data));
      trajectorySteps = out.trajectory.map((f) => f.t);
    }
    await new Promise((r) => setTimeout(r, 0));
  }
  return { x, shape: [options.n, ...item], trajectory, trajectorySteps };
}

/** Options of {@linkcode evaluate}. */
export interface EvaluateOptions {
  dataset: DatasetName;
  variance: VarianceKind;
  seed: number;
  /** The quick variant used during training (Monte Carlo bound for MNIST). */
  quick?: boolean;
  /** Sampling spec for the S-curve's samples. @default "all" */
  sampleSteps?: string;
  /** S-curve: samples and data points compared. @default 10000 */
  n?: number;
  /** MNIST: test digits (class by class) in the Monte Carlo bound. @default the whole split */
  mcDigits?: number;
  /** MNIST: test digits in the full bound. @default 64 */
  bpdDigits?: number;
  /** Progress callback (t done of T) for the long MNIST bound. */
  onProgress?: (done: number, total: number) => void;
  /**
   * MNIST: also sample digits and measure their quality beside the floor at the same n (see
   * {@linkcode QualityEvalOptions}); the record then holds {@linkcode QualityFields} and
   * `qualitySeconds`. An S-curve run with `quality` is a RangeError.
   * @default no quality measures
   */
  quality?: QualityEvalOptions;
}

/**
 * The digits a quick quality evaluation samples (training's periodic evaluation). Sampling is
 * what costs: ceil(n / 64) batches times the sampling steps of UNet-S passes. With 50 steps,
 * 128 digits took 358 s and 256 digits 695 s on the 2-core machine while another MNIST training
 * shared it (about 45 s and 85 s at an idle machine's 0.4 s a pass); measuring takes 2-3 s.
 */
export const QUICK_QUALITY_N = 128;

/** Options of the quality measures in {@linkcode evaluate}. */
export interface QualityEvalOptions {
  /** Digits sampled and measured against the 999 test digits (at least 20). @default {QUICK_QUALITY_N} */
  n?: number;
  /** Sampling spec ("50", "ddim50", "all", ...). @default the `sampleSteps` option, else "50" */
  steps?: string;
  /** Seed of the samples and of their KID blocks. @default the `seed` option */
  seed?: number;
  /** DDIM's eta. @default 0 */
  eta?: number;
  /** Which of the model's weights draw the samples (recorded). @default "ema" */
  weights?: "ema" | "raw";
  /** Sampling batch. @default 64 */
  batch?: number;
  /**
   * A class-conditional model: draw balanced classes (sample i of class i mod 10) with this
   * classifier-free guidance weight, and measure how often the classifier gives back each
   * class. @default unconditional samples (the null label)
   */
  guidance?: number;
  /**
   * Sample with this reverse-process variance instead of the `variance` option (a fixed-variance
   * model sampled with the other fixed variance), and record it in the settings.
   * @default the `variance` option, not recorded
   */
  variance?: VarianceKind;
  /** Keep each sampled batch here and resume from it (see {@linkcode GenerateOptions}). */
  cacheDir?: string;
  /** Called after every model call while sampling: calls done, and in all. */
  onProgress?: (done: number, total: number) => void;
}

/** What {@linkcode evaluate} returns with `quality`: the metrics and the quality fields. */
export type QualityEvaluation = Record<string, number> & QualityFields & {
  /** Seconds spent sampling and measuring the digits. */
  qualitySeconds: number;
};

/**
 * Evaluates a model; with `quality` (MNIST), also the quality of its samples (a record that
 * says what it measured: n, sampling steps and sampler, seed, classifier SHA-256).
 *
 * @param model The model.
 * @param schedule The training schedule.
 * @param options See {@linkcode EvaluateOptions}.
 * @returns Named metrics and the quality fields.
 *
 * @example
 * ```ts ignore
 * const r = await evaluate(trainer.ema, schedule, {
 *   dataset: "mnist", variance: "learned-range", seed: 0, quick: true, mcDigits: 256,
 *   sampleSteps: "50", quality: { n: 256 },
 * });
 * console.log(r.frechet, r.frechetFloor, r.quality.steps);
 * ```
 */
export function evaluate(
  model: DiffusionModel,
  schedule: Schedule,
  options: EvaluateOptions & { quality: QualityEvalOptions },
): Promise<QualityEvaluation>;
/**
 * Evaluates a model. S-curve: the sliced Wasserstein-1 distance (256 directions) between `n`
 * samples and `n` fresh data points, beside the same distance between two fresh data sets (the
 * noise floor). MNIST: L_simple on the whole test split and the variational bound in bits per
 * dimension — every one of the T terms plus the prior on `bpdDigits` test digits, taken class
 * by class — beside a
 * Monte Carlo estimate of the bound (one random t per digit) over the whole test split (or
 * `mcDigits`); `quick` gives only the Monte Carlo estimate and L_simple.
 *
 * @param model The model.
 * @param schedule The training schedule.
 * @param options See {@linkcode EvaluateOptions}.
 * @returns Named metrics.
 */
export function evaluate(
  model: DiffusionModel,
  schedule: Schedule,
  options: EvaluateOptions,
): Promise<Record<string, number>>;
export async function evaluate(
  model: DiffusionModel,
  schedule: Schedule,
  options: EvaluateOptions,
): Promise<Record<string, unknown>> {
  const quality = options.quality;
  if (quality === undefined) return await _evaluate(model, schedule, options);
  if (options.dataset !== "mnist") {
    throw new RangeError(
      `Cannot measure sample quality of a ${options.dataset} model: it measures MNIST digits`,
    );
  }
  const metrics = await _evaluate(model, schedule, options);
  return { ...metrics, ...await evaluateQuality(model, schedule, { ...options, quality }) };
}

/**
 * One line for an evaluation record: each number (4 significant digits), the quality settings
 * in words; the class histogram left out.
 *
 * @param record What {@linkcode evaluate} returned.
 * @returns e.g. `simple 0.0451  frechet 12.3 (floor 2.07)  ...  [n=256, 50 steps, ancestral]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatEvaluation } from "./_evaluate.ts";
 * assert.equal(formatEvaluation({ simple: 0.04512, bpdMc: 3.1 }), "simple 0.04512  bpdMc 3.100");
 * assert.equal(
 *   formatEvaluation({ frechet: 12.34, frechetFloor: 2.071, classes: [1], qualitySeconds: 90,
 *     quality: { n: 256, steps: "50", sampler: "ancestral" } }),
 *   "frechet 12.34 (floor 2.071)  qualitySeconds 90.00  [n=256, 50 steps, ancestral]",
 * );
 * ```
 */
export function formatEvaluation(record: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(record)) {
    if (typeof v !== "number" || k.endsWith("Floor")) continue;
    const floor = record[`${k}Floor`];
    parts.push(
      `${k} ${v.toPrecision(4)}${
        typeof floor === "number" ? ` (floor ${floor.toPrecision(4)})` : ""
      }`,
    );
  }
  const q = record.quality as { n?: number; steps?: string; sampler?: string } | undefined;
  if (q && typeof q === "object") {
    parts.push(`[n=${q.n}, ${q.steps === "all" ? "all" : q.steps} steps, ${q.sampler}]`);
  }
  return parts.join("  ");
}

/**
 * How often the classifier gives back the class samples were drawn for, when sample i was drawn
 * for class i mod 10: in all and class by class.
 *
 * @param classifier The digit classifier.
 * @param x The samples, `n * 784` values in [-1, 1].
 * @returns `classAccuracy` and `classAccuracies` (10 fractions).
 *
 * @example
 * ```ts
 * import { classAccuracies } from "./_evaluate.ts";
 * import { createClassifier } from "../lib/quality/classifier.ts";
 * import assert from "node:assert/strict";
 * const c = createClassifier(0);
 * const r = classAccuracies(c, new Float32Array(20 * 784).fill(-1));
 * assert.equal(r.classAccuracies.length, 10);
 * assert.ok(r.classAccuracy >= 0 && r.classAccuracy <= 1);
 * c.dispose();
 * ```
 */
export function classAccuracies(
  classifier: DigitClassifier,
  x: Float32Array,
): { classAccuracy: number; classAccuracies: number[] } {
  const n = x.length / 784;
  const p = classProbabilities(classifier, x);
  const right = new Array<number>(10).fill(0), all = new Array<number>(10).fill(0);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < 10; k++) if (p[i * 10 + k]! > p[i * 10 + best]!) best = k;
    all[i % 10]!++;
    if (best === i % 10) right[i % 10]!++;
  }
  return {
    classAccuracy: right.reduce((a, b) => a + b, 0) / n,
    classAccuracies: right.map((r, k) => (all[k] ? r / all[k]! : NaN)),
  };
}

/** The classifier and the real digits, loaded once per process (the classifier is kept). */
let _quality: Promise<_Quality> | null = null;

interface _Quality {
  evaluator: QualityEvaluator;
  /** The classifier's weights' SHA-256. */
  classifier: string;
  model: DigitClassifier;
}

function _qualityEvaluator(): Promise<_Quality> {
  _quality ??= (async () => {
    const { classifier, manifest } = await loadClassifier();
    const { train, test } = await _loadMnist();
    return {
      evaluator: createQualityEvaluator(classifier, { train: train.images, test: test.images }),
      classifier: manifest.sha256,
      model: classifier,
    };
  })();
  _quality.catch(() => (_quality = null));
  return _quality;
}

/**
 * Samples MNIST digits from a model and measures their quality beside the floor at the same n
 * (n real training digits, computed once per n for the process). The classifier and the
 * digits are loaded on first use and kept for the process.
 *
 * @param model The model (its EMA copy, usually).
 * @param schedule The training schedule.
 * @param options The evaluation's options; `quality` says what to measure.
 * @returns The quality fields (with their settings) and the seconds taken.
 *
 * @example
 * ```ts ignore
 * const q = await evaluateQuality(model, schedule, {
 *   dataset: "mnist", variance: "learned-range", seed: 0, quality: { n: 1000, steps: "50" },
 * });
 * console.log(q.frechet, q.frechetFloor);
 * ```
 */
export async function evaluateQuality(
  model: DiffusionModel,
  schedule: Schedule,
  options: Pick<EvaluateOptions, "variance" | "seed" | "sampleSteps"> & {
    quality: QualityEvalOptions;
  },
): Promise<QualityFields & { qualitySeconds: number }> {
  const q = options.quality;
  const n = q.n ?? QUICK_QUALITY_N;
  if (!Number.isInteger(n) || n < 20) {
    throw new RangeError(`Cannot measure sample quality: n must be an integer >= 20, got ${n}`);
  }
  const steps = q.steps ?? options.sampleSteps ?? "50";
  const seed = q.seed ?? options.seed;
  const t0 = performance.now();
  const { evaluator, classifier, model: digits } = await _qualityEvaluator();
  const guided = q.guidance !== undefined;
  const { x } = await generateSamples(model, schedule, {
    dataset: "mnist",
    n,
    steps,
    variance: q.variance ?? options.variance,
    seed,
    eta: q.eta,
    batch: q.batch,
    cacheDir: q.cacheDir,
    onProgress: q.onProgress,
    guided: guided ? { classOf: (i) => i % 10, guidance: q.guidance! } : undefined,
  });
  const report = evaluator.measure(x, seed);
  const settings = {
    n,
    steps,
    sampler: samplerOf(steps),
    seed,
    classifier,
    weights: q.weights ?? "ema",
    ...(guided ? { guidance: q.guidance } : {}),
    ...(q.variance !== undefined && q.variance !== options.variance
      ? { variance: q.variance }
      : {}),
  };
  return {
    ...qualityFields(report, settings),
    ...(guided ? classAccuracies(digits, x) : {}),
    qualitySeconds: Math.round((performance.now() - t0) / 100) / 10,
  };
}

async function _evaluate(
  model: DiffusionModel,
  schedule: Schedule,
  options: EvaluateOptions,
): Promise<Record<string, number>> {
  const apply = (xt: tf.Tensor, t: tf.Tensor1D) => model.apply(xt, t, { training: false });
  switch (options.dataset) {
    case "s-curve": {
      const n = options.n ?? 10000;
      const samples = await generateSamples(model, schedule, {
        dataset: "s-curve",
        n,
        steps: options.sampleSteps ?? "all",
        variance: options.variance,
        seed: options.seed + 101,
      });
      const a = makeSCurve(n, { noise: S_NOISE, seed: 1_000_003 });
      const b = makeSCurve(n, { noise: S_NOISE, seed: 2_000_003 });
      const metrics: Record<string, number> = {
        swd: slicedWasserstein(samples.x, a, { directions: 256 }),
        swdFloor: slicedWasserstein(b, a, { directions: 256 }),
      };
      if (!options.quick) {
        // The full bound (all T terms and the prior) on 2,000 fresh points, in bits per
        // coordinate, with the continuous Gaussian decoder at t = 0.
        const x0 = tf.tensor2d(makeSCurve(2000, { noise: S_NOISE, seed: 3_000_003 }), [2000, 2]);
        try {
          const r = calcBpdLoop(schedule, apply, x0, {
            variance: options.variance,
            data: "continuous",
            clipDenoised: false,
          });
          metrics.bpd = mean(r.totalBpd);
          metrics.priorBpd = mean(r.priorBpd);
        } finally {
          x0.dispose();
        }
      }
      return metrics;
    }
    case "mnist": {
      // `mcDigits` digits taken class by class, else the whole test split.
      const split = (await _loadMnist()).test;
      const test = options.mcDigits !== undefined
        ? await dataSample("mnist", options.mcDigits, 0)
        : { x: split.images, n: split.n };
      const quick = await _testLosses(apply, schedule, test.x, test.n, options);
      if (options.quick) return quick;
      // The split is ordered by class: take the digits class by class, as `dataSample` does.
      const { x, n: k } = await dataSample("mnist", options.bpdDigits ?? 64, 0);
      const x0 = tf.tensor4d(x, [k, 28, 28, 1]);
      try {
        const r = await calcBpdLoop(schedule, apply, x0, {
          variance: options.variance,
          data: "image",
          clipDenoised: true,
          unclippedToo: true,
          onStep: options.onProgress,
        });
        return {
          bpd: mean(r.totalBpd),
          priorBpd: mean(r.priorBpd),
          decoderBpd: r.vbTerms[0]!,
          // The same bound, same noise, with the predicted x_0 not clipped.
          bpdUnclipped: mean(r.unclipped!.totalBpd),
          decoderBpdUnclipped: r.unclipped!.vbTerms[0]!,
          digits: k,
          simple: quick.simple!,
          bpdMc: quick.bpdMc!,
          bpdMcStderr: quick.bpdMcStderr!,
        };
      } finally {
        x0.dispose();
      }
    }
  }
}

/**
 * L_simple and a Monte Carlo estimate of the bound on test digits, in one pass: each digit is
 * noised at one t, and the model's loss terms are averaged. The vlb term holds T * L_t
 * (bits/dim), so its mean plus the prior is an unbiased estimate of the whole bound.
 *
 * The timesteps are stratified: digit i gets t = floor((π(i) + u_i) · T / n) for a random
 * permutation π and u_i ~ U[0, 1), so each t is uniform on its own (the estimate stays unbiased)
 * while together they cover [0, T) evenly. T · L_t ranges over orders of magnitude (the decoder
 * term at t = 0 alone is T times a term near 1 bit), so independent draws leave a noisy estimate
 * (the README has the spread over seeds of both).
 */
async function _testLosses(
  apply: (x: tf.Tensor, t: tf.Tensor1D) => tf.Tensor,
  schedule: Schedule,
  images: Float32Array,
  n: number,
  options: EvaluateOptions,
): Promise<Record<string, number>> {
  const rng = new Rng(options.seed, 0xe1);
  const stratified = stratifiedTimesteps(n, schedule.numTimesteps, rng);
  let mse = 0, prior = 0;
  // Each digit's own estimate T·L_t + prior, for the mean and its standard error.
  const bound = new Float64Array(n);
  for (let start = 0; start < n; start += 64) {
    const b = Math.min(64, n - start);
    const t = stratified.subarray(start, start + b);
    const noise = rng.fillNormal(new Float32Array(b * 784));
    const [sums, perDigit] = tf.tidy(() => {
      const x0 = tf.tensor4d(images.subarray(start * 784, (start + b) * 784), [b, 28, 28, 1]);
      const r = trainingLosses(schedule, apply, x0, tf.tensor1d(t, "int32"), {
        loss: "hybrid",
        variance: options.variance,
        data: "image",
        noise: tf.tensor4d(noise, [b, 28, 28, 1]),
      });
      const p = priorBpd(schedule, x0);
      return [tf.stack([tf.sum(r.mse), tf.sum(p)]), tf.add(r.vlb, p)];
    });
    const [m, p] = await sums.data();
    bound.set(await perDigit.data(), start);
    tf.dispose([sums, perDigit]);
    mse += m!;
    prior += p!;
  }
  const bpdMc = mean(bound);
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (bound[i]! - bpdMc) ** 2;
  // The spread of the per-digit estimates over sqrt(n): the standard error for independent draws
  // of t, and a conservative one for the stratified draws.
  const bpdMcStderr = n > 1 ? Math.sqrt(ss / (n - 1) / n) : NaN;
  return { simple: mse / n, bpdMc, bpdMcStderr, priorBpd: prior / n };
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}
