/**
 * A line chart of metric columns over steps (uPlot), with EMA smoothing and a log scale,
 * that appends points arriving from the run's live stream.
 * @module
 */
import { effect } from "@preact/signals";
import { useEffect, useRef, useState } from "preact/hooks";
import type { VNode } from "preact";
import uPlot from "uplot";
import { alignSteps } from "../align_steps.ts";
import type { MetricTable } from "../jsonl.ts";
import type { LiveCursor } from "../live.ts";
import { formatTick } from "../format.ts";
import { liveRun } from "../live_store.ts";

/** Props of {@linkcode MetricsChart}; all serializable. */
export interface MetricsChartProps {
  /** Shown above the chart. */
  title: string;
  /** Initial data (already downsampled). */
  table: MetricTable;
  /** Columns to draw, in legend order; missing ones are skipped. */
  keys: string[];
  /** Legend labels per key (defaults to the key). */
  labels?: Record<string, string>;
  /** Follow a run's live stream, appending new lines of its metrics or eval file. */
  live?: { runId: string; kind: "metrics" | "eval"; cursor: LiveCursor };
  /** Start with a log y scale. @default false */
  log?: boolean;
  /** Start with this EMA smoothing weight in [0, 0.99]. @default 0 */
  smoothing?: number;
  /** Plot height in px. @default 260 */
  height?: number;
  /** Connect points across gaps (for overlaid runs with different steps). @default false */
  spanGaps?: boolean;
  /** Keys drawn as dashed reference lines (floors). @default none */
  dashed?: string[];
  /** Colour index by key (a measure and its floor share one). @default the key's position */
  colors?: Record<string, number>;
}

const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04"];

/**
 * Debiased exponential moving average (as TensorBoard does it), skipping nulls.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { smooth } from "./MetricsChart.tsx";
 * assert.deepEqual(smooth([1, null, 3], 0), [1, null, 3]);
 * const s = smooth([0, 10], 0.5);
 * assert.equal(s[0], 0);
 * assert.ok(Math.abs(s[1]! - 20 / 3) < 1e-12);
 * ```
 */
export function smooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values.slice();
  let acc = 0, debias = 0;
  return values.map((v) => {
    if (v === null) return null;
    acc = weight * acc + (1 - weight) * v;
    debias = weight * debias + (1 - weight);
    return acc / debias;
  });
}

function buildData(
  table: MetricTable,
  keys: string[],
  weight: number,
  log: boolean,
): uPlot.AlignedData {
  const cols = keys.map((k) => {
    const s = smooth(table.columns[k] ?? [], weight);
    return log ? s.map((v) => (v !== null && v > 0 ? v : null)) : s;
  });
  return [table.steps, ...cols] as unknown as uPlot.AlignedData;
}

/** `a` with the rows of `b` from `from` on, in step order, one row per step. */
function append(a: MetricTable, b: MetricTable, from: number): MetricTable {
  const n = a.steps.length;
  const add = b.steps.length - from;
  if (add <= 0) return a;
  const columns: Record<string, (number | null)[]> = {};
  for (const k of new Set([...Object.keys(a.columns), ...Object.keys(b.columns)])) {
    const left = a.columns[k] ?? new Array<null>(n).fill(null);
    const right = (b.columns[k] ?? new Array<null>(b.steps.length).fill(null)).slice(from);
    columns[k] = left.concat(right);
  }
  return alignSteps({ steps: a.steps.concat(b.steps.slice(from)), columns });
}

/**
 * The chart island. Server-side it renders the frame (title, controls, an empty plot box);
 * in the browser uPlot draws into the box. `data-points` on the box is the number of points.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderToString } from "preact-render-to-string";
 * import MetricsChart from "./MetricsChart.tsx";
 * const html = renderToString(
 *   <MetricsChart title="Loss" keys={["loss"]} table={{ steps: [1, 2], columns: { loss: [3, 2] } }} />,
 * );
 * assert.match(html, /data-points="2"/);
 * ```
 */
export default function MetricsChart(props: MetricsChartProps): VNode {
  const [table, setTable] = useState(props.table);
  const keys = props.keys.filter((k) => k in table.columns);
  const [weight, setWeight] = useState(props.smoothing ?? 0);
  const [log, setLog] = useState(props.log ?? false);
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const height = props.height ?? 260;

  // Live lines: append those not yet seen.
  useEffect(() => {
    if (!props.live) return;
    const live = liveRun(props.live.runId, props.live.cursor);
    const kind = props.live.kind;
    let seen = 0;
    return effect(() => {
      const t = live[kind].value;
      if (t.steps.length > seen) {
        const from = seen;
        seen = t.steps.length;
        setTable((old) => append(old, t, from));
      }
    });
  }, []);

  // (Re)create the plot when the look changes.
  useEffect(() => {
    const el = box.current;
    if (!el || keys.length === 0) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
      axes: [
        { label: "step" },
        { size: 56, values: (_u, vals) => vals.map((v) => formatTick(v)) },
      ],
      series: [
        { label: "step" },
        ...keys.map((k, i) => ({
          label: props.labels?.[k] ?? k,
          stroke: COLORS[(props.colors?.[k] ?? i) % COLORS.length],
          width: 1.5,
          spanGaps: props.spanGaps ?? false,
          ...(props.dashed?.includes(k) ? { dash: [6, 4] } : {}),
        })),
      ],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
    };
    const u = new uPlot(opts, buildData(table, keys, weight, log), el);
    plot.current = u;
    const ro = new ResizeObserver(() =>
      u.setSize({ width: Math.max(200, el.clientWidth), height })
    );
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [weight, log, keys.join(",")]);

  // New data only: keep the plot, replace its data.
  useEffect(() => {
    plot.current?.setData(buildData(table, keys, weight, log));
  }, [table]);

  return (
    <section class="chart">
      <div class="chart-head">
        <h3>{props.title}</h3>
        <label class="control">
          smoothing
          <input
            type="range"
            min="0"
            max="0.99"
            step="0.01"
            value={weight}
            onInput={(e) => setWeight(Number((e.target as HTMLInputElement).value))}
          />
          <span class="num">{weight.toFixed(2)}</span>
        </label>
        <label class="control">
          <input
            type="checkbox"
            checked={log}
            onChange={(e) => setLog((e.target as HTMLInputElement).checked)}
          />
          log y
        </label>
      </div>
      {keys.length === 0 ? <p class="note">No data for {props.keys.join(", ")} yet.</p> : (
        <div
          class="plot"
          ref={box}
          style={{ minHeight: `${height + 40}px` }}
          data-chart={props.title}
          data-points={table.steps.length}
          data-series={keys.map((k) => props.labels?.[k] ?? k).join("\n")}
        />
      )}
    </section>
  );
}
