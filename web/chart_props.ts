/**
 * The props of one metrics chart from its group and the table: the run page's charts and the
 * charts a live run's page adds when a file's first lines arrive are drawn alike.
 * @module
 */
import type { MetricsChartProps } from "./islands/MetricsChart.tsx";
import type { MetricTable } from "./jsonl.ts";
import type { ChartGroup } from "./metric_groups.ts";
import { stderrColumns } from "./error_bands.ts";
import { getOwn, hasOwn, setOwn } from "./utils/own.ts";
import { TIME_COLUMN } from "./wall_time.ts";

/**
 * The chart of group `g` over `table`: only its columns, the main charts large, smoothed and
 * on a log axis, evaluation series joined across the steps they skip, with their standard
 * errors (drawn as bands) when the table has them; training charts carry the wall-time column
 * (for a wall-time x axis) when the table has it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chartProps } from "./chart_props.ts";
 * const table = { steps: [1, 2], columns: { loss: [2, 1], lr: [1, 1] } };
 * const p = chartProps({ title: "Loss", keys: ["loss"], main: true }, table, "metrics");
 * assert.deepEqual(p.table.columns, { loss: [2, 1] });
 * assert.equal(p.log, true);
 * assert.equal(p.smoothing, 0.6);
 * const e = chartProps({ title: "KID", keys: ["kid@a"] },
 *   { steps: [1], columns: { "kid@a": [0.1], "kidStderr@a": [0.01] } }, "eval");
 * assert.deepEqual(e.stderr, { "kid@a": "kidStderr@a" });
 * assert.deepEqual(Object.keys(e.table.columns), ["kid@a", "kidStderr@a"]);
 * ```
 */
export function chartProps(
  g: ChartGroup,
  table: MetricTable,
  kind: "metrics" | "eval",
): MetricsChartProps {
  const main = g.main ?? false;
  // Keys come from files: own properties only, set as own properties.
  const columns: Record<string, (number | null)[]> = {};
  const take = (k: string) => {
    const col = getOwn(table.columns, k);
    if (col !== undefined) setOwn(columns, k, col);
  };
  g.keys.forEach(take);
  const stderr = kind === "eval" ? stderrColumns(g.keys, table.columns) : {};
  Object.values(stderr).forEach(take);
  const time = kind === "metrics" && hasOwn(table.columns, TIME_COLUMN);
  if (time) take(TIME_COLUMN);
  return {
    title: g.title,
    keys: g.keys,
    table: { steps: table.steps, columns },
    log: main,
    smoothing: main ? 0.6 : 0,
    height: main ? 280 : 200,
    ...(main ? { main: true } : {}),
    ...(g.labels ? { labels: g.labels } : {}),
    ...(g.dashed?.length ? { dashed: g.dashed } : {}),
    ...(g.colors ? { colors: g.colors } : {}),
    // Evaluation series are sparse in the shared table: their points are joined.
    ...(kind === "eval" ? { spanGaps: true } : {}),
    ...(Object.keys(stderr).length > 0 ? { stderr } : {}),
    ...(time ? { timeKey: TIME_COLUMN } : {}),
  };
}
