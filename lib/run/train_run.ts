/**
 * A training run kept in a run directory: created (or resumed) and locked, its `run.json` kept
 * up to date, its metrics, evaluations and checkpoints written by a {@linkcode TrainingSink} for
 * `lib/train/loop.ts`. What the CLI adds (flags, a progress bar, signals, pictures, the
 * evaluation it runs) comes in through options and callbacks; a run written here is a run that
 * `deno task sample`, `eval` and `web` read.
 *
 * Resume: the newest checkpoint that loads is the starting point (newer corrupt ones are set
 * aside, and `note` says so); `metrics.jsonl` and `eval.jsonl` are cut back to its step, so the
 * files continue as an uninterrupted run writes them; a run stopped after its last checkpoint
 * (in the final samples and evaluation) finishes that phase.
 *
 * @module
 */
import { basename } from "node:path";
import { tf } from "../tf.ts";
import { appendJsonl } from "../io/atomic.ts";
import { type DatasetKind, defaultRecipe, type DiffusionRecipe } from "../train/recipe.ts";
import {
  createDiffusionTrainer,
  type DiffusionStepResult,
  type DiffusionTrainer,
  restoreTrainingCheckpoint,
  saveTrainingCheckpoint,
} from "../train/diffusion_trainer.ts";
import {
  emptySums,
  type MetricsSums,
  type TrainingBatch,
  type TrainingSink,
  trainLoop,
} from "../train/loop.ts";
import { type RunPaths, runPaths, stepName } from "./layout.ts";
import { pruneCheckpoints } from "./checkpoints.ts";
import { loadNewestCheckpoint } from "./load.ts";
import { acquireRunLock, type RunLock } from "./lock.ts";
import { cutJsonlAfter, filterJsonl } from "./jsonl.ts";
import {
  createRunDir,
  readRunRecord,
  type RunRecord,
  type RunStatus,
  writeRunRecord,
  writeRunRecordSync,
} from "./record.ts";

/** The configuration a run records: the recipe, its target and how it keeps itself. */
export interface RunConfig extends DiffusionRecipe {
  /** The step to train to. */
  steps: number;
  /** The run's name (part of its id). */
  name: string;
  /** Metrics lines every N steps. */
  logEvery: number;
  /** Checkpoints every N steps (0: only at the end). */
  checkpointEvery: number;
  /** Checkpoints kept, the newest (0: all). */
  keepCheckpoints: number;
  /** Samples every N steps (0: only at the end). */
  sampleEvery: number;
  /** Evaluations every N steps (0: only at the end). */
  evalEvery: number;
}

/** How a run keeps itself, by data set. */
type DatasetKeeping = Pick<
  RunConfig,
  "steps" | "logEvery" | "checkpointEvery" | "keepCheckpoints" | "sampleEvery" | "evalEvery"
>;

/**
 * The project's defaults for keeping a run, by data set (the one place they are written): the
 * S-curve trains 40,000 steps and keeps every checkpoint (about 1 MB each); MNIST trains 1,500
 * steps, checkpoints every 250 and keeps the newest 3 (about 25 MB each).
 *
 * @example
 * ```ts
 * import { RUN_DEFAULTS } from "./train_run.ts";
 * import assert from "node:assert/strict";
 * assert.equal(RUN_DEFAULTS.mnist.keepCheckpoints, 3);
 * ```
 */
export const RUN_DEFAULTS: Readonly<Record<DatasetKind, Readonly<DatasetKeeping>>> = {
  "s-curve": {
    steps: 40000,
    logEvery: 20,
    checkpointEvery: 10000,
    keepCheckpoints: 0,
    sampleEvery: 5000,
    evalEvery: 10000,
  },
  mnist: {
    steps: 1500,
    logEvery: 1,
    checkpointEvery: 250,
    keepCheckpoints: 3,
    sampleEvery: 500,
    evalEvery: 0,
  },
};

