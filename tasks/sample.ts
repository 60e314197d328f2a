/**
 * `deno task sample`: draws samples from a trained run and writes them as a picture (`.png`: a
 * grid or a scatter), a NumPy array (`.npy`, float32) or JSON (`.json`), the format taken from
 * the extension of `--out`; `--trajectory` adds the denoising sequence as a strip of frames.
 *
 * @example
 * ```sh
 * deno task sample --run <run id> --n 64 --steps ddim50 --out digits.png
 * deno task sample --run <run id> --n 10000 --out points.npy
 * ```
 *
 * @module
 */
import { dirname, extname, resolve } from "node:path";
import { BACKEND_OPTION, callerPath, type OptionTable, runTask, UsageError } from "./_cli.ts";
import { checkSampleSteps, SEED_RANGE } from "./_train_options.ts";
import { encodePng } from "../lib/image/mod.ts";
import { spaceTimesteps } from "../lib/respace.ts";
import { type DatasetName, DATASETS } from "../workers/options.ts";
import { encodeNpy } from "../lib/io/npy.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import { dataSample, generateSamples } from "./_evaluate.ts";
import { framesPicture, samplesPicture } from "./_pictures.ts";
import { openRun, requiredRun, RUN_OPTIONS } from "./_load_run.ts";
import { progressLine } from "./_progress.ts";

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
  steps: {
    type: "string",
    help: "sampling steps: all (T), a respacing like 50 or 10,15,20, or ddimN",
    note: "the run's own --sample-steps (s-curve: all, mnist: 50)",
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
  clip: {
    type: "boolean",
    help: "clip predicted x_0 to [-1, 1]",
    note: "on for mnist, off for s-curve",
  },
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
  await runTask("deno task sample --run <id> [flags]", SAMPLE_OPTIONS, async (v) => {
    requiredRun(v.run);
    const out = callerPath(v.out!);
    const trajectory = v.trajectory ? callerPath(v.trajectory) : undefined;
    await _checkWritable(out, [".png", ".npy", ".json"]);
    if (trajectory) await _checkWritable(trajectory, [".png"]);
    if (v.steps !== undefined) checkSampleSteps("--steps", v.steps);
    const { config, model, step, checkpoint, schedule } = await openRun(v);
    // The run's own picture steps unless told: 50 respaced steps for an MNIST run, not 1,000.
    const steps = v.steps ?? config.sampleSteps ?? "all";
    try {
      checkSampleSteps("--steps", steps, config.timesteps);
    } catch (e) {
      model.dispose();
      throw e;
    }
    const n = v.n ?? SAMPLE_COUNTS[config.dataset];
    console.error(
      `sampling ${n} from ${checkpoint} (step ${step}, ${
        v.ema ? "EMA" : "raw"
      } weights, steps ${steps})`,
    );
    const t0 = performance.now();
    const frames = v.frames!;
    const nSteps = spaceTimesteps(schedule.numTimesteps, steps).length;
    const r = await generateSamples(model, schedule, {
      dataset: config.dataset,
      n,
      steps,
      eta: v.eta,
      variance: config.variance,
      seed: v.seed!,
      clip: v.clip,
      trajectoryEvery: trajectory ? Math.max(1, Math.floor(nSteps / (frames - 1))) : undefined,
      onProgress: progressLine("sampling"),
    });
    const secs = (performance.now() - t0) / 1000;
    const ext = extname(out).toLowerCase();
    let bytes: Uint8Array | string;
    if (ext === ".png") {
      const ref = config.dataset === "s-curve"
        ? (await dataSample("s-curve", 2000, 0)).x
        : undefined;
      bytes = encodePng(samplesPicture(config.dataset, r.x, n, ref));
    } else if (ext === ".npy") {
      bytes = encodeNpy(r.x, r.shape);
    } else {
      bytes = JSON.stringify({
        shape: r.shape,
        dataset: config.dataset,
        step,
        steps,
        seed: v.seed,
        data: Array.from(r.x, (x) => Math.round(x * 1e6) / 1e6),
      });
    }
    await writeFileAtomic(out, bytes);
    console.log(`wrote ${v.out} (${n} samples in ${secs.toFixed(1)}s)`);
    if (trajectory) {
      await writeFileAtomic(
        trajectory,
        encodePng(framesPicture(config.dataset, r.trajectory, Math.min(n, 8))),
      );
      console.log(`wrote ${v.trajectory} (${r.trajectory.length} frames)`);
    }
    model.dispose();
    return 0;
  });
}
