/**
 * The shapes shared by the models: their serialisable configurations and the
 * {@linkcode DiffusionModel} interface the training and sampling code sees.
 *
 * @module
 */
import type { tf } from "../tf.ts";
import type { Rng } from "../random.ts";

/**
 * How the 2-D MLP can embed the timestep, the one list the CLI's choices and help come from.
 *
 * @example
 * ```ts
 * import { MLP_TIME_EMBEDDINGS } from "./types.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...MLP_TIME_EMBEDDINGS], ["learned", "sinusoidal"]);
 * ```
 */
export const MLP_TIME_EMBEDDINGS = ["learned", "sinusoidal"] as const;

/** How the 2-D MLP embeds the timestep. */
export type MlpTimeEmbedding = typeof MLP_TIME_EMBEDDINGS[number];

/** The configuration of the 2-D MLP (S-curve model). Serialisable JSON. */
export interface MlpConfig {
  /** The model family. */
  kind: "mlp";
  /** The number of diffusion timesteps T (the size of the learned embedding table). */
  timesteps: number;
  /** Output channels: 2 (epsilon) or 4 (epsilon, then v). */
  outDim: number;
  /** Hidden width. @default {128} */
  hidden?: number;
  /** Time embedding. @default {"learned"} */
  timeEmbedding?: MlpTimeEmbedding;
  /** Dropout rate after each hidden ReLU (training only). @default {0} */
  dropout?: number;
  /** Initialisation seed. @default {0} */
  seed?: number;
}

/** The configuration of UNet-S (the MNIST model of the spec). Serialisable JSON. */
export interface UnetSConfig {
  /** The model family. */
  kind: "unet-s";
  /** Output channels: 1 (epsilon) or 2 (epsilon, then v). @default {1} */
  outChannels?: number;
  /** Dropout rate inside each ResBlock (training only). @default {0.1} */
  dropout?: number;
  /** Initialisation seed. @default {0} */
  seed?: number;
  /**
   * Class labels for class-conditional training (Ho & Salimans 2022): with `n > 0` the model has
   * an embedding table `label_emb` of `n + 1` rows (the classes `0..n-1`, then the null label
   * `n`) of the time embedding's width, added to the time embedding. 0 (or absent): no labels.
   * A resolved configuration carries the field only when it is positive, so that an
   * unconditional model's recorded configuration is unchanged.
   *
   * @default {0}
   */
  numClasses?: number;
}

/**
 * A UNet-S configuration with its defaults filled in (`numClasses` only when positive).
 */
export type ResolvedUnetSConfig =
  & Required<Omit<UnetSConfig, "numClasses">>
  & Pick<UnetSConfig, "numClasses">;

/** Any model configuration; `kind` selects the family. */
export type ModelConfig = MlpConfig | UnetSConfig;

/**
 * The model families, the one list the CLI's choices and help come from (the `kind` of each
 * {@linkcode ModelConfig}).
 *
 * @example
 * ```ts
 * import { MODEL_KINDS } from "./types.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...MODEL_KINDS], ["mlp", "unet-s"]);
 * ```
 */
export const MODEL_KINDS = ["mlp", "unet-s"] as const;

/** The model kinds. */
export type ModelKind = typeof MODEL_KINDS[number];

// MODEL_KINDS names every configuration's kind, and nothing else.
type _Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _KINDS_MATCH: _Same<ModelKind, ModelConfig["kind"]> = true;
void _KINDS_MATCH;

/** Options of {@linkcode DiffusionModel.apply}. */
export interface ApplyOptions {
  /** Training mode: enables dropout. @default {false} */
  training?: boolean;
  /**
   * `[B]` int32 class labels of a class-conditional model (`numClasses > 0`): `0..numClasses-1`
   * a class, `numClasses` the null label (unconditional). Absent, every example gets the null
   * label. A model without labels refuses them (a `TypeError`).
   *
   * @default {undefined}
   */
  labels?: tf.Tensor1D;
}

/**
 * A denoising network: `apply(x, t)` maps a noisy batch and its integer timesteps to the
 * prediction (epsilon in the first channels of the last axis, v in the second half when
 * `outDim` is twice the data channels).
 */
export interface DiffusionModel {
  /** The model family. */
  readonly kind: ModelKind;
  /** Everything needed to rebuild the model (with defaults filled in). */
  readonly config: Required<MlpConfig> | ResolvedUnetSConfig;
  /** The trainable variables, in a fixed order. */
  readonly variables: tf.Variable[];
  /** Stable parameter names (the same across processes), parallel to `variables`. */
  readonly names: readonly string[];
  /** The dropout stream (its state belongs in a checkpoint to resume bit-exactly). */
  readonly rng: Rng;
  /** Output channels on the last axis. */
  readonly outDim: number;
  /**
   * The classes of a class-conditional model (its label `numClasses` is the null label); 0 for
   * a model without labels.
   */
  readonly numClasses: number;
  /**
   * Runs the network.
   *
   * @param x `[B, 2]` points (MLP) or `[B, 28, 28, 1]` images (UNet-S).
   * @param t `[B]` int32 timesteps in [0, T).
   * @param options Training mode; class labels.
   * @returns `[B, outDim]` or `[B, 28, 28, outDim]`.
   */
  apply(x: tf.Tensor, t: tf.Tensor1D, options?: ApplyOptions): tf.Tensor;
  /** The number of scalar parameters. */
  paramCount(): number;
  /** Frees the variables. */
  dispose(): void;
}
