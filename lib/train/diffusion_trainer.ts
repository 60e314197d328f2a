/**
 * The diffusion training step as one object: it draws each example's timestep (and its
 * importance weight) and noise from its own random stream, computes Improved DDPM's losses,
 * replaces a fraction of a class-conditional model's labels by the null label (label dropout),
 * takes the optimiser step (gradients, clipping, Adam, EMA: `trainer.ts`), feeds the
 * per-example losses back to the timestep sampler, and saves and restores all of that state.
 *
 * @module
 */
import { type ModelFn, tf } from "../tf.ts";
import { Rng, type RngState } from "../random.ts";
import type { Schedule } from "../schedule.ts";
import { trainingLosses } from "../loss.ts";
import {
  createTimestepSampler,
  type TimestepSampler,
  type TimestepSamplerState,
} from "../timestep_sampler.ts";
import { createModel } from "../model/create_model.ts";
import type { DiffusionModel } from "../model/types.ts";
import { createTrainer, defaultMicroBatch, type RestorableState, type Trainer } from "./trainer.ts";
import { type Checkpoint, saveCheckpoint } from "./checkpoint.ts";
import type { TrainerHyper, TrainerState } from "./types.ts";
import {
  dataKindOf,
  DEFAULT_LABEL_DROPOUT,
  type DiffusionRecipe,
  modelConfigOf,
  scheduleOf,
} from "./recipe.ts";

/** The purpose mixed into the seed of the timestep-and-noise stream. */
const _STREAM = 0x7a1;

/** What one diffusion training step reports. */
export interface DiffusionStepResult {
  /** Steps done, this one included. */
  step: number;
  /** The (importance-weighted) loss minimised. */
  loss: number;
  /** The noise MSE, L_simple. */
  mse: number;
  /** The bound term T * L_t in bits per dimension (0 for L_simple). */
  vlb: number;
  /** The global gradient norm before clipping. */
  gradNorm: number;
  /** The learning rate used. */
  lr: number;
}

/** Everything a diffusion trainer needs to resume: the optimiser's state and its streams. */
export interface DiffusionTrainerState extends TrainerState {
  /** The stream of timesteps and noise. */
  rng: RngState;
  /** The timestep sampler (the importance sampler's loss history). */
  tSampler: TimestepSamplerState;
}

/** Options of {@linkcode createDiffusionTrainer}. */
export interface DiffusionTrainerOptions {
  /** The recipe: model, schedule, loss, variance, sampler and optimiser settings. */
  recipe: DiffusionRecipe;
  /**
   * The model to train (the trainer does not own one it is given).
   * @default {a new model of `modelConfigOf(recipe)`, owned and disposed by the trainer}
   */
  model?: DiffusionModel;
  /** The schedule. @default {scheduleOf(recipe)} */
  schedule?: Schedule;
  /** The backend, for the default micro-batch. @default {tf.getBackend()} */
  backendName?: string;
}

/** One diffusion training step at a time; see {@linkcode createDiffusionTrainer}. */
export interface DiffusionTrainer {
  /** The recipe it trains. */
  readonly recipe: DiffusionRecipe;
  /** The model being trained. */
  readonly model: DiffusionModel;
  /** A model holding the EMA weights (sample from this). */
  readonly ema: DiffusionModel;
  /** The schedule. */
  readonly schedule: Schedule;
  /** The optimiser's hyper-parameters. */
  readonly hyper: TrainerHyper;
  /** Steps done. */
  readonly stepCount: number;
  /** The timestep sampler (read its `probabilities()`; the trainer updates it). */
  readonly timestepSampler: TimestepSampler;
  /**
   * One step on a clean batch: draws t, the importance weights and the noise, minimises the
   * weighted loss, and updates the timestep sampler (unless the loss is not finite: the caller
   * decides what a non-finite loss means; the sampler is left as it was).
   *
   * A class-conditional model (`model.numClasses > 0`) needs the batch's labels: each is
   * replaced by the null label with probability `recipe.labelDropout` (drawn from the same
   * stream, after the noise). A model without labels ignores them.
   *
   * @param x0 The batch, `[batch, 2]` or `[batch, 28, 28, 1]` values in `shape`.
   * @param shape Its shape; the first entry is the batch size.
   * @param labels The batch's class labels, `0..numClasses-1` (a class-conditional model).
   * @returns The step's numbers.
   */
  step(
    x0: Float32Array,
    shape: readonly number[],
    labels?: ArrayLike<number>,
  ): Promise<DiffusionStepResult>;
  /** @returns Copies of the weights, EMA, Adam state, step and every stream. */
  getState(): DiffusionTrainerState;
  /**
   * Restores a state from {@linkcode DiffusionTrainer.getState}.
   *
   * @param state The state; a loaded checkpoint's weights are first checked to fit the model.
   */
  restore(
    state: DiffusionTrainerState & Partial<Pick<RestorableState, "config" | "names" | "shapes">>,
  ): void;
  /** Frees the EMA model, the optimiser's state and (if it made it) the model. */
  dispose(): void;
}

