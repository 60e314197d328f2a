/**
 * The layout of a run directory, spelled once: the trainer writes it, `sample`, `eval` and the
 * viewer read it, and the test fixtures imitate it through these names.
 *
 * ```text
 * runs/<id>/
 *   run.json                       config, versions, status, times (rewritten atomically)
 *   metrics.jsonl                  one line every --log-every steps
 *   eval.jsonl                     one line per evaluation
 *   samples/step_<8 digits>.png    sample pictures
 *   forward.png, trajectory.png    the forward and reverse processes
 *   forward.json, trajectory.json  the t of each frame of those pictures ({@linkcode PictureFrames})
 *   eval_samples/<setting>/batch_<4 digits>.npy   digits kept by `deno task eval --quality`
 *   checkpoints/step_<8 digits>/   checkpoint.json + weights.bin
 *   lock                           the pid of the process training the run (while it trains)
 * ```
 *
 * @module
 */
import { join } from "node:path";

/**
 * The run's record.
 *
 * @example
 * ```ts
 * import { RUN_FILE } from "./layout.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(RUN_FILE, "run.json");
 * ```
 */
export const RUN_FILE = "run.json";
/**
 * The training metrics, one JSON object a line.
 *
 * @example
 * ```ts
 * import { METRICS_FILE } from "./layout.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(METRICS_FILE, "metrics.jsonl");
 * ```
 */
export const METRICS_FILE = "metrics.jsonl";
/**
 * The evaluations, one JSON object a line.
 *
 * @example
 * ```ts
 * import { EVAL_FILE } from "./layout.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(EVAL_FILE, "eval.jsonl");
 * ```
 */
export const EVAL_FILE = "eval.jsonl";
/**
 * The folder of sample pictures.
 *
 * @example
 * ```ts
 * import { SAMPLES_DIR } from "./layout.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(SAMPLES_DIR, "samples");
 * ```
 */
export const SAMPLES_DIR = "samples";
/**
 * The folder of checkpoints.
 *
 * @example
 * ```ts
 * import { CHECKPOINTS_DIR } from "./layout.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(CHECKPOINTS_DIR, "checkpoints");
 * ```
 */
export const CHECKPOINTS_DIR = "checkpoints";
/**
 * The folder where `deno task eval --quality` keeps the digits it sampled, one folder per
 * setting and one `.npy` file per batch, so that a long evaluation resumes where it stopped.
 *
 * @example
 * ```ts
 * import { EVAL_SAMPLES_DIR } from "./layout.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(EVAL_SAMPLES_DIR, "eval_samples");
 * ```
 */
export const EVAL_SAMPLES_DIR = "eval_samples";
/**
 * The forward-process picture.
 *
 * @example
 * ```ts
 * import { FORWARD_FILE } from "./layout.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(FORWARD_FILE, "forward.png");
 * ```
 */
export const FORWARD_FILE = "forward.png";
/**
 * The reverse-process picture.
 *
 * @example
 * ```ts
 * import { TRAJECTORY_FILE } from "./layout.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(TRAJECTORY_FILE, "trajectory.png");
 * ```
 */
export const TRAJECTORY_FILE = "trajectory.png";
/**
 * The t of each frame of {@linkcode FORWARD_FILE}, a {@linkcode PictureFrames} record.
 *
 * @example
 * ```ts
 * import { FORWARD_FRAMES_FILE } from "./layout.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(FORWARD_FRAMES_FILE, "forward.json");
 * ```
 */
export const FORWARD_FRAMES_FILE = "forward.json";
/**
 * The t of each frame of {@linkcode TRAJECTORY_FILE}, a {@linkcode PictureFrames} record.
 *
 * @example
 * ```ts
 * import { TRAJECTORY_FRAMES_FILE } from "./layout.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(TRAJECTORY_FRAMES_FILE, "trajectory.json");
 * ```
 */
export const TRAJECTORY_FRAMES_FILE = "trajectory.json";

/**
 * What `forward.json` and `trajectory.json` hold: the timestep of each frame of the picture
 * beside them, left to right (the original t of the training schedule, 0 = data).
 *
 * @example
 * ```ts
 * import type { PictureFrames } from "./layout.ts";
 * const frames: PictureFrames = { t: [0, 111, 222] };
 * ```
 */
export interface PictureFrames {
  /** The t of each frame, left to right. */
  t: number[];
}

/**
 * The lock file of a run being trained.
 *
 * @example
 * ```ts
 * import { LOCK_FILE } from "./layout.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(LOCK_FILE, "lock");
 * ```
 */
export const LOCK_FILE = "lock";
/**
 * The two files of a complete checkpoint directory.
 *
 * @example
 * ```ts
 * import { CHECKPOINT_FILES } from "./layout.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(CHECKPOINT_FILES, ["checkpoint.json", "weights.bin"]);
 * ```
 */
export const CHECKPOINT_FILES = ["checkpoint.json", "weights.bin"] as const;

