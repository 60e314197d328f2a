/**
 * One training run end to end: backend, schedule, model, trainer and data pipeline wired
 * together; the run directory kept up to date (run.json, metrics.jsonl, eval.jsonl, pictures,
 * checkpoints); Ctrl-C, SIGTERM, SIGHUP, resume, a second trainer of the same run, corrupt
 * checkpoints and non-finite losses handled without losing the run.
 *
 * @module
 */
import { basename } from "node:path";
import { tf } from "../lib/tf.ts";
import { Rng, type RngState } from "../lib/random.ts";
import { createSchedule, type Schedule } from "../lib/schedule.ts";
import { trainingLosses } from "../lib/loss.ts";
import { createTimestepSampler } from "../lib/timestep_sampler.ts";
import { createModel, type DiffusionModel, type ModelConfig } from "../lib/model/mod.ts";
import {
  createTrainer,
  defaultMicroBatch,
  saveCheckpoint,
  type Trainer,
} from "../lib/train/mod.ts";
import { type BackendInfo, initBackend } from "../lib/backend/mod.ts";
import { createPipeline, type Pipeline } from "../workers/mod.ts";
import { encodePng } from "../lib/image/mod.ts";
import { appendJsonl, writeFileAtomic } from "../lib/io/atomic.ts";
import {
  acquireRunLock,
  cutJsonlAfter,
  filterJsonl,
  loadNewestCheckpoint,
  pruneCheckpoints,
  type RunLock,
  RunLockedError,
  runPaths,
  stepName,
} from "../lib/run/mod.ts";
import { pipelineOptionsOf, resumedConfig, type TrainConfig } from "./_train_options.ts";
import {
  createRunDir,
  findRunDir,
  gitCommit,
  readRunRecord,
  type RunRecord,
  writeRunRecord,
  writeRunRecordSync,
} from "./_run_dir.ts";
import { forwardPicture, framesPicture, samplesPicture } from "./_pictures.ts";
import { dataSample, evaluate, generateSamples, samplingSchedule } from "./_evaluate.ts";
import { createProgress } from "./_progress.ts";
import { UsageError } from "./_cli.ts";

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
  /** Test hook: the loss of this step (1-based) is taken as NaN. */
  _poisonAtStep?: number;
  /** Test hook: the data worker throws when it makes this batch. */
  _failDataAtBatch?: number;
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

/** The model config that a training config implies. */
export function modelConfigOf(config: TrainConfig): ModelConfig {
  const learned = config.variance === "learned-range";
  switch (config.model) {
    case "mlp":
      return {
        kind: "mlp",
        timesteps: config.timesteps,
        outDim: learned ? 4 : 2,
        timeEmbedding: config.timeEmbedding,
        dropout: config.dropout,
        seed: config.seed,
      };
    case "unet-s":
      return {
        kind: "unet-s",
        outChannels: learned ? 2 : 1,
        dropout: config.dropout,
        seed: config.seed,
      };
  }
}

/** The schedule a training config implies. */
export function scheduleOf(config: TrainConfig): Schedule {
  return createSchedule(config.schedule, { numTimesteps: config.timesteps });
}

/** A run directory opened for training: new, or an existing run to continue. */
interface OpenRun {
  id: string;
  dir: string;
  lock: RunLock;
  config: TrainConfig;
  /** The saved record of a resumed run; undefined for a new one. */
  saved?: RunRecord;
  /** Whether this run's `run.json` has been written (a new run's directory is removed if not). */
  recorded: boolean;
}

async function _initBackend(
  name: TrainConfig["backend"],
  write: (line: string) => void,
): Promise<BackendInfo> {
  const backend = await initBackend(name);
  write(`backend: ${backend.detail}`);
  return backend;
}

async function _lock(dir: string): Promise<RunLock> {
  try {
    return await acquireRunLock(dir);
  } catch (e) {
    if (e instanceof RunLockedError) throw new UsageError(e.message);
    throw e;
  }
}

