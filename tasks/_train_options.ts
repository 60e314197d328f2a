/**
 * The options of `deno task train`: one table is the source of the parser, the `--help` text
 * and the run's recorded config. Defaults that depend on the data set live in
 * {@linkcode DATASET_DEFAULTS}.
 *
 * @module
 */
import type { OptionTable, ParsedOptions } from "./_cli.ts";
import { BACKEND_OPTION, UsageError } from "./_cli.ts";
import type { BackendName } from "../lib/backend/mod.ts";
import { VARIANCE_KINDS, type VarianceKind } from "../lib/diffusion.ts";
import { LOSS_KINDS, type LossKind } from "../lib/loss.ts";
import {
  DEFAULT_LABEL_DROPOUT,
  defaultDropout,
  defaultVariance,
  RECIPE_DEFAULTS,
} from "../lib/train/recipe.ts";
import { RUN_DEFAULTS, type RunConfig } from "../lib/run/train_run.ts";
import { MLP_TIME_EMBEDDINGS, MODEL_KINDS } from "../lib/model/types.ts";
import { parseSampleSteps, SAMPLE_STEPS_SYNTAX, spaceTimesteps } from "../lib/respace.ts";
import { BETA_SCHEDULES } from "../lib/schedule.ts";
import { TIMESTEP_SAMPLERS } from "../lib/timestep_sampler.ts";
import {
  type DatasetName,
  DATASETS,
  defaultWorkers,
  MAX_WORKERS,
  type PipelineOptions,
  resolveOptions,
  S_CURVE_MODES,
  type SCurveMode,
  SEED_RANGE,
} from "../workers/options.ts";
import { MNIST_CLASS_COUNTS } from "../workers/mnist_info.ts";

export { SEED_RANGE };

/**
 * The classes a data set labels its examples with (what `--class-cond` trains on): MNIST's ten
 * digits; the S-curve has no labels.
 *
 * @example
 * ```ts
 * import { DATASET_CLASSES } from "./_train_options.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DATASET_CLASSES.mnist, 10);
 * assert.equal(DATASET_CLASSES["s-curve"], 0);
 * ```
 */
export const DATASET_CLASSES: Readonly<Record<DatasetName, number>> = {
  "s-curve": 0,
  mnist: MNIST_CLASS_COUNTS.length,
};

/**
 * The fully resolved training configuration recorded in `run.json`: the library's run
 * configuration (the recipe, the target and how the run keeps itself: {@linkcode RunConfig})
 * and what the CLI adds (data workers and augmentation, the backend, the picture steps, the
 * time budget, where runs go).
 */
export interface TrainConfig extends RunConfig {
  maxMinutes: number;
  workers: number;
  prefetch: number;
  sCurveMode: SCurveMode;
  sCurveN: number;
  jitter: number;
  translate: number;
  rotate: number;
  dequantize: boolean;
  backend: BackendName;
  sampleSteps: string;
  out: string;
}

type DatasetDefaults = Pick<
  TrainConfig,
  | "model"
  | "schedule"
  | "timesteps"
  | "loss"
  | "tSampler"
  | "steps"
  | "batch"
  | "lr"
  | "ema"
  | "sampleEvery"
  | "evalEvery"
  | "checkpointEvery"
  | "keepCheckpoints"
  | "sampleSteps"
  | "logEvery"
>;

/**
 * Defaults that differ by data set (the S-curve's are the embedded default run): the library's
 * recipe ({@linkcode RECIPE_DEFAULTS}) and run keeping ({@linkcode RUN_DEFAULTS}), and the
 * CLI's sampling steps for pictures; the help text's notes are made from them.
 *
 * @example
 * ```ts
 * import { DATASET_DEFAULTS } from "./_train_options.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DATASET_DEFAULTS.mnist.model, "unet-s");
 * assert.equal(DATASET_DEFAULTS["s-curve"].timesteps, 100);
 * ```
 */
export const DATASET_DEFAULTS: Record<DatasetName, DatasetDefaults> = {
  "s-curve": { ...RECIPE_DEFAULTS["s-curve"], ...RUN_DEFAULTS["s-curve"], sampleSteps: "all" },
  mnist: { ...RECIPE_DEFAULTS.mnist, ...RUN_DEFAULTS.mnist, sampleSteps: "50" },
};

/** A help note from {@linkcode DATASET_DEFAULTS}: `s-curve: 100, mnist: 1000`. */
function _byDataset<K extends keyof DatasetDefaults>(
  key: K,
  show: (value: DatasetDefaults[K]) => string = String,
): string {
  return DATASETS.map((d) => `${d}: ${show(DATASET_DEFAULTS[d][key])}`).join(", ");
}

