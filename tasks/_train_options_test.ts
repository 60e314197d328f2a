import assert from "node:assert/strict";
import { helpText, parseOptions } from "./_cli.ts";
import {
  checkSampleSteps,
  DATASET_DEFAULTS,
  resolveTrainConfig,
  SEED_RANGE as TRAIN_SEED_RANGE,
  TRAIN_OPTIONS,
} from "./_train_options.ts";
import { BACKEND_NAMES } from "../lib/backend/mod.ts";
import { VARIANCE_KINDS } from "../lib/diffusion.ts";
import { LOSS_KINDS } from "../lib/loss.ts";
import { resolveMlpConfig } from "../lib/model/mlp.ts";
import { resolveUnetSConfig } from "../lib/model/unet_s.ts";
import { MLP_TIME_EMBEDDINGS, MODEL_KINDS } from "../lib/model/types.ts";
import { parseSampleSteps } from "../lib/respace.ts";
import { BETA_SCHEDULES, type BetaScheduleKind } from "../lib/schedule.ts";
import { TIMESTEP_SAMPLERS } from "../lib/timestep_sampler.ts";
import {
  DATASETS,
  defaultWorkers,
  MAX_WORKERS,
  S_CURVE_MODES,
  SEED_RANGE,
} from "../workers/options.ts";

Deno.test("train's choices are lib's lists, not copies", () => {
  const o = TRAIN_OPTIONS;
  assert.equal(o.dataset.choices, DATASETS);
  assert.equal(o.model.choices, MODEL_KINDS);
  assert.equal(o.schedule.choices, BETA_SCHEDULES);
  assert.equal(o.loss.choices, LOSS_KINDS);
  assert.equal(o.variance.choices, VARIANCE_KINDS);
  assert.equal(o["t-sampler"].choices, TIMESTEP_SAMPLERS);
  assert.equal(o["time-embedding"].choices, MLP_TIME_EMBEDDINGS);
  assert.equal(o["s-curve-mode"].choices, S_CURVE_MODES);
  assert.equal(o.backend.choices, BACKEND_NAMES);
  // The seed's range is the pipeline's.
  assert.equal(TRAIN_SEED_RANGE, SEED_RANGE);
  assert.equal(o.seed.max, SEED_RANGE.max);
});

Deno.test("parsed choices are typed as lib's unions", () => {
  // A type check as much as a test: a plain string would not be assignable.
  const schedule: BetaScheduleKind | undefined =
    parseOptions(TRAIN_OPTIONS, ["--schedule", "cosine"]).values.schedule;
  assert.equal(schedule, "cosine");
});

Deno.test("the help's per-data-set notes are made from DATASET_DEFAULTS", () => {
  const text = helpText("deno task train [flags]", TRAIN_OPTIONS);
  const flags: [string, keyof typeof DATASET_DEFAULTS["mnist"]][] = [
    ["model", "model"],
    ["schedule", "schedule"],
    ["timesteps", "timesteps"],
    ["loss", "loss"],
    ["t-sampler", "tSampler"],
    ["steps", "steps"],
    ["batch", "batch"],
    ["lr", "lr"],
    ["ema", "ema"],
    ["sample-every", "sampleEvery"],
    ["eval-every", "evalEvery"],
    ["checkpoint-every", "checkpointEvery"],
    ["sample-steps", "sampleSteps"],
    ["log-every", "logEvery"],
  ];
  for (const [flag, key] of flags) {
    const line = text.split("\n").find((l) => l.startsWith(`  --${flag} `));
    assert.ok(line, flag);
    for (const d of DATASETS) {
      assert.ok(line.includes(`${d}: ${DATASET_DEFAULTS[d][key]}`), `${line} lacks ${d}`);
    }
  }
});

Deno.test("defaults that are not per data set come from one place", () => {
  const v = parseOptions(TRAIN_OPTIONS, []).values;
  const mlp = resolveTrainConfig(v);
  assert.equal(mlp.dropout, resolveMlpConfig({ kind: "mlp", timesteps: 1, outDim: 2 }).dropout);
  assert.equal(mlp.prefetch, TRAIN_OPTIONS.prefetch.default);
  const unet = resolveTrainConfig(parseOptions(TRAIN_OPTIONS, ["--dataset", "mnist"]).values);
  assert.equal(unet.dropout, resolveUnetSConfig({ kind: "unet-s" }).dropout);
  assert.equal(unet.variance, "learned-range");
  // An empty record of flags (as an older caller passes) gets the same defaults as no flags.
  const empty = resolveTrainConfig({} as never);
  assert.deepEqual({ ...empty, workers: 0 }, { ...mlp, workers: 0 });
  for (const d of DATASETS) {
    const c = resolveTrainConfig(parseOptions(TRAIN_OPTIONS, ["--dataset", d]).values);
    for (const [k, want] of Object.entries(DATASET_DEFAULTS[d])) {
      assert.equal(c[k as keyof typeof c], want, `${d} ${k}`);
    }
  }
});

Deno.test("checkSampleSteps accepts exactly what lib's parser accepts", () => {
  const forms = ["all", "50", " 50", "10,15,20", "ddim25", "0x10", "1e2", "-5", "", "ddim0"];
  const solvers = ["dpm++20", "unipc10", "dpm++0", "unipc", "dpm10", "dpm++1,2", "unipc-3"];
  for (const s of [...forms, ...solvers]) {
    let lib = true;
    try {
      parseSampleSteps(s);
    } catch {
      lib = false;
    }
    let cli = true;
    try {
      checkSampleSteps("--steps", s);
    } catch (e) {
      assert.equal((e as Error).name, "UsageError", s);
      cli = false;
    }
    assert.equal(cli, lib, `"${s}": the CLI says ${cli}, lib says ${lib}`);
  }
  assert.throws(() => checkSampleSteps("--steps", "ddim0"), /--steps needs at least one step/);
  assert.throws(() => checkSampleSteps("--steps", "fast"), /--steps must be all/);
  assert.throws(() => checkSampleSteps("--steps", "500", 100), /does not fit a model of 100/);
  assert.throws(() => checkSampleSteps("--steps", "unipc500", 100), /does not fit a model of 100/);
  assert.equal(checkSampleSteps("--steps", "dpm++100", 100), "dpm++100");
});

Deno.test("the default worker count is the pipeline's, within its limit on a many-core machine", () => {
  const had = Object.getOwnPropertyDescriptor(navigator, "hardwareConcurrency");
  Object.defineProperty(navigator, "hardwareConcurrency", { value: 64, configurable: true });
  try {
    const c = resolveTrainConfig(parseOptions(TRAIN_OPTIONS, []).values);
    assert.equal(c.workers, defaultWorkers());
    assert.equal(c.workers, MAX_WORKERS);
  } finally {
    if (had) Object.defineProperty(navigator, "hardwareConcurrency", had);
    else delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency;
  }
});
