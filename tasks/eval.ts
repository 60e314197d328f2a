/**
 * `deno task eval`: measures a trained run. S-curve: the sliced Wasserstein-1 distance (256
 * fixed directions) between `--n` samples and as many data points, beside the same distance
 * between two fresh data sets (the noise floor), and the full variational bound in bits per
 * coordinate on 2,000 fresh points. MNIST: the full variational bound in bits per dimension (all
 * T terms plus the prior, with and without clipping the predicted x_0) on `--digits` test digits
 * taken class by class, and L_simple with a Monte Carlo estimate of the bound (one t per digit)
 * on the whole test split; `--bound mc` gives only the latter. `--quality` instead samples digits
 * and measures them against the test digits (Fréchet distance, KID, precision and recall, ...).
 *
 * @example
 * ```sh
 * deno task eval --run <run id>
 * deno task eval --run <run id> --digits 64 --json
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { BACKEND_OPTION, callerPath, type OptionTable, runTask, UsageError } from "./_cli.ts";
import { checkSampleSteps, SEED_RANGE } from "./_train_options.ts";
import { CLASS_SAMPLING } from "./sample.ts";
import { appendJsonl } from "../lib/io/atomic.ts";
import { evaluate } from "./_evaluate.ts";
import { openRun, RUN_OPTIONS, SAMPLING_VARIANCE_OPTION, samplingVariance } from "./_load_run.ts";
import { findRunDir } from "./_run_dir.ts";
import { progressLine } from "./_progress.ts";
import { runPaths, stepName } from "../lib/run/layout.ts";
import { evaluateQuality } from "./_evaluate.ts";
import { type QualityFields, samplerOf } from "../lib/quality/record.ts";
import { SAMPLE_STEPS_SYNTAX } from "../lib/respace.ts";
import type { DiffusionModel } from "../lib/model/mod.ts";
import type { Schedule } from "../lib/schedule.ts";
import type { VarianceKind } from "../lib/diffusion.ts";

/** The flags of `deno task eval`. */
export const EVAL_OPTIONS = {
  ...RUN_OPTIONS,
  ema: {
    type: "boolean",
    default: true,
    help: "evaluate the EMA weights (--no-ema for the raw ones)",
  },
  n: {
    type: "number",
    integer: true,
    min: 20,
    help: "samples compared (s-curve: 10000 points; mnist --quality: 1000 digits)",
  },
  "sample-steps": {
    type: "string",
    help: `sampling steps: ${SAMPLE_STEPS_SYNTAX}`,
    note: "s-curve: all; mnist --quality: 50",
  },
  quality: {
    type: "boolean",
    default: false,
    help: "mnist: sample digits and measure them (Fréchet distance, KID, precision, recall, " +
      "classes, memorisation) against the test digits, beside the floor; the digits are kept " +
      "in the run's eval_samples/, so that the same command resumes after a stop",
  },
  guidance: {
    type: "number",
    min: 0,
    max: CLASS_SAMPLING.maxGuidance,
    help: "with --quality on a class-conditional model: draw balanced classes with this " +
      "classifier-free guidance weight (0 unconditional, 1 conditional, above 1 guided) and " +
      "measure how often the classifier gives each class back",
    note: "none: unconditional samples",
  },
  variance: SAMPLING_VARIANCE_OPTION,
  bound: {
    type: "string",
    choices: ["full", "mc"],
    default: "full",
    help: "mnist: the full T-term bound, or only its Monte Carlo estimate (one t per digit, fast)",
  },
  digits: {
    type: "number",
    integer: true,
    min: 1,
    max: 999,
    default: 64,
    help: "mnist: test digits in the full bound",
  },
  seed: { type: "number", integer: true, ...SEED_RANGE, default: 0, help: "seed" },
  json: { type: "boolean", default: false, help: "print one JSON object instead of text" },
  record: { type: "boolean", default: true, help: "append the result to the run's eval.jsonl" },
  backend: BACKEND_OPTION,
} as const satisfies OptionTable;

