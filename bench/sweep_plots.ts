/**
 * The README's plots of Improved DDPM's claims on MNIST, from the sweep
 * `sweeps/improved_ddpm_mnist.json` (`deno task sweep`), drawn with uPlot in headless Chromium:
 *
 * - `improved_ddpm_steps.png`: quality against sampling steps (Improved DDPM's figure 8 on
 *   digits): the Fréchet distance and KID of 256 sampled digits against the number of sampling
 *   steps (log axis; "all" is T = 1000), a line per arm, sampler and variance, with the floor
 *   (256 real digits) dashed;
 * - `improved_ddpm_loss_noise.png`: the noise of the objective during training (Improved DDPM's
 *   figure 2), from each arm's `metrics.jsonl` (one line per step).
 *
 * Whatever the sweep has so far is drawn: a missing result is a missing point, a missing arm a
 * missing line.
 *
 * @example
 * ```sh
 * deno run -A bench/sweep_plots.ts                      # runs/sweeps/improved-ddpm-mnist -> docs/
 * deno run -A bench/sweep_plots.ts --sweep runs/sweeps/improved-ddpm-mnist --out docs
 * deno run -A bench/sweep_plots.ts --sweep docs/sweeps/improved-ddpm-mnist --only steps
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import type uPlotType from "uplot";
import { armState, readSweepResults, SWEEP_RESULTS_FILE } from "../tasks/sweep.ts";
import { parseSweepPlan } from "../tasks/_sweep_plan.ts";
import { readRunRecord } from "../lib/run/record.ts";
import { runPaths } from "../lib/run/layout.ts";
import { bounded, launchChromium } from "../tests/_browser.ts";
import {
  type MetricsSeries,
  metricsSeries,
  parseJsonLines,
  type QualitySeries,
  qualitySeries,
} from "./_sweep_series.ts";

/** One line of a chart: values aligned with the chart's x. */
interface LineSpec {
  label: string;
  color: string;
  values: (number | null)[];
  /** Standard errors, drawn as whiskers. */
  stderr?: (number | null)[];
  width?: number;
  dash?: number[];
  points?: boolean;
  /** Left out of the legend. @default false */
  unlisted?: boolean;
}

/** One chart, JSON that the page turns into a uPlot. */
interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  xLog: boolean;
  yLog: boolean;
  /** Ticks of the x axis and their labels (default: uPlot's). */
  xTicks?: number[];
  xTickLabels?: string[];
  x: number[];
  lines: LineSpec[];
  width: number;
  height: number;
}

const WIDTH = 900;

/** Colours by arm (the training plot) and by series (the steps plot), colour-blind safe. */
const ARM_COLORS: Record<string, string> = {
  "cosine-vlb-uniform": "#d55e00",
  "cosine-vlb-importance": "#0072b2",
  "cosine-hybrid": "#009e73",
  "linear-hybrid": "#888888",
  "cosine-simple": "#cc79a7",
};
const OTHER_COLORS = ["#e69f00", "#56b4e9", "#000000", "#f0e442"];

function _seriesColor(s: QualitySeries, i: number): string {
  if (s.sampler === "ancestral") {
    const byVariance: Record<string, string> = {
      "learned-range": "#009e73",
      "fixed-large": "#0072b2",
      "fixed-small": "#d55e00",
    };
    if (s.variance && byVariance[s.variance]) return byVariance[s.variance]!;
  }
  if (s.sampler === "ddim") return s.arm === "cosine-simple" ? "#cc79a7" : "#e69f00";
  return OTHER_COLORS[i % OTHER_COLORS.length]!;
}

/** The arms of the sweep folder, in the plan's order where the plan is at hand. */
async function _arms(sweep: string, planPath: string): Promise<string[]> {
  // The arms: the plan's, in its order; without a plan, the names of the runs in the folder
  // (every arm's run lives in the sweep's folder, named after its arm).
  try {
    return parseSweepPlan(await Deno.readTextFile(planPath)).arms.map((a) => a.name);
  } catch { /* no plan */ }
  const found = new Set<string>();
  try {
    for await (const e of Deno.readDir(sweep)) {
      if (!e.isDirectory) continue;
      const name = (await readRunRecord(join(sweep, e.name)).catch(() => null))?.name;
      if (typeof name === "string") found.add(name);
    }
  } catch { /* no sweep yet */ }
  return [...found].sort();
}

interface ArmRun {
  arm: string;
  dir: string;
  config: Record<string, unknown>;
}

async function _armRuns(sweep: string, arms: string[]): Promise<ArmRun[]> {
  const out: ArmRun[] = [];
  for (const arm of arms) {
    const state = await armState(sweep, arm);
    if (!state.run) continue;
    const dir = join(state.dir, state.run);
    const record = await readRunRecord(dir);
    out.push({ arm, dir, config: (record.config ?? {}) as Record<string, unknown> });
  }
  return out;
}

