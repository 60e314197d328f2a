/**
 * The README's table of a sweep of training recipes (Improved DDPM's claims on MNIST, issue 12):
 * a row per arm and sampling variance, with what it trained (schedule, objective, sampling of t,
 * variance), its full bound in bits/dim, its test L_simple, the quality of 1,000 digits drawn with
 * 50 respaced steps, and the noise of its objective during training; then quality against the
 * number of sampling steps (256 digits), a row per arm, sampler and variance (Improved DDPM's
 * figure 8 as numbers: the table behind `bench/sweep_plots.ts`'s chart).
 *
 * ```sh
 * deno run -A bench/sweep_table.ts [--sweep runs/sweeps/improved-ddpm-mnist] [--plan sweeps/improved_ddpm_mnist.json]
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { armState, readSweepResults, type SweepResult } from "../tasks/sweep.ts";
import { parseSweepPlan } from "../tasks/_sweep_plan.ts";
import { readRunRecord } from "../lib/run/record.ts";
import { runPaths } from "../lib/run/layout.ts";
import { metricsSeries, parseJsonLines, qualitySeries } from "./_sweep_series.ts";

/** What the table knows of one arm: its name, its run's config and metrics lines. */
export interface ArmInput {
  arm: string;
  config: Record<string, unknown>;
  metrics: readonly Record<string, unknown>[];
}

/** The steps whose objective noise is measured: the last third of a 1,500-step run. */
export const NOISE_FROM_STEP = 1001;

/**
 * The noise of an arm's objective: the standard deviation, over the steps from `fromStep` on, of
 * the per-step estimate of the full bound (bits/dim) that each training step computed on its
 * batch: `loss` for L_vlb (importance-weighted when t is importance-sampled: the estimate whose
 * gradient it follows), `vlb` for L_hybrid; and its median, for scale. L_simple has no bound
 * term: undefined.
 *
 * @param input The arm.
 * @param fromStep The first step counted.
 * @returns The standard deviation and the median, or undefined.
 *
 * @example
 * ```ts
 * import { objectiveNoise } from "./sweep_table.ts";
 * import assert from "node:assert/strict";
 * const metrics = [1, 2, 3].map((step) => ({ step, vlb: step, loss: 0 }));
 * const r = objectiveNoise({ arm: "a", config: { loss: "hybrid" }, metrics }, 1)!;
 * assert.equal(r.std, 1);
 * assert.equal(r.median, 2);
 * assert.equal(objectiveNoise({ arm: "s", config: { loss: "simple" }, metrics }, 1), undefined);
 * ```
 */
export function objectiveNoise(
  input: ArmInput,
  fromStep = NOISE_FROM_STEP,
): { std: number; median: number; steps: number } | undefined {
  const loss = input.config.loss;
  if (loss === "simple") return undefined;
  // One value a step (a step written again after a resume keeps its last line).
  const series = metricsSeries(input.metrics, { field: loss === "vlb" ? "loss" : "vlb" });
  const xs = series.values.filter((_, i) => series.steps[i]! >= fromStep);
  if (xs.length < 2) return undefined;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { std, median, steps: xs.length };
}

const _fmt = (v: unknown, digits = 2) => typeof v === "number" ? v.toFixed(digits) : "…";

/**
 * The Markdown table: a row per arm (and one more per other sampling variance it was evaluated
 * with, `--variance`), columns as the module says; "…" where a result is not in yet.
 *
 * @param arms The arms, in the plan's order.
 * @param results The sweep's results.
 * @returns The table.
 *
 * @example
 * ```ts
 * import { sweepTable } from "./sweep_table.ts";
 * import assert from "node:assert/strict";
 * const arms = [{ arm: "a", config: { schedule: "cosine", loss: "hybrid", tSampler: "uniform",
 *   variance: "learned-range" }, metrics: [] }];
 * const results = [{ arm: "a", eval: "--bound full --digits 64", run: "r", time: "",
 *   result: { bpd: 1.777, bpdUnclipped: 2.93, simple: 0.0436 } }];
 * const md = sweepTable(arms, results);
 * assert.match(md, /\| a +\| cosine +\| L_hybrid +\| uniform +\| learned-range +\| 1\.78 +\| 2\.93 /);
 * ```
 */
