/**
 * The quality measures as one evaluation record holds them: flat numbers beside their floors
 * (`frechet`, `frechetFloor`, ...), and `quality`, the settings they were measured with (n,
 * sampling steps and sampler, seed, the classifier's SHA-256, EMA or raw weights). Written by
 * training (`evaluate` with `quality`) and by `deno task eval --quality`; read by the viewer,
 * which never puts records of different settings in one series. Imports no tensors.
 *
 * @module
 */
import type { QualityReport } from "./measures.ts";
import { parseSampleSteps } from "../respace.ts";
import { isSampleMethod, type SampleMethod } from "../sample_methods.ts";
import { VARIANCE_KINDS, type VarianceKind } from "../variance_kinds.ts";

/** What a quality record measured; records with different settings are never compared. */
export interface QualitySettings {
  /** Digits sampled, and real training digits in the floor. */
  n: number;
  /** The sampling spec: "all", "50", "10,15,20", "ddim50", "dpm++20", "unipc10". */
  steps: string;
  /** The sampling method the spec implies ("ancestral", "ddim", "dpm++" or "unipc"). */
  sampler: SampleMethod;
  /** Seed of the samples (and of KID's blocks). */
  seed: number;
  /** SHA-256 (hex) of the classifier weights whose features are compared. */
  classifier: string;
  /** The model's weights that drew the samples. */
  weights: "ema" | "raw";
  /**
   * A class-conditional model's samples: classes balanced (sample i of class i mod 10), drawn
   * with classifier-free guidance of this weight. Absent for unconditional samples.
   */
  guidance?: number;
  /**
   * The reverse-process variance the samples were drawn with, when it is not the one the model
   * trained with (a fixed-variance model sampled with the other fixed variance). Absent: the
   * model's own.
   */
  variance?: VarianceKind;
}

/** The measures of a record, each beside its floor (the same measure for n real digits). */
export interface QualityMeasures {
  frechet: number;
  frechetFloor: number;
  kid: number;
  kidStderr: number;
  kidFloor: number;
  kidFloorStderr: number;
  precision: number;
  precisionFloor: number;
  recall: number;
  recallFloor: number;
  /** Entropy of the class histogram, bits (3.32 for balanced classes). */
  classEntropy: number;
  classEntropyFloor: number;
  /** Mean probability of the most probable class. */
  confidence: number;
  confidenceFloor: number;
  /** Fraction of samples closer to a training digit than 99% of test digits are (floor 0.01). */
  memorised: number;
  /** Median distance of a sample to its nearest training digit. */
  nearestTrainMedian: number;
  /** The same median for the held-out test digits. */
  nearestTrainMedianFloor: number;
}

/** A quality record's fields: the measures, the class histogram, and the settings. */
export type QualityFields = QualityMeasures & {
  /** How many samples the classifier put in each class. */
  classes: number[];
  quality: QualitySettings;
  /** Guided samples: the fraction the classifier gives the class they were drawn for. */
  classAccuracy?: number;
  /** Guided samples: that fraction for each class 0..9. */
  classAccuracies?: number[];
};

/** One measure of the viewer's quality charts: its key, its floor's key, a title. */
export interface QualityMeasureInfo {
  key: keyof QualityMeasures;
  floor: keyof QualityMeasures;
  title: string;
}

/**
 * The charted measures, in order, each with its floor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QUALITY_MEASURES } from "./record.ts";
 * assert.deepEqual(QUALITY_MEASURES[0], {
 *   key: "frechet",
 *   floor: "frechetFloor",
 *   title: "Fréchet distance (classifier features)",
 * });
 * ```
 */
export const QUALITY_MEASURES: readonly QualityMeasureInfo[] = [
  { key: "frechet", floor: "frechetFloor", title: "Fréchet distance (classifier features)" },
  { key: "kid", floor: "kidFloor", title: "KID" },
  { key: "precision", floor: "precisionFloor", title: "Precision" },
  { key: "recall", floor: "recallFloor", title: "Recall" },
  { key: "classEntropy", floor: "classEntropyFloor", title: "Class entropy (bits)" },
  { key: "confidence", floor: "confidenceFloor", title: "Classifier confidence" },
  {
    key: "nearestTrainMedian",
    floor: "nearestTrainMedianFloor",
    title: "Median distance to the nearest training digit",
  },
];

/**
 * The sampler a sampling spec implies, as the steps syntax says (`parseSampleSteps`).
 *
 * @param steps "all", "50", "ddim50", "dpm++20", "unipc10", ...
 * @returns The method: "ddim", "dpm++" or "unipc" for their prefixes, else "ancestral".
 * @throws {TypeError | RangeError} If the spec does not parse.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { samplerOf } from "./record.ts";
 * assert.equal(samplerOf("ddim25"), "ddim");
 * assert.equal(samplerOf("dpm++20"), "dpm++");
 * assert.equal(samplerOf("unipc10"), "unipc");
 * assert.equal(samplerOf("50"), "ancestral");
 * ```
 */
export function samplerOf(steps: string): SampleMethod {
  return parseSampleSteps(steps).method;
}