/** The steps plot: Fréchet distance and KID x 1000 against sampling steps, n = 256. */
function _stepsCharts(
  results: Awaited<ReturnType<typeof readSweepResults>>,
  runs: ArmRun[],
): ChartSpec[] {
  const variances: Record<string, string> = {};
  const timesteps: Record<string, number> = {};
  for (const r of runs) {
    if (typeof r.config.variance === "string") variances[r.arm] = r.config.variance;
    if (typeof r.config.timesteps === "number") timesteps[r.arm] = r.config.timesteps;
  }
  const measures = [
    { measure: "frechet", title: "Fréchet distance (classifier features)", scale: 1 },
    { measure: "kid", title: "KID x 1000 (whiskers: ± standard error)", scale: 1000 },
  ];
  const T = Math.max(1000, ...Object.values(timesteps));
  const ticks = [10, 25, 50, 100, 250, T];
  return measures.map(({ measure, title, scale }) => {
    const { series, floor } = qualitySeries(results, { measure, n: 256, variances, timesteps });
    const x = [...new Set([...ticks, ...series.flatMap((s) => s.points.map((p) => p.steps))])]
      .sort((a, b) => a - b);
    const at = (s: QualitySeries, f: (p: QualitySeries["points"][number]) => number | undefined) =>
      x.map((steps) => {
        const v = f(s.points.find((p) => p.steps === steps) ?? { steps, value: NaN });
        return v === undefined || !Number.isFinite(v) ? null : v * scale;
      });
    const lines: LineSpec[] = series.map((s, i) => ({
      label: s.label,
      color: _seriesColor(s, i),
      values: at(s, (p) => p.value),
      ...(measure === "kid" ? { stderr: at(s, (p) => p.stderr) } : {}),
      width: 2.5,
      dash: s.sampler === "ancestral" ? undefined : [8, 4],
      points: true,
    }));
    if (floor !== undefined) {
      lines.push({
        label: "floor (256 real digits)",
        color: "#444444",
        values: x.map(() => floor * scale),
        width: 1.5,
        dash: [3, 4],
      });
    }
    return {
      title: `${title}, 256 digits, against sampling steps`,
      xLabel: "sampling steps (log; ancestral: respaced; DDIM: eta 0)",
      yLabel: measure === "kid" ? "KID x 1000" : "Fréchet distance",
      xLog: true,
      yLog: false,
      xTicks: ticks,
      xTickLabels: ticks.map((t) => (t === T ? `${t} (all)` : String(t))),
      x,
      lines,
      width: WIDTH,
      height: 340,
    };
  });
}

/**
 * The training plot. What is drawn, per arm: the one-sample estimate of the full bound L_vlb
 * (bits/dim) that each training step computed on its batch: `vlb` (the mean of T L_t over the
 * batch's uniformly drawn t) for L_hybrid; `loss` for L_vlb, which with importance sampling is
 * the importance-weighted estimate its gradient follows (its `vlb` is unweighted and so biased
 * towards the t it draws more often; with uniform t the two are equal). L_simple arms are left
 * out (their `vlb` is 0). Top: that estimate at every step (faint) and its 100-step rolling
 * mean (the learning curve; a single rare spike, T L_t at a small t, lifts it for 100 steps);
 * bottom: its 100-step rolling standard deviation, the noise of the objective from one step to
 * the next, which importance sampling is meant to cut (both on log axes). The importance
 * sampler draws uniformly until every t has 10 losses, so its line leaves the uniform one only
 * after a few hundred steps.
 */
