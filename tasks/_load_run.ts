/**
 * Loads a trained model for `sample` and `eval` from a run id, a run directory or a
 * checkpoint directory, with the training config it was made with; and the flags and the
 * start-up (backend, run, schedule) that both tasks share.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { initBackend } from "../lib/backend/mod.ts";
import { type Checkpoint, loadCheckpoint, loadModel } from "../lib/train/mod.ts";
import { listCheckpointDirs, loadNewestCheckpoint } from "../lib/run/mod.ts";
import type { DiffusionModel } from "../lib/model/mod.ts";
import type { Schedule } from "../lib/schedule.ts";
import type { TrainConfig } from "./_train_options.ts";
import { scheduleOf } from "../lib/train/recipe.ts";
import { callerPath, type OptionTable, UsageError } from "./_cli.ts";
import { findRunDir } from "./_run_dir.ts";
import { samplingVariances, type VarianceKind } from "../lib/variance_kinds.ts";

/**
 * The flags that name the run to load, first in the tables of `sample` and `eval`.
 *
 * @example
 * ```ts
 * import { RUN_OPTIONS } from "./_load_run.ts";
 * import { parseOptions } from "./_cli.ts";
 * import assert from "node:assert/strict";
 * const { values } = parseOptions(RUN_OPTIONS, ["--run", "r1"]);
 * assert.deepEqual(values, { run: "r1", runs: "runs" });
 * ```
 */
export const RUN_OPTIONS = {
  run: { type: "string", help: "run id, run directory or checkpoint directory (required)" },
  runs: { type: "string", default: "runs", help: "directory that holds the runs" },
} as const satisfies OptionTable;

/** The parsed flags {@linkcode openRun} reads. */
export interface RunFlags {
  /** A run id, a run directory or a checkpoint directory. */
  run?: string;
  /** The runs directory. */
  runs?: string;
  /** Use the EMA weights. */
  ema?: boolean;
  /** The compute backend, as `--backend` takes it. */
  backend?: string;
}

/** A model ready to sample, with where it came from. */
export interface LoadedRun {
  config: TrainConfig;
  model: DiffusionModel;
  step: number;
  checkpoint: string;
}

/**
 * Loads the latest checkpoint of a run (or the given checkpoint) into a model, with the EMA
 * weights or the raw ones.
 *
 * @param runs The runs directory.
 * @param ref A run id, a run directory or a checkpoint directory.
 * @param ema Use the EMA weights.
 * @returns The model and its training config.
 */
export async function loadRun(
  runs: string,
  ref: string,
  ema: boolean,
  note: (line: string) => void = (line) => console.error(line),
): Promise<LoadedRun> {
  let checkpoint: string | null = null;
  let ckpt: Checkpoint;
  try {
    const path = callerPath(ref);
    if ((await Deno.stat(join(path, "checkpoint.json"))).isFile) checkpoint = path;
  } catch { /* not a checkpoint directory */ }
  if (checkpoint) {
    ckpt = await loadCheckpoint(checkpoint);
  } else {
    const dir = await findRunDir(runs, ref);
    const { found, skipped } = await loadNewestCheckpoint(dir);
    const passed = skipped.map((s) => `${s.name} (${s.reason})`).join(", ");
    if (!found) {
      const none = (await listCheckpointDirs(dir)).length === 0;
      // No checkpoint yet is the command line's mistake (exit 2); none that loads is the run's.
      if (none) throw new UsageError(`Run ${ref} has no checkpoint yet`);
      throw new Error(`Run ${ref} has no checkpoint that loads: ${passed}`);
    }
    if (passed) note(`using ${found.dir.name}, the newest good checkpoint; passed over ${passed}`);
    checkpoint = found.dir.path;
    ckpt = found.checkpoint;
  }
  if (!ema && ckpt.emaOnly) {
    throw new UsageError(
      `${ref} holds only its EMA weights (packed for sampling): the raw weights are not there`,
    );
  }
  const extra = ckpt.extra as { config?: TrainConfig } | undefined;
  let config = extra?.config;
  if (!config) {
    try {
      const record = JSON.parse(
        await Deno.readTextFile(join(dirname(dirname(checkpoint)), "run.json")),
      );
      config = record.config as TrainConfig;
    } catch {
      throw new Error(
        `Cannot tell how ${checkpoint} was trained: no config in it or in its run.json`,
      );
    }
  }
  const model = await loadModel(ckpt, { weights: ema ? "ema" : "model" });
  return { config, model, step: ckpt.step, checkpoint };
}

