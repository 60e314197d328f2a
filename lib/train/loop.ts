/**
 * The training loop: steps a diffusion trainer through batches up to a target, with a deadline
 * and an abort signal, and hands everything worth keeping to a sink (metrics lines, checkpoints,
 * samples, evaluations). It keeps no files itself: `lib/run/sink.ts` writes a run directory, a
 * test's sink keeps arrays in memory.
 *
 * The schedule of a run, step by step (every "due" is `every > 0 && step % every === 0`):
 * 1. a fresh run calls `sink.start`; a resumed one redoes the samples and evaluation due at its
 *    step (they follow the checkpoint it resumes from);
 * 2. each step: the next batch, `trainer.step`, `sink.step`; a metrics line when due (and at the
 *    target); at the target the loop ends, else a checkpoint, samples, evaluation when due;
 * 3. after the last step, a checkpoint; then, unless the run was stopped short of its target,
 *    the final phase (`sink.final`, samples, evaluation), after which the run is complete. A run
 *    whose checkpoint is at its target and whose final phase did not finish resumes with
 *    `finalOnly`.
 *
 * A non-finite loss fails the run (status `failed`, the weights untouched since the last
 * checkpoint are not saved). Any error (the data, a sink) saves a checkpoint of the last good
 * step, then propagates.
 *
 * @module
 */
import type { MetricsLine } from "../run/layout.ts";
import type { DiffusionStepResult, DiffusionTrainer } from "./diffusion_trainer.ts";

/** A batch of clean data. */
export interface TrainingBatch {
  /** The values, row-major. */
  x: Float32Array;
  /** The shape; the first entry is the batch size. */
  shape: readonly number[];
  /** Class labels, one per example (what a class-conditional model trains with; MNIST's). */
  labels?: ArrayLike<number>;
  /** How long the data source kept the loop waiting for it, in milliseconds. */
  waitMs?: number;
}

/**
 * The standard deviation of the per-step loss over a metrics line's steps (the noise of the
 * objective, Improved DDPM's figure 2), 0 for a single step.
 */
function _spread(sums: MetricsSums): number {
  if (sums.n < 2 || sums.lossSq === undefined) return 0;
  const mean = sums.loss / sums.n;
  return Math.sqrt(Math.max(0, (sums.lossSq - sums.n * mean * mean) / (sums.n - 1)));
}

/** The sums behind the next metrics line (a checkpoint keeps them, so resume logs the same). */
export interface MetricsSums {
  /** Steps summed. */
  n: number;
  /** Sum of losses. */
  loss: number;
  /** Sum of squared losses (for the spread of the objective). Absent in older checkpoints. */
  lossSq?: number;
  /** Sum of noise MSEs. */
  mse: number;
  /** Sum of bound terms. */
  vlb: number;
  /** Sum of step times, ms. */
  ms: number;
  /** Sum of data waits, ms. */
  wait: number;
}

/** What a training loop hands out; every member is optional. */
export interface TrainingSink {
  /** A fresh run is about to take its first step. */
  start?(): Promise<void> | void;
  /** Each step's numbers, with the throughput of that step (items a second, data wait included). */
  step?(result: DiffusionStepResult, itemsPerSec: number): void;
  /** A metrics line (every `logEvery` steps and at the target). */
  metrics?(line: MetricsLine): Promise<void> | void;
  /** Keep a checkpoint of the trainer at `step`, with the sums of the next metrics line. */
  checkpoint?(step: number, sums: MetricsSums): Promise<void> | void;
  /** Draw samples at `step` (`final`: the run's last). */
  samples?(step: number, final: boolean): Promise<void> | void;
  /** Evaluate at `step` (`final`: the run's last). */
  evaluate?(step: number, final: boolean): Promise<void> | void;
  /** The last checkpoint is saved and the final samples and evaluation follow. */
  final?(step: number): Promise<void> | void;
  /** A line for the person watching (a deadline reached). */
  note?(line: string): void;
}

/** How often the loop hands things to the sink (0: never, only at the end). */
export interface TrainingEvery {
  /** Metrics lines. @default {1} */
  log?: number;
  /** Checkpoints. @default {0} */
  checkpoint?: number;
  /** Samples. @default {0} */
  samples?: number;
  /** Evaluations. @default {0} */
  evaluate?: number;
}

/** Options of {@linkcode trainLoop}. */
export interface TrainLoopOptions {
  /** The trainer (its `stepCount` is where the loop starts). */
  trainer: Pick<DiffusionTrainer, "step" | "stepCount">;
  /** The batches; only as many are taken as there are steps to take. */
  batches: AsyncIterable<TrainingBatch> | AsyncIterator<TrainingBatch>;
  /** The step to train to. */
  target: number;
  /** Where things go. */
  sink?: TrainingSink;
  /** How often. */
  every?: TrainingEvery;
  /** Stops after the current step (then a checkpoint; the run is `interrupted`). */
  signal?: AbortSignal;
  /** A `performance.now()` time after which no step starts; the run then ends as complete. */
  deadline?: number;
  /** The sums of a resumed run's next metrics line (from its checkpoint). */
  sums?: MetricsSums;
  /** Only the final phase is left (a run whose last checkpoint is at its target). */
  finalOnly?: boolean;
}

/** How a loop ended. */
export interface TrainLoopResult {
  /** `completed`, `interrupted` (the signal), or `failed` (a non-finite loss). */
  status: "completed" | "interrupted" | "failed";
  /** Steps done. */
  step: number;
  /** The loss of every step this loop took, in order. */
  losses: number[];
  /** The mean loss of the last metrics line (NaN if none). */
  lastLoss: number;
  /** Why a failed run failed, one line. */
  error?: string;
  /** Whether the deadline ended the run before its target. */
  deadlineReached?: boolean;
}