async function _lossCharts(runs: ArmRun[]): Promise<ChartSpec[]> {
  const WINDOW = 100;
  const arms: { arm: string; color: string; s: MetricsSeries }[] = [];
  for (const [i, r] of runs.entries()) {
    if (r.config.loss === "simple") continue;
    let text = "";
    try {
      text = await Deno.readTextFile(runPaths(r.dir).metrics);
    } catch { /* not started */ }
    const field = r.config.loss === "vlb" ? "loss" : "vlb";
    const s = metricsSeries(parseJsonLines(text), { field, window: WINDOW });
    if (!s.steps.length) continue;
    const sampler = r.config.tSampler === "importance" ? "importance t" : "uniform t";
    const arm = `${r.arm} (L_${r.config.loss ?? "hybrid"}, ${sampler})`;
    arms.push({ arm, color: ARM_COLORS[r.arm] ?? OTHER_COLORS[i % OTHER_COLORS.length]!, s });
  }
  const x = [...new Set(arms.flatMap((a) => a.s.steps))].sort((a, b) => a - b);
  const align = (a: (typeof arms)[number], ys: (number | null)[]) => {
    const byStep = new Map(a.s.steps.map((s, i) => [s, ys[i] ?? null]));
    return x.map((s) => {
      const v = byStep.get(s);
      return v === undefined || v === null || !(v > 0) ? null : v;
    });
  };
  const chart = (
    title: string,
    yLabel: string,
    pick: (s: MetricsSeries) => (number | null)[],
    raw: boolean,
  ) => ({
    title,
    xLabel: "training step",
    yLabel,
    xLog: false,
    yLog: true,
    x,
    lines: [
      ...(raw
        ? arms.map((a) => ({
          label: `${a.arm}, each step`,
          color: `${a.color}40`,
          values: align(a, a.s.values),
          width: 1,
          unlisted: true,
        }))
        : []),
      ...arms.map((a) => ({
        label: a.arm,
        color: a.color,
        values: align(a, pick(a.s)),
        width: 2.5,
      })),
    ],
    width: WIDTH,
    height: 320,
  });
  return [
    chart(
      `Per-step estimate of L_vlb (bits/dim): each step (faint), ${WINDOW}-step rolling mean`,
      "L_vlb estimate (bits/dim)",
      (s) => s.mean,
      true,
    ),
    chart(
      `Noise of the per-step L_vlb estimate: ${WINDOW}-step rolling standard deviation`,
      "std of the estimate (bits/dim)",
      (s) => s.std,
      false,
    ),
  ];
}

/** Runs in the page: one uPlot per spec inside `#charts`. */
function _drawInPage(specs: ChartSpec[]): void {
  const uPlot = (globalThis as unknown as { uPlot: typeof uPlotType }).uPlot;
  const root = document.getElementById("charts")!;
  for (const spec of specs) {
    const box = document.createElement("div");
    box.className = "chart";
    root.appendChild(box);
    const whiskers = (u: uPlotType) => {
      const ctx = u.ctx;
      spec.lines.forEach((line, k) => {
        if (!line.stderr) return;
        ctx.save();
        ctx.strokeStyle = line.color;
        ctx.setLineDash([]);
        ctx.lineWidth = 1.5 * devicePixelRatio;
        for (let i = 0; i < spec.x.length; i++) {
          const y = line.values[i];
          const e = line.stderr[i];
          if (y === null || y === undefined || e === null || e === undefined) continue;
          // A small shift per line keeps whiskers at the same x apart.
          const px = u.valToPos(spec.x[i]!, "x", true) + (k - 1) * 3 * devicePixelRatio;
          const lo = u.valToPos(y - e, "y", true);
          const hi = u.valToPos(y + e, "y", true);
          const cap = 3 * devicePixelRatio;
          ctx.beginPath();
          ctx.moveTo(px, lo);
          ctx.lineTo(px, hi);
          ctx.moveTo(px - cap, lo);
          ctx.lineTo(px + cap, lo);
          ctx.moveTo(px - cap, hi);
          ctx.lineTo(px + cap, hi);
          ctx.stroke();
        }
        ctx.restore();
      });
    };
    const font = "13px 'DejaVu Sans', sans-serif";
    const axis = { font, labelFont: "bold 13px 'DejaVu Sans', sans-serif", stroke: "#222" };
    const opts: uPlotType.Options = {
      title: spec.title,
      width: spec.width,
      height: spec.height,
      legend: { live: false },
      cursor: { show: false },
      scales: {
        x: spec.xLog
          ? { time: false, distr: 3, range: (_u, lo, hi) => [lo / 1.3, hi * 1.3] }
          : { time: false },
        y: spec.yLog ? { distr: 3 } : {},
      },
      axes: [
        {
          ...axis,
          label: spec.xLabel,
          ...(spec.xTicks
            ? {
              splits: () => spec.xTicks!,
              // A log axis labels only powers of 10 unless told otherwise.
              filter: (_u: uPlotType, ticks: number[]) => ticks,
              values: (_u: uPlotType, ticks: number[]) =>
                ticks.map((t) => spec.xTickLabels?.[spec.xTicks!.indexOf(t)] ?? String(t)),
            }
            : {}),
        },
        { ...axis, label: spec.yLabel, size: 60 },
      ],
      series: [
        {},
        ...spec.lines.map((l) => ({
          label: l.label,
          stroke: l.color,
          width: l.width ?? 2,
          ...(l.dash ? { dash: l.dash } : {}),
          spanGaps: true,
          points: l.points ? { show: true, size: 8, fill: l.color } : { show: false },
        })),
      ],
      hooks: { draw: [whiskers] },
    };
    const data = [spec.x, ...spec.lines.map((l) => l.values)] as uPlotType.AlignedData;
    new uPlot(opts, data, box);
    const rows = box.querySelectorAll<HTMLElement>(".u-legend .u-series");
    spec.lines.forEach((l, i) => {
      // With `live: false` the legend has no row for x; index from the end either way.
      if (l.unlisted) {
        rows[rows.length - spec.lines.length + i]?.style.setProperty("display", "none");
      }
    });
  }
}

