/**
 * The data behind `bench/sweep_plots.ts`, pure and tensor-free: a sweep's quality results as
 * one series per sampler and variance against the number of sampling steps (Improved DDPM's
 * figure 8 on digits), and a training run's per-step metrics as rolling means and standard
 * deviations (the noise of the objective, Improved DDPM's figure 2).
 *
 * @module
 */
import type { SweepResult } from "../tasks/sweep.ts";

/**
 * The number of model calls a `--sample-steps` value stands for: `"all"` is every one of the
 * `timesteps` steps, `"50"` is 50 respaced steps, and a sampler's prefix (`ddim50`, `dpm++20`,
 * `unipc10`) is dropped.
 *
 * @param steps The `--sample-steps` value, as the quality record writes it.
 * @param timesteps The model's number of diffusion steps T, what `"all"` means.
 * @returns The number of steps, or `undefined` when `steps` is not one of these forms.
 *
 * @example
 * ```ts
 * import { stepsCount } from "./_sweep_series.ts";
 * import assert from "node:assert/strict";
 * assert.equal(stepsCount("all"), 1000);
 * assert.equal(stepsCount("all", 4000), 4000);
 * assert.equal(stepsCount("50"), 50);
 * assert.equal(stepsCount("ddim50"), 50);
 * assert.equal(stepsCount("dpm++20"), 20);
 * assert.equal(stepsCount("fifty"), undefined);
 * ```
 */
export function stepsCount(steps: string, timesteps = 1000): number | undefined {
  if (steps === "all") return timesteps;
  const m = /^[a-z+]*(\d+)$/.exec(steps);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n >= 1 ? n : undefined;
}

/** One point of a {@linkcode QualitySeries}. */
export interface QualityPoint {
  /** Sampling steps (see {@linkcode stepsCount}). */
  steps: number;
  /** The measure. */
  value: number;
  /** Its standard error, where the record has one (`<measure>Stderr`). */
  stderr?: number;
}

/** The quality results of one arm, sampler and variance, ordered by steps. */
export interface QualitySeries {
  /** E.g. `"learned-range (cosine-hybrid)"` or `"DDIM (cosine-simple)"`. */
  label: string;
  arm: string;
  /** The record's `quality.sampler`: `"ancestral"`, `"ddim"`, ... */
  sampler: string;
  /** The reverse-process variance of an ancestral sampler; absent for the others. */
  variance?: string;
  points: QualityPoint[];
}

/** Options for {@linkcode qualitySeries}. */
export interface QualitySeriesOptions {
  /** Which measure: a numeric field of a quality result. @default "frechet" */
  measure?: string;
  /** Keep the results of this many samples only. @default 256 */
  n?: number;
  /**
   * The variance each arm trained with (its run's `config.variance`): what an ancestral result
   * without `quality.variance` (no `--variance` override) sampled with.
   * @default none: such results are labelled by sampler alone
   */
  variances?: Record<string, string>;
  /** Each arm's T, for `"all"` (see {@linkcode stepsCount}). @default 1000 for every arm */
  timesteps?: Record<string, number>;
}

/** What {@linkcode qualitySeries} returns. */
export interface QualitySeriesResult {
  series: QualitySeries[];
  /** The measure's floor at this n (`<measure>Floor`: n real digits), if a result has it. */
  floor?: number;
}

/** Legend order: learned-range, fixed-large, fixed-small, other ancestral, DDIM, the rest. */
function _rank(s: QualitySeries): number {
  if (s.sampler === "ancestral") {
    const i = ["learned-range", "fixed-large", "fixed-small"].indexOf(s.variance ?? "");
    return i >= 0 ? i : 3;
  }
  return s.sampler === "ddim" ? 4 : 5;
}

function _num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/**
 * Groups a sweep's quality results into one series per arm, sampler and (ancestral) variance,
 * each ordered by sampling steps, keeping the newest result of each arm and evaluation (as the
 * sweep's tables do). Results of another n, bound results and results without the measure are
 * left out, so partial sweeps give partial series.
 *
 * @param results The sweep's results (`results.jsonl`), in order.
 * @param options Which measure and n; the arms' variances and T.
 * @returns The series, in legend order, and the measure's floor at this n.
 *
 * @example
 * ```ts
 * import { qualitySeries } from "./_sweep_series.ts";
 * import assert from "node:assert/strict";
 * const q = (steps: string, frechet: number, variance?: string) => ({
 *   arm: "cosine-simple",
 *   eval: `--quality --n 256 --sample-steps ${steps}${variance ? ` --variance ${variance}` : ""}`,
 *   run: "r",
 *   time: "",
 *   result: {
 *     frechet,
 *     frechetFloor: 0.93,
 *     quality: { n: 256, steps, sampler: steps.startsWith("ddim") ? "ddim" : "ancestral", variance },
 *   },
 * });
 * const { series, floor } = qualitySeries(
 *   [q("50", 4), q("10", 6), q("ddim25", 7), q("10", 5, "fixed-small")],
 *   { variances: { "cosine-simple": "fixed-large" } },
 * );
 * assert.deepEqual(series.map((s) => s.label), [
 *   "fixed-large (cosine-simple)", "fixed-small (cosine-simple)", "DDIM (cosine-simple)",
 * ]);
 * assert.deepEqual(series[0]!.points.map((p) => [p.steps, p.value]), [[10, 6], [50, 4]]);
 * assert.equal(floor, 0.93);
 * ```
 */
