/**
 * One training step of a diffusion model: the caller's loss, gradients of every variable,
 * clipping by global norm, Adam with an optional linear warm-up, and an EMA of the weights.
 *
 * @module
 */
import { tf } from "../tf.ts";
import { Rng } from "../random.ts";
import { createModel } from "../model/create_model.ts";
import type { DiffusionModel } from "../model/types.ts";
import { Adam } from "./adam.ts";
import { clipCoefficient, globalNorm } from "./clip.ts";
import { emaDecay, emaUpdate } from "./ema.ts";
import { assertCheckpointFits } from "./checkpoint.ts";
import type { ModelConfig, ModelKind } from "../model/types.ts";
import type { TrainerHyper, TrainerState } from "./types.ts";

export type { TrainerHyper, TrainerState } from "./types.ts";

/** What a loss returns: the scalar to minimise and optional diagnostics (no gradients). */
export interface LossResult<E extends string = string> {
  /** The scalar to minimise. */
  loss: tf.Scalar;
  /** Tensors read back after the step (e.g. per-example losses for importance sampling). */
  extras?: Record<E, tf.Tensor>;
}

/** The auxiliary tensors of a batch, each batch-major (first dimension B). */
export type Aux = Record<string, tf.Tensor>;

/**
 * The model in training mode (dropout on) as a loss calls it: `(x, t)` like a model function, and
 * optionally with the batch's class labels (a class-conditional model).
 */
export type TrainApply = (
  x: tf.Tensor,
  t: tf.Tensor1D,
  options?: { labels?: tf.Tensor1D },
) => tf.Tensor;

/**
 * A training loss: given the model (in training mode) as a function, a clean batch, the step
 * number and the batch's auxiliary tensors (timesteps, noise, weights: the slices matching `x0`
 * when the step is split into micro-batches), returns the loss. It runs inside a `tf.tidy`.
 *
 * For micro-batching to give the whole-batch gradient, the loss must be a mean over the
 * examples of `x0`; per-example extras must have `x0`'s batch size as their first dimension.
 */
export type LossFn<A extends Aux = Aux, E extends string = string> = (
  apply: TrainApply,
  x0: tf.Tensor,
  step: number,
  aux: A,
) => LossResult<E>;

/** Options of {@linkcode createTrainer}. */
export interface TrainerOptions<A extends Aux = Aux, E extends string = string> {
  /** The model to train (the trainer does not own it; dispose it yourself). */
  model: DiffusionModel;
  /** The loss. */
  loss: LossFn<A, E>;
  /** Peak learning rate. @default {1e-3} */
  lr?: number;
  /** Linear warm-up: the rate is `lr * min(1, (step + 1) / warmupSteps)`; 0 is off. @default {0} */
  warmupSteps?: number;
  /** Clip gradients to this global norm; 0 or Infinity is off. @default {1} */
  clipNorm?: number;
  /** EMA decay target (the decay is `min(rate, (1 + n) / (10 + n))`). @default {0.9999} */
  emaRate?: number;
  /** Adam's first-moment decay. @default {0.9} */
  beta1?: number;
  /** Adam's second-moment decay. @default {0.999} */
  beta2?: number;
  /** Adam's epsilon. @default {1e-8} */
  eps?: number;
  /** If given, re-seeds the model's dropout stream. */
  seed?: number;
  /**
   * Split each step's batch into micro-batches of at most this many examples and accumulate
   * their gradients (weighted by size) before the one update: the same step with less memory
   * (see {@linkcode defaultMicroBatch}). `undefined` runs the whole batch at once.
   * @default {undefined}
   */
  microBatch?: number;
}

/** The outcome of one step. */
export interface StepResult<E extends string = string> {
  /** The number of steps done, this one included. */
  step: number;
  /** The loss before the update. */
  loss: number;
  /** The global gradient norm before clipping. */
  gradNorm: number;
  /** The learning rate used. */
  lr: number;
  /** The loss's extras, read back. */
  extras: Record<E, Float32Array>;
}

/** A {@linkcode TrainerState}, optionally with the checkpoint fields checked on restore. */
export type RestorableState = TrainerState & {
  /** The model configuration. */
  config?: ModelConfig;
  /** Stable parameter names. */
  names?: readonly string[];
  /** Parameter shapes. */
  shapes?: readonly (readonly number[])[];
};

