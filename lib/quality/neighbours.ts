/**
 * Nearest-neighbour measures: improved precision and recall (Kynkäänniemi et al. 2019) on
 * features, and the distance of each sample to its nearest training digit in pixel space
 * (memorisation). Squared distances come from one matrix product per block
 * (`|a|^2 + |b|^2 - 2 a·b`), run by the backend's matmul kernel.
 *
 * @module
 */
import { tf } from "../tf.ts";

/**
 * Squared Euclidean distances between every row of `a` (`m * d`) and every row of `b`
 * (`n * d`), handed to `visit` one block of rows of `a` at a time (`block * n` values).
 */
function _sqDistances(
  a: Float32Array,
  b: Float32Array,
  d: number,
  visit: (row0: number, rows: number, dist: Float32Array) => void,
  block = 256,
): void {
  const m = a.length / d, n = b.length / d;
  const bt = tf.tensor2d(b, [n, d]);
  const bn = tf.tidy(() => tf.sum(tf.square(bt), 1));
  try {
    for (let r0 = 0; r0 < m; r0 += block) {
      const rows = Math.min(block, m - r0);
      const dist = tf.tidy(() => {
        const at = tf.tensor2d(a.subarray(r0 * d, (r0 + rows) * d), [rows, d]);
        const an = tf.sum(tf.square(at), 1, true);
        const dot = tf.matMul(at, bt, false, true);
        return tf.relu(tf.add(tf.sub(an, tf.mul(dot, 2)), bn));
      });
      visit(r0, rows, dist.dataSync() as Float32Array);
      dist.dispose();
    }
  } finally {
    tf.dispose([bt, bn]);
  }
}

/**
 * For each row of `a`, its distance to the k-th nearest row of `b` (`skipSelf`: `a` is `b`,
 * and each row's zero distance to itself is not counted).
 *
 * @example
 * ```ts
 * import { kthNeighbourDistance } from "./neighbours.ts";
 * import assert from "node:assert/strict";
 * const pts = new Float32Array([0, 1, 3, 7]);
 * assert.deepEqual(Array.from(kthNeighbourDistance(pts, pts, 1, 1, true)), [1, 1, 2, 4]);
 * ```
 */
export function kthNeighbourDistance(
  a: Float32Array,
  b: Float32Array,
  d: number,
  k: number,
  skipSelf = false,
): Float32Array {
  const m = a.length / d, n = b.length / d;
  const out = new Float32Array(m);
  const best = new Float32Array(k + 1);
  _sqDistances(a, b, d, (r0, rows, dist) => {
    for (let r = 0; r < rows; r++) {
      best.fill(Infinity);
      for (let j = 0; j < n; j++) {
        if (skipSelf && j === r0 + r) continue;
        const v = dist[r * n + j]!;
        if (v >= best[k - 1]!) continue;
        let p = k - 1;
        while (p > 0 && best[p - 1]! > v) {
          best[p] = best[p - 1]!;
          p--;
        }
        best[p] = v;
      }
      out[r0 + r] = Math.sqrt(best[k - 1]!);
    }
  });
  return out;
}

/**
 * The fraction of rows of `probe` that fall inside the k-NN ball of at least one row of
 * `manifold` (the ball of row i has radius `radii[i]`, its distance to its k-th neighbour).
 */
function _coverage(
  probe: Float32Array,
  manifold: Float32Array,
  radii: Float32Array,
  d: number,
): number {
  const m = probe.length / d, n = manifold.length / d;
  const r2 = radii.map((r) => r * r);
  let inside = 0;
  _sqDistances(probe, manifold, d, (_r0, rows, dist) => {
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < n; j++) {
        if (dist[r * n + j]! <= r2[j]!) {
          inside++;
          break;
        }
      }
    }
  });
  return inside / m;
}

/** Improved precision and recall. */
export interface PrecisionRecall {
  /** The fraction of generated samples inside the real data's k-NN manifold. */
  precision: number;
  /** The fraction of real samples inside the generated samples' k-NN manifold. */
  recall: number;
  /** The k used. */
  k: number;
}