/** `fixed-large with loss simple, learned-range with loss hybrid or vlb`, from the rule. */
function _varianceNote(): string {
  const byVariance = new Map<VarianceKind, LossKind[]>();
  for (const l of LOSS_KINDS) {
    const v = defaultVariance(l);
    byVariance.set(v, [...byVariance.get(v) ?? [], l]);
  }
  return [...byVariance].map(([v, ls]) => `${v} with loss ${ls.join(" or ")}`).join(", ");
}

/** The flags of `deno task train`. */
export const TRAIN_OPTIONS = {
  dataset: {
    type: "string",
    choices: DATASETS,
    default: "s-curve",
    help: "training data",
  },
  model: {
    type: "string",
    choices: MODEL_KINDS,
    help: "network",
    note: _byDataset("model"),
  },
  schedule: {
    type: "string",
    choices: BETA_SCHEDULES,
    help: "noise schedule (betas)",
    note: _byDataset("schedule"),
  },
  timesteps: {
    type: "number",
    integer: true,
    min: 2,
    max: 10000,
    help: "diffusion steps T",
    note: _byDataset("timesteps"),
  },
  loss: {
    type: "string",
    choices: LOSS_KINDS,
    help: "training objective",
    note: _byDataset("loss"),
  },
  variance: {
    type: "string",
    choices: VARIANCE_KINDS,
    help: "reverse-process variance",
    note: _varianceNote(),
  },
  "t-sampler": {
    type: "string",
    choices: TIMESTEP_SAMPLERS,
    help: "timestep sampler",
    note: _byDataset("tSampler"),
  },
  steps: {
    type: "number",
    integer: true,
    min: 1,
    help: "training steps",
    note: _byDataset("steps"),
  },
  "max-minutes": {
    type: "number",
    min: 0,
    default: 0,
    help: "stop (as completed) after this much wall-clock time (0 = no limit)",
  },
  batch: {
    type: "number",
    integer: true,
    min: 1,
    max: 65536,
    help: "batch size",
    note: _byDataset("batch"),
  },
  lr: { type: "number", min: 0, help: "Adam learning rate", note: _byDataset("lr") },
  "micro-batch": {
    type: "number",
    integer: true,
    min: 0,
    default: 0,
    help: "split each batch into parts of this size, gradients accumulated (0 = per backend)",
  },
  warmup: { type: "number", integer: true, min: 0, default: 0, help: "linear LR warm-up steps" },
  ema: {
    type: "number",
    min: 0,
    max: 1,
    help: "EMA rate of the weights (decay warm-up min(rate, (1+n)/(10+n)); 0 = off)",
    note: _byDataset("ema"),
  },
  clip: { type: "number", min: 0, default: 1, help: "gradient clipping by global norm (0 = off)" },
  dropout: {
    type: "number",
    min: 0,
    max: 0.99,
    help: "dropout rate",
    note: MODEL_KINDS.map((m) => `${m}: ${defaultDropout(m)}`).join(", "),
  },
  "time-embedding": {
    type: "string",
    choices: MLP_TIME_EMBEDDINGS,
    default: "learned",
    help: "time embedding of the MLP",
  },
  "class-cond": {
    type: "boolean",
    default: false,
    help: "class-conditional model (mnist): a label embedding, trained with label dropout, " +
      "for classifier-free guidance (sample --class, --guidance)",
  },
  "label-dropout": {
    type: "number",
    min: 0,
    max: 1,
    help: "with --class-cond: the fraction of each batch's labels replaced by the null label",
    note: String(DEFAULT_LABEL_DROPOUT),
  },
  seed: {
    type: "number",
    integer: true,
    ...SEED_RANGE,
    default: 0,
    help: "random seed of the whole run",
  },
  workers: {
    type: "number",
    integer: true,
    min: 0,
    max: MAX_WORKERS,
    help: "data workers (0 = inline)",
    note: `cores - 1, at least 1, at most ${MAX_WORKERS}`,
  },
  prefetch: {
    type: "number",
    integer: true,
    min: 1,
    max: 64,
    default: 4,
    help: "batches prefetched",
  },
  "s-curve-mode": {
    type: "string",
    choices: S_CURVE_MODES,
    default: "fixed",
    help: "s-curve: a fixed set of s-curve-n points in epochs, or fresh points",
  },
  "s-curve-n": {
    type: "number",
    integer: true,
    min: 1,
    max: 10_000_000,
    default: 10000,
    help: "s-curve: size of the fixed set",
  },
  jitter: {
    type: "number",
    min: 0,
    max: 10,
    default: 0,
    help: "s-curve augmentation: Gaussian jitter std",
  },
  translate: {
    type: "number",
    integer: true,
    min: 0,
    max: 8,
    default: 0,
    help: "mnist augmentation: random shift, pixels",
  },
  rotate: {
    type: "number",
    min: 0,
    max: 45,
    default: 0,
    help: "mnist augmentation: random rotation, degrees",
  },
  dequantize: {
    type: "boolean",
    default: false,
    help: "mnist augmentation: uniform dequantization noise",
  },
  backend: BACKEND_OPTION,
  "sample-every": {
    type: "number",
    integer: true,
    min: 0,
    help: "write a sample picture every N steps (0 = only at the end)",
    note: _byDataset("sampleEvery"),
  },
  "eval-every": {
    type: "number",
    integer: true,
    min: 0,
    help: "evaluate every N steps (0 = only at the end)",
    note: _byDataset("evalEvery"),
  },
  "checkpoint-every": {
    type: "number",
    integer: true,
    min: 0,
    help: "checkpoint every N steps (0 = only at the end)",
    note: _byDataset("checkpointEvery"),
  },
  "keep-checkpoints": {
    type: "number",
    integer: true,
    min: 0,
    help: "keep only the newest N checkpoints (0 = all; about 1 MB each for s-curve, 25 MB " +
      "for mnist); on resume, given, it replaces the saved",
    note: _byDataset("keepCheckpoints", (n) => n === 0 ? "0 (all)" : String(n)),
  },
  "sample-steps": {
    type: "string",
    help: `sampling steps for the pictures: ${SAMPLE_STEPS_SYNTAX}`,
    note: _byDataset("sampleSteps"),
  },
  name: { type: "string", help: "run name", note: "<dataset>-<model>" },
  out: {
    type: "string",
    default: "runs",
    help: "directory that holds the runs (relative to the current directory)",
  },
  resume: {
    type: "string",
    help: "continue the run with this id (or path); its saved config and target stand, " +
      "--steps sets a new target",
  },
  "log-every": {
    type: "number",
    integer: true,
    min: 1,
    help: "write a metrics line every N steps",
    note: _byDataset("logEvery"),
  },
} as const satisfies OptionTable;

