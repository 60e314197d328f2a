/**
 * `deno task sweep`: runs a plan of training runs and their evaluations in sequence, and
 * resumes it. Each arm trains a run named after it into `<out>/<plan>/`, the one folder of all its
 * arms (`deno task train --name <arm>`, or `train --resume` when the arm's run was stopped), then runs the plan's evaluations on it (`deno task eval
 * --json`), appending each result to `<out>/<plan>/results.jsonl`. Stop it at any time (Ctrl-C,
 * a closed session): the same command goes on from the arm and the evaluation it stopped at,
 * and an evaluation already in the results is not run again. At the end, and with `--table`
 * at any time, it prints the results as Markdown tables (one per evaluation) and writes them to
 * `<out>/<plan>/results.md`. `--arm` runs only the named arms (a finished sweep can take one
 * more, or one arm can be rerun on another machine). `--export <dir>` copies the sweep's records,
 * without checkpoints or pictures, into `<dir>/<plan>/`: its results, and each arm's `run.json`,
 * `metrics.jsonl` and `eval.jsonl`, the same layout, so the viewer, `bench/sweep_table.ts` and
 * `bench/sweep_plots.ts` read the copy as they read the sweep. Commit that copy: a sweep's runs
 * take hours, and its checkpoints stay on the machine that trained them.
 *
 * @example
 * ```sh
 * deno task sweep --plan sweeps/improved_ddpm_mnist.json
 * deno task sweep --plan sweeps/improved_ddpm_mnist.json --dry-run
 * deno task sweep --plan sweeps/improved_ddpm_mnist.json --table
 * deno task sweep --plan sweeps/improved_ddpm_mnist.json --arm cosine-simple
 * deno task sweep --plan sweeps/improved_ddpm_mnist.json --export docs/sweeps
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { callerPath, type OptionTable, runTask, UsageError } from "./_cli.ts";
import { evalKey, parseSweepPlan, type SweepArm, type SweepPlan } from "./_sweep_plan.ts";
import { appendJsonl, writeFileAtomic } from "../lib/io/atomic.ts";
import { readRunRecord } from "../lib/run/record.ts";
import { EVAL_FILE, METRICS_FILE, RUN_FILE } from "../lib/run/layout.ts";

/** The flags of `deno task sweep`. */
export const SWEEP_OPTIONS = {
  plan: { type: "string", help: "the plan: a JSON file of arms (see sweeps/)" },
  out: {
    type: "string",
    default: "runs/sweeps",
    help: "where sweeps live: <out>/<plan name>/<arm name>/ holds each arm's run",
  },
  "dry-run": {
    type: "boolean",
    default: false,
    help: "say what would run next, run nothing",
  },
  table: {
    type: "boolean",
    default: false,
    help: "print the results so far as Markdown tables and run nothing",
  },
  arm: {
    type: "string",
    help: "run only these arms, in the plan's order (names, comma-separated)",
  },
  export: {
    type: "string",
    help: "copy the sweep's records (results, each arm's run.json, metrics and evaluations; " +
      "no checkpoints) into <dir>/<plan name>/ and run nothing",
  },
} as const satisfies OptionTable;

/** The name of a sweep's results file (one JSON line per evaluation done). */
export const SWEEP_RESULTS_FILE = "results.jsonl";

/** One line of a sweep's results. */
export interface SweepResult {
  arm: string;
  /** The evaluation's flags, as {@linkcode evalKey} writes them. */
  eval: string;
  /** The run evaluated. */
  run: string;
  time: string;
  /** What `deno task eval --json` printed. */
  result: Record<string, unknown>;
}

/** Where an arm stands: no run yet, a run to resume, or a completed run. */
export interface ArmState {
  /** The runs directory the arm's run lives in: the sweep's folder, shared by all its arms. */
  dir: string;
  /** Its run's id, if it has one. */
  run?: string;
  /** The run's status in its run.json. */
  status?: string;
}

