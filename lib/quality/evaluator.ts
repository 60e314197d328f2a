/**
 * Repeated quality measurements against one reference (training runs measure every
 * `--eval-every` steps): what depends only on the classifier and the real digits is computed
 * once — the test digits' features, the held-out digits' nearest-training distances, and the
 * floor at each n (n real training digits drawn with a fixed seed, so it is deterministic).
 *
 * @module
 */
import { classifierFeatures, type DigitClassifier } from "./classifier.ts";
import {
  type QualityReference,
  type QualityReport,
  realDigits,
  type SetMeasures,
  setMeasures,
} from "./measures.ts";
import { kthNeighbourDistance, memorisation } from "./neighbours.ts";

/**
 * The seed of every floor's draw and of its KID blocks: floors depend on n alone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FLOOR_SEED } from "./evaluator.ts";
 * assert.equal(FLOOR_SEED, 0); // eval --quality's default seed: its floors are the same
 * ```
 */
export const FLOOR_SEED = 0;

/** Measures digits against a fixed reference, with the reference's parts cached. */
export interface QualityEvaluator {
  /** The samples' measures, the floor at their n (cached per n) and memorisation. */
  measure(samples: Float32Array, seed?: number): QualityReport;
  /** The floor at `n`: `n` real training digits against the test digits (cached). */
  floor(n: number): SetMeasures;
}

/**
 * An evaluator for one classifier and reference. It holds no tensors of its own (the
 * classifier stays the caller's to dispose).
 *
 * @param classifier The classifier (`loadClassifier()`).
 * @param ref Training and test digits.
 * @returns The evaluator.
 *
 * @example
 * ```ts ignore
 * import { loadClassifier } from "./weights.ts";
 * import { createQualityEvaluator } from "./evaluator.ts";
 * const { classifier } = await loadClassifier();
 * const q = createQualityEvaluator(classifier, { train, test });
 * const r = q.measure(samples, 0); // r.floor is q.floor(samples.length / 784)
 * ```
 */
export function createQualityEvaluator(
  classifier: DigitClassifier,
  ref: QualityReference,
): QualityEvaluator {
  let testFeatures: Float32Array | null = null;
  let heldOutNearest: Float32Array | null = null;
  const floors = new Map<number, SetMeasures>();
  const features = () => (testFeatures ??= classifierFeatures(classifier, ref.test));
  const floor = (n: number): SetMeasures => {
    let f = floors.get(n);
    if (f === undefined) {
      const real = realDigits(ref.train, n, FLOOR_SEED);
      f = setMeasures(classifier, real, features(), FLOOR_SEED);
      floors.set(n, f);
    }
    return f;
  };
  return {
    floor,
    measure(samples, seed = 0) {
      const n = samples.length / 784;
      if (!Number.isInteger(n) || n < 20) {
        throw new RangeError(
          `Cannot measure quality: need at least 20 digits of 784 values, got ${n}`,
        );
      }
      heldOutNearest ??= kthNeighbourDistance(ref.test, ref.train, 784, 1).sort();
      return {
        samples: setMeasures(classifier, samples, features(), seed),
        floor: floor(n),
        memorisation: memorisation(samples, ref.train, ref.test, { heldOutNearest }),
      };
    },
  };
}