/**
 * Creates the diffusion training step of a recipe.
 *
 * @example
 * ```ts
 * import { createDiffusionTrainer } from "./diffusion_trainer.ts";
 * import assert from "node:assert/strict";
 * const trainer = createDiffusionTrainer({ recipe: {
 *   dataset: "s-curve", model: "mlp", schedule: "linear", timesteps: 40, loss: "simple",
 *   variance: "fixed-large", tSampler: "uniform", batch: 8, lr: 1e-3, warmup: 0, ema: 0.99,
 *   clip: 1, dropout: 0, timeEmbedding: "learned", seed: 0, microBatch: 0,
 * } });
 * const x0 = new Float32Array(16).fill(0.5);
 * const r = await trainer.step(x0, [8, 2]);
 * assert.equal(r.step, 1);
 * assert.ok(Number.isFinite(r.loss) && r.vlb === 0);
 * trainer.dispose();
 * ```
 *
 * @param options The recipe, and optionally a model and schedule built from it.
 * @returns The trainer.
 */
export function createDiffusionTrainer(options: DiffusionTrainerOptions): DiffusionTrainer {
  const { recipe } = options;
  const owned = options.model === undefined;
  const model = options.model ?? createModel(modelConfigOf(recipe));
  const schedule = options.schedule ?? scheduleOf(recipe);
  const data = dataKindOf(recipe.dataset);
  const tSampler = createTimestepSampler(recipe.tSampler, schedule.numTimesteps);
  const rng = new Rng(recipe.seed, _STREAM);
  const numClasses = model.numClasses;
  const labelDropout = recipe.labelDropout ?? DEFAULT_LABEL_DROPOUT;
  const fail = (e: Error): never => {
    if (owned) model.dispose();
    throw e;
  };
  if ((recipe.numClasses ?? 0) !== numClasses) {
    fail(
      new TypeError(
        `Cannot train: the recipe has ${recipe.numClasses ?? 0} classes, the model ${numClasses}`,
      ),
    );
  }
  if (numClasses > 0 && !(labelDropout >= 0 && labelDropout <= 1)) {
    fail(new RangeError(`Cannot train: expected labelDropout in [0, 1], got ${labelDropout}`));
  }
  type StepAux = { t: tf.Tensor1D; w: tf.Tensor1D; noise: tf.Tensor; labels?: tf.Tensor1D };
  let trainer: Trainer<StepAux, "loss" | "mse" | "vlb">;
  try {
    trainer = createTrainer<StepAux, "loss" | "mse" | "vlb">({
      model,
      lr: recipe.lr,
      warmupSteps: recipe.warmup,
      clipNorm: recipe.clip,
      emaRate: recipe.ema,
      seed: recipe.seed,
      microBatch: recipe.microBatch ||
        defaultMicroBatch(model.kind, options.backendName ?? tf.getBackend()),
      loss: (apply, x0, _step, aux) => {
        const labels = aux.labels;
        const net: ModelFn = labels === undefined ? apply : (x, t) => apply(x, t, { labels });
        const terms = trainingLosses(schedule, net, x0, aux.t, {
          loss: recipe.loss,
          variance: recipe.variance,
          data,
          noise: aux.noise,
        });
        return {
          loss: tf.mean(tf.mul(terms.loss, aux.w)) as tf.Scalar,
          extras: { loss: terms.loss, mse: tf.mean(terms.mse), vlb: tf.mean(terms.vlb) },
        };
      },
    });
  } catch (e) {
    if (owned) model.dispose();
    throw e;
  }

  async function step(
    x0: Float32Array,
    shape: readonly number[],
    labels?: ArrayLike<number>,
  ): Promise<DiffusionStepResult> {
    const batch = shape[0] ?? 0;
    if (!(batch >= 1) || x0.length !== shape.reduce((a, b) => a * b, 1)) {
      throw new TypeError(
        `Cannot run a diffusion training step: ${x0.length} values do not make a batch of shape [${shape}]`,
      );
    }
    if (numClasses > 0) _checkLabels(labels, batch, numClasses);
    // The order of the draws is part of a run's reproducibility: timesteps, then noise, then
    // (a class-conditional model) which labels are dropped.
    const { t, weights } = tSampler.sample(batch, rng);
    const noise = rng.fillNormal(new Float32Array(x0.length));
    let y: Int32Array | null = null;
    if (numClasses > 0) {
      y = new Int32Array(batch);
      for (let i = 0; i < batch; i++) {
        y[i] = rng.uniform() < labelDropout ? numClasses : labels![i]!;
      }
    }
    const xs = tf.tensor(x0, shape as number[]);
    const aux: StepAux = {
      t: tf.tensor1d(t, "int32"),
      w: tf.tensor1d(Float32Array.from(weights)),
      noise: tf.tensor(noise, shape as number[]),
      ...(y !== null ? { labels: tf.tensor1d(y, "int32") } : {}),
    };
    let result;
    try {
      result = await trainer.step(xs, aux);
    } finally {
      tf.dispose([xs, ...Object.values(aux)]);
    }
    if (Number.isFinite(result.loss)) tSampler.update(t, result.extras.loss);
    return {
      step: result.step,
      loss: result.loss,
      mse: result.extras.mse[0]!,
      vlb: result.extras.vlb[0]!,
      gradNorm: result.gradNorm,
      lr: result.lr,
    };
  }

  return {
    recipe,
    model,
    ema: trainer.ema,
    schedule,
    hyper: trainer.hyper,
    get stepCount() {
      return trainer.stepCount;
    },
    timestepSampler: tSampler,
    step,
    getState: () => ({ ...trainer.getState(), rng: rng.getState(), tSampler: tSampler.getState() }),
    restore(state) {
      trainer.restore(state);
      rng.setState(state.rng);
      tSampler.setState(state.tSampler);
    },
    dispose() {
      trainer.dispose();
      if (owned) model.dispose();
    },
  };
}

