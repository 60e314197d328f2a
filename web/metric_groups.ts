/**
 * Which metric columns share a chart: known keys in named groups, any other numeric key in
 * a chart of its own; evaluation series (`<metric>@<series>`) apart, floors dashed.
 * @module
 */
import { QUALITY_MEASURES } from "../lib/quality/record.ts";
import { splitColumn } from "./eval_series.ts";

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
}

/** A chart of evaluation metrics: the metrics in it, each with its floor's key when it has one. */
interface EvalGroup {
  title: string;
  metrics: { key: string; floor?: string }[];
}

const METRICS: ChartGroup[] = [
  { title: "Loss", keys: ["loss", "simple", "vlb"] },
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
 * assert.deepEqual(groupColumns(["vlb", "loss", "fid"], "metrics"), [
 *   { title: "Loss", keys: ["loss", "vlb"] },
 *   { title: "fid", keys: ["fid"] },
 * ]);
 * const [swd] = groupColumns(["swd@training", "swdFloor@training", "seconds@x"], "eval");
 * assert.deepEqual(swd!.keys, ["swd@training", "swdFloor@training"]);
 * assert.equal(swd!.labels!["swdFloor@training"], "floor (training)");
 * assert.deepEqual(swd!.dashed, ["swdFloor@training"]);
 * ```
 */
export function groupColumns(present: readonly string[], kind: "metrics" | "eval"): ChartGroup[] {
  if (kind === "eval") return _evalGroups(present);
  const have = new Set(present);
  const used = new Set<string>();
  const out: ChartGroup[] = [];
  for (const g of METRICS) {
    const keys = g.keys.filter((k) => have.has(k));
    if (keys.length === 0) continue;
    keys.forEach((k) => used.add(k));
    out.push({ title: g.title, keys });
  }
  for (const k of present) if (!used.has(k)) out.push({ title: k, keys: [k] });
  return out;
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
