/**
 * Which metric columns share a chart: known keys in named groups, any other numeric key in
 * a chart of its own; evaluation series (`<metric>@<series>`) apart, floors dashed.
 * @module
 */
import { QUALITY_MEASURES } from "../lib/quality/record.ts";
import { splitColumn } from "./eval_series.ts";
import type { MetricTable } from "./jsonl.ts";
import { TIME_COLUMN } from "./wall_time.ts";

/** One chart: a title and the columns drawn in it. */
export interface ChartGroup {
  title: string;
  keys: string[];
  /** Legend labels by key. @default the key */
  labels?: Record<string, string>;
  /** Keys drawn as dashed reference lines (the floors). @default none */
  dashed?: string[];
  /** Colour index by key: a measure and its floor share one. @default the key's position */
  colors?: Record<string, number>;
  /** A main chart: drawn large, smoothed, on a log axis at first. @default false */
  main?: boolean;
}

/** A chart of evaluation metrics: the metrics in it, each with its floor's key when it has one. */
interface EvalGroup {
  title: string;
  metrics: { key: string; floor?: string }[];
}

const METRICS: ChartGroup[] = [
  {
    title: "Loss",
    keys: ["loss", "simple"],
    labels: { loss: "loss (what is minimised)", simple: "L_simple (noise MSE)" },
    main: true,
  },
  {
    title: "Variational bound term L_vlb",
    keys: ["vlb"],
    labels: { vlb: "L_vlb" },
    main: true,
  },
  {
    title: "Spread of the loss within a logged interval (standard deviation)",
    keys: ["lossStd"],
    labels: { lossStd: "std of the per-step loss" },
  },
  { title: "Gradient norm", keys: ["gradNorm"] },
  { title: "Learning rate", keys: ["lr"] },
  { title: "Step time (ms)", keys: ["stepMs", "dataWaitMs"] },
  { title: "Throughput (items/s)", keys: ["itemsPerSec"] },
];

const EVAL: EvalGroup[] = [
  { title: "Sliced Wasserstein distance", metrics: [{ key: "swd", floor: "swdFloor" }] },
  {
    title: "Bits per dimension",
    metrics: ["bpd", "bpdUnclipped", "bpdMc", "priorBpd", "decoderBpd", "decoderBpdUnclipped"]
      .map((key) => ({ key })),
  },
  { title: "L_simple on test digits", metrics: [{ key: "simple" }] },
  ...QUALITY_MEASURES.map((m) => ({ title: m.title, metrics: [{ key: m.key, floor: m.floor }] })),
  {
    title: "Samples closer to a training digit than 99% of test digits",
    metrics: [{ key: "memorised" }],
  },
];

/**
 * Groups the columns present in a file into charts, known groups first. Evaluation columns are
 * `<metric>@<series>` (`eval_series.ts`): a chart holds one measure (or a known family) for
 * every series, each series in its own colour with its floor dashed and labelled; standard
 * errors are not charts of their own.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { groupColumns } from "./metric_groups.ts";
 * assert.deepEqual(groupColumns(["vlb", "loss", "fid"], "metrics").map((g) => g.keys), [
 *   ["loss"],
 *   ["vlb"],
 *   ["fid"],
 * ]);
 * // An L_simple run: its loss is L_simple and its L_vlb is 0; one line, no empty chart.
 * const table = { steps: [1, 2], columns: { loss: [1, 0.5], simple: [1, 0.5], vlb: [0, 0] } };
 * const [loss, ...rest] = groupColumns(["loss", "simple", "vlb"], "metrics", table);
 * assert.deepEqual(loss!.keys, ["simple"]);
 * assert.equal(loss!.labels!.simple, "loss = L_simple (noise MSE)");
 * assert.deepEqual(rest, []);
 * const [swd] = groupColumns(["swd@training", "swdFloor@training", "seconds@x"], "eval");
 * assert.deepEqual(swd!.keys, ["swd@training", "swdFloor@training"]);
 * assert.equal(swd!.labels!["swdFloor@training"], "floor (training)");
 * assert.deepEqual(swd!.dashed, ["swdFloor@training"]);
 * ```
 */
