/**
 * The plain-data types that the trainer and the checkpoint format share: the hyper-parameters
 * and the state a trainer saves and restores. Kept apart so that `trainer.ts` and
 * `checkpoint.ts` depend on this module and not on each other.
 *
 * @module
 */
import type { AdamState } from "./adam.ts";
import type { RngState } from "../random.ts";
import type { DiffusionModel } from "../model/types.ts";

/** The hyper-parameters a trainer runs with (stored in checkpoints for reference). */
export interface TrainerHyper {
  /** Peak learning rate. */
  lr: number;
  /** Warm-up steps. */
  warmupSteps: number;
  /** Clip norm. */
  clipNorm: number;
  /** EMA rate. */
  emaRate: number;
  /** Adam beta1. */
  beta1: number;
  /** Adam beta2. */
  beta2: number;
  /** Adam epsilon. */
  eps: number;
}

/** Everything a trainer needs to resume, as plain arrays (see `checkpoint.ts`). */
export interface TrainerState {
  /** Steps done. */
  step: number;
  /** Model weights, parallel to `model.names`. */
  weights: Float32Array[];
  /** EMA weights, parallel to `model.names`. */
  ema: Float32Array[];
  /** Adam's state. */
  adam: AdamState;
  /** The model's dropout stream. */
  modelRng: RngState;
}

/** What a checkpoint needs of a trainer: its model, hyper-parameters and state. */
export interface Checkpointable {
  /** The model being trained. */
  readonly model: DiffusionModel;
  /** The hyper-parameters. */
  readonly hyper: TrainerHyper;
  /** Reads out the state to checkpoint. */
  getState(): TrainerState;
}
