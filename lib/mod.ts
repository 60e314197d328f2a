/**
 * The diffusion maths, the package's `./diffusion` export: schedules and respacing, the forward
 * process and its posterior, the model's reverse step, the Gaussian likelihoods, the training
 * losses, the timestep samplers, the sampling loops, classifier-free guidance and the full
 * variational bound. Every function is pure in `(schedule, tensors, options)`; a model is a
 * function `(x, t) => Tensor` called with the original timesteps through
 * {@linkcode modelOnSchedule}. Each option kind is
 * one constant list ({@linkcode BETA_SCHEDULES}, {@linkcode VARIANCE_KINDS},
 * {@linkcode LOSS_KINDS}, ...) whose type is derived from it.
 *
 * Models, training, data, backends and runs have their own exports (`./model`, `./train`,
 * `./data`, `./backend`, `./run`).
 *
 * @example
 * ```ts
 * import { calcBpdLoop, createSchedule, samplingSchedule, tf } from "./mod.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const base = createSchedule("cosine", { numTimesteps: 100 });
 * const { schedule, method } = samplingSchedule(base, "ddim10");
 * assert.equal(method, "ddim");
 * const x0 = tf.zeros([2, 2]);
 * const r = calcBpdLoop(schedule, (x) => tf.zerosLike(x), x0, { data: "continuous" });
 * assert.equal(r.vbTerms.length, 10);
 * x0.dispose();
 * ```
 *
 * @module
 */
export { type ModelFn, tf } from "./tf.ts";
export { Rng, type RngState } from "./random.ts";
export {
  BETA_SCHEDULES,
  type BetaScheduleKind,
  cosineBetas,
  createSchedule,
  linearBetas,
  namedBetas,
  type Schedule,
  type ScheduleOptions,
  sigmoidBetas,
} from "./schedule.ts";
export {
  parseSampleSteps,
  respace,
  SAMPLE_STEPS_SYNTAX,
  type SampleSteps,
  samplingSchedule,
  spaceTimesteps,
} from "./respace.ts";
export {
  approxStandardNormalCdf,
  continuousGaussianLogLikelihood,
  discretizedGaussianLogLikelihood,
  normalKl,
} from "./gaussian.ts";
export {
  extract,
  fixedLargeVariance,
  type GaussianParams,
  mapTimesteps,
  modelOnSchedule,
  modelOutputChannels,
  type PMeanVariance,
  pMeanVariance,
  type PMeanVarianceOptions,
  predictEpsFromXstart,
  predictXstartFromEps,
  qMeanVariance,
  qPosteriorMeanVariance,
  qSample,
  type ScheduledModel,
  splitModelOutput,
  VARIANCE_KINDS,
  type VarianceKind,
} from "./diffusion.ts";
export {
  DATA_KINDS,
  type DataKind,
  LOSS_KINDS,
  type LossKind,
  meanFlat,
  priorBpd,
  stopGradient,
  type TrainingLosses,
  trainingLosses,
  type TrainingLossOptions,
  vbTermsBpd,
  type VbTermsOptions,
} from "./loss.ts";
export {
  createTimestepSampler,
  stratifiedTimesteps,
  TIMESTEP_SAMPLERS,
  type TimestepSample,
  type TimestepSampler,
  type TimestepSamplerKind,
  type TimestepSamplerOptions,
  type TimestepSamplerState,
} from "./timestep_sampler.ts";
export {
  type DdimOptions,
  ddimSampleLoopProgressive,
  pSampleLoopProgressive,
  sample,
  SAMPLE_METHODS,
  type SampleLoopOptions,
  type SampleMethod,
  type SampleOptions,
  type SampleStep,
  type TrajectoryFrame,
} from "./sampler.ts";
export { isSampleMethod, PREFIXED_METHODS } from "./sample_methods.ts";
export { samplingVariances } from "./variance_kinds.ts";
export { CLASS_SAMPLING } from "./class_sampling.ts";
export { dpmSolverSampleLoopProgressive } from "./dpm_solver.ts";
export { unipcSampleLoopProgressive } from "./unipc.ts";
export { type BpdOptions, type BpdResult, calcBpdLoop } from "./bpd.ts";
export { type GuidanceOptions, guidedModelFn } from "./guidance.ts";
export {
  inpaint,
  INPAINT_METHODS,
  type InpaintDrainOptions,
  inpaintLoopProgressive,
  type InpaintMethod,
  type InpaintOptions,
  inpaintPlan,
  type InpaintStep,
  repaintSchedule,
} from "./inpaint.ts";
export {
  denoise,
  type DenoiseDrainOptions,
  denoiseLoopProgressive,
  type DenoiseOptions,
  denoisingSchedule,
  type DenoisingStart,
  noiseLevelIndex,
  noiseLevels,
} from "./denoise.ts";
