/**
 * A training recipe: what defines a diffusion model and its objective (data set, network,
 * schedule, loss, variance, timestep sampler, optimiser settings). It is the part of a run's
 * recorded configuration that the library reads back to rebuild the model and its schedule;
 * the CLI's `TrainConfig` holds it and adds run-keeping options.
 *
 * @module
 */
import { createSchedule, type Schedule } from "../schedule.ts";
import type { BetaScheduleKind } from "../schedule.ts";
import type { LossKind } from "../loss.ts";
import type { DataKind } from "../loss.ts";
import type { VarianceKind } from "../diffusion.ts";
import type { TimestepSamplerKind } from "../timestep_sampler.ts";
import type { MlpTimeEmbedding, ModelConfig, ModelKind } from "../model/types.ts";
import { resolveMlpConfig } from "../model/mlp.ts";
import { resolveUnetSConfig } from "../model/unet_s.ts";

import type { DatasetName } from "../datasets.ts";

/** The data sets the project trains on. */
export type DatasetKind = DatasetName;

/** What defines a diffusion model and how it is trained. */
export interface DiffusionRecipe {
  /** The data: 2-D points or 28x28 digits. */
  dataset: DatasetKind;
  /** The network. */
  model: ModelKind;
  /** The beta schedule. */
  schedule: BetaScheduleKind;
  /** Diffusion steps T. */
  timesteps: number;
  /** The training loss. */
  loss: LossKind;
  /** How the reverse process's variance is set. */
  variance: VarianceKind;
  /** How each example's timestep is drawn. */
  tSampler: TimestepSamplerKind;
  /** Examples a step. */
  batch: number;
  /** Adam's peak learning rate. */
  lr: number;
  /** Linear warm-up steps (0: none). */
  warmup: number;
  /** The EMA's decay target. */
  ema: number;
  /** Gradient clipping by global norm (0: off). */
  clip: number;
  /** Dropout rate. */
  dropout: number;
  /** The MLP's time embedding. */
  timeEmbedding: MlpTimeEmbedding;
  /** The seed of the weights, the noise, the timesteps and the data order. */
  seed: number;
  /** Micro-batch size (0: the backend's default). */
  microBatch: number;
  /**
   * Class-conditional training: the number of classes (10 for MNIST) the model takes as labels,
   * with a null label for unconditional use; 0 or absent: no labels. Only UNet-S takes labels.
   * @default {0}
   */
  numClasses?: number;
  /**
   * The fraction of each batch's labels replaced by the null label (classifier-free guidance's
   * p_uncond, Ho & Salimans 2022), for a class-conditional recipe.
   * @default {0.1}
   */
  labelDropout?: number;
}

/**
 * The label dropout of a class-conditional recipe when none is given (Ho & Salimans's 0.1).
 *
 * @example
 * ```ts
 * import { DEFAULT_LABEL_DROPOUT } from "./recipe.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_LABEL_DROPOUT, 0.1);
 * ```
 */
export const DEFAULT_LABEL_DROPOUT = 0.1;

/**
 * The kind of data a data set holds, as the losses and samplers take it.
 *
 * @example
 * ```ts
 * import { dataKindOf } from "./recipe.ts";
 * import assert from "node:assert/strict";
 * assert.equal(dataKindOf("mnist"), "image");
 * ```
 *
 * @param dataset The data set.
 * @returns `"image"` for MNIST (discretised likelihood), `"continuous"` for the S-curve.
 */
export function dataKindOf(dataset: DatasetKind): DataKind {
  return dataset === "mnist" ? "image" : "continuous";
}

/**
 * The model configuration a recipe implies: the MLP or UNet-S, with twice the output channels
 * when the variance is learned.
 *
 * @example
 * ```ts
 * import { modelConfigOf } from "./recipe.ts";
 * import assert from "node:assert/strict";
 * const c = modelConfigOf({ model: "unet-s", variance: "learned-range", dropout: 0.1, seed: 0,
 *   timesteps: 1000, timeEmbedding: "learned" });
 * assert.deepEqual(c, { kind: "unet-s", outChannels: 2, dropout: 0.1, seed: 0 });
 * ```
 *
 * @param recipe The recipe's model fields.
 * @returns The model configuration (with `numClasses` when the recipe has labels).
 * @throws {RangeError} For labels on a model that takes none (the MLP).
 */
export function modelConfigOf(
  recipe:
    & Pick<
      DiffusionRecipe,
      "model" | "variance" | "dropout" | "seed" | "timesteps" | "timeEmbedding"
    >
    & Pick<DiffusionRecipe, "numClasses">,
): ModelConfig {
  const learned = recipe.variance === "learned-range";
  const numClasses = recipe.numClasses ?? 0;
  switch (recipe.model) {
    case "mlp":
      if (numClasses > 0) {
        throw new RangeError(`Cannot build the MLP with ${numClasses} classes: it takes no labels`);
      }
      return {
        kind: "mlp",
        timesteps: recipe.timesteps,
        outDim: learned ? 4 : 2,
        timeEmbedding: recipe.timeEmbedding,
        dropout: recipe.dropout,
        seed: recipe.seed,
      };
    case "unet-s":
      return {
        kind: "unet-s",
        outChannels: learned ? 2 : 1,
        dropout: recipe.dropout,
        seed: recipe.seed,
        ...(numClasses > 0 ? { numClasses } : {}),
      };
    default: {
      const never: never = recipe.model;
      throw new RangeError(`Unknown model kind '${never}'`);
    }
  }
}

