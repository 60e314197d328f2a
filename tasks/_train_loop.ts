/**
 * The CLI's training run: a resolved {@linkcode TrainConfig} wired to the library. The backend,
 * the data pipeline (workers), the progress bar, the pictures and the evaluation come from
 * here; the procedure (the diffusion training step, the loop, the run directory, resume,
 * checkpoints, the lock) is `lib/run/train_run.ts` on `lib/train/`. Ctrl-C, SIGTERM and SIGHUP
 * stop a run after its current step, as the library's abort signal does.
 *
 * @module
 */
import { tf } from "../lib/tf.ts";
import { type BackendInfo, initBackend } from "../lib/backend/mod.ts";
import { createPipeline, type Pipeline } from "../workers/mod.ts";
import { encodePng } from "../lib/image/mod.ts";
import { writeFileAtomic, writeJsonAtomic } from "../lib/io/atomic.ts";
import {
  type PictureFrames,
  readRunRecord,
  RunLockedError,
  type RunRecord,
} from "../lib/run/mod.ts";
import {
  markInterruptedSync,
  RunUsageError,
  trainRun,
  type TrainRunHooks,
} from "../lib/run/train_run.ts";
import { pipelineOptionsOf, resumedConfig, type TrainConfig } from "./_train_options.ts";
import { findRunDir, gitCommit } from "./_run_dir.ts";
import { forwardPicture, framesPicture, samplesPicture } from "./_pictures.ts";
import { dataSample, evaluate, formatEvaluation, generateSamples } from "./_evaluate.ts";
import { samplingSchedule } from "../lib/respace.ts";
import { CLASS_SAMPLING } from "../lib/class_sampling.ts";
import { classGridPicture, generateClassSamples } from "./_class_samples.ts";
import { createProgress, type Progress } from "./_progress.ts";
import { UsageError } from "./_cli.ts";

export { modelConfigOf, scheduleOf } from "../lib/train/recipe.ts";

/** What a finished (or stopped) run reports. */
export interface TrainResult {
  id: string;
  dir: string;
  status: RunRecord["status"];
  step: number;
  /** The mean loss of the last logged interval. */
  lastLoss: number;
  /** The loss of every step, in order (for tests of resume). */
  losses: number[];
  /** What stopped an interrupted run: a signal's name, or "abort" (the `signal` option). */
  stoppedBy?: string;
}

/** Options of {@linkcode runTraining} beyond the config. */
export interface RunOptions {
  /** Id or path of a run to continue. */
  resume?: string;
  /**
   * The flags given on the command line. On resume the saved config stands; of these, `steps`
   * (a new target, which must exceed the checkpoint's step), `keep-checkpoints` replace it.
   */
  given?: ReadonlySet<string>;
  /** On resume, `config.steps` is the new target: the same as `given` holding "steps". */
  resumeSteps?: boolean;
  /** Stops the run after the current step, as Ctrl-C does. */
  signal?: AbortSignal;
  /** Where progress lines go. @default stderr */
  write?: (line: string) => void;
  /** Force plain progress lines (no bar). */
  plain?: boolean;
  /** Seconds between plain progress lines (0: every step). @default 10 */
  progressEvery?: number;
}

/**
 * The signals that stop a run as Ctrl-C does: finish the step, checkpoint, `interrupted`.
 *
 * @example
 * ```ts
 * import { STOP_SIGNALS } from "./_train_loop.ts";
 * import assert from "node:assert/strict";
 * assert.ok(STOP_SIGNALS.includes("SIGTERM"));
 * ```
 */
