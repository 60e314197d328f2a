/**
 * Sample quality of generated MNIST digits: the classifier whose features are compared
 * (`classifier.ts`, shipped weights in `weights/`), the measures (Fréchet distance, KID,
 * improved precision and recall, class statistics, memorisation), one call that gives them
 * all beside their floor, an evaluator that caches the floors for repeated measurements, and
 * the record an evaluation writes (`record.ts`).
 *
 * @example
 * ```ts
 * import { frechetDistance } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const a = { d: 1, n: 2, mean: new Float64Array([0]), cov: new Float64Array([1]) };
 * assert.equal(frechetDistance(a, a), 0);
 * ```
 *
 * @module
 */
export {
  accuracy,
  CLASSIFIER_FEATURES,
  classifierFeatures,
  classProbabilities,
  createClassifier,
  type DigitClassifier,
} from "./classifier.ts";
export { trainClassifier, type TrainClassifierOptions } from "./classifier_train.ts";
export { type FeatureStats, featureStats, frechetDistance } from "./frechet.ts";
export { kernelDistance, type Kid } from "./kid.ts";
export {
  type Memorisation,
  memorisation,
  type MemorisationOptions,
  type PrecisionRecall,
  precisionRecall,
} from "./neighbours.ts";
export {
  measureQuality,
  type QualityReference,
  type QualityReport,
  realDigits,
  type SetMeasures,
  setMeasures,
} from "./measures.ts";
export { createQualityEvaluator, FLOOR_SEED, type QualityEvaluator } from "./evaluator.ts";
export {
  QUALITY_KEYS,
  QUALITY_MEASURES,
  type QualityFields,
  qualityFields,
  type QualityMeasureInfo,
  type QualityMeasures,
  type QualitySettings,
  readQuality,
  samplerOf,
} from "./record.ts";
export {
  type ClassifierManifest,
  loadClassifier,
  saveClassifier,
  SHIPPED_WEIGHTS,
} from "./weights.ts";
