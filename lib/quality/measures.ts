/**
 * The quality of generated MNIST digits, each measure beside its floor (the same measure for
 * as many real training digits, against the same 999 test digits) and, where it has one, its
 * uncertainty: Fréchet distance and KID on the classifier's features, improved precision and
 * recall, the class histogram with its entropy and the classifier's mean confidence, and
 * memorisation (distance to the nearest training digit against held-out digits').
 *
 * @module
 */
import { Rng } from "../random.ts";
import {
  CLASSIFIER_FEATURES,
  classifierFeatures,
  classProbabilities,
  type DigitClassifier,
} from "./classifier.ts";
import { featureStats, frechetDistance } from "./frechet.ts";
import { kernelDistance } from "./kid.ts";
import { type Memorisation, memorisation, precisionRecall } from "./neighbours.ts";

/** The measures of one set of digits against the test digits. */
export interface SetMeasures {
  /** Digits measured. */
  n: number;
  /** Fréchet distance of the classifier features (biased upwards at small n: compare at equal n). */
  frechet: number;
  /** KID (the unbiased MMD² of the features) and its standard error. */
  kid: number;
  kidStderr: number;
  /** Improved precision and recall (k = 3). */
  precision: number;
  recall: number;
  /** How many digits of each class (the classifier's most probable class). */
  classHistogram: number[];
  /** Entropy of the class histogram in bits (log2 10 = 3.32 for perfectly balanced classes). */
  classEntropyBits: number;
  /** Mean probability of the most probable class. */
  meanConfidence: number;
}

/** A quality report: the samples' measures, the floor's, and memorisation. */
export interface QualityReport {
  samples: SetMeasures;
  /** The same measures for `n` real training digits: what a perfect model would score. */
  floor: SetMeasures;
  memorisation: Memorisation;
}

/** The data the measures compare against. */
export interface QualityReference {
  /** Training digits (`n * 784`, [-1, 1]). */
  train: Float32Array;
  /** Held-out test digits. */
  test: Float32Array;
}

/**
 * The measures of one set of digits against the test digits' features.
 *
 * @param c The classifier.
 * @param images `n * 784` digits in [-1, 1].
 * @param testFeatures The test digits' features (`classifierFeatures(c, test)`).
 * @param seed Seed of KID's blocks.
 * @returns The measures.
 *
 * @example
 * ```ts ignore
 * import { setMeasures } from "./measures.ts";
 * const m = setMeasures(classifier, digits, classifierFeatures(classifier, test), 0);
 * console.log(m.frechet);
 * ```
 */
export function setMeasures(
  c: DigitClassifier,
  images: Float32Array,
  testFeatures: Float32Array,
  seed: number,
): SetMeasures {
  const d = CLASSIFIER_FEATURES;
  const n = images.length / 784;
  const f = classifierFeatures(c, images);
  const frechet = frechetDistance(featureStats(f, d), featureStats(testFeatures, d));
  const kid = kernelDistance(f, testFeatures, d, { seed });
  const pr = precisionRecall(testFeatures, f, d);
  const p = classProbabilities(c, images);
  const hist = new Array(10).fill(0);
  let conf = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < 10; k++) if (p[i * 10 + k]! > p[i * 10 + best]!) best = k;
    hist[best]++;
    conf += p[i * 10 + best]!;
  }
  let entropy = 0;
  for (const h of hist) if (h > 0) entropy -= (h / n) * Math.log2(h / n);
  return {
    n,
    frechet,
    kid: kid.value,
    kidStderr: kid.stderr,
    precision: pr.precision,
    recall: pr.recall,
    classHistogram: hist,
    classEntropyBits: entropy,
    meanConfidence: conf / n,
  };
}

/**
 * `n` training digits drawn without replacement (seeded): the floor's set.
 *
 * @param train Training digits.
 * @param n How many.
 * @param seed Seed.
 * @returns `n * 784` values.
 */
export function realDigits(train: Float32Array, n: number, seed = 0): Float32Array {
  const total = train.length / 784;
  if (n > total) throw new RangeError(`Cannot draw ${n} of ${total} training digits`);
  const rng = new Rng(seed, 0xf100);
  const idx = Array.from({ length: total }, (_, i) => i);
  for (let i = 0; i < n; i++) {
    const j = i + rng.int(total - i);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  const out = new Float32Array(n * 784);
  for (let i = 0; i < n; i++) out.set(train.subarray(idx[i]! * 784, (idx[i]! + 1) * 784), i * 784);
  return out;
}

/**
 * Measures generated digits against the test digits, beside the floor.
 *
 * @param c The classifier (`loadClassifier()`).
 * @param samples `n * 784` generated digits in [-1, 1] (n ≥ 20).
 * @param ref Training and test digits.
 * @param seed Seed of the floor's draw and KID's blocks. @default {0}
 * @returns The report.
 *
 * @example
 * ```ts ignore
 * import { loadClassifier } from "./weights.ts";
 * import { measureQuality } from "./measures.ts";
 * import { loadMnist } from "../../workers/mnist.ts";
 * const { classifier } = await loadClassifier();
 * const { train, test } = loadMnist();
 * const r = measureQuality(classifier, samples, { train: train.images, test: test.images });
 * console.log(r.samples.frechet, r.floor.frechet);
 * ```
 */
export function measureQuality(
  c: DigitClassifier,
  samples: Float32Array,
  ref: QualityReference,
  seed = 0,
): QualityReport {
  const n = samples.length / 784;
  if (!Number.isInteger(n) || n < 20) {
    throw new RangeError(`Cannot measure quality: need at least 20 digits of 784 values, got ${n}`);
  }
  const testFeatures = classifierFeatures(c, ref.test);
  return {
    samples: setMeasures(c, samples, testFeatures, seed),
    floor: setMeasures(c, realDigits(ref.train, n, seed), testFeatures, seed),
    memorisation: memorisation(samples, ref.train, ref.test),
  };
}