export const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * The exit code of a run stopped by `signal`: 128 + the signal's number, as shells report it.
 *
 * @param signal A name from {@linkcode STOP_SIGNALS}, or anything else (130, Ctrl-C's).
 * @returns The exit code.
 *
 * @example
 * ```ts
 * import { stopExitCode } from "./_train_loop.ts";
 * import assert from "node:assert/strict";
 * assert.equal(stopExitCode("SIGTERM"), 143);
 * assert.equal(stopExitCode("abort"), 130);
 * ```
 */
export function stopExitCode(signal: string | undefined): number {
  return signal === "SIGTERM" ? 143 : signal === "SIGHUP" ? 129 : 130;
}

/** Where progress lines go; muted for good once the terminal is gone (SIGHUP, failed writes). */
interface Output {
  write: (line: string) => void;
  mute: () => void;
  readonly muted: boolean;
}

function _output(write: (line: string) => void): Output {
  let muted = false;
  return {
    write: (line) => {
      if (muted) return;
      try {
        write(line);
      } catch {
        muted = true;
      }
    },
    mute: () => muted = true,
    get muted() {
      return muted;
    },
  };
}

async function _initBackend(
  name: TrainConfig["backend"],
  write: (line: string) => void,
): Promise<BackendInfo> {
  const backend = await initBackend(name);
  write(`backend: ${backend.detail}`);
  return backend;
}

/**
 * Trains according to `config`, writing the run directory as it goes (see
 * `lib/run/train_run.ts`). A second trainer of the same run, or a resume that cannot continue,
 * is refused with a {@linkcode UsageError}; a non-finite loss fails the run with an error.
 *
 * @param config The resolved configuration.
 * @param options Resume, abort signal, output.
 * @returns The run's id, directory, final status and losses.
 */
export async function runTraining(
  config: TrainConfig,
  options: RunOptions = {},
): Promise<TrainResult> {
  // Lines go through the progress bar once it runs, so that they never glue onto it.
  let progress: Progress | undefined;
  const rawWrite = options.write ?? ((line: string) => console.error(line));
  const output = _output((line) => progress ? progress.log(line) : rawWrite(line));
  const write = output.write;
  let resume: string | undefined;
  let runConfig = config;
  if (options.resume) {
    // A resumed run keeps its saved config, except for what the caller gives anew.
    resume = await findRunDir(config.out, options.resume);
    const saved = await readRunRecord(resume);
    const given = new Set(options.given ?? []);
    if (options.resumeSteps) given.add("steps");
    runConfig = resumedConfig(saved.config as unknown as TrainConfig, config, given);
  }

  const startProgress = (step: number) =>
    progress = createProgress(step, runConfig.steps, {
      tty: options.plain ? false : undefined,
      every: options.progressEvery,
      write: rawWrite,
    });
  const stop = _stopOnSignals(options.signal, output);
  const hooks = _hooks(runConfig, output, () => progress, startProgress);
  try {
    const result = await trainRun({
      runs: config.out,
      resume,
      config: runConfig,
      hooks,
      signal: stop.signal,
      deadline: runConfig.maxMinutes > 0
        ? performance.now() + runConfig.maxMinutes * 60_000
        : undefined,
      // The backend once the run is locked (a refused resume prints nothing else); one that
      // cannot load leaves no new run directory behind.
      prepare: async (c) => {
        const backend = await _initBackend(c.backend, write);
        return { name: backend.name, detail: backend.detail };
      },
      versions: { deno: Deno.version.deno, tfjs: tf.version_core, diffusion: "0.1.0" },
      gitCommit: options.resume ? undefined : await gitCommit(),
      opened: (run) => stop.opened(run.dir),
    });
    if (result.status === "failed") throw new Error(result.error);
    return {
      id: result.id,
      dir: result.dir,
      status: result.status,
      step: result.step,
      lastLoss: result.lastLoss,
      losses: result.losses,
      ...(result.status === "interrupted" ? { stoppedBy: stop.stoppedBy } : {}),
    };
  } catch (e) {
    if (e instanceof RunLockedError || e instanceof RunUsageError) {
      throw new UsageError(e.message);
    }
    throw e;
  } finally {
    stop.dispose();
    if (!output.muted) progress?.stop();
  }
}

/** The CLI's side of a run: data from the worker pipeline, progress, pictures, evaluation. */
function _hooks(
  config: TrainConfig,
  output: Output,
  progress: () => Progress | undefined,
  startProgress: (step: number) => void,
): TrainRunHooks {
  let pipeline: Pipeline | null = null;
  let reference: { x: Float32Array; n: number } | undefined;
  const referenceData = async () =>
    reference ??= await dataSample(
      config.dataset,
      config.dataset === "mnist" ? 8 : 2000,
      config.seed,
    );
  return {
    batches(step) {
      pipeline = createPipeline(pipelineOptionsOf(config, step));
      startProgress(step);
      return pipeline;
    },
    async closeBatches() {
      await pipeline?.close();
    },
    async start({ trainer, paths }) {
      const ref = await referenceData();
      const { image, timesteps } = forwardPicture(
        config.dataset,
        ref.x,
        ref.n,
        trainer.schedule,
        config.seed,
      );
      await writeFileAtomic(paths.forward, encodePng(image));
      await writeJsonAtomic(paths.forwardFrames, { t: timesteps } satisfies PictureFrames);
    },
    async samples({ trainer, paths }, step, final) {
      // A class-conditional model draws one row of 8 per class (conditional, guidance 1).
      const classes = trainer.ema.numClasses;
      const n = classes > 0 ? CLASS_SAMPLING.perClass : config.dataset === "mnist" ? 64 : 2000;
      const { schedule: sampling } = samplingSchedule(trainer.schedule, config.sampleSteps);
      const options = {
        dataset: config.dataset,
        n,
        steps: config.sampleSteps,
        variance: config.variance,
        seed: config.seed + 1,
        trajectoryEvery: final ? Math.max(1, Math.floor(sampling.numTimesteps / 9)) : undefined,
        onProgress: (done: number, all: number) =>
          progress()?.activity("sampling pictures", done, all),
      };
      const out = classes > 0
        ? await generateClassSamples(trainer.ema, trainer.schedule, {
          ...options,
          classes: Array.from({ length: classes }, (_, c) => c),
          perClass: n,
          guidance: CLASS_SAMPLING.guidance,
        })
        : await generateSamples(trainer.ema, trainer.schedule, options);
      progress()?.activity("", 1, 1); // done, whatever the sampler reported
      const ref = config.dataset === "s-curve" ? (await referenceData()).x : undefined;
      const image = classes > 0
        ? classGridPicture(out.x, n)
        : samplesPicture(config.dataset, out.x, n, ref);
      await writeFileAtomic(paths.sample(step), encodePng(image));
      if (final && out.trajectory.length > 0) {
        const strip = framesPicture(config.dataset, out.trajectory, n);
        await writeFileAtomic(paths.trajectory, encodePng(strip));
        const frames: PictureFrames = { t: out.trajectorySteps };
        await writeJsonAtomic(paths.trajectoryFrames, frames);
      }
    },
    async evaluate({ trainer }, step) {
      // MNIST: the quality of QUICK_QUALITY_N digits sampled with the run's sampling steps,
      // each measure beside its floor at the same n.
      const metrics = await evaluate(trainer.ema, trainer.schedule, {
        dataset: config.dataset,
        variance: config.variance,
        seed: config.seed,
        quick: true,
        mcDigits: 256,
        sampleSteps: config.sampleSteps,
        ...(config.dataset === "mnist"
          ? {
            quality: {
              steps: config.sampleSteps,
              onProgress: (done: number, all: number) =>
                progress()?.activity("evaluating: sampling digits", done, all),
            },
          }
          : {}),
        onProgress: (done, all) => progress()?.activity("evaluating: bound", done, all),
      });
      progress()?.activity("", 1, 1);
      output.write(`eval @ ${step}: ${formatEvaluation(metrics)}`);
      return metrics;
    },
    step(result, itemsPerSec) {
      if (!output.muted) progress()?.update({ step: result.step, loss: result.loss, itemsPerSec });
    },
    note: output.write,
  };
}

/** The stop signals of a run: a first one stops after the step, a second quits at once. */
interface Stop {
  /** Aborted by the first stop signal (or the caller's signal). */
  readonly signal: AbortSignal;
  /** The first signal's name, or "abort". */
  readonly stoppedBy: string | undefined;
  /** The run directory, once known (a second signal marks it interrupted before quitting). */
  opened(dir: string): void;
  /** Removes the listeners. */
  dispose(): void;
}

function _stopOnSignals(outer: AbortSignal | undefined, output: Output): Stop {
  const controller = new AbortController();
  let stoppedBy: string | undefined;
  let dir: string | undefined;
  const listeners: [Deno.Signal, () => void][] = [];
  for (const signal of STOP_SIGNALS) {
    const listener = () => {
      // A hang-up may come twice (the kernel and the shell both send it); it is never a
      // request to quit at once.
      if (stoppedBy && signal === "SIGHUP") return;
      if (stoppedBy) {
        if (dir) markInterruptedSync(dir, `quit at once on a second signal (${signal})`);
        Deno.exit(stopExitCode(stoppedBy));
      }
      stoppedBy = signal;
      // SIGHUP: the terminal is gone; writing to it would fail.
      if (signal === "SIGHUP") output.mute();
      output.write(
        `${signal}: finishing the current step, then saving a checkpoint (again to quit at once)`,
      );
      controller.abort();
    };
    try {
      Deno.addSignalListener(signal, listener);
      listeners.push([signal, listener]);
    } catch { /* signal unavailable on this platform */ }
  }
  const onAbort = () => {
    stoppedBy ??= "abort";
    controller.abort();
  };
  outer?.addEventListener("abort", onAbort);
  if (outer?.aborted) onAbort();
  return {
    signal: controller.signal,
    get stoppedBy() {
      return stoppedBy;
    },
    opened: (d) => dir = d,
    dispose() {
      for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
      outer?.removeEventListener("abort", onAbort);
    },
  };
}