function _checkLabels(
  labels: ArrayLike<number> | undefined,
  batch: number,
  numClasses: number,
): void {
  if (labels === undefined || labels.length !== batch) {
    throw new TypeError(
      `Cannot run a class-conditional training step: expected ${batch} labels, got ${
        labels === undefined ? "none" : labels.length
      }`,
    );
  }
  for (let i = 0; i < batch; i++) {
    const l = labels[i]!;
    if (!(Number.isInteger(l) && l >= 0 && l < numClasses)) {
      throw new RangeError(
        `Cannot run a class-conditional training step: expected labels in 0..${
          numClasses - 1
        }, got ${l} at ${i}`,
      );
    }
  }
}

/** The JSON a training checkpoint carries besides the trainer's tensors. */
export interface TrainingCheckpointExtra<C = unknown, M = unknown> {
  /** The stream of timesteps and noise. */
  rng: RngState;
  /** The timestep sampler. */
  tSampler: TimestepSamplerState;
  /** The run's configuration (how to rebuild the model and its schedule). */
  config?: C;
  /** The training loop's partial metrics sums (so a resumed run logs what an uninterrupted one does). */
  metrics?: M;
}

/**
 * Saves a diffusion trainer's whole state to a checkpoint directory (atomically), with the
 * run's configuration and the loop's metrics sums in its `extra`.
 *
 * @example
 * ```ts
 * import { createDiffusionTrainer, restoreTrainingCheckpoint, saveTrainingCheckpoint }
 *   from "./diffusion_trainer.ts";
 * import { loadCheckpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const recipe = {
 *   dataset: "s-curve", model: "mlp", schedule: "linear", timesteps: 40, loss: "simple",
 *   variance: "fixed-large", tSampler: "importance", batch: 4, lr: 1e-3, warmup: 0, ema: 0.99,
 *   clip: 1, dropout: 0, timeEmbedding: "learned", seed: 3, microBatch: 0,
 * } as const;
 * const a = createDiffusionTrainer({ recipe });
 * await a.step(new Float32Array(8).fill(1), [4, 2]);
 * const dir = await Deno.makeTempDir();
 * await saveTrainingCheckpoint(`${dir}/ckpt`, a, { config: recipe, metrics: { n: 1 } });
 * const b = createDiffusionTrainer({ recipe });
 * const extra = restoreTrainingCheckpoint(b, await loadCheckpoint(`${dir}/ckpt`));
 * assert.deepEqual(extra.metrics, { n: 1 });
 * const [ra, rb] = [await a.step(new Float32Array(8), [4, 2]), await b.step(new Float32Array(8), [4, 2])];
 * assert.equal(ra.loss, rb.loss);
 * a.dispose();
 * b.dispose();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param dir The checkpoint directory (created or replaced).
 * @param trainer The trainer.
 * @param extra The configuration and the loop's sums to keep with it.
 */