if (import.meta.main) {
  await runTask("deno task eval --run <id> [flags]", EVAL_OPTIONS, async (v, given) => {
    if (v["sample-steps"] !== undefined) checkSampleSteps("--sample-steps", v["sample-steps"]);
    const { config, model, step, checkpoint, schedule } = await openRun(v);
    let sv: ReturnType<typeof samplingVariance>;
    try {
      sv = samplingVariance(config.variance, v.variance, checkpoint);
      if (v.quality && config.dataset !== "mnist") {
        throw new UsageError("--quality measures digits: it needs an MNIST run");
      }
      if (v.guidance !== undefined && !v.quality) {
        throw new UsageError("--guidance applies only with --quality");
      }
      if (v.guidance !== undefined && !(model.numClasses > 0)) {
        throw new UsageError(
          `--guidance needs a class-conditional model (train --class-cond); ${checkpoint} has no labels`,
        );
      }
      // MNIST's flags are refused on an S-curve run, not ignored and then recorded.
      const mnistOnly = ["bound", "digits"].filter((f) => given.has(f));
      if (mnistOnly.length && config.dataset !== "mnist") {
        throw new UsageError(
          `${mnistOnly.map((f) => `--${f}`).join(" and ")} ${
            mnistOnly.length > 1 ? "apply" : "applies"
          } only to MNIST runs (this run is ${config.dataset})`,
        );
      }
      if (v["sample-steps"] !== undefined) {
        checkSampleSteps("--sample-steps", v["sample-steps"], config.timesteps);
      }
      if (v.n !== undefined && v.n < 100 && !v.quality) {
        throw new UsageError(`--n must be at least 100 for the sliced Wasserstein distance`);
      }
    } catch (e) {
      model.dispose();
      throw e;
    }
    if (v.quality) {
      const code = await _quality(v, model, schedule, {
        step,
        checkpoint,
        variance: config.variance,
        override: sv.override ? sv.variance : undefined,
      });
      model.dispose();
      return code;
    }
    console.error(`evaluating ${checkpoint} (step ${step}, ${v.ema ? "EMA" : "raw"} weights)`);
    const t0 = performance.now();
    let lastPct = -1;
    const metrics = await evaluate(model, schedule, {
      dataset: config.dataset,
      variance: sv.variance,
      seed: v.seed!,
      n: v.n ?? 10000,
      sampleSteps: v["sample-steps"] ?? "all",
      bpdDigits: v.digits,
      quick: v.bound === "mc" && config.dataset === "mnist",
      onProgress: (done, total) => {
        const pct = Math.floor((100 * done) / total);
        if (pct % 10 === 0 && pct !== lastPct) {
          lastPct = pct;
          console.error(`  bound: ${done}/${total} timesteps`);
        }
      },
    });
    const secs = (performance.now() - t0) / 1000;
    // What was measured, so that the viewer never draws records of other settings as one series.
    const settings = config.dataset === "s-curve"
      ? { n: v.n ?? 10000, steps: v["sample-steps"] ?? "all", seed: v.seed }
      : { bound: v.bound, seed: v.seed };
    if (sv.override) Object.assign(settings, { variance: sv.variance });
    const result = {
      step,
      ema: v.ema,
      ...settings,
      ...metrics,
      seconds: Math.round(secs * 10) / 10,
    };
    if (v.json) console.log(JSON.stringify(result));
    else {
      for (const [k, val] of Object.entries(result)) console.log(`${k.padEnd(12)} ${val}`);
    }
    if (v.record) {
      try {
        const dir = await findRunDir(callerPath(v.runs!), v.run!);
        await appendJsonl(join(dir, "eval.jsonl"), {
          time: new Date().toISOString(),
          source: "eval",
          ...result,
        });
      } catch { /* a bare checkpoint: nowhere to record */ }
    }
    model.dispose();
    return 0;
  });
}