export function qualitySeries(
  results: readonly SweepResult[],
  options: QualitySeriesOptions = {},
): QualitySeriesResult {
  const measure = options.measure ?? "frechet";
  const n = options.n ?? 256;
  const newest = new Map<string, SweepResult>();
  for (const r of results) newest.set(`${r.arm}\n${r.eval}`, r);
  const byKey = new Map<string, QualitySeries>();
  let floor: number | undefined;
  for (const { arm, result } of newest.values()) {
    const quality = result.quality as Record<string, unknown> | undefined;
    const value = _num(result[measure]);
    if (quality?.n !== n || value === undefined || typeof quality.steps !== "string") continue;
    const steps = stepsCount(quality.steps, options.timesteps?.[arm]);
    if (steps === undefined) continue;
    const sampler = typeof quality.sampler === "string" ? quality.sampler : "ancestral";
    const variance = sampler !== "ancestral"
      ? undefined
      : typeof quality.variance === "string"
      ? quality.variance
      : options.variances?.[arm];
    const key = `${arm}\n${sampler}\n${variance ?? ""}`;
    let s = byKey.get(key);
    if (!s) {
      const what = sampler === "ancestral" ? variance ?? "ancestral" : sampler.toUpperCase();
      s = { label: `${what} (${arm})`, arm, sampler, points: [] };
      if (variance !== undefined) s.variance = variance;
      byKey.set(key, s);
    }
    const point: QualityPoint = { steps, value };
    const stderr = _num(result[`${measure}Stderr`]);
    if (stderr !== undefined) point.stderr = stderr;
    const at = s.points.findIndex((p) => p.steps === steps);
    if (at >= 0) s.points[at] = point;
    else s.points.push(point);
    floor = _num(result[`${measure}Floor`]) ?? floor;
  }
  const series = [...byKey.values()];
  for (const s of series) s.points.sort((a, b) => a.steps - b.steps);
  series.sort((a, b) => _rank(a) - _rank(b) || (a.arm < b.arm ? -1 : a.arm > b.arm ? 1 : 0));
  return floor === undefined ? { series } : { series, floor };
}

/**
 * Parses JSON lines (a `metrics.jsonl` or `results.jsonl`), skipping blank lines and a line cut
 * short by a kill.
 *
 * @param text The file's text.
 * @returns One object per whole line, in order.
 *
 * @example
 * ```ts
 * import { parseJsonLines } from "./_sweep_series.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseJsonLines('{"step":1}\n\n{"step":2}\n{"st'), [{ step: 1 }, { step: 2 }]);
 * ```
 */
export function parseJsonLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line);
      if (v !== null && typeof v === "object" && !Array.isArray(v)) out.push(v);
    } catch { /* cut short */ }
  }
  return out;
}

/** Options for {@linkcode rollingMean} and {@linkcode rollingStd}. */
export interface RollingOptions {
  /** The window: this value and the `window - 1` before it. */
  window: number;
  /**
   * Compute over the values there are while the window is not yet full (at least 2 for a
   * standard deviation) instead of giving `null`.
   * @default false
   */
  partial?: boolean;
}

function _checkWindow(window: number): void {
  if (!Number.isInteger(window) || window < 1) {
    throw new RangeError(`Cannot roll: expected a window of 1 or more values, got ${window}`);
  }
}

/**
 * The trailing rolling mean: entry i is the mean of values `i - window + 1 .. i`.
 *
 * @param values The sequence.
 * @param options The window; whether to fill the start from a partial window.
 * @returns One entry per value, `null` where the window is not full (unless `partial`).
 * @throws {RangeError} If the window is not a positive integer.
 *
 * @example
 * ```ts
 * import { rollingMean } from "./_sweep_series.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(rollingMean([1, 2, 3, 4], { window: 2 }), [null, 1.5, 2.5, 3.5]);
 * assert.deepEqual(rollingMean([1, 2, 3, 4], { window: 2, partial: true }), [1, 1.5, 2.5, 3.5]);
 * ```
 */
