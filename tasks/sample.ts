/**
 * `deno task sample`: draws samples from a trained run and writes them as a picture (`.png`: a
 * grid or a scatter), a NumPy array (`.npy`, float32) or JSON (`.json`), the format taken from
 * the extension of `--out`; `--trajectory` adds the denoising sequence as a strip of frames.
 *
 * @example
 * ```sh
 * deno task sample --run <run id> --n 64 --sample-steps ddim50 --out digits.png
 * deno task sample --run <run id> --n 64 --sample-steps dpm++20 --out digits.png
 * deno task sample --run <run id> --n 10000 --out points.npy
 * deno task sample --run <class-cond run> --class 3 --guidance 2 --out threes.png
 * deno task sample --run <class-cond run> --class all --n 8 --out classes.png  # 10 rows of 8
 * ```
 *
 * @module
 */
import { dirname, extname, resolve } from "node:path";
import {
  BACKEND_OPTION,
  callerPath,
  type OptionSpec,
  type OptionTable,
  runTask,
  UsageError,
} from "./_cli.ts";
import { checkSampleSteps, SEED_RANGE } from "./_train_options.ts";
import { encodePng } from "../lib/image/mod.ts";
import { parseSampleSteps, SAMPLE_STEPS_SYNTAX, spaceTimesteps } from "../lib/respace.ts";
import { type DatasetName, DATASETS } from "../workers/options.ts";
import { encodeNpy } from "../lib/io/npy.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import { dataSample, generateSamples } from "./_evaluate.ts";
import { framesPicture, samplesPicture } from "./_pictures.ts";
import {
  openRun,
  requiredRun,
  RUN_OPTIONS,
  SAMPLING_VARIANCE_OPTION,
  samplingVariance,
} from "./_load_run.ts";
import { progressLine } from "./_progress.ts";
import { classGridPicture, generateClassSamples } from "./_class_samples.ts";
import { CLASS_SAMPLING } from "../lib/class_sampling.ts";

/**
 * How many samples `sample` draws by default, per data set.
 *
 * @example
 * ```ts
 * import { SAMPLE_COUNTS } from "./sample.ts";
 * import assert from "node:assert/strict";
 * assert.equal(SAMPLE_COUNTS.mnist, 64);
 * ```
 */
export const SAMPLE_COUNTS: Readonly<Record<DatasetName, number>> = { "s-curve": 2000, mnist: 64 };

/** Class-conditional sampling's defaults (see `lib/class_sampling.ts`), for the other tasks. */
export { CLASS_SAMPLING };

/**
 * The `--guidance` flag of the tasks that sample a class-conditional model (`sample`, `inpaint`,
 * `denoise`): one spelling of its range, default and help.
 *
 * @example
 * ```ts
 * import { CLASS_SAMPLING, GUIDANCE_OPTION } from "./sample.ts";
 * import assert from "node:assert/strict";
 * assert.equal(GUIDANCE_OPTION.max, CLASS_SAMPLING.maxGuidance);
 * ```
 */
/**
 * The `--clip` flag of the tasks that sample (`sample`, `inpaint`): one spelling of its help.
 *
 * @example
 * ```ts
 * import { CLIP_OPTION } from "./sample.ts";
 * import assert from "node:assert/strict";
 * assert.equal(CLIP_OPTION.type, "boolean");
 * ```
 */
export const CLIP_OPTION = {
  type: "boolean",
  help: "clip predicted x_0 to [-1, 1]",
  note: "on for mnist, off for s-curve",
} as const satisfies OptionSpec;

export const GUIDANCE_OPTION = {
  type: "number",
  min: 0,
  max: CLASS_SAMPLING.maxGuidance,
  help: "with --class: classifier-free guidance weight w in eps_u + w (eps_c - eps_u); " +
    "0 unconditional, 1 conditional, above 1 guided",
  note: String(CLASS_SAMPLING.guidance),
} as const satisfies OptionSpec;

