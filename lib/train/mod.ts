/**
 * Training: the trainer (loss, gradients, clipping, Adam, warm-up, EMA) and checkpoints.
 *
 * @module
 */
export {
  createTrainer,
  defaultMicroBatch,
  type LossFn,
  type LossResult,
  type RestorableState,
  type StepResult,
  type Trainer,
  type TrainerHyper,
  type TrainerOptions,
  type TrainerState,
} from "./trainer.ts";
export { Adam, type AdamOptions, type AdamState } from "./adam.ts";
export { clipCoefficient, globalNorm } from "./clip.ts";
export { emaDecay, emaUpdate } from "./ema.ts";
export {
  assertCheckpointFits,
  type Checkpoint,
  CheckpointError,
  type CheckpointGroup,
  type CheckpointWeightSpec,
  loadCheckpoint,
  loadModel,
  saveCheckpoint,
} from "./checkpoint.ts";