export function groupColumns(
  present: readonly string[],
  kind: "metrics" | "eval",
  table?: MetricTable,
): ChartGroup[] {
  if (kind === "eval") return _evalGroups(present);
  const have = new Set(present);
  // The wall time is an x axis, not a chart.
  const used = new Set<string>([TIME_COLUMN]);
  // With the data at hand: a column with no value but 0 is not drawn (an L_simple run's
  // L_vlb), and a loss equal to L_simple throughout is drawn once.
  const empty = (k: string) => table !== undefined && _allZero(table.columns[k]);
  const sameLoss = table !== undefined && have.has("simple") &&
    _same(table.columns.loss, table.columns.simple);
  const out: ChartGroup[] = [];
  for (const g of METRICS) {
    g.keys.forEach((k) => used.add(k));
    const keys = g.keys.filter((k) => have.has(k) && !empty(k) && !(sameLoss && k === "loss"));
    if (keys.length === 0) continue;
    const labels = { ...g.labels };
    if (sameLoss && labels.simple) labels.simple = `loss = ${labels.simple}`;
    out.push({
      title: g.title,
      keys,
      ...(g.labels ? { labels } : {}),
      ...(g.main ? { main: true } : {}),
    });
  }
  for (const k of present) if (!used.has(k) && !empty(k)) out.push({ title: k, keys: [k] });
  return out;
}

/** True when a column holds no value other than 0 (or nothing). */
function _allZero(col: readonly (number | null)[] | undefined): boolean {
  return col === undefined || col.every((v) => v === null || v === 0);
}

/** True when two columns are equal at every step where either has a value (to 1e-6). */
function _same(
  a: readonly (number | null)[] | undefined,
  b: readonly (number | null)[] | undefined,
): boolean {
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  return a.every((v, i) => {
    const w = b[i];
    if (v === null || w === null || w === undefined) return v === w;
    return Math.abs(v - w) <= 1e-6 * Math.max(1, Math.abs(v));
  });
}

function _evalGroups(present: readonly string[]): ChartGroup[] {
  // Columns by metric, series in the order they first appear.
  const byMetric = new Map<string, Map<string, string>>();
  for (const column of present) {
    const { metric, series } = splitColumn(column);
    if (metric.endsWith("Stderr") || metric === "seconds" || metric.endsWith("Seconds")) continue;
    let m = byMetric.get(metric);
    if (m === undefined) byMetric.set(metric, m = new Map());
    m.set(series ?? "", column);
  }
  const groups: EvalGroup[] = [...EVAL];
  const known = new Set(EVAL.flatMap((g) => g.metrics.flatMap((m) => [m.key, m.floor ?? ""])));
  for (const metric of byMetric.keys()) {
    if (!known.has(metric)) groups.push({ title: metric, metrics: [{ key: metric }] });
  }
  const out: ChartGroup[] = [];
  for (const g of groups) {
    const chart: ChartGroup = { title: g.title, keys: [], labels: {}, dashed: [], colors: {} };
    const many = g.metrics.filter((m) => byMetric.has(m.key)).length > 1;
    let color = 0;
    for (const m of g.metrics) {
      const measured = byMetric.get(m.key);
      const floors = m.floor === undefined ? undefined : byMetric.get(m.floor);
      const series = new Set([...(measured?.keys() ?? []), ...(floors?.keys() ?? [])]);
      for (const s of series) {
        const name = s;
        const key = measured?.get(s);
        const floor = floors?.get(s);
        if (key !== undefined) {
          chart.keys.push(key);
          chart.labels![key] = many ? `${m.key}${name ? ` · ${name}` : ""}` : name || m.key;
          chart.colors![key] = color;
        }
        if (floor !== undefined) {
          chart.keys.push(floor);
          chart.labels![floor] = `floor${name ? ` (${name})` : ""}`;
          chart.dashed!.push(floor);
          chart.colors![floor] = color;
        }
        color++;
      }
    }
    if (chart.keys.length > 0) out.push(chart);
  }
  return out;
}