/**
 * The value of `--class`: one class, every class (`all`), or none given.
 *
 * @example
 * ```ts
 * import { parseClass } from "./sample.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseClass("3", 10), 3);
 * assert.equal(parseClass("all", 10), "all");
 * assert.throws(() => parseClass("10", 10), /--class must be a whole number from 0 to 9 or all/);
 * ```
 *
 * @param value The flag's value.
 * @param numClasses The model's classes (10 for MNIST); the form alone is checked when absent.
 * @returns The class, or `"all"`.
 * @throws {UsageError} For anything but a whole number in `0..numClasses-1` or `all`.
 */
export function parseClass(value: string, numClasses = 10): number | "all" {
  if (value === "all") return value;
  const c = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(c >= 0 && c < numClasses)) {
    throw new UsageError(
      `--class must be a whole number from 0 to ${numClasses - 1} or all; got "${value}"`,
    );
  }
  return c;
}

/** The flags of `deno task sample`. */
export const SAMPLE_OPTIONS = {
  ...RUN_OPTIONS,
  n: {
    type: "number",
    integer: true,
    min: 1,
    max: 1000000,
    help: "number of samples",
    note: DATASETS.map((d) => `${d}: ${SAMPLE_COUNTS[d]}`).join(", "),
  },
  "sample-steps": {
    type: "string",
    help: `sampling steps: ${SAMPLE_STEPS_SYNTAX}`,
    note: "the run's own, as it trained (s-curve: all, mnist: 50)",
  },
  eta: { type: "number", min: 0, max: 1, default: 0, help: "DDIM eta (0 = deterministic)" },
  seed: {
    type: "number",
    integer: true,
    ...SEED_RANGE,
    default: 0,
    help: "sampling seed (same seed, same samples)",
  },
  ema: { type: "boolean", default: true, help: "use the EMA weights (--no-ema for the raw ones)" },
  out: {
    type: "string",
    default: "samples.png",
    help: "output file: .png, .npy or .json (relative to the current directory)",
  },
  trajectory: { type: "string", help: "also write the denoising trajectory as a PNG strip here" },
  frames: {
    type: "number",
    integer: true,
    min: 2,
    max: 100,
    default: 10,
    help: "frames in the trajectory",
  },
  clip: CLIP_OPTION,
  class: {
    type: "string",
    help: "a class-conditional model's class: 0..9 (every sample), or all (one row per class " +
      `of --n digits, default ${CLASS_SAMPLING.perClass}, the rows sharing their noise)`,
    note: "none: unconditional",
  },
  guidance: GUIDANCE_OPTION,
  variance: SAMPLING_VARIANCE_OPTION,
  backend: BACKEND_OPTION,
} as const satisfies OptionTable;

async function _checkWritable(path: string, formats: string[]): Promise<void> {
  const ext = extname(path).toLowerCase();
  if (!formats.includes(ext)) {
    throw new UsageError(
      `cannot write ${path}: the extension must be one of ${formats.join(", ")}`,
    );
  }
  const dir = dirname(resolve(path));
  let ok = false;
  try {
    ok = (await Deno.stat(dir)).isDirectory;
  } catch { /* missing */ }
  if (!ok) throw new UsageError(`cannot write ${path}: directory ${dir} does not exist`);
}