/**
 * The flags that concern one data set only (its data and augmentation), by data set.
 *
 * @example
 * ```ts
 * import { DATASET_ONLY_FLAGS } from "./_train_options.ts";
 * import assert from "node:assert/strict";
 * assert.ok(DATASET_ONLY_FLAGS.mnist.includes("rotate"));
 * ```
 */
export const DATASET_ONLY_FLAGS: Readonly<Record<DatasetName, readonly string[]>> = {
  "s-curve": ["s-curve-mode", "s-curve-n", "jitter"],
  mnist: ["translate", "rotate", "dequantize"],
};

/**
 * Refuses flags of the other data set (they would be ignored, and then recorded in the run's
 * config as if they had applied).
 *
 * @example
 * ```ts
 * import { checkDatasetFlags } from "./_train_options.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => checkDatasetFlags("s-curve", new Set(["rotate"])), /only to mnist runs/);
 * checkDatasetFlags("mnist", new Set(["rotate"]));
 * ```
 *
 * @param dataset The run's data set.
 * @param given The flags given on the command line.
 * @throws {UsageError} Naming the first flag that belongs to another data set.
 */
export function checkDatasetFlags(dataset: DatasetName, given: ReadonlySet<string>): void {
  for (const [other, flags] of Object.entries(DATASET_ONLY_FLAGS)) {
    if (other === dataset) continue;
    const flag = flags.find((f) => given.has(f));
    if (flag) {
      throw new UsageError(`--${flag} applies only to ${other} runs (this run is ${dataset})`);
    }
  }
}

/**
 * Resolves parsed flags into a complete {@linkcode TrainConfig}, filling data-set defaults and
 * rejecting combinations that cannot work.
 *
 * @param v The parsed flags.
 * @returns The configuration.
 *
 * @example
 * ```ts
 * import { parseOptions } from "./_cli.ts";
 * import { resolveTrainConfig, TRAIN_OPTIONS } from "./_train_options.ts";
 * import assert from "node:assert/strict";
 * const cfg = resolveTrainConfig(parseOptions(TRAIN_OPTIONS, []).values);
 * assert.equal(cfg.model, "mlp");
 * assert.equal(cfg.timesteps, 100);
 * ```
 */