/**
 * A data set's default run configuration (its default recipe, target and keeping) with
 * `overrides` applied.
 *
 * @example
 * ```ts
 * import { defaultRunConfig } from "./train_run.ts";
 * import assert from "node:assert/strict";
 * const c = defaultRunConfig("s-curve", { steps: 500 });
 * assert.equal(c.steps, 500);
 * assert.equal(c.schedule, "sigmoid");
 * assert.equal(c.name, "s-curve-mlp");
 * ```
 *
 * @param dataset The data set.
 * @param overrides Fields to set.
 * @returns The configuration.
 */
export function defaultRunConfig(
  dataset: DatasetKind,
  overrides: Partial<RunConfig> = {},
): RunConfig {
  const recipe = defaultRecipe(dataset, overrides);
  return {
    ...RUN_DEFAULTS[dataset],
    name: `${dataset}-${recipe.model}`,
    ...overrides,
    ...recipe,
  };
}

/**
 * A run that cannot start or continue as asked (a finished run resumed without a new target,
 * a sampling checkpoint resumed); the message is one line, for the person who asked.
 *
 * @example
 * ```ts
 * import { RunUsageError } from "./train_run.ts";
 * import assert from "node:assert/strict";
 * assert.equal(new RunUsageError("Run r is already at step 10").name, "RunUsageError");
 * ```
 */
export class RunUsageError extends Error {
  /** @param message What is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "RunUsageError";
  }
}

/** The run a hook works on. */
export interface RunContext {
  /** The run's id. */
  id: string;
  /** The run directory. */
  dir: string;
  /** Its files. */
  paths: RunPaths;
  /** The trainer (sample from `trainer.ema`). */
  trainer: DiffusionTrainer;
}

/** What the caller adds to a run: data, pictures, evaluation, output. */
export interface TrainRunHooks {
  /**
   * The batches from `step` on (0 for a new run, the checkpoint's step on resume). It is
   * called at most once, and not when only the final phase is left.
   */
  batches(step: number): AsyncIterable<TrainingBatch> | AsyncIterator<TrainingBatch>;
  /** Called when the loop no longer needs the batches (e.g. to stop data workers). */
  closeBatches?(): Promise<void> | void;
  /** Before a fresh run's first step (e.g. a picture of the forward process). */
  start?(run: RunContext): Promise<void> | void;
  /** Draws samples into the run directory. */
  samples?(run: RunContext, step: number, final: boolean): Promise<void> | void;
  /** Evaluates; the numbers returned are appended to `eval.jsonl` with the step. */
  evaluate?(
    run: RunContext,
    step: number,
    final: boolean,
  ): Promise<Record<string, unknown>> | Record<string, unknown>;
  /** Each step's numbers (a progress bar). */
  step?(result: DiffusionStepResult, itemsPerSec: number): void;
  /** Lines for the person watching. */
  note?(line: string): void;
}

/** Options of {@linkcode trainRun}. */
export interface TrainRunOptions<C extends RunConfig> {
  /** The directory that holds the runs (a new run is created in it). */
  runs: string;
  /**
   * A new run's configuration; on resume, the configuration to continue with (the saved one,
   * with whatever the caller chose to change, such as `steps`). @default {the saved one}
   */
  config?: C;
  /** The directory of a run to continue. */
  resume?: string;
  /** What the caller adds. */
  hooks: TrainRunHooks;
  /** Stops after the current step: a checkpoint, status `interrupted`. */
  signal?: AbortSignal;
  /** A `performance.now()` time after which no step starts. */
  deadline?: number;
  /**
   * Called once the run directory is locked and before anything is written or any model is
   * built (e.g. to start a compute backend: one that fails leaves no new run behind); returns
   * the backend's name and what it said of itself. @default {the current tfjs backend}
   */
  prepare?(
    config: C,
  ): Promise<{ name: string; detail?: string }> | { name: string; detail?: string };
  /** Versions recorded in `run.json`. */
  versions?: Record<string, unknown>;
  /** The code's git commit, recorded in `run.json`. */
  gitCommit?: string | null;
  /** Called once the run directory exists and is locked (its id and directory). */
  opened?(run: { id: string; dir: string }): void;
}

/** How a run ended. */
export interface TrainRunResult<C extends RunConfig> {
  /** The run's id (its directory's name). */
  id: string;
  /** The run directory. */
  dir: string;
  /** The configuration it ran with. */
  config: C;
  /** Its final status. */
  status: RunStatus;
  /** Steps done. */
  step: number;
  /** The mean loss of the last metrics line. */
  lastLoss: number;
  /** The loss of every step taken now. */
  losses: number[];
  /** Why a failed run failed, one line. */
  error?: string;
}

interface Opened<C extends RunConfig> {
  id: string;
  dir: string;
  lock: RunLock;
  config: C;
  saved?: RunRecord;
  recorded: boolean;
}

async function _open<C extends RunConfig>(options: TrainRunOptions<C>): Promise<Opened<C>> {
  if (!options.resume) {
    if (!options.config) throw new TypeError("Cannot start a run: no config given");
    const { id, dir } = await createRunDir(options.runs, options.config.name);
    try {
      return { id, dir, lock: await acquireRunLock(dir), config: options.config, recorded: false };
    } catch (e) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw e;
    }
  }
  const dir = options.resume;
  const lock = await acquireRunLock(dir);
  try {
    const saved = await readRunRecord(dir);
    const config = options.config ?? (saved.config as unknown as C);
    return { id: saved.id, dir, lock, config, saved, recorded: true };
  } catch (e) {
    lock.releaseSync();
    throw e;
  }
}