/**
 * Improved precision and recall (Kynkäänniemi et al. 2019) of generated features against real
 * ones, with k-nearest-neighbour balls (k = 3 as in the paper).
 *
 * @param real `n * d` real features.
 * @param fake `m * d` generated features.
 * @param d The dimension.
 * @param k Neighbours. @default {3}
 * @returns Precision and recall in [0, 1].
 *
 * @example
 * ```ts
 * import { precisionRecall } from "./neighbours.ts";
 * import { Rng } from "../random.ts";
 * import assert from "node:assert/strict";
 * const rng = new Rng(2);
 * const real = rng.fillNormal(new Float32Array(300 * 2));
 * const collapsed = new Float32Array(300 * 2).map(() => rng.normal() * 0.05);
 * const pr = precisionRecall(real, collapsed, 2);
 * assert.ok(pr.precision > 0.9 && pr.recall < 0.3);
 * ```
 */
export function precisionRecall(
  real: Float32Array,
  fake: Float32Array,
  d: number,
  k = 3,
): PrecisionRecall {
  const realRadii = kthNeighbourDistance(real, real, d, k, true);
  const fakeRadii = kthNeighbourDistance(fake, fake, d, k, true);
  return {
    precision: _coverage(fake, real, realRadii, d),
    recall: _coverage(real, fake, fakeRadii, d),
    k,
  };
}

/** How close samples come to the training set, against held-out digits. */
export interface Memorisation {
  /** Median distance of a sample to its nearest training digit (pixels in [-1, 1]). */
  sampleMedian: number;
  /** Median distance of a held-out digit to its nearest training digit. */
  heldOutMedian: number;
  /** The 1st percentile of the held-out digits' nearest-training distances. */
  heldOutP1: number;
  /** The fraction of samples closer to a training digit than that 1st percentile. */
  fractionCloser: number;
}

function _quantile(sorted: Float32Array, q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.floor(q * (sorted.length - 1))));
  return sorted[i]!;
}

/** Options of {@linkcode memorisation}. */
export interface MemorisationOptions {
  /**
   * The held-out digits' distances to their nearest training digit, sorted ascending, when
   * already known (they depend only on the two sets): skips computing them again.
   * @default computed
   */
  heldOutNearest?: Float32Array;
}

/**
 * Memorisation: each sample's distance to its nearest training digit, against the same
 * distance for held-out digits (which the model never saw). A model that copies its training
 * set puts many samples closer than almost any held-out digit comes.
 *
 * @param samples `m * 784` generated digits.
 * @param train `n * 784` training digits.
 * @param heldOut `h * 784` held-out digits.
 * @param options See {@linkcode MemorisationOptions}.
 * @returns The distances' summary.
 *
 * @example
 * ```ts
 * import { memorisation } from "./neighbours.ts";
 * import { Rng } from "../random.ts";
 * import assert from "node:assert/strict";
 * const rng = new Rng(4);
 * const train = rng.fillNormal(new Float32Array(200 * 784));
 * const heldOut = rng.fillNormal(new Float32Array(100 * 784));
 * const copies = train.slice(0, 50 * 784);
 * assert.equal(memorisation(copies, train, heldOut).fractionCloser, 1);
 * ```
 */
export function memorisation(
  samples: Float32Array,
  train: Float32Array,
  heldOut: Float32Array,
  options: MemorisationOptions = {},
): Memorisation {
  const s = kthNeighbourDistance(samples, train, 784, 1).sort();
  const h = options.heldOutNearest ?? kthNeighbourDistance(heldOut, train, 784, 1).sort();
  const p1 = _quantile(h, 0.01);
  let closer = 0;
  for (const v of s) if (v < p1) closer++;
  return {
    sampleMedian: _quantile(s, 0.5),
    heldOutMedian: _quantile(h, 0.5),
    heldOutP1: p1,
    fractionCloser: closer / s.length,
  };
}
