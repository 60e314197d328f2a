/**
 * Evaluation records as chart series that never mix settings: each record of `eval.jsonl` is
 * flattened into columns named `<metric>@<series>`, where the series says who measured and
 * how — `training` (the trainer's periodic evaluation), `deno task eval` with what it recorded
 * of its settings, or, for the quality measures, their settings (n, sampling steps and sampler,
 * weights, classifier). Durations (`seconds`, `...Seconds`) and settings are not metrics and
 * are left out. The same function flattens the file on the server and its new lines in the
 * live stream.
 * @module
 */
import { QUALITY_KEYS, type QualitySettings, readQuality } from "../lib/quality/record.ts";

/** Separates a column's metric from its series. */
export const SERIES_MARK = "@";

/** The series of the trainer's own evaluations. */
export const TRAINING_SERIES = "training";

/** What `deno task eval` records beside its metrics that says how it measured. */
const EVAL_SETTINGS = ["steps", "n", "bound", "digits", "variance"] as const;

/** Keys that are never metrics. */
const NOT_METRICS = new Set(["step", "time", "source", "ema", "seed", ...EVAL_SETTINGS]);

/** True for keys holding a duration, which is not drawn as a metric. */
function _isDuration(key: string): boolean {
  return key === "seconds" || key.endsWith("Seconds");
}

/**
 * The series name of quality measures taken with `s`.
 *
 * @param s The settings (those a record did not say are shown as such).
 * @returns e.g. `n=256 · 50 steps · ancestral · EMA · classifier 1a2b3c4d`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { qualitySeries } from "./eval_series.ts";
 * assert.equal(
 *   qualitySeries({ n: 256, steps: "50", sampler: "ancestral", weights: "ema", classifier: "1a2b3c4d5e" }),
 *   "n=256 · 50 steps · ancestral · EMA · classifier 1a2b3c4d",
 * );
 * ```
 */
export function qualitySeries(s: Partial<QualitySettings>): string {
  return [
    `n=${s.n ?? "?"}`,
    s.steps === undefined ? "steps ?" : s.steps === "all" ? "all steps" : `${s.steps} steps`,
    s.sampler ?? "sampler ?",
    s.weights === undefined ? "weights ?" : s.weights === "ema" ? "EMA" : "raw weights",
    s.classifier === undefined ? "classifier ?" : `classifier ${s.classifier.slice(0, 8)}`,
    ...(s.guidance === undefined ? [] : [`guidance ${s.guidance}`]),
    ...(s.variance === undefined ? [] : [`variance ${s.variance}`]),
  ].join(" · ");
}

function _evalSeries(r: Record<string, unknown>): string {
  const source = typeof r.source === "string" ? r.source : null;
  if (source === null) return TRAINING_SERIES;
  const parts = [source === "eval" ? "deno task eval" : source];
  for (const k of EVAL_SETTINGS) {
    const v = r[k];
    if (typeof v === "number" || typeof v === "string") parts.push(`${k}=${v}`);
  }
  if (r.ema === false) parts.push("raw weights");
  return parts.join(" · ");
}

/**
 * One `eval.jsonl` record as series columns: `{ step, "<metric>@<series>": value, ... }`.
 * Records without a numeric step come back unchanged (the table counts them as malformed).
 *
 * @param record One parsed line.
 * @returns The flattened record.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flattenEvalRecord } from "./eval_series.ts";
 * assert.deepEqual(flattenEvalRecord({ step: 10, time: "t", swd: 0.1, swdFloor: 0.02 }),
 *   { step: 10, "swd@training": 0.1, "swdFloor@training": 0.02 });
 * assert.deepEqual(flattenEvalRecord({ step: 10, source: "eval", swd: 0.2, seconds: 3 }),
 *   { step: 10, "swd@deno task eval": 0.2 });
 * ```
 */
export function flattenEvalRecord(record: unknown): unknown {
  if (record === null || typeof record !== "object" || Array.isArray(record)) return record;
  const r = record as Record<string, unknown>;
  if (typeof r.step !== "number") return record;
  const out: Record<string, unknown> = { step: r.step };
  const series = _evalSeries(r);
  const quality = readQuality(r);
  for (const k of Object.keys(r)) {
    const v = r[k];
    if (typeof v !== "number" || NOT_METRICS.has(k) || _isDuration(k)) continue;
    if (quality !== null && QUALITY_KEYS.has(k)) continue;
    out[`${k}${SERIES_MARK}${series}`] = v;
  }
  if (quality !== null) {
    const qs = qualitySeries(quality.settings);
    for (const [k, v] of Object.entries(quality.measures)) out[`${k}${SERIES_MARK}${qs}`] = v;
  }
  return out;
}

/**
 * A column name split into its metric and series (`series` is null for a plain column).
 *
 * @param column A column of a flattened table.
 * @returns The metric and the series.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitColumn } from "./eval_series.ts";
 * assert.deepEqual(splitColumn("swd@training"), { metric: "swd", series: "training" });
 * assert.deepEqual(splitColumn("loss"), { metric: "loss", series: null });
 * ```
 */
export function splitColumn(column: string): { metric: string; series: string | null } {
  const i = column.indexOf(SERIES_MARK);
  return i < 0
    ? { metric: column, series: null }
    : { metric: column.slice(0, i), series: column.slice(i + 1) };
}
