/**
 * The charts of a file that a live run had not written when its page loaded (`eval.jsonl`
 * before the first evaluation, `metrics.jsonl` before the first logged step): a note at
 * first, then the charts, grouped as the page groups them, once the first lines arrive.
 * @module
 */
import { effect } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import type { VNode } from "preact";
import { alignSteps } from "../align_steps.ts";
import { chartProps } from "../chart_props.ts";
import type { MetricTable } from "../jsonl.ts";
import type { LiveCursor } from "../live.ts";
import { liveRun } from "../live_store.ts";
import { groupColumns } from "../metric_groups.ts";
import MetricsChart from "./MetricsChart.tsx";

/** Props of {@linkcode LiveCharts}. */
export interface LiveChartsProps {
  runId: string;
  kind: "metrics" | "eval";
  cursor: LiveCursor;
  /** Shown until the first lines arrive. */
  note: string;
}

/**
 * The island; `data-live-charts` holds the kind, `data-rows` the lines received.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderToString } from "preact-render-to-string";
 * import LiveCharts from "./LiveCharts.tsx";
 * const html = renderToString(
 *   <LiveCharts runId="r1" kind="eval" cursor={{ metrics: 0, eval: 0, sample: -1 }} note="No eval.jsonl yet." />,
 * );
 * assert.match(html, /No eval.jsonl yet/);
 * ```
 */
export default function LiveCharts(props: LiveChartsProps): VNode {
  const [table, setTable] = useState<MetricTable>({ steps: [], columns: {} });
  useEffect(() => {
    const live = liveRun(props.runId, props.cursor);
    return effect(() => {
      const t = live[props.kind].value;
      if (t.steps.length > 0) setTable(alignSteps(t));
    });
  }, []);
  const groups = groupColumns(Object.keys(table.columns), props.kind, table);
  const main = groups.filter((g) => g.main), rest = groups.filter((g) => !g.main);
  return (
    <div data-live-charts={props.kind} data-rows={table.steps.length}>
      {groups.length === 0 ? <p class="note">{props.note}</p> : null}
      {main.length > 0
        ? (
          <div class="charts main">
            {main.map((g) => <MetricsChart key={g.title} {...chartProps(g, table, props.kind)} />)}
          </div>
        )
        : null}
      {rest.length > 0
        ? (
          <div class="charts small">
            {rest.map((g) => <MetricsChart key={g.title} {...chartProps(g, table, props.kind)} />)}
          </div>
        )
        : null}
    </div>
  );
}