export function sweepTable(arms: readonly ArmInput[], results: readonly SweepResult[]): string {
  const newest = (arm: string, key: string) =>
    results.filter((r) => r.arm === arm && r.eval === key).at(-1)?.result;
  const header = [
    "arm",
    "schedule",
    "objective",
    "t",
    "variance (sampling)",
    "bound, bits/dim",
    "unclipped",
    "test L_simple",
    "Fréchet (floor)",
    "KID x 1000",
    "precision (floor)",
    "recall (floor)",
    `L_vlb noise: sd (median), steps ≥ ${NOISE_FROM_STEP}`,
  ];
  const rows: string[][] = [];
  for (const a of arms) {
    const c = a.config;
    const trained = String(c.variance ?? "?");
    const others = results
      .filter((r) => r.arm === a.arm)
      .map((r) => /--variance (\S+)/.exec(r.eval)?.[1])
      .filter((v): v is string => v !== undefined && v !== trained);
    for (const variance of [trained, ...new Set(others)]) {
      const flag = variance === trained ? "" : ` --variance ${variance}`;
      const bound = newest(a.arm, `--bound full --digits 64${flag}`);
      const q = newest(a.arm, `--quality --n 1000 --sample-steps 50${flag}`);
      const noise = variance === trained ? objectiveNoise(a) : undefined;
      rows.push([
        a.arm,
        String(c.schedule ?? "?"),
        `L_${c.loss ?? "?"}`,
        String(c.tSampler ?? "uniform"),
        variance === trained ? variance : `${variance} (trained ${trained})`,
        _fmt(bound?.bpd),
        _fmt(bound?.bpdUnclipped),
        _fmt(bound?.simple, 4),
        q ? `${_fmt(q.frechet)} (${_fmt(q.frechetFloor)})` : "…",
        q && typeof q.kid === "number" && typeof q.kidStderr === "number"
          ? `${(1000 * q.kid).toFixed(1)} ± ${(1000 * q.kidStderr).toFixed(1)}`
          : "…",
        q ? `${_fmt(q.precision)} (${_fmt(q.precisionFloor)})` : "…",
        q ? `${_fmt(q.recall)} (${_fmt(q.recallFloor)})` : "…",
        noise ? `${noise.std.toFixed(2)} (${noise.median.toFixed(2)})` : "—",
      ]);
    }
  }
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const line = (r: string[]) => `| ${r.map((x, j) => x.padEnd(widths[j]!)).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)]
    .join("\n");
}

/**
 * Quality against sampling steps as Markdown: a row per arm, sampler and variance, a column per
 * number of steps (`all` is T), a cell per result of `n` digits: the Fréchet distance, or KID x
 * 1000 with its standard error; the floor (n real digits) in the last row.
 *
 * @param results The sweep's results.
 * @param options The measure (`frechet` or `kid`), n, and each arm's trained variance and T (as
 *   `qualitySeries` takes them).
 * @returns The Markdown table.
 *
 * @example
 * ```ts
 * import { stepsTable } from "./sweep_table.ts";
 * import assert from "node:assert/strict";
 * const q = (steps: string, frechet: number) => ({
 *   arm: "a", eval: `--quality --n 256 --sample-steps ${steps}`, run: "r", time: "",
 *   result: { frechet, frechetFloor: 0.93, quality: { n: 256, steps, sampler: "ancestral" } },
 * });
 * const md = stepsTable([q("10", 5.671), q("all", 3.3)], { variances: { a: "learned-range" } });
 * assert.match(md, /\| learned-range \(a\) +\| 5\.67 +\| 3\.30 +\|/);
 * assert.match(md, /\| floor \(256 real digits\) +\| 0\.93 +\| 0\.93 +\|/);
 * ```
 */
export function stepsTable(
  results: readonly SweepResult[],
  options: {
    measure?: "frechet" | "kid";
    n?: number;
    variances?: Record<string, string>;
    timesteps?: Record<string, number>;
  } = {},
): string {
  const measure = options.measure ?? "frechet";
  const n = options.n ?? 256;
  const { series, floor } = qualitySeries(results, { ...options, measure, n });
  const steps = [...new Set(series.flatMap((s) => s.points.map((p) => p.steps)))]
    .sort((a, b) => a - b);
  const cell = (v: number, e?: number) =>
    measure === "kid"
      ? `${(1000 * v).toFixed(1)}${e === undefined ? "" : ` ± ${(1000 * e).toFixed(1)}`}`
      : v.toFixed(2);
  const name = measure === "kid" ? "KID x 1000" : "Fréchet";
  const header = [`${name}, ${n} digits: sampler (arm) \\ steps`, ...steps.map(String)];
  const rows = series.map((s) => [
    s.label,
    ...steps.map((k) => {
      const p = s.points.find((x) => x.steps === k);
      return p ? cell(p.value, p.stderr) : "";
    }),
  ]);
  if (floor !== undefined) rows.push([`floor (${n} real digits)`, ...steps.map(() => cell(floor))]);
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const line = (r: string[]) => `| ${r.map((x, j) => x.padEnd(widths[j]!)).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)]
    .join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      sweep: { type: "string", default: "runs/sweeps/improved-ddpm-mnist" },
      plan: { type: "string", default: "sweeps/improved_ddpm_mnist.json" },
    },
  });
  const plan = parseSweepPlan(await Deno.readTextFile(values.plan!));
  const arms: ArmInput[] = [];
  const variances: Record<string, string> = {};
  const timesteps: Record<string, number> = {};
  for (const { name } of plan.arms) {
    const state = await armState(values.sweep!, name);
    if (!state.run) continue;
    const dir = join(state.dir, state.run);
    const config = ((await readRunRecord(dir)).config ?? {}) as Record<string, unknown>;
    const text = await Deno.readTextFile(runPaths(dir).metrics).catch(() => "");
    arms.push({ arm: name, config, metrics: parseJsonLines(text) });
    if (typeof config.variance === "string") variances[name] = config.variance;
    if (typeof config.timesteps === "number") timesteps[name] = config.timesteps;
  }
  const results = await readSweepResults(join(values.sweep!, "results.jsonl"));
  console.log(sweepTable(arms, results));
  for (const measure of ["frechet", "kid"] as const) {
    console.log("\n" + stepsTable(results, { measure, variances, timesteps }));
  }
}