export function resolveTrainConfig(v: ParsedOptions<typeof TRAIN_OPTIONS>): TrainConfig {
  const o = TRAIN_OPTIONS;
  const dataset = v.dataset ?? o.dataset.default;
  const d = DATASET_DEFAULTS[dataset];
  const model = v.model ?? d.model;
  if (dataset === "mnist" && model === "mlp") {
    throw new UsageError("--model mlp works on 2-D points only; use --model unet-s for mnist");
  }
  if (dataset === "s-curve" && model === "unet-s") {
    throw new UsageError("--model unet-s works on 28x28 images only; use --model mlp for s-curve");
  }
  const loss = v.loss ?? d.loss;
  const variance = v.variance ?? defaultVariance(loss);
  if (loss !== "simple" && variance !== "learned-range") {
    throw new UsageError(
      `--loss ${loss} trains the variance and needs --variance learned-range; got ${variance}`,
    );
  }
  const classCond = v["class-cond"] ?? o["class-cond"].default;
  const numClasses = classCond ? DATASET_CLASSES[dataset] : 0;
  if (classCond && numClasses === 0) {
    throw new UsageError(`--class-cond needs labelled data; ${dataset} has no labels (use mnist)`);
  }
  if (!classCond && v["label-dropout"] !== undefined) {
    throw new UsageError("--label-dropout applies only with --class-cond");
  }
  const timesteps = v.timesteps ?? d.timesteps;
  const sampleSteps = checkSampleSteps(
    "--sample-steps",
    v["sample-steps"] ?? d.sampleSteps,
    timesteps,
  );
  const config: TrainConfig = {
    dataset,
    model,
    schedule: v.schedule ?? d.schedule,
    timesteps,
    loss,
    variance,
    tSampler: v["t-sampler"] ?? d.tSampler,
    steps: v.steps ?? d.steps,
    maxMinutes: v["max-minutes"] ?? o["max-minutes"].default,
    batch: v.batch ?? d.batch,
    lr: v.lr ?? d.lr,
    microBatch: v["micro-batch"] ?? o["micro-batch"].default,
    warmup: v.warmup ?? o.warmup.default,
    ema: v.ema ?? d.ema,
    clip: v.clip ?? o.clip.default,
    dropout: v.dropout ?? defaultDropout(model),
    timeEmbedding: v["time-embedding"] ?? o["time-embedding"].default,
    // Only a class-conditional run records these (an unconditional run's config is unchanged).
    ...(classCond ? { numClasses, labelDropout: v["label-dropout"] ?? DEFAULT_LABEL_DROPOUT } : {}),
    seed: v.seed ?? o.seed.default,
    workers: v.workers ?? defaultWorkers(),
    prefetch: v.prefetch ?? o.prefetch.default,
    sCurveMode: v["s-curve-mode"] ?? o["s-curve-mode"].default,
    sCurveN: v["s-curve-n"] ?? o["s-curve-n"].default,
    jitter: v.jitter ?? o.jitter.default,
    translate: v.translate ?? o.translate.default,
    rotate: v.rotate ?? o.rotate.default,
    dequantize: v.dequantize ?? o.dequantize.default,
    backend: v.backend ?? o.backend.default,
    sampleEvery: v["sample-every"] ?? d.sampleEvery,
    evalEvery: v["eval-every"] ?? d.evalEvery,
    checkpointEvery: v["checkpoint-every"] ?? d.checkpointEvery,
    keepCheckpoints: v["keep-checkpoints"] ?? d.keepCheckpoints,
    sampleSteps,
    logEvery: v["log-every"] ?? d.logEvery,
    name: v.name ?? `${dataset}-${model}`,
    out: v.out ?? o.out.default,
  };
  try {
    resolveOptions(pipelineOptionsOf(config));
  } catch (e) {
    throw new UsageError(`the data pipeline refuses these flags: ${(e as Error).message}`);
  }
  return config;
}

/**
 * The options of the data pipeline a training config implies, from batch `startBatch` on.
 *
 * @param config The training config.
 * @param startBatch The first batch (the step a resumed run continues from).
 * @returns The pipeline's options.
 *
 * @example
 * ```ts
 * import { parseOptions } from "./_cli.ts";
 * import { pipelineOptionsOf, resolveTrainConfig, TRAIN_OPTIONS } from "./_train_options.ts";
 * import assert from "node:assert/strict";
 * const cfg = resolveTrainConfig(parseOptions(TRAIN_OPTIONS, ["--batch", "7"]).values);
 * assert.equal(pipelineOptionsOf(cfg, 3).batchSize, 7);
 * ```
 */
