/**
 * Training: the recipe, the diffusion training step (timesteps, noise, losses, the timestep
 * sampler's update), the generic optimiser step (gradients, clipping, Adam, warm-up, EMA), the
 * training loop with its sink, and checkpoints.
 *
 * @module
 */
export {
  type Aux,
  createTrainer,
  defaultMicroBatch,
  type LossFn,
  type LossResult,
  type RestorableState,
  type StepResult,
  type TrainApply,
  type Trainer,
  type TrainerHyper,
  type TrainerOptions,
  type TrainerState,
} from "./trainer.ts";
export {
  dataKindOf,
  type DatasetKind,
  DEFAULT_LABEL_DROPOUT,
  defaultDropout,
  defaultRecipe,
  defaultVariance,
  type DiffusionRecipe,
  modelConfigOf,
  RECIPE_DEFAULTS,
  scheduleOf,
} from "./recipe.ts";
export {
  createDiffusionTrainer,
  type DiffusionStepResult,
  type DiffusionTrainer,
  type DiffusionTrainerOptions,
  type DiffusionTrainerState,
  restoreTrainingCheckpoint,
  saveTrainingCheckpoint,
  type TrainingCheckpointExtra,
} from "./diffusion_trainer.ts";
export {
  emptySums,
  type MetricsSums,
  type TrainingBatch,
  type TrainingEvery,
  type TrainingSink,
  trainLoop,
  type TrainLoopOptions,
  type TrainLoopResult,
} from "./loop.ts";
export type { Checkpointable } from "./types.ts";
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
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_GROUPS,
  CHECKPOINT_VERSION,
  type CheckpointManifest,
  decodeCheckpoint,
  packWeights,
  parseCheckpointManifest,
  samplingCheckpointJson,
  type SamplingManifest,
  samplingManifest,
} from "./checkpoint_format.ts";
export { modelFromCheckpoint } from "./checkpoint_model.ts";