/**
 * Sums for an empty metrics interval.
 *
 * @example
 * ```ts
 * import { emptySums } from "./loop.ts";
 * import assert from "node:assert/strict";
 * assert.equal(emptySums().n, 0);
 * ```
 *
 * @returns Zeroed sums.
 */
export function emptySums(): MetricsSums {
  return { n: 0, loss: 0, lossSq: 0, mse: 0, vlb: 0, ms: 0, wait: 0 };
}

const _due = (every: number | undefined, step: number) =>
  every !== undefined && every > 0 && step > 0 && step % every === 0;

/**
 * Trains `trainer` to `target` on `batches`, handing metrics, checkpoints, samples and
 * evaluations to `sink` (see the module's schedule).
 *
 * @example
 * ```ts
 * import { createDiffusionTrainer } from "./diffusion_trainer.ts";
 * import { trainLoop } from "./loop.ts";
 * import assert from "node:assert/strict";
 * const trainer = createDiffusionTrainer({ recipe: {
 *   dataset: "s-curve", model: "mlp", schedule: "linear", timesteps: 40, loss: "simple",
 *   variance: "fixed-large", tSampler: "uniform", batch: 8, lr: 1e-3, warmup: 0, ema: 0.99,
 *   clip: 1, dropout: 0, timeEmbedding: "learned", seed: 0, microBatch: 0,
 * } });
 * async function* batches() {
 *   while (true) yield { x: new Float32Array(16).fill(0.3), shape: [8, 2] };
 * }
 * const saved: number[] = [];
 * const r = await trainLoop({
 *   trainer, batches: batches(), target: 6, every: { log: 2, checkpoint: 4 },
 *   sink: { checkpoint: (step) => { saved.push(step); } },
 * });
 * assert.equal(r.status, "completed");
 * assert.deepEqual(saved, [4, 6]);
 * trainer.dispose();
 * ```
 *
 * @param options The trainer, the batches, the target, the sink and the cadence.
 * @returns How the loop ended.
 */
export async function trainLoop(options: TrainLoopOptions): Promise<TrainLoopResult> {
  const { trainer, target, sink = {}, every = {}, signal, finalOnly = false } = options;
  const logEvery = every.log ?? 1;
  const iterator = Symbol.asyncIterator in options.batches
    ? (options.batches as AsyncIterable<TrainingBatch>)[Symbol.asyncIterator]()
    : options.batches as AsyncIterator<TrainingBatch>;
  const deadline = options.deadline ?? Infinity;
  let step = trainer.stepCount;
  let sums = options.sums ? { ...options.sums } : emptySums();
  const losses: number[] = [];
  let lastLoss = NaN;
  let deadlineReached = false;
  let checkpointed = finalOnly ? step : -1;
  const checkpoint = async () => {
    if (checkpointed === step) return;
    await sink.checkpoint?.(step, sums);
    checkpointed = step;
  };
  const periodic = async () => {
    if (_due(every.samples, step)) await sink.samples?.(step, false);
    if (_due(every.evaluate, step)) await sink.evaluate?.(step, false);
  };

  try {
    if (step === 0) await sink.start?.();
    else if (!finalOnly) await periodic();
    while (!finalOnly && step < target && !signal?.aborted) {
      if (performance.now() >= deadline) {
        deadlineReached = true;
        sink.note?.(`time budget reached at step ${step}`);
        break;
      }
      const next = await iterator.next();
      if (next.done) throw new Error(`The data ran out at step ${step}`);
      const batch = next.value;
      const t0 = performance.now();
      const result = await trainer.step(batch.x, batch.shape, batch.labels);
      const ms = performance.now() - t0;
      if (!Number.isFinite(result.loss)) {
        return {
          status: "failed",
          step,
          losses,
          lastLoss,
          error: `loss became ${result.loss} at step ${step + 1}`,
        };
      }
      step = result.step;
      losses.push(result.loss);
      const wait = batch.waitMs ?? 0;
      sums.n++;
      sums.loss += result.loss;
      sums.lossSq = (sums.lossSq ?? 0) + result.loss * result.loss;
      sums.mse += result.mse;
      sums.vlb += result.vlb;
      sums.ms += ms;
      sums.wait += wait;
      const size = batch.shape[0]!;
      sink.step?.(result, (size * 1000) / (ms + wait));
      if (step % logEvery === 0 || step === target) {
        lastLoss = sums.loss / sums.n;
        await sink.metrics?.({
          step,
          time: new Date().toISOString(),
          loss: lastLoss,
          lossStd: _spread(sums),
          simple: sums.mse / sums.n,
          vlb: sums.vlb / sums.n,
          gradNorm: result.gradNorm,
          lr: result.lr,
          stepMs: sums.ms / sums.n,
          dataWaitMs: sums.wait / sums.n,
          itemsPerSec: (size * 1000 * sums.n) / (sums.ms + sums.wait),
        });
        sums = emptySums();
      }
      if (step === target) break;
      if (_due(every.checkpoint, step)) await checkpoint();
      await periodic();
    }
    await checkpoint();
    if (signal?.aborted && step < target && !deadlineReached) {
      return { status: "interrupted", step, losses, lastLoss };
    }
    await sink.final?.(step);
    await sink.samples?.(step, true);
    await sink.evaluate?.(step, true);
    return {
      status: "completed",
      step,
      losses,
      lastLoss,
      ...(deadlineReached ? { deadlineReached } : {}),
    };
  } catch (e) {
    // Keep what was learned: a data source that died leaves the model intact.
    if (step > 0 && checkpointed !== step) {
      try {
        await checkpoint();
      } catch { /* the model itself may be what failed */ }
    }
    throw e;
  }
}
