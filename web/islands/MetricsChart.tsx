/**
 * A line chart of metric columns over steps (uPlot): EMA smoothing drawn over the faint raw
 * values (as TensorBoard does), a log scale (asinh when values reach 0 or below), a zoom that
 * survives smoothing, scale and data changes, with a reset button; it appends points arriving
 * from the run's live stream. A training chart can put wall time (minutes since the run's
 * first metrics line) on the x axis instead of steps; an evaluation measure with standard
 * errors gets a faint band x ± stderr around its line, with a whisker at each point.
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
import { getOwn, hasOwn, setOwn } from "../utils/own.ts";
import { bandEdges } from "../error_bands.ts";
import { wallTimeRows } from "../wall_time.ts";

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
  /** A main chart (drawn with more room). @default false */
  main?: boolean;
  /** The column of wall times (ms since the epoch): offers a wall-time x axis. @default none */
  timeKey?: string;
  /** Standard-error column by drawn key: a faint band x ± stderr. @default none */
  stderr?: Record<string, string>;
}

/**
 * What the x axis shows: training steps, or minutes since the first metrics line.
 * @example
 * ```ts
 * import type { XAxis } from "./MetricsChart.tsx";
 * const x: XAxis = "time";
 * ```
 */
export type XAxis = "step" | "time";

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

/** Whether every value of the columns is above 0 (a plain log scale can draw them). */
function allPositive(table: MetricTable, keys: string[]): boolean {
  return keys.every((k) => (table.columns[k] ?? []).every((v) => v === null || v > 0));
}

/**
 * The plot's data: the x values (steps, or minutes when `x` is given with its rows), then each
 * column raw (drawn faint, under), then each smoothed, then each band's lower and upper edge.
 * On a plain log scale values at or below 0 are gaps; an asinh scale keeps them.
 */
function buildData(
  table: MetricTable,
  keys: string[],
  weight: number,
  scale: "linear" | "log" | "asinh",
  x: { rows: number[]; x: number[] } | null,
  bands: [string, string][],
): uPlot.AlignedData {
  const pick = (c: (number | null)[]) => (x === null ? c : x.rows.map((i) => c[i] ?? null));
  const cut = (c: (number | null)[]) =>
    pick(scale === "log" ? c.map((v) => (v !== null && v > 0 ? v : null)) : c);
  const col = (k: string) => getOwn(table.columns, k) ?? [];
  const raw = keys.map((k) => cut(col(k)));
  const smoothed = keys.map((k) => cut(smooth(col(k), weight)));
  const edges = bands.flatMap(([k, err]) => bandEdges(col(k), col(err)).map(cut));
  return [
    x === null ? table.steps : x.x,
    ...raw,
    ...smoothed,
    ...edges,
  ] as unknown as uPlot.AlignedData;
}