async function _open(config: TrainConfig, options: RunOptions): Promise<OpenRun> {
  if (!options.resume) {
    const { id, dir } = await createRunDir(config.out, config.name);
    return { id, dir, lock: await _lock(dir), config, recorded: false };
  }
  const dir = await findRunDir(config.out, options.resume);
  const lock = await _lock(dir);
  try {
    const saved = await readRunRecord(dir);
    const given = new Set(options.given ?? []);
    if (options.resumeSteps) given.add("steps");
    const resumed = resumedConfig(saved.config as unknown as TrainConfig, config, given);
    return { id: saved.id, dir, lock, config: resumed, saved, recorded: true };
  } catch (e) {
    lock.releaseSync();
    throw e;
  }
}

/**
 * Trains according to `config`, writing the run directory as it goes. The run directory is
 * locked while it trains: a second trainer of the same run is refused with a
 * {@linkcode UsageError}.
 *
 * On resume the newest checkpoint that loads is the starting point (newer corrupt ones are set
 * aside, and a line says so); `metrics.jsonl` and `eval.jsonl` are cut back to its step, so the
 * files continue as an uninterrupted run writes them; a run stopped after its last checkpoint
 * (samples and evaluation) finishes that phase.
 *
 * @param config The resolved configuration.
 * @param options Resume, abort signal, output.
 * @returns The run's id, directory, final status and losses.
 */
export async function runTraining(
  config: TrainConfig,
  options: RunOptions = {},
): Promise<TrainResult> {
  const output = _output(options.write ?? ((line: string) => console.error(line)));
  const write = output.write;
  // A new run: the backend first, so that one that cannot load leaves no empty run directory.
  // A resumed run: its saved backend, unless --backend is given.
  let backend: BackendInfo | undefined;
  if (!options.resume) backend = await _initBackend(config.backend, write);
  const run = await _open(config, options);
  // Deno.exit (a second Ctrl-C) skips `finally`; the unload event still runs.
  const onUnload = () => run.lock.releaseSync();
  globalThis.addEventListener("unload", onUnload);
  try {
    backend ??= await _initBackend(run.config.backend, write);
    return await _train(run, backend, options, output);
  } catch (e) {
    if (!run.recorded) await Deno.remove(run.dir, { recursive: true }).catch(() => {});
    throw e;
  } finally {
    globalThis.removeEventListener("unload", onUnload);
    await run.lock.release();
  }
}

interface MetricsAcc {
  n: number;
  loss: number;
  mse: number;
  vlb: number;
  ms: number;
  wait: number;
}

const _emptyAcc = (): MetricsAcc => ({ n: 0, loss: 0, mse: 0, vlb: 0, ms: 0, wait: 0 });
const _due = (every: number, step: number) => every > 0 && step > 0 && step % every === 0;

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