/** Renders the charts into one PNG. */
async function _render(
  browser: Awaited<ReturnType<typeof launchChromium>>,
  page: { js: string; css: string },
  specs: ChartSpec[],
  note: string,
  path: string,
): Promise<void> {
  const tab = await browser.newPage({ viewport: { width: WIDTH + 40, height: 900 } });
  try {
    const style = `${page.css}
      body { margin: 0; background: #fff; color: #222; font: 13px 'DejaVu Sans', sans-serif; }
      #charts { width: ${WIDTH}px; padding: 12px 20px 8px; background: #fff; }
      .chart { margin-bottom: 10px; }
      .u-title { font-size: 15px; font-weight: bold; }
      .u-legend { font-size: 13px; }
      .note { color: #555; margin: 2px 0 4px; }`;
    await tab.setContent(
      `<!doctype html><meta charset="utf-8"><style>${style}</style>` +
        `<div id="charts"></div><script>${page.js}</script>`,
    );
    await tab.evaluate(_drawInPage, specs);
    if (note) {
      await tab.evaluate((text: string) => {
        const p = document.createElement("p");
        p.className = "note";
        p.textContent = text;
        document.getElementById("charts")!.appendChild(p);
      }, note);
    }
    await tab.locator("#charts").screenshot({ path });
  } finally {
    await bounded("page.close()", tab.close());
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      sweep: { type: "string", default: "runs/sweeps/improved-ddpm-mnist" },
      out: { type: "string", default: "docs" },
      plan: { type: "string", default: "sweeps/improved_ddpm_mnist.json" },
      only: { type: "string" },
    },
  });
  if (values.only !== undefined && values.only !== "steps" && values.only !== "loss") {
    console.error(`error: --only is steps or loss, not ${values.only}`);
    Deno.exit(2);
  }
  const draw = (chart: "steps" | "loss") => values.only === undefined || values.only === chart;
  const sweep = values.sweep!;
  const results = await readSweepResults(join(sweep, SWEEP_RESULTS_FILE));
  const runs = await _armRuns(sweep, await _arms(sweep, values.plan!));
  const steps = _stepsCharts(results, runs);
  const loss = await _lossCharts(runs);

  // uPlot's browser build and stylesheet, from Deno's npm cache (as web/build.ts finds tfjs's).
  const entry = import.meta.resolve("uplot");
  if (!entry.startsWith("file:")) throw new Error(`Cannot find uPlot's files: ${entry}`);
  const dist = new URL(".", entry);
  const page = {
    js: await Deno.readTextFile(new URL("uPlot.iife.min.js", dist)),
    css: await Deno.readTextFile(new URL("uPlot.min.css", dist)),
  };
  await Deno.mkdir(values.out!, { recursive: true });
  const points = steps[0]!.lines.filter((l) => !l.label.startsWith("floor"))
    .reduce((k, l) => k + l.values.filter((v) => v !== null).length, 0);
  const browser = await launchChromium();
  const wrote: string[] = [];
  try {
    const stepsPath = join(values.out!, "improved_ddpm_steps.png");
    if (draw("steps")) {
      wrote.push(`${stepsPath} (${points} points)`);
      await _render(
        browser,
        page,
        steps,
        `Sweep ${sweep}: ${
          points ? points : "no"
        } results of 256 digits so far. Solid: ancestral sampling with ` +
          "the variance named; dashed: DDIM (eta 0). Fréchet distances at n = 256 carry the " +
          "bias of small n: compare them with each other and with the floor.",
        stepsPath,
      );
    }
    const lossPath = join(values.out!, "improved_ddpm_loss_noise.png");
    if (draw("loss")) {
      wrote.push(`${lossPath} (${loss[1]!.lines.length} arms)`);
      await _render(
        browser,
        page,
        loss,
        "Per arm, the one-sample estimate of the full bound each training step computed on its " +
          "batch of 64 (L_hybrid: its vlb term, uniform t; L_vlb: its loss, importance-weighted " +
          "when t is importance-sampled). L_simple arms have no vlb term and are left out.",
        lossPath,
      );
    }
    console.log(`wrote ${wrote.join(" and ")}`);
  } finally {
    await bounded("browser.close()", browser.close());
  }
}