/** A training loop's state machine; see {@linkcode createTrainer}. */
export interface Trainer<A extends Aux = Aux, E extends string = string> {
  /** The model being trained. */
  readonly model: DiffusionModel;
  /** A model of the same configuration whose variables hold the EMA weights (for sampling). */
  readonly ema: DiffusionModel;
  /** The hyper-parameters. */
  readonly hyper: TrainerHyper;
  /** Steps done so far. */
  readonly stepCount: number;
  /** The micro-batch size, or `undefined` when steps run the whole batch at once. */
  readonly microBatch: number | undefined;
  /**
   * Runs one step on a clean batch.
   *
   * @param x0 The batch (`[B, 2]` or `[B, 28, 28, 1]`); the caller keeps ownership.
   * @param aux Batch-major tensors (first dimension B) handed to the loss, sliced along with
   *   `x0` into micro-batches; the caller keeps ownership.
   * @returns The step's numbers.
   */
  step(x0: tf.Tensor, aux?: A): Promise<StepResult<E>>;
  /**
   * The learning rate a step uses.
   *
   * @param step Steps done before it.
   * @returns The rate.
   */
  lrAt(step: number): number;
  /**
   * Reads out the state to checkpoint.
   *
   * @returns Copies of weights, EMA, Adam state, step and dropout stream.
   */
  getState(): TrainerState;
  /**
   * Restores a state (weights, EMA, Adam, step, dropout stream). A loaded checkpoint (which
   * carries `config`, `names` and `shapes`) is first checked to fit the model; a mismatch
   * throws a `CheckpointError` naming the first difference.
   *
   * @param state A state from {@linkcode Trainer.getState} or a loaded checkpoint.
   */
  restore(state: RestorableState): void;
  /** Frees the EMA model and Adam's state (not the model). */
  dispose(): void;
}

function _positive(name: string, v: number, allowZero: boolean): number {
  if (!(allowZero ? v >= 0 : v > 0) || Number.isNaN(v)) {
    throw new RangeError(
      `Cannot create the trainer: expected ${name} ${allowZero ? ">=" : ">"} 0, got ${v}`,
    );
  }
  return v;
}

function _read(vars: tf.Variable[]): Float32Array[] {
  return vars.map((v) => (v.dataSync() as Float32Array).slice());
}

function _assign(vars: tf.Variable[], arrays: Float32Array[], what: string): void {
  if (arrays.length !== vars.length) {
    throw new TypeError(
      `Cannot restore ${what}: expected ${vars.length} tensors, got ${arrays.length}`,
    );
  }
  vars.forEach((v, i) => {
    const a = arrays[i]!;
    if (a.length !== v.size) {
      throw new TypeError(
        `Cannot restore ${what}: tensor ${i} has ${a.length} values, expected ${v.size}`,
      );
    }
  });
  tf.tidy(() => vars.forEach((v, i) => v.assign(tf.tensor(arrays[i]!, v.shape, "float32"))));
}

/**
 * The micro-batch a model trains with on a backend by default. UNet-S keeps about 25 MB of
 * activations per image for its backward pass (with the fused GroupNorm and zero-copy saved
 * tensors of `backend/ops/group_norm_silu.ts`), so on `wasm` (a 4 GiB heap) and `cpu` batches are split into
 * micro-batches of 64 (1.7 GB of heap; measured faster than 32, and 2.4x under the cap); on
 * `webgpu` (buffers of a possibly small GPU) into micro-batches of 16. The MLP and the
 * `tensorflow` backend run whole batches (`undefined`).
 *
 * @example
 * ```ts
 * import { defaultMicroBatch } from "./trainer.ts";
 * import assert from "node:assert/strict";
 * assert.equal(defaultMicroBatch("mlp", "wasm"), undefined);
 * assert.ok(defaultMicroBatch("unet-s", "wasm")! <= 64);
 * ```
 *
 * @param modelKind The model family.
 * @param backendName The tfjs backend name (`tf.getBackend()`).
 * @returns The micro-batch size, or `undefined` for whole batches.
 */
export function defaultMicroBatch(modelKind: ModelKind, backendName: string): number | undefined {
  switch (modelKind) {
    case "mlp":
      return undefined;
    case "unet-s":
      return _unetMicroBatch(backendName);
    default: {
      const never: never = modelKind;
      throw new RangeError(`Unknown model kind '${never}'`);
    }
  }
}

function _unetMicroBatch(backendName: string): number | undefined {
  switch (backendName) {
    case "wasm":
    case "cpu":
      return 64;
    case "webgpu":
      return 16;
    default:
      return undefined;
  }
}