/**
 * The name of a per-step artefact: `step_00001234<ext>`.
 *
 * @param step The training step, a non-negative integer.
 * @param ext The extension including the dot, or "" for a directory.
 * @returns The name.
 *
 * @example
 * ```ts
 * import { stepName } from "./layout.ts";
 * import assert from "node:assert/strict";
 * assert.equal(stepName(1234, ".png"), "step_00001234.png");
 * assert.equal(stepName(7, ""), "step_00000007");
 * ```
 */
export function stepName(step: number, ext: string): string {
  return `step_${String(step).padStart(8, "0")}${ext}`;
}

/**
 * The step of a per-step name, or null when `name` is not `step_<8 digits><ext>`.
 *
 * @param name A file or directory name.
 * @param ext The extension including the dot, or "" for a directory.
 * @returns The step, or null.
 *
 * @example
 * ```ts
 * import { parseStepName } from "./layout.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseStepName("step_00000200.png", ".png"), 200);
 * assert.equal(parseStepName("step_00000200.tmp-1", ""), null);
 * assert.equal(parseStepName("other.png", ".png"), null);
 * ```
 */
export function parseStepName(name: string, ext: string): number | null {
  if (!name.startsWith("step_") || !name.endsWith(ext)) return null;
  const digits = name.slice(5, name.length - ext.length);
  return /^\d{8}$/.test(digits) ? Number(digits) : null;
}

/**
 * The paths of a run directory's files and folders (see {@linkcode runPaths}).
 *
 * @example
 * ```ts
 * import { type RunPaths, runPaths } from "./layout.ts";
 * const p: RunPaths = runPaths("runs/r1");
 * console.log(p.lock);
 * ```
 */
export interface RunPaths {
  /** The run directory itself. */
  dir: string;
  run: string;
  metrics: string;
  eval: string;
  samples: string;
  checkpoints: string;
  /** The folder of sampled digits kept by evaluations (see {@linkcode EVAL_SAMPLES_DIR}). */
  evalSamples: string;
  forward: string;
  trajectory: string;
  /** The t of the forward picture's frames (see {@linkcode FORWARD_FRAMES_FILE}). */
  forwardFrames: string;
  /** The t of the trajectory picture's frames (see {@linkcode TRAJECTORY_FRAMES_FILE}). */
  trajectoryFrames: string;
  lock: string;
  /** The sample picture of a step. */
  sample(step: number): string;
  /** The checkpoint directory of a step. */
  checkpoint(step: number): string;
}

/**
 * The paths inside the run directory `dir`.
 *
 * @param dir The run directory.
 * @returns Its paths.
 *
 * @example
 * ```ts
 * import { runPaths } from "./layout.ts";
 * import assert from "node:assert/strict";
 * const p = runPaths("runs/r1");
 * assert.equal(p.metrics, "runs/r1/metrics.jsonl");
 * assert.equal(p.checkpoint(30), "runs/r1/checkpoints/step_00000030");
 * assert.equal(p.sample(30), "runs/r1/samples/step_00000030.png");
 * ```
 */
export function runPaths(dir: string): RunPaths {
  return {
    dir,
    run: join(dir, RUN_FILE),
    metrics: join(dir, METRICS_FILE),
    eval: join(dir, EVAL_FILE),
    samples: join(dir, SAMPLES_DIR),
    checkpoints: join(dir, CHECKPOINTS_DIR),
    evalSamples: join(dir, EVAL_SAMPLES_DIR),
    forward: join(dir, FORWARD_FILE),
    trajectory: join(dir, TRAJECTORY_FILE),
    forwardFrames: join(dir, FORWARD_FRAMES_FILE),
    trajectoryFrames: join(dir, TRAJECTORY_FRAMES_FILE),
    lock: join(dir, LOCK_FILE),
    sample: (step) => join(dir, SAMPLES_DIR, stepName(step, ".png")),
    checkpoint: (step) => join(dir, CHECKPOINTS_DIR, stepName(step, "")),
  };
}

/**
 * One line of `metrics.jsonl`: means over the steps since the previous line.
 *
 * @example
 * ```ts
 * import type { MetricsLine } from "./layout.ts";
 * const line: Pick<MetricsLine, "step" | "loss"> = { step: 20, loss: 0.4 };
 * ```
 */
export interface MetricsLine {
  step: number;
  /** ISO time of writing. */
  time: string;
  loss: number;
  /** The standard deviation of the per-step loss over the line's steps (absent in older runs). */
  lossStd?: number;
  simple: number;
  vlb: number;
  gradNorm: number;
  lr: number;
  stepMs: number;
  dataWaitMs: number;
  itemsPerSec: number;
}

/**
 * One line of `eval.jsonl`: the step evaluated and the metrics (by name).
 *
 * @example
 * ```ts
 * import type { EvalLine } from "./layout.ts";
 * const line: EvalLine = { step: 1000, time: "2026-11-30T14:00:00.000Z", swd: 0.01 };
 * ```
 */
export interface EvalLine {
  step: number;
  time: string;
  /** `"eval"` for lines written by `deno task eval`; absent for the trainer's. */
  source?: string;
  [metric: string]: unknown;
}