/**
 * Marks a run `interrupted` at once, synchronously (for a process about to exit on a second
 * Ctrl-C): resume continues from its last checkpoint.
 *
 * @example
 * ```ts
 * import { markInterruptedSync } from "./train_run.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/run.json`, JSON.stringify({ id: "r", status: "running" }));
 * markInterruptedSync(dir, "quit on a second signal");
 * assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/run.json`)).status, "interrupted");
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param dir The run directory.
 * @param why The reason, recorded as the run's `error`.
 */
export function markInterruptedSync(dir: string, why: string): void {
  try {
    const record = JSON.parse(Deno.readTextFileSync(`${dir}/run.json`)) as RunRecord;
    record.status = "interrupted";
    record.error = `${why}; resume continues from ${
      record.lastCheckpoint ?? "the last checkpoint"
    }`;
    writeRunRecordSync(dir, record);
  } catch { /* quitting anyway */ }
}

/**
 * Trains a run in a run directory: a new one under `runs`, or the run at `resume` continued
 * (see the module's notes). The directory is locked while it trains: a second trainer of the
 * same run gets a `RunLockedError`. A new run whose `run.json` was never written is removed
 * on failure.
 *
 * @example
 * ```ts
 * import { trainRun } from "./train_run.ts";
 * import assert from "node:assert/strict";
 * const runs = await Deno.makeTempDir();
 * const config = {
 *   dataset: "s-curve", model: "mlp", schedule: "linear", timesteps: 40, loss: "simple",
 *   variance: "fixed-large", tSampler: "uniform", batch: 8, lr: 1e-3, warmup: 0, ema: 0.99,
 *   clip: 1, dropout: 0, timeEmbedding: "learned", seed: 0, microBatch: 0,
 *   steps: 6, name: "tiny", logEvery: 2, checkpointEvery: 3, keepCheckpoints: 0,
 *   sampleEvery: 0, evalEvery: 0,
 * } as const;
 * const hooks = {
 *   async *batches() { while (true) yield { x: new Float32Array(16).fill(0.2), shape: [8, 2] }; },
 * };
 * const stop = new AbortController();
 * stop.abort(); // stops after the first step
 * const first = await trainRun({ runs, config, hooks, signal: stop.signal });
 * assert.equal(first.status, "interrupted");
 * const done = await trainRun({ runs, resume: first.dir, hooks });
 * assert.equal(done.status, "completed");
 * assert.equal(done.step, 6);
 * await Deno.remove(runs, { recursive: true });
 * ```
 *
 * @param options Where, what, and the caller's hooks.
 * @returns How the run ended.
 */