/**
 * The flat fields of a quality report, with its settings.
 *
 * @param r The report of `measureQuality` (or the quick evaluator).
 * @param settings What was measured.
 * @returns The record's fields.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { qualityFields } from "./record.ts";
 * const set = { n: 2, frechet: 5, kid: 0.1, kidStderr: 0.01, precision: 0.5, recall: 0.4,
 *   classHistogram: [2, 0, 0, 0, 0, 0, 0, 0, 0, 0], classEntropyBits: 0, meanConfidence: 0.9 };
 * const memorisation = { sampleMedian: 9, heldOutMedian: 9.5, heldOutP1: 3, fractionCloser: 0 };
 * const settings = { n: 2, steps: "50", sampler: "ancestral" as const, seed: 0, classifier: "ab", weights: "ema" as const };
 * const f = qualityFields({ samples: set, floor: { ...set, frechet: 1 }, memorisation }, settings);
 * assert.equal(f.frechet, 5);
 * assert.equal(f.frechetFloor, 1);
 * assert.equal(f.quality.n, 2);
 * ```
 */
export function qualityFields(r: QualityReport, settings: QualitySettings): QualityFields {
  return {
    ...(_flatMeasures(r.samples, r.floor, r.memorisation) as unknown as QualityMeasures),
    classes: r.samples.classHistogram,
    quality: { ...settings },
  };
}

/**
 * The flat measures beside their floors, from the sample set's and the floor's measures and the
 * memorisation (the one spelling of the record's names).
 */
function _flatMeasures(
  s: object,
  f: object,
  m: object,
): Record<string, unknown> {
  const [a, b, c] = [s, f, m] as Record<string, unknown>[];
  return {
    frechet: a!.frechet,
    frechetFloor: b!.frechet,
    kid: a!.kid,
    kidStderr: a!.kidStderr,
    kidFloor: b!.kid,
    kidFloorStderr: b!.kidStderr,
    precision: a!.precision,
    precisionFloor: b!.precision,
    recall: a!.recall,
    recallFloor: b!.recall,
    classEntropy: a!.classEntropyBits,
    classEntropyFloor: b!.classEntropyBits,
    confidence: a!.meanConfidence,
    confidenceFloor: b!.meanConfidence,
    memorised: c!.fractionCloser,
    nearestTrainMedian: c!.sampleMedian,
    nearestTrainMedianFloor: c!.heldOutMedian,
  };
}

function _isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * The settings and measures of an evaluation record, or null when it holds no quality
 * measures. Reads the flat fields of {@linkcode qualityFields} and the nested form that
 * `eval --quality` wrote first (`samples`, `floor`, `memorisation` objects).
 *
 * @param record One parsed line of `eval.jsonl`.
 * @returns The settings (those not recorded are absent) and the numeric measures found.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readQuality } from "./record.ts";
 * const q = readQuality({ step: 5, frechet: 3, frechetFloor: 1, quality: { n: 256, steps: "50" } });
 * assert.deepEqual(q, { settings: { n: 256, steps: "50" }, measures: { frechet: 3, frechetFloor: 1 } });
 * assert.equal(readQuality({ step: 5, swd: 0.1 }), null);
 * ```
 */
export function readQuality(
  record: Record<string, unknown>,
): { settings: Partial<QualitySettings>; measures: Partial<QualityMeasures> } | null {
  const q = record.quality;
  if (!_isObject(q)) return null;
  const settings: Partial<QualitySettings> = {};
  for (const k of ["n", "seed"] as const) if (typeof q[k] === "number") settings[k] = q[k];
  if (typeof q.steps === "string") settings.steps = q.steps;
  if (isSampleMethod(q.sampler)) settings.sampler = q.sampler;
  if (typeof q.classifier === "string") settings.classifier = q.classifier;
  if (q.weights === "ema" || q.weights === "raw") settings.weights = q.weights;
  if (typeof q.guidance === "number") settings.guidance = q.guidance;
  if ((VARIANCE_KINDS as readonly unknown[]).includes(q.variance)) {
    settings.variance = q.variance as VarianceKind;
  }
  let flat: Record<string, unknown> = record;
  if (_isObject(record.samples) && _isObject(record.floor)) {
    // The first form: { samples: SetMeasures, floor: SetMeasures, memorisation }.
    const s = record.samples, f = record.floor;
    const m = _isObject(record.memorisation) ? record.memorisation : {};
    flat = _flatMeasures(s, f, m);
  }
  const measures: Partial<QualityMeasures> = {};
  for (const { key, floor } of QUALITY_MEASURES) {
    for (const k of [key, floor]) if (typeof flat[k] === "number") measures[k] = flat[k];
  }
  for (const k of ["kidStderr", "kidFloorStderr", "memorised"] as const) {
    if (typeof flat[k] === "number") measures[k] = flat[k];
  }
  return { settings, measures };
}

/**
 * The keys of {@linkcode QualityFields}: what a record holds besides other metrics.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QUALITY_KEYS } from "./record.ts";
 * assert.ok(QUALITY_KEYS.has("frechetFloor") && QUALITY_KEYS.has("quality"));
 * assert.ok(!QUALITY_KEYS.has("simple"));
 * ```
 */
export const QUALITY_KEYS: ReadonlySet<string> = new Set<string>([
  ...QUALITY_MEASURES.flatMap((m) => [m.key, m.floor]),
  "kidStderr",
  "kidFloorStderr",
  "memorised",
  "classes",
  "quality",
]);