/**
 * Finds an arm's run: the newest run in the sweep's folder named after the arm (`train --name`).
 * Every arm's run lives in the one folder, so that `deno task web --runs <that folder>` lists
 * them all and its compare page overlays them.
 *
 * @param home The sweep's folder (`<out>/<plan name>`).
 * @param arm The arm's name.
 * @returns Where the arm stands.
 *
 * @example
 * ```ts
 * import { armState } from "./sweep.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(await armState("/nonexistent/sweep", "a"), { dir: "/nonexistent/sweep" });
 * ```
 */
export async function armState(home: string, arm: string): Promise<ArmState> {
  const runs: { id: string; status?: string }[] = [];
  try {
    for await (const e of Deno.readDir(home)) {
      if (!e.isDirectory) continue;
      try {
        if (!(await Deno.stat(join(home, e.name, RUN_FILE))).isFile) continue;
        const record = await readRunRecord(join(home, e.name));
        if (record.name === arm) runs.push({ id: e.name, status: record.status as string });
      } catch { /* not a run */ }
    }
  } catch { /* no folder yet */ }
  if (!runs.length) return { dir: home };
  const newest = runs.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)).at(-1)!;
  return { dir: home, run: newest.id, status: newest.status };
}

/**
 * Reads a sweep's results file (missing: none; a line cut short by a kill is skipped).
 *
 * @param path The results file.
 * @returns Its results, in order.
 *
 * @example
 * ```ts
 * import { readSweepResults } from "./sweep.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(await readSweepResults("/nonexistent/results.jsonl"), []);
 * ```
 */
export async function readSweepResults(path: string): Promise<SweepResult[]> {
  let text = "";
  try {
    text = await Deno.readTextFile(path);
  } catch { /* none yet */ }
  const out: SweepResult[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as SweepResult);
    } catch { /* cut short */ }
  }
  return out;
}

/** Fields of an evaluation that describe it rather than measure (left out of the tables). */
const _SETTINGS = new Set(["step", "ema", "seed", "n", "steps", "bound", "time", "source"]);

/**
 * The results as Markdown: one table per evaluation, a row per arm, a column per measure
 * (numbers to 4 significant digits; the newest result of an arm and evaluation wins).
 *
 * @param plan The plan (its order of arms and evaluations).
 * @param results The results so far.
 * @returns The Markdown text.
 *
 * @example
 * ```ts
 * import { resultsMarkdown } from "./sweep.ts";
 * import assert from "node:assert/strict";
 * const plan = { name: "p", description: "", arms: [{ name: "a", train: [], eval: [["--n", "100"]] }] };
 * const md = resultsMarkdown(plan, [
 *   { arm: "a", eval: "--n 100", run: "r", time: "", result: { step: 5, swd: 0.01234567 } },
 * ]);
 * assert.match(md, /\| a +\| 5 +\| 0\.01235 \|/);
 * ```
 */
export function resultsMarkdown(plan: SweepPlan, results: SweepResult[]): string {
  const keys: string[] = [];
  for (const arm of plan.arms) {
    for (const e of arm.eval) if (!keys.includes(evalKey(e))) keys.push(evalKey(e));
  }
  const parts = [`# Sweep ${plan.name}`, ""];
  if (plan.description) parts.push(plan.description, "");
  for (const key of keys) {
    const rows = plan.arms.map((arm) => ({
      arm: arm.name,
      r: results.filter((x) => x.arm === arm.name && x.eval === key).at(-1)?.result,
    }));
    const columns: string[] = [];
    for (const { r } of rows) {
      for (const [k, v] of Object.entries(r ?? {})) {
        if (typeof v === "number" && !_SETTINGS.has(k) && !columns.includes(k)) columns.push(k);
      }
    }
    const cell = (v: unknown) =>
      typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : "";
    const table = [
      ["arm", "step", ...columns],
      ...rows.map(({ arm, r }) =>
        r ? [arm, cell(r.step), ...columns.map((c) => cell(r[c]))] : [arm, "(not yet)"]
      ),
    ];
    const widths = table[0]!.map((_, j) =>
      Math.max(3, ...table.map((row) => (row[j] ?? "").length))
    );
    const line = (row: string[]) =>
      `| ${widths.map((w, j) => (row[j] ?? "").padEnd(w)).join(" | ")} |`;
    parts.push(
      `## eval ${key}`,
      "",
      line(table[0]!),
      `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    );
    for (const row of table.slice(1)) parts.push(line(row));
    parts.push("");
  }
  return parts.join("\n");
}

/**
 * The arms an `--arm` list names, in the plan's order.
 *
 * @param plan The plan.
 * @param list The names, comma-separated; absent: every arm.
 * @returns The arms to run.
 * @throws {UsageError} On a name the plan does not have.
 *
 * @example
 * ```ts
 * import { selectArms } from "./sweep.ts";
 * import assert from "node:assert/strict";
 * const plan = { name: "p", description: "", arms: ["a", "b", "c"].map((name) => ({ name, train: [], eval: [] })) };
 * assert.deepEqual(selectArms(plan, "c,a").map((a) => a.name), ["a", "c"]);
 * assert.equal(selectArms(plan).length, 3);
 * assert.throws(() => selectArms(plan, "d"), /unknown arm d; the plan's arms: a, b, c/);
 * ```
 */
export function selectArms(plan: SweepPlan, list?: string): SweepArm[] {
  if (list === undefined) return plan.arms;
  const names = list.split(",").map((n) => n.trim()).filter((n) => n);
  if (!names.length) throw new UsageError("--arm needs at least one arm's name");
  for (const n of names) {
    if (!plan.arms.some((a) => a.name === n)) {
      throw new UsageError(
        `unknown arm ${n}; the plan's arms: ${plan.arms.map((a) => a.name).join(", ")}`,
      );
    }
  }
  return plan.arms.filter((a) => names.includes(a.name));
}