/** Joins the micro-batches' extras: per-example tensors concatenated, scalars size-weighted. */
function _mergeExtras(
  parts: Record<string, tf.Tensor>[],
  sizes: number[],
  batch: number,
): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const k of Object.keys(parts[0]!)) {
    const ts = parts.map((p) => p[k]);
    out[k] = tf.tidy(() => {
      if (ts.every((t) => t !== undefined && t.rank === 0)) {
        return tf.addN(ts.map((t, i) => tf.mul(t!, sizes[i]! / batch)));
      }
      ts.forEach((t, i) => {
        if (t === undefined || t.rank < 1 || t.shape[0] !== sizes[i]) {
          throw new TypeError(
            `Cannot merge the loss extra "${k}" over micro-batches: expected a scalar or a tensor ` +
              `of first dimension ${sizes[i]}, got ${t === undefined ? "none" : `[${t.shape}]`}`,
          );
        }
      });
      return tf.concat(ts as tf.Tensor[], 0);
    });
  }
  return out;
}

/**
 * Creates a trainer. Each `step(x0, aux)`:
 * 1. evaluates `loss(apply, x0, step, aux)` with the model in training mode (dropout on) and
 *    the gradients of all model variables (`tf.variableGrads`); with `microBatch`, does so for
 *    each slice of at most `microBatch` examples (of `x0` and every `aux` tensor) and sums the
 *    gradients weighted by the slices' sizes: for a loss that is a mean over the examples, the
 *    whole batch's gradient. The reported loss is weighted likewise; per-example extras are
 *    concatenated, scalar extras size-weighted;
 * 2. computes the global gradient norm (reported) and the clip factor
 *    `min(1, clipNorm / (norm + 1e-6))`;
 * 3. applies Adam (PyTorch's formula) to the clipped gradients at the warmed-up rate;
 * 4. updates the EMA weights with decay `min(emaRate, (1 + n) / (10 + n))`, n = steps before.
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { createModel } from "../model/create_model.ts";
 * import { createTrainer } from "./trainer.ts";
 * import assert from "node:assert/strict";
 * const model = createModel({ kind: "mlp", timesteps: 10, outDim: 2 });
 * const trainer = createTrainer({
 *   model,
 *   loss: (apply, x0) => {
 *     const t = tf.zeros([x0.shape[0]!], "int32") as tf.Tensor1D;
 *     return { loss: tf.mean(tf.square(tf.sub(apply(x0, t), x0))) as tf.Scalar };
 *   },
 * });
 * const x0 = tf.randomNormal([16, 2], 0, 1, "float32", 1);
 * const first = await trainer.step(x0);
 * for (let i = 0; i < 20; i++) await trainer.step(x0);
 * const last = await trainer.step(x0);
 * assert.ok(last.loss < first.loss);
 * assert.equal(last.step, 22);
 * trainer.dispose();
 * model.dispose();
 * ```
 *
 * @param options The model, the loss and the hyper-parameters.
 * @returns The trainer.
 */