/**
 * The `--run` flag's value.
 *
 * @example
 * ```ts
 * import { requiredRun } from "./_load_run.ts";
 * import assert from "node:assert/strict";
 * assert.equal(requiredRun("r1"), "r1");
 * assert.throws(() => requiredRun(undefined), /--run is required/);
 * ```
 *
 * @param run The flag's value.
 * @returns The same, when given.
 * @throws {UsageError} When it is missing or empty.
 */
export function requiredRun(run: string | undefined): string {
  if (!run) throw new UsageError("--run is required (a run id, run directory or checkpoint)");
  return run;
}

/**
 * What `sample` and `eval` start with: starts the compute backend and loads the run its flags
 * name (see {@linkcode loadRun}), saying which backend on stderr.
 *
 * @example
 * ```ts ignore
 * import { openRun } from "./_load_run.ts";
 * const { model, schedule } = await openRun({ run: "<run id>", runs: "runs", backend: "auto" });
 * ```
 *
 * @param flags The parsed flags: `--run` is required; unset, the others mean `runs`, the raw
 *   weights and `auto`.
 * @returns The loaded run and the diffusion schedule it was trained with.
 */
export async function openRun(flags: RunFlags): Promise<LoadedRun & { schedule: Schedule }> {
  const ref = requiredRun(flags.run);
  const backend = await initBackend((flags.backend ?? "auto") as "auto");
  console.error(`backend: ${backend.detail}`);
  const run = await loadRun(callerPath(flags.runs ?? "runs"), ref, flags.ema ?? false);
  return { ...run, schedule: scheduleOf(run.config) };
}

/**
 * The `--variance` flag of the tasks that sample or bound a trained model (`sample`, `eval`): a
 * model trained with a fixed variance predicts only the noise, so which fixed variance the
 * reverse process uses is a choice at sampling time (Improved DDPM's figure 8 compares them).
 *
 * @example
 * ```ts
 * import { SAMPLING_VARIANCE_OPTION } from "./_load_run.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(SAMPLING_VARIANCE_OPTION.choices, ["fixed-small", "fixed-large"]);
 * ```
 */
export const SAMPLING_VARIANCE_OPTION = {
  type: "string",
  choices: ["fixed-small", "fixed-large"],
  help: "a model trained with a fixed variance (--loss simple): the reverse-process variance " +
    "to use, beta tilde (fixed-small) or beta (fixed-large)",
  note: "the one it trained with",
} as const;

/**
 * The reverse-process variance to use: the one asked for, if the model can use it, else the one
 * it trained with. A learned-range model asked for a fixed variance is a usage error (its second
 * output is its variance).
 *
 * @param trained The variance the model trained with (its config's).
 * @param asked The `--variance` flag, if given.
 * @param checkpoint The checkpoint's name, for the error.
 * @returns The variance, and whether it differs from the trained one (then records say so).
 *
 * @example
 * ```ts
 * import { samplingVariance } from "./_load_run.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(samplingVariance("fixed-large", "fixed-small", "c"),
 *   { variance: "fixed-small", override: true });
 * assert.deepEqual(samplingVariance("learned-range", undefined, "c"),
 *   { variance: "learned-range", override: false });
 * assert.throws(() => samplingVariance("learned-range", "fixed-small", "c"), /learned its variance/);
 * ```
 */
export function samplingVariance(
  trained: VarianceKind,
  asked: string | undefined,
  checkpoint: string,
): { variance: VarianceKind; override: boolean } {
  if (asked === undefined) return { variance: trained, override: false };
  if (!(samplingVariances(trained) as string[]).includes(asked)) {
    throw new UsageError(
      `--variance ${asked} needs a model trained with a fixed variance; ${checkpoint} learned ` +
        `its variance (${trained})`,
    );
  }
  return { variance: asked as VarianceKind, override: asked !== trained };
}