/** The files of a run that `--export` copies: its record, its training log, its evaluations. */
export const SWEEP_EXPORT_FILES = [RUN_FILE, METRICS_FILE, EVAL_FILE] as const;

/**
 * Copies a sweep's records into `<to>/<plan name>/`: its results (`results.jsonl`,
 * `results.md`) and, for each arm's run, the files of {@linkcode SWEEP_EXPORT_FILES} under the
 * run's own id. Checkpoints, samples and pictures stay behind. Files already there are replaced.
 *
 * @param home The sweep's folder (`<out>/<plan name>`).
 * @param plan The plan.
 * @param to The folder to copy into.
 * @returns The folder written and the runs copied, as `arm: run id`.
 *
 * @example
 * ```ts
 * import { exportSweep } from "./sweep.ts";
 * import assert from "node:assert/strict";
 * const plan = { name: "p", description: "", arms: [] };
 * const dir = await Deno.makeTempDir();
 * const out = await exportSweep(dir + "/none", plan, dir);
 * assert.deepEqual(out.runs, []);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function exportSweep(
  home: string,
  plan: SweepPlan,
  to: string,
): Promise<{ dir: string; runs: string[] }> {
  const dir = join(to, plan.name);
  await Deno.mkdir(dir, { recursive: true });
  const copy = async (from: string, into: string) => {
    try {
      await writeFileAtomic(into, await Deno.readFile(from));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  };
  await copy(join(home, SWEEP_RESULTS_FILE), join(dir, SWEEP_RESULTS_FILE));
  await copy(join(home, "results.md"), join(dir, "results.md"));
  const runs: string[] = [];
  for (const arm of plan.arms) {
    const { run } = await armState(home, arm.name);
    if (!run) continue;
    await Deno.mkdir(join(dir, run), { recursive: true });
    for (const f of SWEEP_EXPORT_FILES) await copy(join(home, run, f), join(dir, run, f));
    runs.push(`${arm.name}: ${run}`);
  }
  return { dir, runs };
}

const _TASKS = fileURLToPath(new URL(".", import.meta.url));

/** Runs a task of this project as a child process; its output goes to ours unless captured. */
async function _task(
  task: "train" | "eval",
  args: string[],
  capture = false,
): Promise<{ code: number; stdout: string }> {
  const permissions = task === "train"
    ? [
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      "--allow-run=git,cc,gcc,apt-get",
    ]
    : [
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      "--allow-run=cc,gcc",
    ];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, join(_TASKS, `${task}.ts`), ...args],
    stdin: "null",
    stdout: capture ? "piped" : "inherit",
    stderr: "inherit",
  }).spawn();
  const out = await child.output();
  return { code: out.code, stdout: capture ? new TextDecoder().decode(out.stdout) : "" };
}