if (import.meta.main) {
  await runTask("deno task sample --run <id> [flags]", SAMPLE_OPTIONS, async (v, given) => {
    requiredRun(v.run);
    const out = callerPath(v.out!);
    const trajectory = v.trajectory ? callerPath(v.trajectory) : undefined;
    await _checkWritable(out, [".png", ".npy", ".json"]);
    if (trajectory) await _checkWritable(trajectory, [".png"]);
    if (v["sample-steps"] !== undefined) checkSampleSteps("--sample-steps", v["sample-steps"]);
    if (v.class !== undefined) parseClass(v.class);
    if (v.guidance !== undefined && v.class === undefined) {
      throw new UsageError("--guidance applies only with --class (a class-conditional model)");
    }
    const { config, model: loaded, step, checkpoint, schedule } = await openRun(v);
    // The run's own picture steps unless told: 50 respaced steps for an MNIST run, not 1,000.
    const steps = v["sample-steps"] ?? config.sampleSteps ?? "all";
    let cls: number | "all" | undefined;
    let variance = config.variance;
    try {
      checkSampleSteps("--sample-steps", steps, config.timesteps);
      // eta is DDIM's; the other samplers would ignore it, so asking for it there is a mistake.
      const method = parseSampleSteps(steps).method;
      if (given.has("eta") && method !== "ddim") {
        throw new UsageError(
          `--eta applies only to DDIM (--sample-steps ddimN); ${steps} samples with ${method}`,
        );
      }
      variance = samplingVariance(config.variance, v.variance, checkpoint).variance;
      if (v.class !== undefined) {
        if (!(loaded.numClasses > 0)) {
          throw new UsageError(
            `--class needs a class-conditional model (train --class-cond); ${checkpoint} has no labels`,
          );
        }
        cls = parseClass(v.class, loaded.numClasses);
      }
    } catch (e) {
      loaded.dispose();
      throw e;
    }
    const guidance = v.guidance ?? CLASS_SAMPLING.guidance;
    const classes = cls === undefined
      ? []
      : cls === "all"
      ? Array.from({ length: loaded.numClasses }, (_, c) => c)
      : [cls];
    const n = v.n ?? (cls === "all" ? CLASS_SAMPLING.perClass : SAMPLE_COUNTS[config.dataset]);
    const total = n * Math.max(1, classes.length);
    console.error(
      `sampling ${total} from ${checkpoint} (step ${step}, ${
        v.ema ? "EMA" : "raw"
      } weights, steps ${steps}${cls === undefined ? "" : `, class ${cls}, guidance ${guidance}`}${
        variance === config.variance ? "" : `, variance ${variance}`
      })`,
    );
    const t0 = performance.now();
    const frames = v.frames!;
    const nSteps = spaceTimesteps(schedule.numTimesteps, steps).length;
    const options = {
      dataset: config.dataset,
      steps,
      eta: v.eta,
      variance,
      seed: v.seed!,
      clip: v.clip,
      trajectoryEvery: trajectory ? Math.max(1, Math.floor(nSteps / (frames - 1))) : undefined,
      onProgress: progressLine("sampling"),
    };
    // With --class all, every class's row starts from the same noise: they differ by class only.
    const r = cls === undefined
      ? { ...await generateSamples(loaded, schedule, { ...options, n }), labels: undefined }
      : await generateClassSamples(loaded, schedule, {
        ...options,
        classes,
        perClass: n,
        guidance,
      });
    const labels = r.labels;
    const secs = (performance.now() - t0) / 1000;
    const ext = extname(out).toLowerCase();
    let bytes: Uint8Array | string;
    if (ext === ".png" && cls === "all") {
      bytes = encodePng(classGridPicture(r.x, n));
    } else if (ext === ".png") {
      const ref = config.dataset === "s-curve"
        ? (await dataSample("s-curve", 2000, 0)).x
        : undefined;
      bytes = encodePng(samplesPicture(config.dataset, r.x, total, ref));
    } else if (ext === ".npy") {
      bytes = encodeNpy(r.x, r.shape);
    } else {
      bytes = JSON.stringify({
        shape: r.shape,
        dataset: config.dataset,
        step,
        steps,
        seed: v.seed,
        ...(labels ? { labels, guidance } : {}),
        data: Array.from(r.x, (x) => Math.round(x * 1e6) / 1e6),
      });
    }
    await writeFileAtomic(out, bytes);
    console.log(`wrote ${v.out} (${total} samples in ${secs.toFixed(1)}s)`);
    if (trajectory) {
      await writeFileAtomic(
        trajectory,
        encodePng(framesPicture(config.dataset, r.trajectory, Math.min(n, 8))),
      );
      console.log(`wrote ${v.trajectory} (${r.trajectory.length} frames)`);
    }
    loaded.dispose();
    return 0;
  });
}