export async function trainRun<C extends RunConfig>(
  options: TrainRunOptions<C>,
): Promise<TrainRunResult<C>> {
  const run = await _open(options);
  // Deno.exit (a second Ctrl-C) skips `finally`; the unload event still runs.
  const onUnload = () => run.lock.releaseSync();
  globalThis.addEventListener("unload", onUnload);
  try {
    options.opened?.({ id: run.id, dir: run.dir });
    const backend = (await options.prepare?.(run.config)) ?? { name: tf.getBackend() };
    return await _train(run, options, backend);
  } catch (e) {
    if (!run.recorded) await Deno.remove(run.dir, { recursive: true }).catch(() => {});
    throw e;
  } finally {
    globalThis.removeEventListener("unload", onUnload);
    await run.lock.release();
  }
}

async function _train<C extends RunConfig>(
  run: Opened<C>,
  options: TrainRunOptions<C>,
  backend: { name: string; detail?: string },
): Promise<TrainRunResult<C>> {
  const trainer = createDiffusionTrainer({ recipe: run.config, backendName: backend.name });
  try {
    return await _trainWith(run, options, trainer, backend);
  } finally {
    trainer.dispose();
  }
}

async function _trainWith<C extends RunConfig>(
  run: Opened<C>,
  options: TrainRunOptions<C>,
  trainer: DiffusionTrainer,
  backend: { name: string; detail?: string },
): Promise<TrainRunResult<C>> {
  const { id, dir, config } = run;
  const { hooks } = options;
  const note = (line: string) => hooks.note?.(line);
  const paths = runPaths(dir);
  let sums: MetricsSums = emptySums();
  let finalOnly = false;
  let step = 0;
  if (run.saved) {
    const { found, skipped } = await loadNewestCheckpoint(dir, { setAside: true });
    const passed = skipped.map((s) =>
      `${s.name} (${s.reason}; set aside as ${basename(s.movedTo ?? s.name)})`
    );
    if (!found) {
      throw new Error(
        `Cannot resume ${id}: ${
          passed.length ? `no checkpoint loads: ${passed.join(", ")}` : "it has no checkpoint"
        }`,
      );
    }
    if (found.checkpoint.emaOnly) {
      throw new RunUsageError(
        `Cannot resume ${id}: ${found.dir.name} holds only EMA weights for sampling (a shipped model); train a new run instead`,
      );
    }
    const extra = restoreTrainingCheckpoint<C, MetricsSums>(trainer, found.checkpoint);
    if (extra.metrics) sums = { ...extra.metrics };
    step = trainer.stepCount;
    if (step >= config.steps) {
      if (config.steps !== run.saved.steps || run.saved.status === "completed") {
        throw new RunUsageError(
          `Run ${id} is already at step ${step}; pass --steps larger than that to train it further`,
        );
      }
      finalOnly = true;
    }
    if (passed.length) {
      note(
        `resuming ${id} from ${found.dir.name}, the newest good checkpoint; passed over ${
          passed.join(", ")
        }`,
      );
    }
    // The files go back to the checkpoint's step; what follows it is written again.
    await cutJsonlAfter(paths.metrics, step);
    const redoEval = finalOnly || (config.evalEvery > 0 && step % config.evalEvery === 0);
    await filterJsonl(
      paths.eval,
      (r) =>
        r.source !== undefined || typeof r.step !== "number" || r.step < step ||
        (r.step === step && !redoEval),
    );
    note(
      finalOnly
        ? `resuming ${id} at step ${step}: the final samples and evaluation`
        : `resuming ${id} from step ${step}`,
    );
  }

  const now = new Date().toISOString();
  const record: RunRecord = run.saved
    ? {
      ...run.saved,
      status: "running",
      backend: backend.name,
      backendDetail: backend.detail,
      pid: Deno.pid,
      step,
      steps: config.steps,
      config: { ...config } as Record<string, unknown>,
      resumedFrom: [...(run.saved.resumedFrom ?? []), step],
      error: undefined,
      endedAt: undefined,
    }
    : {
      id,
      name: config.name,
      status: "running",
      dataset: config.dataset,
      model: config.model,
      backend: backend.name,
      backendDetail: backend.detail,
      config: { ...config } as Record<string, unknown>,
      versions: options.versions ?? { deno: Deno.version.deno, tfjs: tf.version_core },
      gitCommit: options.gitCommit ?? null,
      startedAt: now,
      updatedAt: now,
      step: 0,
      steps: config.steps,
      paramCount: trainer.model.paramCount(),
      pid: Deno.pid,
    };
  await writeRunRecord(dir, record);
  run.recorded = true;
  note(`run ${id}: ${config.dataset} / ${config.model} (${trainer.model.paramCount()} parameters)`);

  const context: RunContext = { id, dir, paths, trainer };
  const sink: TrainingSink = {
    start: () => hooks.start?.(context),
    step: hooks.step,
    metrics: async (line) => {
      await appendJsonl(paths.metrics, line);
      record.step = line.step;
    },
    checkpoint: async (at, metrics) => {
      await saveTrainingCheckpoint(paths.checkpoint(at), trainer, { config, metrics });
      record.lastCheckpoint = stepName(at, "");
      record.step = at;
      await pruneCheckpoints(dir, config.keepCheckpoints);
      await writeRunRecord(dir, record);
    },
    samples: (at, final) => hooks.samples?.(context, at, final),
    evaluate: async (at, final) => {
      if (!hooks.evaluate) return;
      const metrics = await hooks.evaluate(context, at, final);
      await appendJsonl(paths.eval, { step: at, time: new Date().toISOString(), ...metrics });
    },
    final: async (at) => {
      // The final phase, after the last checkpoint: a run stopped here finishes it on resume.
      record.step = at;
      await writeRunRecord(dir, record);
      note(`final samples and evaluation at step ${at}`);
    },
    note,
  };

  let status: RunStatus = "running";
  let error: string | undefined;
  const started = performance.now();
  const batches = finalOnly ? (async function* () {})() : hooks.batches(step);
  let result;
  try {
    result = await trainLoop({
      trainer,
      batches,
      target: config.steps,
      sink,
      every: {
        log: config.logEvery,
        checkpoint: config.checkpointEvery,
        samples: config.sampleEvery,
        evaluate: config.evalEvery,
      },
      signal: options.signal,
      deadline: options.deadline,
      sums,
      finalOnly,
    });
    status = result.status;
    step = result.step;
    if (result.error) {
      error = `${result.error}; the last good checkpoint is ${record.lastCheckpoint ?? "none"}`;
    }
  } catch (e) {
    status = "failed";
    step = trainer.stepCount;
    error = e instanceof Error ? e.message.split("\n")[0] : String(e);
    if (record.lastCheckpoint === stepName(step, "") && step > 0) {
      error += `; saved checkpoint ${record.lastCheckpoint}`;
    }
    throw e;
  } finally {
    await hooks.closeBatches?.();
    record.status = status;
    record.step = step;
    record.endedAt = new Date().toISOString();
    if (error) record.error = error;
    await writeRunRecord(dir, record);
    const secs = (performance.now() - started) / 1000;
    note(`${status}: ${id} at step ${step} in ${secs.toFixed(1)}s${error ? ` (${error})` : ""}`);
  }
  return {
    id,
    dir,
    config,
    status,
    step,
    lastLoss: result.lastLoss,
    losses: result.losses,
    ...(error ? { error } : {}),
  };
}
