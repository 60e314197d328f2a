/**
 * One training run end to end: backend, schedule, model, trainer and data pipeline wired
 * together; the run directory kept up to date (run.json, metrics.jsonl, eval.jsonl, pictures,
 * checkpoints); Ctrl-C, resume and non-finite losses handled without losing the run.
 *
 * @module
 */
import { join } from "node:path";
import { tf } from "../lib/tf.ts";
import { Rng, type RngState } from "../lib/random.ts";
import { createSchedule, type Schedule } from "../lib/schedule.ts";
import { trainingLosses } from "../lib/loss.ts";
import { createTimestepSampler } from "../lib/timestep_sampler.ts";
import { createModel, type DiffusionModel, type ModelConfig } from "../lib/model/mod.ts";
import {
  createTrainer,
  defaultMicroBatch,
  loadCheckpoint,
  saveCheckpoint,
} from "../lib/train/mod.ts";
import { type BackendInfo, initBackend } from "../lib/backend/mod.ts";
import { createPipeline } from "../workers/mod.ts";
import { encodePng } from "../lib/image/mod.ts";
import { appendJsonl, writeFileAtomic } from "../lib/io/atomic.ts";
import type { TrainConfig } from "./_train_options.ts";
import {
  createRunDir,
  findRunDir,
  gitCommit,
  latestCheckpoint,
  readRunRecord,
  type RunRecord,
  stepName,
  writeRunRecord,
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
}