/**
 * The diffusion schedule a recipe implies.
 *
 * @example
 * ```ts
 * import { scheduleOf } from "./recipe.ts";
 * import assert from "node:assert/strict";
 * assert.equal(scheduleOf({ schedule: "cosine", timesteps: 1000 }).numTimesteps, 1000);
 * ```
 *
 * @param recipe The recipe's schedule fields.
 * @returns The schedule (arrays computed once, in float64).
 */
export function scheduleOf(recipe: Pick<DiffusionRecipe, "schedule" | "timesteps">): Schedule {
  return createSchedule(recipe.schedule, { numTimesteps: recipe.timesteps });
}

/** What differs by data set in a default recipe. */
type DatasetRecipe = Pick<
  DiffusionRecipe,
  "model" | "schedule" | "timesteps" | "loss" | "tSampler" | "batch" | "lr" | "ema"
>;

/**
 * The project's default recipes, by data set: the one place they are written (the CLI's
 * defaults and help come from here). The S-curve's is the embedded default run (an MLP, the
 * sigmoid schedule, T = 100, L_simple); MNIST's is Improved DDPM's at small scale (UNet-S, the
 * cosine schedule, T = 1000, L_hybrid with a learned variance).
 *
 * @example
 * ```ts
 * import { RECIPE_DEFAULTS } from "./recipe.ts";
 * import assert from "node:assert/strict";
 * assert.equal(RECIPE_DEFAULTS.mnist.schedule, "cosine");
 * ```
 */
export const RECIPE_DEFAULTS: Readonly<Record<DatasetKind, Readonly<DatasetRecipe>>> = {
  "s-curve": {
    model: "mlp",
    schedule: "sigmoid",
    timesteps: 100,
    loss: "simple",
    tSampler: "antithetic",
    batch: 128,
    lr: 1e-3,
    ema: 0.999,
  },
  mnist: {
    model: "unet-s",
    schedule: "cosine",
    timesteps: 1000,
    loss: "hybrid",
    tSampler: "uniform",
    batch: 64,
    lr: 2e-4,
    ema: 0.9999,
  },
};

/**
 * The reverse-process variance when none is given: learned (learned-range) with a loss that
 * trains it, fixed-large with L_simple.
 *
 * @example
 * ```ts
 * import { defaultVariance } from "./recipe.ts";
 * import assert from "node:assert/strict";
 * assert.equal(defaultVariance("hybrid"), "learned-range");
 * ```
 *
 * @param loss The loss.
 * @returns The variance.
 */
export function defaultVariance(loss: LossKind): VarianceKind {
  return loss === "simple" ? "fixed-large" : "learned-range";
}

/**
 * The dropout of a model family when none is given: the model's own default (0.1 for UNet-S,
 * none for the MLP).
 *
 * @example
 * ```ts
 * import { defaultDropout } from "./recipe.ts";
 * import assert from "node:assert/strict";
 * assert.equal(defaultDropout("mlp"), 0);
 * ```
 *
 * @param model The model family.
 * @returns Its default dropout rate.
 */
export function defaultDropout(model: ModelKind): number {
  switch (model) {
    case "mlp":
      return resolveMlpConfig({ kind: "mlp", timesteps: 1, outDim: 2 }).dropout;
    case "unet-s":
      return resolveUnetSConfig({ kind: "unet-s" }).dropout;
    default: {
      const never: never = model;
      throw new RangeError(`Unknown model kind '${never}'`);
    }
  }
}

/**
 * A data set's default recipe with `overrides` applied; what follows from a choice follows it
 * (the variance from the loss: {@linkcode defaultVariance}; the dropout from the model:
 * {@linkcode defaultDropout}).
 *
 * @example
 * ```ts
 * import { defaultRecipe } from "./recipe.ts";
 * import assert from "node:assert/strict";
 * assert.equal(defaultRecipe("s-curve").variance, "fixed-large");
 * assert.equal(defaultRecipe("s-curve", { loss: "hybrid" }).variance, "learned-range");
 * assert.equal(defaultRecipe("mnist").dropout, 0.1);
 * ```
 *
 * @param dataset The data set.
 * @param overrides Fields to set.
 * @returns The recipe.
 */
export function defaultRecipe(
  dataset: DatasetKind,
  overrides: Partial<DiffusionRecipe> = {},
): DiffusionRecipe {
  const d = { ...RECIPE_DEFAULTS[dataset], ...overrides };
  return {
    dataset,
    ...d,
    variance: overrides.variance ?? defaultVariance(d.loss),
    warmup: overrides.warmup ?? 0,
    clip: overrides.clip ?? 1,
    dropout: overrides.dropout ?? defaultDropout(d.model),
    timeEmbedding: overrides.timeEmbedding ?? "learned",
    seed: overrides.seed ?? 0,
    microBatch: overrides.microBatch ?? 0,
  };
}