/** `--quality`: samples digits, measures them beside the floor, prints and records. */
async function _quality(
  v: {
    n?: number;
    "sample-steps"?: string;
    seed?: number;
    guidance?: number;
    ema?: boolean;
    json?: boolean;
    record?: boolean;
    runs?: string;
    run?: string;
  },
  model: DiffusionModel,
  schedule: Schedule,
  at: { step: number; checkpoint: string; variance: VarianceKind; override?: VarianceKind },
): Promise<number> {
  const n = v.n ?? 1000, steps = v["sample-steps"] ?? "50", seed = v.seed ?? 0;
  console.error(
    `sampling ${n} digits from ${at.checkpoint} (step ${at.step}, ${v.ema ? "EMA" : "raw"} ` +
      `weights, ${steps} steps, ${samplerOf(steps)}${
        at.override === undefined ? "" : `, variance ${at.override}`
      }) and measuring them`,
  );
  const weights = v.ema ? "ema" : "raw";
  // The sampled digits are kept batch by batch (a 1,000-step evaluation takes hours): run the
  // same command again after a stop and it resumes. The folder names what the digits depend on.
  let cacheDir: string | undefined;
  try {
    const dir = await findRunDir(callerPath(v.runs!), v.run!);
    cacheDir = join(
      runPaths(dir).evalSamples,
      `${stepName(at.step, "")}-${weights}-${steps}-seed${seed}${
        v.guidance === undefined ? "" : `-guidance${v.guidance}`
      }${at.override === undefined ? "" : `-${at.override}`}`,
    );
  } catch { /* a bare checkpoint: nothing kept */ }
  const kept = cacheDir ? await _countFiles(cacheDir, ".npy") : 0;
  if (kept) console.error(`resuming: ${kept} batch${kept > 1 ? "es" : ""} kept in ${cacheDir}`);
  const q = await evaluateQuality(model, schedule, {
    variance: at.variance,
    seed,
    quality: {
      n,
      steps,
      seed,
      weights,
      guidance: v.guidance,
      variance: at.override,
      cacheDir,
      onProgress: progressLine("sampling"),
    },
  });
  console.error(`  ${q.qualitySeconds.toFixed(0)} s`);
  const result = { step: at.step, ema: v.ema, ...q };
  if (v.json) console.log(JSON.stringify(result));
  else _printQuality(q);
  if (v.record) {
    try {
      const dir = await findRunDir(callerPath(v.runs!), v.run!);
      await appendJsonl(join(dir, "eval.jsonl"), {
        time: new Date().toISOString(),
        source: "eval-quality",
        ...result,
      });
    } catch { /* a bare checkpoint: nowhere to record */ }
  }
  return 0;
}

async function _countFiles(dir: string, ext: string): Promise<number> {
  let k = 0;
  try {
    for await (const e of Deno.readDir(dir)) if (e.isFile && e.name.endsWith(ext)) k++;
  } catch { /* none yet */ }
  return k;
}

function _printQuality(q: QualityFields): void {
  const row = (name: string, a: string, b: string) =>
    console.log(`${name.padEnd(28)} ${a.padStart(14)} ${b.padStart(14)}`);
  const n = q.quality.n;
  row("measure", `samples (${n})`, `floor (${n} real)`);
  row("Fréchet distance", q.frechet.toFixed(2), q.frechetFloor.toFixed(2));
  row(
    "KID x1000 (± stderr)",
    `${(1000 * q.kid).toFixed(2)} ± ${(1000 * q.kidStderr).toFixed(2)}`,
    `${(1000 * q.kidFloor).toFixed(2)} ± ${(1000 * q.kidFloorStderr).toFixed(2)}`,
  );
  row("precision", q.precision.toFixed(3), q.precisionFloor.toFixed(3));
  row("recall", q.recall.toFixed(3), q.recallFloor.toFixed(3));
  row("class entropy (bits, max 3.32)", q.classEntropy.toFixed(3), q.classEntropyFloor.toFixed(3));
  row("mean confidence", q.confidence.toFixed(3), q.confidenceFloor.toFixed(3));
  console.log(`classes (samples): ${q.classes.join(" ")}`);
  if (q.classAccuracy !== undefined) {
    console.log(
      `guidance ${q.quality.guidance}: the classifier gives back ${
        (100 * q.classAccuracy).toFixed(1)
      }% of the classes asked for (by class: ${
        q.classAccuracies!.map((a) => (100 * a).toFixed(0)).join(" ")
      })`,
    );
  }
  console.log(
    `memorisation: ${(100 * q.memorised).toFixed(1)}% of samples closer to a training digit ` +
      `than 99% of test digits are (median distance ${q.nearestTrainMedian.toFixed(2)}, test ` +
      `digits ${q.nearestTrainMedianFloor.toFixed(2)})`,
  );
}
