/**
 * Denoising diffusion models in TypeScript: DDPM (Ho et al. 2020) and Improved DDPM (Nichol &
 * Dhariwal 2021), on TensorFlow.js, for Deno.
 *
 * The essentials, by concern:
 * - schedules and respacing: {@linkcode createSchedule}, {@linkcode respace},
 *   {@linkcode samplingSchedule};
 * - the process and its model: {@linkcode qSample}, {@linkcode pMeanVariance},
 *   {@linkcode modelOnSchedule};
 * - losses and timestep samplers: {@linkcode trainingLosses}, {@linkcode createTimestepSampler};
 * - samplers and likelihood: {@linkcode sample}, {@linkcode pSampleLoopProgressive},
 *   {@linkcode ddimSampleLoopProgressive}, {@linkcode dpmSolverSampleLoopProgressive},
 *   {@linkcode unipcSampleLoopProgressive}, {@linkcode calcBpdLoop};
 * - models: {@linkcode createModel} (the 2-D MLP and UNet-S);
 * - training: {@linkcode trainRun} (a run directory, resumable), {@linkcode trainLoop} with
 *   {@linkcode createDiffusionTrainer} (no files), {@linkcode defaultRunConfig},
 *   {@linkcode saveCheckpoint}, {@linkcode loadCheckpoint};
 * - backends: {@linkcode initBackend};
 * - data: {@linkcode createPipeline}, {@linkcode makeSCurve};
 * - metrics: {@linkcode slicedWasserstein}.
 *
 * The rest is in the package's subpath exports, one per concern: `./diffusion` (all of the
 * maths: Gaussian likelihoods, the posterior, the predictions of x_0 and eps, the option lists
 * such as `VARIANCE_KINDS`, ...), `./model`, `./train`, `./data`, `./backend`, `./metrics`,
 * `./run` (the run directory) and `./quality` (sample quality).
 *
 * @example
 * ```ts
 * import { createModel, createSchedule, sample, tf } from "./mod.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const schedule = createSchedule("linear", { numTimesteps: 50 });
 * const model = createModel({ kind: "mlp", timesteps: 50, outDim: 2 });
 * const { sample: x } = sample(schedule, (x, t) => model.apply(x, t), [4, 2], { seed: 1 });
 * assert.deepEqual(x.shape, [4, 2]);
 * x.dispose();
 * model.dispose();
 * ```
 *
 * @module
 */
export { type ModelFn, tf } from "./lib/tf.ts";
export { createSchedule, type Schedule } from "./lib/schedule.ts";
export { respace, samplingSchedule, spaceTimesteps } from "./lib/respace.ts";
export {
  modelOnSchedule,
  pMeanVariance,
  qSample,
  type ScheduledModel,
  type VarianceKind,
} from "./lib/diffusion.ts";
export { type LossKind, trainingLosses } from "./lib/loss.ts";
export {
  createTimestepSampler,
  type TimestepSampler,
  type TimestepSamplerKind,
} from "./lib/timestep_sampler.ts";
export {
  ddimSampleLoopProgressive,
  pSampleLoopProgressive,
  sample,
  type SampleOptions,
  type SampleStep,
} from "./lib/sampler.ts";
export { dpmSolverSampleLoopProgressive } from "./lib/dpm_solver.ts";
export { unipcSampleLoopProgressive } from "./lib/unipc.ts";
export { type BpdResult, calcBpdLoop } from "./lib/bpd.ts";
export { createModel, type DiffusionModel, type ModelConfig } from "./lib/model/mod.ts";
export {
  type Checkpoint,
  CheckpointError,
  createDiffusionTrainer,
  createTrainer,
  type DiffusionRecipe,
  type DiffusionTrainer,
  loadCheckpoint,
  loadModel,
  saveCheckpoint,
  type StepResult,
  type Trainer,
  type TrainerOptions,
  type TrainingBatch,
  type TrainingSink,
  trainLoop,
} from "./lib/train/mod.ts";
export {
  defaultRunConfig,
  type RunConfig,
  trainRun,
  type TrainRunHooks,
  type TrainRunResult,
} from "./lib/run/mod.ts";
export { type BackendName, initBackend } from "./lib/backend/mod.ts";
export { type Batch, createPipeline, makeSCurve, type Pipeline } from "./workers/mod.ts";
export { slicedWasserstein } from "./lib/metrics/swd.ts";