/** Options of {@linkcode runTraining} beyond the config. */
export interface RunOptions {
  /** Id or path of a run to continue. */
  resume?: string;
  /**
   * On resume, the run's new target step count: `config.steps` replaces the saved one (it must
   * exceed the step of the checkpoint). Without it the target is the larger of the two.
   */
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

/**
 * Trains according to `config`, writing the run directory as it goes.
 *
 * @param config The resolved configuration.
 * @param options Resume, abort signal, output.
 * @returns The run's id, directory, final status and losses.
 */
export async function runTraining(
  config: TrainConfig,
  options: RunOptions = {},
): Promise<TrainResult> {
  const write = options.write ?? ((line: string) => console.error(line));
  // The backend first: a backend that cannot load leaves no empty run directory behind.
  const backend: BackendInfo = await initBackend(config.backend);
  write(`backend: ${backend.detail}`);
  let dir: string, id: string;
  let record: RunRecord | undefined;
  let checkpointDir: string | null = null;
  if (options.resume) {
    dir = await findRunDir(config.out, options.resume);
    record = await readRunRecord(dir);
    id = record.id;
    const saved = record.config as unknown as TrainConfig;
    // The run's own config wins, except the target step count (which may grow), the time
    // budget of this invocation and where the runs live.
    config = {
      ...saved,
      steps: options.resumeSteps ? config.steps : Math.max(config.steps, saved.steps),
      maxMinutes: config.maxMinutes,
      out: config.out,
    };
    checkpointDir = await latestCheckpoint(dir);
    if (!checkpointDir) throw new Error(`Cannot resume ${id}: it has no checkpoint`);
  } else {
    ({ id, dir } = await createRunDir(config.out, config.name));
  }

  const schedule = scheduleOf(config);
  const model: DiffusionModel = createModel(modelConfigOf(config));
  const tSampler = createTimestepSampler(config.tSampler, config.timesteps);
  const rng = new Rng(config.seed, 0x7a1);
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

  let step = 0;
  if (checkpointDir) {
    const ckpt = await loadCheckpoint(checkpointDir);
    trainer.restore(ckpt);
    const extra = ckpt.extra as { rng: RngState; tSampler: unknown };
    rng.setState(extra.rng);
    tSampler.setState(extra.tSampler as never);
    step = trainer.stepCount;
    if (step >= config.steps) {
      throw new UsageError(
        `Run ${id} is already at step ${step}; pass --steps larger than that to train it further`,
      );
    }
    write(`resuming ${id} from step ${step}`);
  }

  const pipeline = createPipeline({
    dataset: config.dataset,
    batchSize: config.batch,
    workers: config.workers,
    prefetch: config.prefetch,
    seed: config.seed,
    startBatch: step,
    failAtBatch: options._failDataAtBatch,
    sCurve: { mode: config.sCurveMode, n: config.sCurveN, noise: 0.1, jitter: config.jitter },
    mnist: {
      split: "train",
      translate: config.translate,
      rotate: config.rotate,
      dequantize: config.dequantize,
    },
  });

  const now = new Date().toISOString();
  record = record
    ? {
      ...record,
      status: "running",
      backend: backend.name,
      backendDetail: backend.detail,
      pid: Deno.pid,
      steps: config.steps,
      config: { ...config },
      resumedFrom: [...(record.resumedFrom ?? []), step],
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
  await writeRunRecord(dir, record);
  write(`run ${id}: ${config.dataset} / ${config.model} (${model.paramCount()} parameters)`);

  const reference = await dataSample(
    config.dataset,
    config.dataset === "mnist" ? 8 : 2000,
    config.seed,
  );
  if (step === 0) {
    const { image } = forwardPicture(
      config.dataset,
      reference.x,
      reference.n,
      schedule,
      config.seed,
    );
    await writeFileAtomic(join(dir, "forward.png"), encodePng(image));
  }

  let interrupted = false;
  const onSigint = () => {
    if (interrupted) Deno.exit(130);
    interrupted = true;
    write("interrupt: finishing the current step, then saving a checkpoint (Ctrl-C again to quit)");
  };
  try {
    Deno.addSignalListener("SIGINT", onSigint);
  } catch { /* signals unavailable (e.g. in some test environments) */ }
  options.signal?.addEventListener("abort", () => interrupted = true);

  const saveCkpt = async () => {
    const path = join(dir, "checkpoints", stepName(step, ""));
    await saveCheckpoint(path, trainer, {
      rng: rng.getState(),
      tSampler: tSampler.getState(),
      config,
    });
    record!.lastCheckpoint = stepName(step, "");
  };
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
    const ref = config.dataset === "s-curve" ? reference.x : undefined;
    const image = samplesPicture(config.dataset, out.x, n, ref);
    await writeFileAtomic(join(dir, "samples", stepName(step, ".png")), encodePng(image));
    if (final && out.trajectory.length > 0) {
      const strip = framesPicture(config.dataset, out.trajectory, n);
      await writeFileAtomic(join(dir, "trajectory.png"), encodePng(strip));
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
    await appendJsonl(join(dir, "eval.jsonl"), {
      step,
      time: new Date().toISOString(),
      ...metrics,
    });
    write(
      `eval @ ${step}: ${Object.entries(metrics).map(([k, v]) => `${k} ${fmt(v)}`).join("  ")}`,
    );
  };

  const progress = createProgress(step, config.steps, {
    tty: options.plain ? false : undefined,
    every: options.progressEvery,
    write,
  });
  const losses: number[] = [];
  let acc = { n: 0, loss: 0, mse: 0, vlb: 0, ms: 0, wait: 0 };
  let lastLoss = NaN;
  let status: RunRecord["status"] = "running";
  let error: string | undefined;
  const started = performance.now();
  try {
    const deadline = config.maxMinutes > 0 ? started + config.maxMinutes * 60_000 : Infinity;
    while (step < config.steps && !interrupted) {
      if (performance.now() >= deadline) {
        write(`time budget of ${config.maxMinutes} min reached at step ${step}`);
        break;
      }
      const tWait = performance.now();
      const batch = await pipeline.next();
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
      progress.update({ step, loss: result.loss, itemsPerSec: ips });
      if (step % config.logEvery === 0 || step === config.steps) {
        lastLoss = acc.loss / acc.n;
        await appendJsonl(join(dir, "metrics.jsonl"), {
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
        acc = { n: 0, loss: 0, mse: 0, vlb: 0, ms: 0, wait: 0 };
        record.step = step;
      }
      const last = step === config.steps;
      if (config.checkpointEvery > 0 && step % config.checkpointEvery === 0 && !last) {
        await saveCkpt();
        await writeRunRecord(dir, record);
      }
      if (config.sampleEvery > 0 && step % config.sampleEvery === 0 && !last) await writeSamples();
      if (config.evalEvery > 0 && step % config.evalEvery === 0 && !last) await runEval();
    }
    if (status === "running") {
      await saveCkpt();
      if (interrupted && step < config.steps) {
        status = "interrupted";
      } else {
        await writeSamples(true);
        await runEval();
        status = "completed";
      }
    }
  } catch (e) {
    status = "failed";
    error = e instanceof Error ? e.message.split("\n")[0] : String(e);
    // Keep what was learned: a data worker that died leaves the model intact.
    if (step > 0) {
      try {
        await saveCkpt();
        error += `; saved checkpoint ${record.lastCheckpoint}`;
      } catch { /* the model itself may be what failed */ }
    }
    throw e;
  } finally {
    progress.stop();
    try {
      Deno.removeSignalListener("SIGINT", onSigint);
    } catch { /* never added */ }
    await pipeline.close();
    record.status = status;
    record.step = step;
    record.endedAt = new Date().toISOString();
    if (error) record.error = error;
    await writeRunRecord(dir, record);
    trainer.dispose();
    model.dispose();
    const secs = (performance.now() - started) / 1000;
    write(`${status}: ${id} at step ${step} in ${secs.toFixed(1)}s${error ? ` (${error})` : ""}`);
  }
  if (status === "failed") throw new Error(error);
  return { id, dir, status, step, lastLoss, losses };
}

function fmt(v: unknown): string {
  return typeof v === "number"
    ? (Math.abs(v) < 1e-2 ? v.toExponential(3) : v.toFixed(4))
    : String(v);
}