export function pipelineOptionsOf(config: TrainConfig, startBatch = 0): PipelineOptions {
  return {
    dataset: config.dataset,
    batchSize: config.batch,
    workers: config.workers,
    prefetch: config.prefetch,
    seed: config.seed,
    startBatch,
    sCurve: { mode: config.sCurveMode, n: config.sCurveN, noise: 0.1, jitter: config.jitter },
    mnist: {
      split: "train",
      translate: config.translate,
      rotate: config.rotate,
      dequantize: config.dequantize,
    },
  };
}

/**
 * Checks a sampling-steps value (`all`, `50`, `10,15,20`, `ddim50`, `dpm++20`, `unipc10`) against
 * a process of `timesteps` steps (or only its form, without them); a {@linkcode UsageError} naming
 * `flag` when it does not fit.
 *
 * @param flag The flag's name, for the message.
 * @param steps The value.
 * @param timesteps T of the trained process; undefined checks the form only.
 * @returns The value.
 *
 * @example
 * ```ts
 * import { checkSampleSteps } from "./_train_options.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkSampleSteps("--steps", "ddim10", 100), "ddim10");
 * assert.equal(checkSampleSteps("--steps", "dpm++20", 1000), "dpm++20");
 * assert.throws(() => checkSampleSteps("--steps", "unipc0"), /--steps needs at least one step/);
 * assert.throws(() => checkSampleSteps("--steps", "5000", 1000), /--steps 5000 does not fit/);
 * assert.throws(() => checkSampleSteps("--steps", "foo", 1000), /--steps must be all/);
 * ```
 */
export function checkSampleSteps(flag: string, steps: string, timesteps?: number): string {
  try {
    parseSampleSteps(steps);
  } catch (e) {
    throw new UsageError(
      e instanceof RangeError
        ? `${flag} needs at least one step; got "${steps}"`
        : `${flag} must be ${SAMPLE_STEPS_SYNTAX}; got "${steps}"`,
    );
  }
  if (timesteps === undefined) return steps;
  try {
    spaceTimesteps(timesteps, steps);
  } catch (e) {
    throw new UsageError(
      `${flag} ${steps} does not fit a model of ${timesteps} timesteps (${
        (e as Error).message.replace(/^Cannot space [^:]*: /, "")
      })`,
    );
  }
  return steps;
}

/**
 * The flags that, given with `--resume`, replace what the run saved.
 *
 * @example
 * ```ts
 * import { RESUME_OVERRIDES } from "./_train_options.ts";
 * import assert from "node:assert/strict";
 * assert.ok(RESUME_OVERRIDES.includes("steps"));
 * ```
 */
export const RESUME_OVERRIDES = [
  "steps",
  "keep-checkpoints",
  "max-minutes",
  "out",
  "backend",
  "workers",
  "prefetch",
] as const;

/**
 * The config a resumed run continues with: the saved config stands, target step count
 * included; only the flags of {@linkcode RESUME_OVERRIDES} that were given replace it (the
 * time budget and the runs directory always belong to this invocation).
 *
 * @param saved The run's saved config (`run.json`), possibly from an older version.
 * @param current The config resolved from this invocation's flags.
 * @param given The flags given on this command line.
 * @returns The config to continue with.
 *
 * @example
 * ```ts
 * import { parseOptions } from "./_cli.ts";
 * import { resolveTrainConfig, resumedConfig, TRAIN_OPTIONS } from "./_train_options.ts";
 * import assert from "node:assert/strict";
 * const saved = resolveTrainConfig(parseOptions(TRAIN_OPTIONS, ["--steps", "300"]).values);
 * const now = parseOptions(TRAIN_OPTIONS, []);
 * assert.equal(resumedConfig(saved, resolveTrainConfig(now.values), now.given).steps, 300);
 * const more = parseOptions(TRAIN_OPTIONS, ["--steps", "500"]);
 * assert.equal(resumedConfig(saved, resolveTrainConfig(more.values), more.given).steps, 500);
 * ```
 */
export function resumedConfig(
  saved: TrainConfig,
  current: TrainConfig,
  given: ReadonlySet<string>,
): TrainConfig {
  const defaults = DATASET_DEFAULTS[saved.dataset] ?? DATASET_DEFAULTS["s-curve"];
  return {
    ...saved,
    steps: given.has("steps") ? current.steps : saved.steps,
    keepCheckpoints: given.has("keep-checkpoints")
      ? current.keepCheckpoints
      : saved.keepCheckpoints ?? defaults.keepCheckpoints,
    maxMinutes: current.maxMinutes,
    out: current.out,
    backend: given.has("backend") ? current.backend : saved.backend,
    workers: given.has("workers") ? current.workers : saved.workers,
    prefetch: given.has("prefetch") ? current.prefetch : saved.prefetch,
  };
}
