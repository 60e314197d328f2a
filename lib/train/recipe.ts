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

/** The data sets the project trains on. */
export type DatasetKind = "s-curve" | "mnist";

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
}

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
 * @returns The model configuration.
 */
export function modelConfigOf(
  recipe: Pick<
    DiffusionRecipe,
    "model" | "variance" | "dropout" | "seed" | "timesteps" | "timeEmbedding"
  >,
): ModelConfig {
  const learned = recipe.variance === "learned-range";
  switch (recipe.model) {
    case "mlp":
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