export function rollingMean(
  values: readonly number[],
  options: RollingOptions,
): (number | null)[] {
  const { window } = options;
  _checkWindow(window);
  const out: (number | null)[] = [];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i]!;
    if (i >= window) sum -= values[i - window]!;
    const k = Math.min(i + 1, window);
    out.push(k === window || options.partial ? sum / k : null);
  }
  return out;
}

/**
 * The trailing rolling standard deviation (sample, with k - 1 in the denominator): entry i is
 * the spread of values `i - window + 1 .. i`. Computed from the window's own mean each time
 * (no running sums), so a large offset does not cost precision.
 *
 * @param values The sequence.
 * @param options The window (2 or more); whether to fill the start from a partial window.
 * @returns One entry per value, `null` where the window is not full (unless `partial`; the
 *   first entry is always `null`: one value has no spread).
 * @throws {RangeError} If the window is not an integer of 2 or more.
 *
 * @example
 * ```ts
 * import { rollingStd } from "./_sweep_series.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(rollingStd([1, 3, 5, 5], { window: 2 }), [null, Math.SQRT2, Math.SQRT2, 0]);
 * ```
 */
export function rollingStd(
  values: readonly number[],
  options: RollingOptions,
): (number | null)[] {
  const { window } = options;
  _checkWindow(window);
  if (window < 2) {
    throw new RangeError(`Cannot take a rolling spread: expected a window of 2 or more, got 1`);
  }
  const out: (number | null)[] = [];
  for (let i = 0; i < values.length; i++) {
    const k = Math.min(i + 1, window);
    if (k < 2 || (k < window && !options.partial)) {
      out.push(null);
      continue;
    }
    let mean = 0;
    for (let j = i - k + 1; j <= i; j++) mean += values[j]!;
    mean /= k;
    let ss = 0;
    for (let j = i - k + 1; j <= i; j++) ss += (values[j]! - mean) ** 2;
    out.push(Math.sqrt(ss / (k - 1)));
  }
  return out;
}

/** What {@linkcode metricsSeries} returns: parallel arrays, one entry per training step. */
export interface MetricsSeries {
  /** The steps, ascending, each once. */
  steps: number[];
  /** The field at each step. */
  values: number[];
  /** Its trailing rolling mean (see {@linkcode rollingMean}). */
  mean: (number | null)[];
  /** Its trailing rolling standard deviation (see {@linkcode rollingStd}). */
  std: (number | null)[];
}

/** Options for {@linkcode metricsSeries}. */
export interface MetricsSeriesOptions {
  /** The field of each metrics line. @default "vlb" */
  field?: string;
  /** The rolling window, in lines. @default 100 */
  window?: number;
  /** Fill the start from a partial window (see {@linkcode RollingOptions}). @default false */
  partial?: boolean;
}

/**
 * One field of a run's metrics lines against step, with its rolling mean and standard
 * deviation. A step written twice (a resumed run) keeps its last line; lines without a finite
 * value of the field are left out.
 *
 * @param lines The run's `metrics.jsonl` lines, parsed.
 * @param options The field and the window.
 * @returns The steps, the values and their rolling statistics.
 *
 * @example
 * ```ts
 * import { metricsSeries } from "./_sweep_series.ts";
 * import assert from "node:assert/strict";
 * const s = metricsSeries(
 *   [{ step: 2, vlb: 3 }, { step: 1, vlb: 1 }, { step: 3, vlb: 5 }, { step: 2, vlb: 3 }],
 *   { window: 2 },
 * );
 * assert.deepEqual(s.steps, [1, 2, 3]);
 * assert.deepEqual(s.mean, [null, 2, 4]);
 * ```
 */
export function metricsSeries(
  lines: readonly Record<string, unknown>[],
  options: MetricsSeriesOptions = {},
): MetricsSeries {
  const field = options.field ?? "vlb";
  const window = options.window ?? 100;
  const byStep = new Map<number, number>();
  for (const line of lines) {
    const step = _num(line.step);
    const value = _num(line[field]);
    if (step === undefined) continue;
    if (value === undefined) byStep.delete(step);
    else byStep.set(step, value);
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  const values = steps.map((s) => byStep.get(s)!);
  const rolling = { window, partial: options.partial ?? false };
  return { steps, values, mean: rollingMean(values, rolling), std: rollingStd(values, rolling) };
}