/** The theme's colour of a CSS variable (for the canvas), or a fallback outside a browser. */
function cssColor(name: string, fallback: string): string {
  if (typeof document === "undefined") return fallback;
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** `a` with the rows of `b` from `from` on, in step order, one row per step. */
function append(a: MetricTable, b: MetricTable, from: number): MetricTable {
  const n = a.steps.length;
  const add = b.steps.length - from;
  if (add <= 0) return a;
  const columns: Record<string, (number | null)[]> = {};
  for (const k of new Set([...Object.keys(a.columns), ...Object.keys(b.columns)])) {
    // Keys from files (`__proto__`, `toString`): own properties only.
    const left = getOwn(a.columns, k) ?? new Array<null>(n).fill(null);
    const right = (getOwn(b.columns, k) ?? new Array<null>(b.steps.length).fill(null)).slice(from);
    setOwn(columns, k, left.concat(right));
  }
  return alignSteps({ steps: a.steps.concat(b.steps.slice(from)), columns });
}

/**
 * The chart island. Server-side it renders the frame (title, controls, an empty plot box);
 * in the browser uPlot draws into the box. `data-points` on the box is the number of points,
 * `data-scale` the y scale (`linear`, `log`, or `asinh` for a log view of values down to
 * and below 0), `data-x-axis` what the x axis shows (`step` or `time`) and `data-x-last` its
 * last x value, `data-bands` the number of error bands (`data-bands-drawn` once drawn).
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
  const keys = props.keys.filter((k) => hasOwn(table.columns, k));
  const [weight, setWeight] = useState(props.smoothing ?? 0);
  const [log, setLog] = useState(props.log ?? false);
  const [zoomed, setZoomed] = useState(false);
  const [xAxis, setXAxis] = useState<XAxis>("step");
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  /** The x range zoomed into, kept across smoothing, scale and data changes. */
  const zoom = useRef<{ min: number; max: number } | null>(null);
  const height = props.height ?? 260;
  // A log axis draws only values above 0: with 0 or below (L_vlb can go negative) it is asinh.
  const scale = !log ? "linear" : allPositive(table, keys) ? "log" : "asinh";
  const times = props.timeKey === undefined ? undefined : getOwn(table.columns, props.timeKey);
  const x = xAxis === "time" && times !== undefined ? wallTimeRows(times) : null;
  // Bands of the drawn keys whose standard errors are in the table.
  const bands: [string, string][] = [];
  for (const k of keys) {
    const err = props.stderr === undefined ? undefined : getOwn(props.stderr, k);
    if (err !== undefined && hasOwn(table.columns, err)) bands.push([k, err]);
  }
  const data = () => buildData(table, keys, weight, scale, x, bands);
  const xs = x === null ? table.steps : x.x;
  const lastX = xs.length === 0 ? null : xs[xs.length - 1]!;

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

  // Without a stream of its own, the chart follows the table it is given.
  useEffect(() => {
    if (!props.live) setTable(props.table);
  }, [props.table]);

  /** Puts the data in, then the zoom back (uPlot resets the scales on new data). */
  const update = (u: uPlot) => {
    const kept = zoom.current;
    u.setData(data());
    if (kept) u.setScale("x", kept);
  };

  // (Re)create the plot when the scale or the series change.
  useEffect(() => {
    const el = box.current;
    if (!el || keys.length === 0) return;
    const color = (k: string, i: number) =>
      COLORS[((props.colors && getOwn(props.colors, k)) ?? i) % COLORS.length]!;
    const label = (k: string) => (props.labels && getOwn(props.labels, k)) ?? k;
    const fg = cssColor("--muted", "#6b7280"), grid = cssColor("--line", "#e5e7eb");
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
    const line = (k: string, i: number, raw: boolean): uPlot.Series => ({
      label: label(k) + (raw ? " (raw)" : ""),
      stroke: raw ? color(k, i) + "38" : color(k, i),
      width: raw ? 1 : 1.5,
      spanGaps: props.spanGaps ?? false,
      ...(props.dashed?.includes(k) ? { dash: [6, 4] } : {}),
    });
    // A band's edges: invisible lines, the fill between them faint.
    const edge = (k: string, side: string): uPlot.Series => ({
      label: `${label(k)} ${side} stderr`,
      stroke: "transparent",
      width: 0,
      points: { show: false },
      spanGaps: props.spanGaps ?? false,
    });
    const first = 1 + 2 * keys.length;
    const minutes = xAxis === "time" && times !== undefined;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      scales: {
        x: { time: false },
        y: scale === "log" ? { distr: 3 } : scale === "asinh" ? { distr: 4, asinh: 1 } : {},
      },
      axes: [
        { ...axis, label: minutes ? "wall time (minutes since the first line)" : "training step" },
        { ...axis, size: 60, values: (_u, vals) => vals.map((v) => formatTick(v)) },
      ],
      series: [
        minutes
          ? { label: "minutes", value: (_u, v) => (v == null ? "--" : `${formatTick(v)} min`) }
          : { label: "step" },
        ...keys.map((k, i) => line(k, i, true)),
        ...keys.map((k, i) => line(k, i, false)),
        ...bands.flatMap(([k]) => [edge(k, "−"), edge(k, "+")]),
      ],
      bands: bands.map(([k], j) => ({
        series: [first + 2 * j + 1, first + 2 * j] as [number, number],
        fill: color(k, keys.indexOf(k)) + "26",
      })),
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      hooks: {
        // Whiskers x ± stderr at each measured point: a band alone is not seen at a lone point.
        draw: [(u) => {
          if (bands.length === 0) return;
          const ctx = u.ctx, { left, top, width, height: h } = u.bbox;
          ctx.save();
          ctx.beginPath();
          ctx.rect(left, top, width, h);
          ctx.clip();
          ctx.lineWidth = 1.5 * devicePixelRatio;
          bands.forEach(([k], j) => {
            const i = keys.indexOf(k);
            if (!u.series[1 + keys.length + i]?.show) return;
            const lo = u.data[first + 2 * j]!, hi = u.data[first + 2 * j + 1]!;
            ctx.strokeStyle = color(k, i) + "80";
            ctx.beginPath();
            u.data[0].forEach((xv, r) => {
              const a = lo[r], b = hi[r];
              if (a == null || b == null) return;
              const px = u.valToPos(xv, "x", true);
              const cap = 3 * devicePixelRatio;
              const y1 = u.valToPos(a, "y", true), y2 = u.valToPos(b, "y", true);
              ctx.moveTo(px, y1);
              ctx.lineTo(px, y2);
              ctx.moveTo(px - cap, y1);
              ctx.lineTo(px + cap, y1);
              ctx.moveTo(px - cap, y2);
              ctx.lineTo(px + cap, y2);
            });
            ctx.stroke();
          });
          ctx.restore();
        }],
        setScale: [(u, key) => {
          if (key !== "x") return;
          const steps = u.data[0];
          const { min, max } = u.scales.x ?? {};
          if (steps.length === 0 || min == null || max == null) return;
          const inside = min > steps[0]! || max < steps[steps.length - 1]!;
          zoom.current = inside ? { min, max } : null;
          setZoomed(inside);
        }],
      },
    };
    const kept = zoom.current;
    const u = new uPlot(opts, data(), el);
    // The faint raw lines and the band edges need no legend rows of their own.
    u.root.querySelectorAll<HTMLElement>(".u-legend .u-series").forEach((row, i) => {
      if ((i >= 1 && i <= keys.length) || i >= first) row.style.display = "none";
    });
    el.dataset.bandsDrawn = String(opts.bands?.length ?? 0);
    el.dataset.seriesDrawn = String(u.series.length);
    if (kept) u.setScale("x", kept);
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
  }, [scale, keys.join("\n"), xAxis, bands.map((b) => b[1]).join("\n")]);

  // New data or smoothing only: keep the plot and its zoom, replace its data.
  useEffect(() => {
    if (plot.current) update(plot.current);
  }, [table, weight]);

  const resetZoom = () => {
    zoom.current = null;
    setZoomed(false);
    const u = plot.current;
    if (u) u.setData(data());
  };

  /** Steps or wall time: the zoom (a range of the other axis) starts over. */
  const switchX = (to: XAxis) => {
    zoom.current = null;
    setZoomed(false);
    setXAxis(to);
  };

  return (
    <section class={props.main ? "chart main" : "chart"}>
      <div class="chart-head">
        <h3>{props.title}</h3>
        <button
          type="button"
          class="reset-zoom"
          hidden={!zoomed}
          onClick={resetZoom}
          title="show all steps (or double-click the chart)"
        >
          reset zoom
        </button>
        <label class="control">
          smoothing
          <input
            type="range"
            min="0"
            max="0.99"
            step="0.01"
            value={weight}
            aria-label={`smoothing of ${props.title}`}
            onInput={(e) => setWeight(Number((e.target as HTMLInputElement).value))}
          />
          <span class="num">{weight.toFixed(2)}</span>
        </label>
        {times !== undefined
          ? (
            <label class="control">
              x
              <select
                aria-label={`x axis of ${props.title}`}
                value={xAxis}
                onChange={(e) => switchX((e.target as HTMLSelectElement).value as XAxis)}
              >
                <option value="step">step</option>
                <option value="time">wall time</option>
              </select>
            </label>
          )
          : null}
        <label
          class="control"
          title={scale === "asinh" ? "asinh: log-like, and keeps values at or below 0" : undefined}
        >
          <input
            type="checkbox"
            checked={log}
            onChange={(e) => setLog((e.target as HTMLInputElement).checked)}
          />
          log y{scale === "asinh" ? " (asinh)" : ""}
        </label>
      </div>
      {keys.length === 0 ? <p class="note">No data for {props.keys.join(", ")} yet.</p> : (
        <div
          class="plot"
          ref={box}
          style={{ minHeight: `${height + 40}px` }}
          data-chart={props.title}
          data-points={table.steps.length}
          data-scale={scale}
          data-x-axis={x === null ? "step" : "time"}
          data-x-last={lastX === null ? "" : String(Math.round(lastX * 1000) / 1000)}
          data-bands={bands.length}
          data-series={keys.map((k) => (props.labels && getOwn(props.labels, k)) ?? k).join("\n")}
        />
      )}
      {keys.length > 0
        ? (
          <p class="chart-hint sub">
            Drag across to zoom in; double-click to zoom out. Faint lines: the values before
            smoothing.
          </p>
        )
        : null}
    </section>
  );
}