async function _train(
  run: OpenRun,
  backend: BackendInfo,
  options: RunOptions,
  output: Output,
): Promise<TrainResult> {
  const { config } = run;
  const schedule = scheduleOf(config);
  const model: DiffusionModel = createModel(modelConfigOf(config));
  const data = config.dataset === "mnist" ? "image" : "continuous";

  // The timesteps, their weights and the noise of each step travel as `aux`, sliced with the
  // batch when the trainer splits it into micro-batches.
  const trainer = createTrainer({
    model,
    lr: config.lr,
    warmupSteps: config.warmup,
    clipNorm: config.clip,
    emaRate: config.ema,
    seed: config.seed,
    microBatch: config.microBatch || defaultMicroBatch(model.kind, backend.name),
    loss: (apply, x0, _step, aux) => {
      const terms = trainingLosses(schedule, apply, x0, aux.t as tf.Tensor1D, {
        loss: config.loss,
        variance: config.variance,
        data,
        noise: aux.noise!,
      });
      return {
        loss: tf.mean(tf.mul(terms.loss, aux.w!)) as tf.Scalar,
        extras: { loss: terms.loss, mse: tf.mean(terms.mse), vlb: tf.mean(terms.vlb) },
      };
    },
  });

  try {
    return await _trainWith(run, backend, options, output, model, trainer, schedule);
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

async function _trainWith(
  run: OpenRun,
  backend: BackendInfo,
  options: RunOptions,
  output: Output,
  model: DiffusionModel,
  trainer: Trainer,
  schedule: Schedule,
): Promise<TrainResult> {
  const { id, dir, config } = run;
  const write = output.write;
  const paths = runPaths(dir);
  const tSampler = createTimestepSampler(config.tSampler, config.timesteps);
  const rng = new Rng(config.seed, 0x7a1);
  let step = 0;
  // The sums behind the next metrics line (saved in checkpoints: a resumed run's next line
  // covers the same steps as the uninterrupted run's).
  let acc = _emptyAcc();
  // A run stopped after its last checkpoint: only the final samples and evaluation are left.
  let finalOnly = false;
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
    trainer.restore(found.checkpoint);
    const extra = found.checkpoint.extra as {
      rng: RngState;
      tSampler: unknown;
      metrics?: MetricsAcc;
    };
    rng.setState(extra.rng);
    tSampler.setState(extra.tSampler as never);
    if (extra.metrics) acc = { ...extra.metrics };
    step = trainer.stepCount;
    if (step >= config.steps) {
      const retarget = options.resumeSteps || options.given?.has("steps");
      if (retarget || run.saved.status === "completed") {
        throw new UsageError(
          `Run ${id} is already at step ${step}; pass --steps larger than that to train it further`,
        );
      }
      finalOnly = true;
    }
    if (passed.length) {
      write(
        `resuming ${id} from ${found.dir.name}, the newest good checkpoint; passed over ${
          passed.join(", ")
        }`,
      );
    }
    // The files go back to the checkpoint's step; what follows it is written again.
    await cutJsonlAfter(paths.metrics, step);
    const redoEval = finalOnly || _due(config.evalEvery, step);
    await filterJsonl(
      paths.eval,
      (r) =>
        r.source !== undefined || typeof r.step !== "number" || r.step < step ||
        (r.step === step && !redoEval),
    );
    write(
      finalOnly
        ? `resuming ${id} at step ${step}: the final samples and evaluation`
        : `resuming ${id} from step ${step}`,
    );
  }

  const pipeline: Pipeline | null = finalOnly ? null : createPipeline({
    ...pipelineOptionsOf(config, step),
    failAtBatch: options._failDataAtBatch,
  });

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
      config: { ...config },
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
      config: { ...config },
      versions: { deno: Deno.version.deno, tfjs: tf.version_core, diffusion: "0.1.0" },
      gitCommit: await gitCommit(),
      startedAt: now,
      updatedAt: now,
      step: 0,
      steps: config.steps,
      paramCount: model.paramCount(),
      pid: Deno.pid,
    };
  try {
    await writeRunRecord(dir, record);
  } catch (e) {
    await pipeline?.close();
    throw e;
  }
  run.recorded = true;
  write(`run ${id}: ${config.dataset} / ${config.model} (${model.paramCount()} parameters)`);

  // Ctrl-C, SIGTERM and SIGHUP: finish the step, checkpoint, mark the run interrupted; a second
  // Ctrl-C or SIGTERM quits at once (the run marked interrupted; it resumes from its last
  // checkpoint).
  let stoppedBy: string | undefined;
  const listeners: [Deno.Signal, () => void][] = [];
  for (const signal of STOP_SIGNALS) {
    const listener = () => {
      // A hang-up may come twice (the kernel and the shell both send it); it is never a
      // request to quit at once.
      if (stoppedBy && signal === "SIGHUP") return;
      if (stoppedBy) {
        record.status = "interrupted";
        record.error = `quit at once on a second signal (${signal}); resume continues from ${
          record.lastCheckpoint ?? "the last checkpoint"
        }`;
        try {
          writeRunRecordSync(dir, record);
        } catch { /* quitting anyway */ }
        Deno.exit(stopExitCode(stoppedBy));
      }
      stoppedBy = signal;
      // SIGHUP: the terminal is gone; writing to it would fail.
      if (signal === "SIGHUP") output.mute();
      write(
        `${signal}: finishing the current step, then saving a checkpoint (again to quit at once)`,
      );
    };
    try {
      Deno.addSignalListener(signal, listener);
      listeners.push([signal, listener]);
    } catch { /* signal unavailable on this platform */ }
  }
  const onAbort = () => stoppedBy ??= "abort";
  options.signal?.addEventListener("abort", onAbort);
  if (options.signal?.aborted) onAbort();

  const saveCkpt = async () => {
    await saveCheckpoint(paths.checkpoint(step), trainer, {
      rng: rng.getState(),
      tSampler: tSampler.getState(),
      config,
      metrics: acc,
    });
    record.lastCheckpoint = stepName(step, "");
    await pruneCheckpoints(dir, config.keepCheckpoints);
  };
  let reference: { x: Float32Array; n: number } | undefined;
  const referenceData = async () =>
    reference ??= await dataSample(
      config.dataset,
      config.dataset === "mnist" ? 8 : 2000,
      config.seed,
    );
  const writeSamples = async (final = false) => {
    const n = config.dataset === "mnist" ? 64 : 2000;
    const { schedule: sampling } = samplingSchedule(schedule, config.sampleSteps);
    const out = await generateSamples(trainer.ema, schedule, {
      dataset: config.dataset,
      n,
      steps: config.sampleSteps,
      variance: config.variance,
      seed: config.seed + 1,
      trajectoryEvery: final ? Math.max(1, Math.floor(sampling.numTimesteps / 9)) : undefined,
    });
    const ref = config.dataset === "s-curve" ? (await referenceData()).x : undefined;
    const image = samplesPicture(config.dataset, out.x, n, ref);
    await writeFileAtomic(paths.sample(step), encodePng(image));
    if (final && out.trajectory.length > 0) {
      const strip = framesPicture(config.dataset, out.trajectory, n);
      await writeFileAtomic(paths.trajectory, encodePng(strip));
    }
  };
  const runEval = async () => {
    const metrics = await evaluate(trainer.ema, schedule, {
      dataset: config.dataset,
      variance: config.variance,
      seed: config.seed,
      quick: true,
      mcDigits: 256,
      sampleSteps: config.sampleSteps,
    });
    await appendJsonl(paths.eval, { step, time: new Date().toISOString(), ...metrics });
    write(
      `eval @ ${step}: ${Object.entries(metrics).map(([k, v]) => `${k} ${fmt(v)}`).join("  ")}`,
    );
  };
  // What follows a periodic checkpoint (done again when a run resumes from it).
  const periodic = async () => {
    if (_due(config.sampleEvery, step)) await writeSamples();
    if (_due(config.evalEvery, step)) await runEval();
  };

  const progress = createProgress(step, config.steps, {
    tty: options.plain ? false : undefined,
    every: options.progressEvery,
    write,
  });
  const losses: number[] = [];
  let lastLoss = NaN;
  let status: RunRecord["status"] = "running";
  let error: string | undefined;
  const started = performance.now();
  try {
    if (step === 0) {
      const ref = await referenceData();
      const { image } = forwardPicture(config.dataset, ref.x, ref.n, schedule, config.seed);
      await writeFileAtomic(paths.forward, encodePng(image));
    } else if (!finalOnly) {
      await periodic();
    }
    const deadline = config.maxMinutes > 0 ? started + config.maxMinutes * 60_000 : Infinity;
    while (!finalOnly && step < config.steps && !stoppedBy) {
      if (performance.now() >= deadline) {
        write(`time budget of ${config.maxMinutes} min reached at step ${step}`);
        break;
      }
      const tWait = performance.now();
      const batch = await pipeline!.next();
      const waitMs = performance.now() - tWait;
      const t0 = performance.now();
      const { t, weights } = tSampler.sample(config.batch, rng);
      const noise = rng.fillNormal(new Float32Array(batch.x.length));
      const x0 = tf.tensor(batch.x, batch.shape);
      const aux = {
        t: tf.tensor1d(t, "int32"),
        w: tf.tensor1d(Float32Array.from(weights)),
        noise: tf.tensor(noise, batch.shape),
      };
      let result;
      try {
        result = await trainer.step(x0, aux);
      } finally {
        tf.dispose([x0, aux.t, aux.w, aux.noise]);
      }
      const ms = performance.now() - t0;
      if (options._poisonAtStep === step + 1) result.loss = NaN;
      if (!Number.isFinite(result.loss)) {
        status = "failed";
        error = `loss became ${result.loss} at step ${step + 1}; the last good checkpoint is ${
          record.lastCheckpoint ?? "none"
        }`;
        break;
      }
      tSampler.update(t, result.extras.loss!);
      step = trainer.stepCount;
      losses.push(result.loss);
      acc.n++;
      acc.loss += result.loss;
      acc.mse += result.extras.mse![0]!;
      acc.vlb += result.extras.vlb![0]!;
      acc.ms += ms;
      acc.wait += waitMs;
      const ips = (config.batch * 1000) / (ms + waitMs);
      if (!output.muted) progress.update({ step, loss: result.loss, itemsPerSec: ips });
      if (step % config.logEvery === 0 || step === config.steps) {
        lastLoss = acc.loss / acc.n;
        await appendJsonl(paths.metrics, {
          step,
          time: new Date().toISOString(),
          loss: lastLoss,
          simple: acc.mse / acc.n,
          vlb: acc.vlb / acc.n,
          gradNorm: result.gradNorm,
          lr: result.lr,
          stepMs: acc.ms / acc.n,
          dataWaitMs: acc.wait / acc.n,
          itemsPerSec: (config.batch * 1000 * acc.n) / (acc.ms + acc.wait),
        });
        acc = _emptyAcc();
        record.step = step;
      }
      if (step === config.steps) break;
      if (_due(config.checkpointEvery, step)) {
        await saveCkpt();
        await writeRunRecord(dir, record);
      }
      await periodic();
    }
    if (status === "running") {
      if (!finalOnly) await saveCkpt();
      if (stoppedBy && step < config.steps) {
        status = "interrupted";
      } else {
        // The final phase, after the last checkpoint: a run stopped here finishes it on resume.
        record.step = step;
        await writeRunRecord(dir, record);
        write(`final samples and evaluation at step ${step}`);
        await writeSamples(true);
        await runEval();
        status = "completed";
      }
    }
  } catch (e) {
    status = "failed";
    error = e instanceof Error ? e.message.split("\n")[0] : String(e);
    // Keep what was learned: a data worker that died leaves the model intact.
    if (step > 0 && !finalOnly) {
      try {
        await saveCkpt();
        error += `; saved checkpoint ${record.lastCheckpoint}`;
      } catch { /* the model itself may be what failed */ }
    }
    throw e;
  } finally {
    if (!output.muted) progress.stop();
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
    options.signal?.removeEventListener("abort", onAbort);
    await pipeline?.close();
    record.status = status;
    record.step = step;
    record.endedAt = new Date().toISOString();
    if (error) record.error = error;
    await writeRunRecord(dir, record);
    const secs = (performance.now() - started) / 1000;
    write(`${status}: ${id} at step ${step} in ${secs.toFixed(1)}s${error ? ` (${error})` : ""}`);
  }
  if (status === "failed") throw new Error(error);
  return {
    id,
    dir,
    status,
    step,
    lastLoss,
    losses,
    ...(status === "interrupted" ? { stoppedBy } : {}),
  };
}

function fmt(v: unknown): string {
  return typeof v === "number"
    ? (Math.abs(v) < 1e-2 ? v.toExponential(3) : v.toFixed(4))
    : String(v);
}