export async function saveTrainingCheckpoint<C, M>(
  dir: string,
  trainer: DiffusionTrainer,
  extra: { config?: C; metrics?: M } = {},
): Promise<void> {
  const state = trainer.getState();
  const json: TrainingCheckpointExtra<C, M> = {
    rng: state.rng,
    tSampler: state.tSampler,
    ...extra,
  };
  await saveCheckpoint(
    dir,
    { model: trainer.model, hyper: trainer.hyper, getState: () => state },
    json,
  );
}

/**
 * Restores a diffusion trainer from a loaded checkpoint (weights checked to fit the model).
 *
 * @example
 * ```ts
 * import { createDiffusionTrainer, restoreTrainingCheckpoint } from "./diffusion_trainer.ts";
 * import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const trainer = createDiffusionTrainer({ recipe: {
 *   dataset: "s-curve", model: "mlp", schedule: "linear", timesteps: 40, loss: "simple",
 *   variance: "fixed-large", tSampler: "uniform", batch: 4, lr: 1e-3, warmup: 0, ema: 0.99,
 *   clip: 1, dropout: 0, timeEmbedding: "learned", seed: 0, microBatch: 0,
 * } });
 * // A checkpoint of the weights alone (no streams) cannot continue a training run.
 * const dir = await Deno.makeTempDir();
 * await saveCheckpoint(`${dir}/plain`, trainer);
 * const plain = await loadCheckpoint(`${dir}/plain`);
 * assert.throws(() => restoreTrainingCheckpoint(trainer, plain), TypeError);
 * trainer.dispose();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param trainer The trainer, of the checkpoint's recipe.
 * @param checkpoint A checkpoint written by {@linkcode saveTrainingCheckpoint}.
 * @returns The checkpoint's extra (the configuration and metrics sums saved with it).
 * @throws {TypeError} If the checkpoint carries no random streams or only EMA weights (not a
 *   training checkpoint).
 */
export function restoreTrainingCheckpoint<C = unknown, M = unknown>(
  trainer: DiffusionTrainer,
  checkpoint: Checkpoint,
): TrainingCheckpointExtra<C, M> {
  if (checkpoint.emaOnly) {
    throw new TypeError(
      "Cannot resume from this checkpoint: it holds only EMA weights for sampling (no optimiser state)",
    );
  }
  const extra = checkpoint.extra as Partial<TrainingCheckpointExtra<C, M>> | null;
  if (!extra || typeof extra !== "object" || !extra.rng || !extra.tSampler) {
    throw new TypeError(
      "Cannot resume from this checkpoint: it holds no timestep or noise stream (not written by a training run)",
    );
  }
  trainer.restore({ ...checkpoint, rng: extra.rng, tSampler: extra.tSampler });
  return extra as TrainingCheckpointExtra<C, M>;
}
