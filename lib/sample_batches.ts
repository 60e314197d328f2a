/**
 * How a run's samples are drawn in batches, tensor-free: the shape of one item, the batch size,
 * each batch's seed and whether predictions are clipped, by data set. `deno task sample` and
 * `eval` (through `tasks/_evaluate.ts`) and the viewer's browser sampler read them here, so that
 * the same seed gives the same samples in all three.
 *
 * @module
 */
import type { DatasetName } from "./datasets.ts";

/**
 * The shape of one sample, by data set: a 2-D point or a 28x28x1 digit (NHWC).
 *
 * @example
 * ```ts
 * import { SAMPLE_ITEM_SHAPES } from "./sample_batches.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(SAMPLE_ITEM_SHAPES.mnist, [28, 28, 1]);
 * ```
 */
export const SAMPLE_ITEM_SHAPES: Readonly<Record<DatasetName, readonly number[]>> = {
  "s-curve": [2],
  mnist: [28, 28, 1],
};

/**
 * The default number of samples drawn at once, by data set.
 *
 * @example
 * ```ts
 * import { SAMPLE_BATCH } from "./sample_batches.ts";
 * import assert from "node:assert/strict";
 * assert.equal(SAMPLE_BATCH.mnist, 64);
 * ```
 */
export const SAMPLE_BATCH: Readonly<Record<DatasetName, number>> = {
  "s-curve": 10000,
  mnist: 64,
};

/**
 * The seed of batch `b` of a sampling run with seed `seed` (every batch has its own stream, so
 * a batch does not depend on those before it).
 *
 * @param seed The run's seed.
 * @param batch The batch's index, from 0.
 * @returns The seed given to the sampler for that batch.
 *
 * @example
 * ```ts
 * import { batchSeed } from "./sample_batches.ts";
 * import assert from "node:assert/strict";
 * assert.equal(batchSeed(1, 0), 7919);
 * assert.equal(batchSeed(1, 2), 7921);
 * ```
 */
export function batchSeed(seed: number, batch: number): number {
  return seed * 7919 + batch;
}

/**
 * Whether the predicted x_0 is clipped to [-1, 1] unless told: for images (MNIST), not for the
 * S-curve's points.
 *
 * @param dataset The data set.
 * @returns The default of `clipDenoised`.
 *
 * @example
 * ```ts
 * import { clipsByDefault } from "./sample_batches.ts";
 * import assert from "node:assert/strict";
 * assert.equal(clipsByDefault("mnist"), true);
 * assert.equal(clipsByDefault("s-curve"), false);
 * ```
 */
export function clipsByDefault(dataset: DatasetName): boolean {
  return dataset === "mnist";
}