/** The training an arm still needs, from where it stands: a fresh run, a resume, or none. */
function _nextTrain(arm: SweepArm, state: ArmState): string[] | null {
  if (!state.run) return [...arm.train, "--out", state.dir, "--name", arm.name];
  if (state.status === "completed") return null;
  return ["--resume", state.run, "--out", state.dir];
}

if (import.meta.main) {
  await runTask("deno task sweep --plan <file.json> [flags]", SWEEP_OPTIONS, async (v) => {
    if (!v.plan) throw new UsageError("--plan is required (a JSON file of arms; see sweeps/)");
    let text: string;
    try {
      text = await Deno.readTextFile(callerPath(v.plan));
    } catch {
      throw new UsageError(`cannot read the plan ${v.plan}`);
    }
    const plan = parseSweepPlan(text);
    const home = join(callerPath(v.out!), plan.name);
    const resultsPath = join(home, SWEEP_RESULTS_FILE);
    const report = async () => {
      const md = resultsMarkdown(plan, await readSweepResults(resultsPath));
      console.log(md);
      await Deno.mkdir(home, { recursive: true });
      await writeFileAtomic(join(home, "results.md"), md);
    };
    if (v.table) {
      await report();
      return 0;
    }
    if (v.export !== undefined) {
      const { dir, runs } = await exportSweep(home, plan, callerPath(v.export));
      console.log(`sweep ${plan.name}: ${runs.length} runs' records copied into ${dir}`);
      for (const r of runs) console.log(`  ${r}`);
      return 0;
    }
    const arms = selectArms(plan, v.arm);
    console.error(
      `sweep ${plan.name}: ${arms.length} of ${plan.arms.length} arms in ${home} (see them side by side: ` +
        `deno task web --runs ${join(v.out!, plan.name)})`,
    );
    // Ctrl-C reaches the child too: training checkpoints and exits, and the sweep stops after it.
    const ignore = () => {};
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      try {
        Deno.addSignalListener(sig, ignore);
      } catch { /* not on this platform */ }
    }
    for (const [i, arm] of arms.entries()) {
      const state = await armState(home, arm.name);
      const train = _nextTrain(arm, state);
      const done = await readSweepResults(resultsPath);
      const evals = arm.eval.filter((e) =>
        !done.some((r) => r.arm === arm.name && r.eval === evalKey(e) && r.run === state.run)
      );
      const head = `arm ${i + 1}/${arms.length} ${arm.name}`;
      if (v["dry-run"]) {
        console.log(
          `${head}: ${
            train ? `train ${train.join(" ")}` : `trained (${state.run})`
          }; ${evals.length} of ${arm.eval.length} evaluations to run`,
        );
        continue;
      }
      if (train) {
        console.error(`${head}: deno task train ${train.join(" ")}`);
        const { code } = await _task("train", train);
        if (code !== 0) {
          console.error(
            `sweep stopped at ${arm.name} (train exited ${code}); the same command resumes it`,
          );
          return code;
        }
      }
      const run = (await armState(home, arm.name)).run!;
      for (const e of arm.eval) {
        const key = evalKey(e);
        const now = await readSweepResults(resultsPath);
        if (now.some((r) => r.arm === arm.name && r.eval === key && r.run === run)) continue;
        console.error(`${head}: deno task eval ${key}`);
        const { code, stdout } = await _task(
          "eval",
          [...e, "--runs", state.dir, "--run", run, "--json"],
          true,
        );
        const last = stdout.trim().split("\n").at(-1) ?? "";
        if (code !== 0 || !last.startsWith("{")) {
          console.error(
            `sweep stopped at ${arm.name}, eval ${key} (exited ${code}); the same command resumes it`,
          );
          return code || 1;
        }
        await Deno.mkdir(home, { recursive: true });
        await appendJsonl(
          resultsPath,
          {
            arm: arm.name,
            eval: key,
            run,
            time: new Date().toISOString(),
            result: JSON.parse(last),
          } satisfies SweepResult,
        );
      }
    }
    if (!v["dry-run"]) await report();
    return 0;
  });
}
