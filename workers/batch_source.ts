/**
 * The deterministic heart of the pipeline: batch `i` as a pure function of the options and `i`.
 * Workers and the inline mode both run this code, so the batches do not depend on who computes
 * them, and resuming at batch `k` gives the batches an uninterrupted run would have.
 *
 * Fixed data sets (the S-curve set, an MNIST split) are read as an endless sequence of epochs,
 * each a permutation of the `n` examples seeded by `(seed, epoch)`; batch `i` holds positions
 * `i·B … i·B + B - 1` of that sequence, so a batch may straddle two epochs and every example is
 * seen exactly once per epoch. Augmentation and stream draws come from an {@linkcode Rng} seeded by
 * `(seed, i)`.
 *
 * @module
 */
import { Rng } from "../lib/random.ts";
import { augmentDigit, jitterPoints } from "./augment.ts";
import type { ResolvedOptions } from "./options.ts";
import { fillSCurve, makeSCurve } from "./s_curve.ts";

/** One batch as computed (the pipeline adds `waitMs`). */
export interface RawBatch {
  /** The batch index. */
  index: number;
  /** The data, row-major. */
  x: Float32Array;
  /** `[B, 2]` for the S-curve, `[B, 28, 28, 1]` (NHWC) for MNIST. */
  shape: number[];
  /** MNIST digit labels. */
  labels?: Uint8Array;
  /** Indices of the examples in the fixed data set (absent for the S-curve stream). */
  indices?: Uint32Array;
  /** The epoch of the batch's first example (absent for the stream). */
  epoch?: number;
}

/** Computes batches. */
export interface BatchSource {
  /** Size of the fixed data set, or `null` for the endless S-curve stream. */
  readonly size: number | null;
  /**
   * Computes batch `index`.
   * @param index A non-negative integer.
   */
  batch(index: number): RawBatch;
}

// Purposes, mixed into the run seed so that the generators of different jobs never coincide.
const _PERM = 0x5045524d, _AUG = 0x41554721, _STREAM = 0x53545245;

/** The generator behind the permutation of epoch `epoch`. */
function _epochRng(seed: number, epoch: number): Rng {
  return new Rng((seed ^ _PERM) >>> 0, epoch);
}

/** The generator behind batch `index`'s augmentation (or stream) draws. */
function _batchRng(seed: number, index: number, stream = false): Rng {
  return new Rng((seed ^ (stream ? _STREAM : _AUG)) >>> 0, index);
}

/**
 * The order in which epoch `epoch` visits `n` examples.
 *
 * @param seed The run seed.
 * @param epoch The epoch.
 * @param n The data set size.
 * @returns A permutation of 0..n-1.
 *
 * @example
 * ```ts
 * import { epochPermutation } from "./batch_source.ts";
 * import assert from "node:assert/strict";
 * const p = epochPermutation(1, 0, 10);
 * assert.deepEqual([...p].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
 * assert.notDeepEqual(p, epochPermutation(1, 1, 10));
 * ```
 */
export function epochPermutation(seed: number, epoch: number, n: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return _epochRng(seed, epoch).shuffle(p);
}

/**
 * Builds the batch source for resolved options (loads the data set once).
 *
 * @param o The resolved options.
 * @returns The source.
 *
 * @example
 * ```ts
 * import { createBatchSource } from "./batch_source.ts";
 * import { resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 * const o = resolveOptions({ dataset: "s-curve", batchSize: 4, workers: 0, sCurve: { n: 10 } });
 * const src = await createBatchSource(o);
 * const b = src.batch(3);
 * assert.deepEqual(b.shape, [4, 2]);
 * assert.equal(b.epoch, 1);
 * assert.deepEqual(b.x, (await createBatchSource(o)).batch(3).x);
 * ```
 */
export async function createBatchSource(o: ResolvedOptions): Promise<BatchSource> {
  const B = o.batchSize;
  switch (o.dataset) {
    case "s-curve": {
      const { mode, n, noise, jitter } = o.sCurve;
      switch (mode) {
        case "stream":
          return {
            size: null,
            batch(index) {
              _check(index);
              const x = fillSCurve(new Float32Array(B * 2), _batchRng(o.seed, index, true), noise);
              jitterPoints(x, _batchRng(o.seed, index), jitter);
              return { index, x, shape: [B, 2] };
            },
          };
        case "fixed": {
          const data = makeSCurve(n, { noise, seed: o.seed });
          const order = _epochs(o.seed, n, B);
          return {
            size: n,
            batch(index) {
              const { indices, epoch } = order(index);
              const x = new Float32Array(B * 2);
              for (let j = 0; j < B; j++) {
                const k = indices[j]!;
                x[2 * j] = data[2 * k]!;
                x[2 * j + 1] = data[2 * k + 1]!;
              }
              jitterPoints(x, _batchRng(o.seed, index), jitter);
              return { index, x, shape: [B, 2], indices, epoch };
            },
          };
        }
        default:
          throw new RangeError(`Unknown S-curve mode: ${mode satisfies never}`);
      }
    }
    case "mnist": {
      const { loadMnist, MNIST_PIXELS: P } = await import("./mnist.ts");
      const split = loadMnist()[o.mnist.split];
      const order = _epochs(o.seed, split.n, B);
      return {
        size: split.n,
        batch(index) {
          const { indices, epoch } = order(index);
          const x = new Float32Array(B * P);
          const labels = new Uint8Array(B);
          const rng = _batchRng(o.seed, index);
          for (let j = 0; j < B; j++) {
            const k = indices[j]!;
            labels[j] = split.labels[k]!;
            const src = split.images.subarray(k * P, (k + 1) * P);
            augmentDigit(src, x.subarray(j * P, (j + 1) * P), rng, o.mnist);
          }
          return { index, x, shape: [B, 28, 28, 1], labels, indices, epoch };
        },
      };
    }
    default:
      throw new RangeError(`Unknown dataset: ${o.dataset satisfies never}`);
  }
}

function _check(index: number): void {
  if (!Number.isInteger(index) || index < 0) {
    throw new RangeError(`Cannot compute batch ${index}: expected a non-negative integer`);
  }
}

/** Maps a batch index to the example indices it holds, caching the last two permutations. */
function _epochs(seed: number, n: number, B: number) {
  const cache = new Map<number, Uint32Array>();
  const perm = (e: number): Uint32Array => {
    let p = cache.get(e);
    if (!p) {
      p = epochPermutation(seed, e, n);
      cache.set(e, p);
      if (cache.size > 2) cache.delete(cache.keys().next().value!);
    }
    return p;
  };
  return (index: number): { indices: Uint32Array; epoch: number } => {
    _check(index);
    const indices = new Uint32Array(B);
    const start = index * B;
    const epoch = Math.floor(start / n);
    for (let j = 0; j < B; j++) {
      const pos = start + j;
      const e = Math.floor(pos / n);
      indices[j] = perm(e)[pos - e * n]!;
    }
    return { indices, epoch };
  };
}