export function createTrainer<A extends Aux = Aux, E extends string = string>(
  options: TrainerOptions<A, E>,
): Trainer<A, E> {
  const { model, loss } = options;
  const hyper: TrainerHyper = {
    lr: _positive("lr", options.lr ?? 1e-3, true),
    warmupSteps: _positive("warmupSteps", options.warmupSteps ?? 0, true),
    clipNorm: _positive("clipNorm", options.clipNorm ?? 1, true),
    emaRate: options.emaRate ?? 0.9999,
    beta1: options.beta1 ?? 0.9,
    beta2: options.beta2 ?? 0.999,
    eps: _positive("eps", options.eps ?? 1e-8, true),
  };
  emaDecay(hyper.emaRate, 0); // validates the rate
  if (options.seed !== undefined) model.rng.setState(new Rng(options.seed, 0xd409).getState());
  const adam = new Adam(model.variables, hyper);
  const ema = createModel(model.config);
  _assign(ema.variables, _read(model.variables), "the EMA");
  const apply: TrainApply = (x, t, o) =>
    model.apply(
      x,
      t,
      o?.labels !== undefined ? { labels: o.labels, training: true } : {
        training: true,
      },
    );
  let stepCount = 0;
  const microBatch = options.microBatch;
  if (microBatch !== undefined && !(Number.isInteger(microBatch) && microBatch >= 1)) {
    throw new RangeError(
      `Cannot create the trainer: expected microBatch to be a positive integer, got ${microBatch}`,
    );
  }

  const lrAt = (step: number): number =>
    hyper.warmupSteps > 0 ? hyper.lr * Math.min(1, (step + 1) / hyper.warmupSteps) : hyper.lr;

  async function step(x0: tf.Tensor, aux: A = {} as A): Promise<StepResult<E>> {
    const batch = x0.rank >= 1 ? x0.shape[0]! : 0;
    if (batch < 1) {
      throw new TypeError(
        `Cannot run a training step: expected a non-empty batch, got [${x0.shape}]`,
      );
    }
    for (const [k, a] of Object.entries(aux)) {
      if (a.rank < 1 || a.shape[0] !== batch) {
        throw new TypeError(
          `Cannot run a training step: expected aux "${k}" to have first dimension ${batch}, got [${a.shape}]`,
        );
      }
    }
    const n = stepCount;
    const lr = lrAt(n);
    const micro = microBatch === undefined ? batch : Math.min(microBatch, batch);
    const parts = Math.ceil(batch / micro);
    const sizes: number[] = [];
    const extraParts: Record<string, tf.Tensor>[] = [];
    let grads: tf.Tensor[] | null = null;
    let lossT: tf.Tensor | null = null;
    let normT: tf.Tensor | null = null;
    let extras: Record<string, tf.Tensor> = {};
    try {
      for (let p = 0; p < parts; p++) {
        const b0 = p * micro;
        const size = Math.min(micro, batch - b0);
        const part: Record<string, tf.Tensor> = {};
        extraParts.push(part);
        sizes.push(size);
        const prevGrads: tf.Tensor[] | null = grads;
        const prevLoss: tf.Tensor | null = lossT;
        const [partLoss, partGrads] = tf.tidy((): [tf.Tensor, tf.Tensor[]] => {
          const xs = parts === 1 ? x0 : tf.slice(x0, b0, size);
          const as = parts === 1 ? aux : Object.fromEntries(
            Object.entries(aux).map(([k, a]) => [k, tf.slice(a, b0, size)]),
          ) as A;
          const { value, grads: g } = tf.variableGrads(() => {
            const r = loss(apply, xs, n, as);
            for (const [k, v] of Object.entries<tf.Tensor>(r.extras ?? {})) part[k] = tf.keep(v);
            // Weighting each part's mean loss by its share of the batch makes the summed
            // gradients those of the whole batch's mean loss.
            return parts === 1 ? r.loss : tf.mul(r.loss, size / batch);
          }, model.variables);
          const gs = model.variables.map((v, i): tf.Tensor => {
            const gi: tf.Tensor = g[v.name] ?? tf.zerosLike(v);
            return prevGrads === null ? gi : tf.add(prevGrads[i]!, gi);
          });
          return [prevLoss === null ? value : tf.add(prevLoss, value), gs];
        });
        lossT = partLoss;
        grads = partGrads;
        if (prevGrads !== null) tf.dispose(prevGrads);
        prevLoss?.dispose();
        // Lets an asynchronous backend finish (and free) this part before the next starts.
        if (p + 1 < parts) await partLoss.data();
      }
      const gs = grads!;
      normT = tf.tidy(() => {
        const norm = globalNorm(gs);
        adam.update(gs, lr, clipCoefficient(norm, hyper.clipNorm));
        emaUpdate(ema.variables, model.variables, emaDecay(hyper.emaRate, n));
        return norm;
      });
      extras = parts === 1 ? extraParts[0]! : _mergeExtras(extraParts, sizes, batch);
      stepCount++;
      const keys = Object.keys(extras);
      const values = await Promise.all([
        lossT!.data(),
        normT.data(),
        ...keys.map((k) => extras[k]!.data()),
      ]);
      const out = {} as Record<E, Float32Array>;
      keys.forEach((k, i) => out[k as E] = Float32Array.from(values[i + 2]!));
      return { step: stepCount, loss: values[0]![0]!, gradNorm: values[1]![0]!, lr, extras: out };
    } finally {
      if (grads !== null) tf.dispose(grads);
      tf.dispose([lossT, normT].filter((t): t is tf.Tensor => t !== null));
      const parted = extraParts.flatMap((e) => Object.values(e));
      tf.dispose([...new Set([...parted, ...Object.values(extras)])]);
    }
  }

  return {
    model,
    ema,
    hyper,
    get stepCount() {
      return stepCount;
    },
    microBatch,
    step,
    lrAt,
    getState: () => ({
      step: stepCount,
      weights: _read(model.variables),
      ema: _read(ema.variables),
      adam: adam.getState(),
      modelRng: model.rng.getState(),
    }),
    restore(state: RestorableState) {
      if (state.config !== undefined && state.names !== undefined && state.shapes !== undefined) {
        assertCheckpointFits(
          { config: state.config, names: state.names, shapes: state.shapes },
          model,
        );
      }
      _assign(model.variables, state.weights, "the model weights");
      _assign(ema.variables, state.ema, "the EMA weights");
      adam.setState(state.adam);
      model.rng.setState(state.modelRng);
      stepCount = state.step;
    },
    dispose() {
      adam.dispose();
      ema.dispose();
    },
  };
}
