/**
 * Denoising diffusion models in TypeScript: DDPM (Ho et al. 2020) and Improved DDPM (Nichol &
 * Dhariwal 2021), on TensorFlow.js, for Deno.
 *
 * The public surface, by concern:
 * - schedules and respacing: {@linkcode createSchedule}, {@linkcode respace},
 *   {@linkcode spaceTimesteps};
 * - the process: {@linkcode qSample}, {@linkcode qPosteriorMeanVariance},
 *   {@linkcode pMeanVariance}, ...;
 * - losses and timestep samplers: {@linkcode trainingLosses}, {@linkcode createTimestepSampler};
 * - samplers and likelihood: {@linkcode sample}, {@linkcode pSampleLoopProgressive},
 *   {@linkcode ddimSampleLoopProgressive}, {@linkcode calcBpdLoop};
 * - models: {@linkcode createModel} (the 2-D MLP and UNet-S);
 * - training: {@linkcode createTrainer}, {@linkcode saveCheckpoint}, {@linkcode loadCheckpoint};
 * - backends: {@linkcode initBackend};
 * - data: {@linkcode createPipeline}, {@linkcode makeSCurve};
 * - metrics: {@linkcode slicedWasserstein}.
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
export { Rng, type RngState } from "./lib/random.ts";
export {
  type BetaScheduleKind,
  cosineBetas,
  createSchedule,
  linearBetas,
  namedBetas,
  type Schedule,
  type ScheduleOptions,
  sigmoidBetas,
} from "./lib/schedule.ts";
export { respace, spaceTimesteps } from "./lib/respace.ts";
export {
  approxStandardNormalCdf,
  continuousGaussianLogLikelihood,
  discretizedGaussianLogLikelihood,
  normalKl,
} from "./lib/gaussian.ts";
export {
  extract,
  fixedLargeVariance,
  type GaussianParams,
  mapTimesteps,
  modelOutputChannels,
  type PMeanVariance,
  pMeanVariance,
  type PMeanVarianceOptions,
  predictEpsFromXstart,
  predictXstartFromEps,
  qMeanVariance,
  qPosteriorMeanVariance,
  qSample,
  splitModelOutput,
  type VarianceKind,
} from "./lib/diffusion.ts";
export {
  type DataKind,
  type LossKind,
  meanFlat,
  priorBpd,
  stopGradient,
  type TrainingLosses,
  trainingLosses,
  type TrainingLossOptions,
  vbTermsBpd,
} from "./lib/loss.ts";
export {
  createTimestepSampler,
  stratifiedTimesteps,
  type TimestepSample,
  type TimestepSampler,
  type TimestepSamplerKind,
  type TimestepSamplerOptions,
  type TimestepSamplerState,
} from "./lib/timestep_sampler.ts";
export {
  type DdimOptions,
  ddimSampleLoopProgressive,
  pSampleLoopProgressive,
  sample,
  type SampleLoopOptions,
  type SampleMethod,
  type SampleOptions,
  type SampleStep,
  type TrajectoryFrame,
} from "./lib/sampler.ts";
export { type BpdOptions, type BpdResult, calcBpdLoop } from "./lib/bpd.ts";
export {
  createModel,
  type DiffusionModel,
  type MlpConfig,
  type ModelConfig,
  type UnetSConfig,
} from "./lib/model/mod.ts";
export {
  type Checkpoint,
  CheckpointError,
  createTrainer,
  loadCheckpoint,
  loadModel,
  saveCheckpoint,
  type StepResult,
  type Trainer,
  type TrainerOptions,
} from "./lib/train/mod.ts";
export { type BackendInfo, type BackendName, initBackend } from "./lib/backend/mod.ts";
export { type Batch, createPipeline, makeSCurve, type Pipeline } from "./workers/mod.ts";
export { slicedWasserstein, type SwdOptions } from "./lib/metrics/swd.ts";
