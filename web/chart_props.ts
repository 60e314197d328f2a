/**
 * The props of one metrics chart from its group and the table: the run page's charts and the
 * charts a live run's page adds when a file's first lines arrive are drawn alike.
 * @module
 */
import type { MetricsChartProps } from "./islands/MetricsChart.tsx";
import type { MetricTable } from "./jsonl.ts";
import type { ChartGroup } from "./metric_groups.ts";

/**
 * The chart of group `g` over `table`: only its columns, the main charts large, smoothed and
 * on a log axis, evaluation series joined across the steps they skip.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chartProps } from "./chart_props.ts";
 * const table = { steps: [1, 2], columns: { loss: [2, 1], lr: [1, 1] } };
 * const p = chartProps({ title: "Loss", keys: ["loss"], main: true }, table, "metrics");
 * assert.deepEqual(p.table.columns, { loss: [2, 1] });
 * assert.equal(p.log, true);
 * assert.equal(p.smoothing, 0.6);
 * ```
 */
export function chartProps(
  g: ChartGroup,
  table: MetricTable,
  kind: "metrics" | "eval",
): MetricsChartProps {
  const main = g.main ?? false;
  return {
    title: g.title,
    keys: g.keys,
    table: {
      steps: table.steps,
      columns: Object.fromEntries(
        g.keys.filter((k) => k in table.columns).map((k) => [k, table.columns[k]!]),
      ),
    },
    log: main,
    smoothing: main ? 0.6 : 0,
    height: main ? 280 : 200,
    ...(main ? { main: true } : {}),
    ...(g.labels ? { labels: g.labels } : {}),
    ...(g.dashed?.length ? { dashed: g.dashed } : {}),
    ...(g.colors ? { colors: g.colors } : {}),
    // Evaluation series are sparse in the shared table: their points are joined.
    ...(kind === "eval" ? { spanGaps: true } : {}),
  };
}
