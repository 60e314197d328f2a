/**
 * The messages between the browser sampler island (`islands/BrowserSampler.tsx`) and its worker
 * (`sampler_worker.ts`): types only, plus the sampling-steps value of a method and a count, so
 * that the island bundle imports nothing of tfjs.
 *
 * @module
 */
import type { DatasetName } from "../lib/datasets.ts";
import type { SampleMethod } from "../lib/sample_methods.ts";

/** The island asks the worker to sample. */
export interface SamplerRequest {
  type: "start";
  /** The run. */
  runId: string;
  /**
   * URLs of the checkpoint's sampling checkpoint (EMA weights, see {@linkcode emaFileUrl}) and
   * of the run's `run.json` (where the config is when the checkpoint has none).
   */
  urls: { json: string; weights: string; run: string };
  /** The seed (as `deno task sample --seed`). */
  seed: number;
  /** A sampling-steps value (as `deno task sample --sample-steps`), e.g. `25` or `ddim25`. */
  steps: string;
  /** How many samples (one batch); with `classes`, how many of each class. */
  n: number;
  /**
   * A class-conditional model's classes, drawn one after the other, each from the same seed
   * (so from the same noise), as `deno task sample --class c` (one class) or `--class all` (every
   * class, one row each) draws them. Absent or empty: the null label, as `sample` without
   * `--class`.
   */
  classes?: number[];
  /**
   * With `classes`: the classifier-free guidance weight w (0 unconditional, 1 conditional, above
   * 1 guided), as `deno task sample --guidance`. @default CLASS_SAMPLING.guidance
   */
  guidance?: number;
  /** The tfjs backend: XNNPACK in WebAssembly, or plain JavaScript. */
  backend: "wasm" | "cpu";
}

/** What the worker answers. */
export type SamplerMessage =
  | { type: "status"; text: string }
  | {
    type: "ready";
    /** The data set of the run (how to draw). */
    dataset: DatasetName;
    /** The batch's shape. */
    shape: number[];
    /** Steps to run. */
    total: number;
    /** The tfjs backend, in words (`wasm (XNNPACK, SIMD)`, `cpu`). */
    backend: string;
    /** The checkpoint's training step. */
    step: number;
  }
  | {
    type: "frame";
    /** Steps done. */
    done: number;
    /** Steps to run. */
    total: number;
    /** The step's original timestep. */
    t: number;
    /**
     * The index of the first sample of `x` in the batch: with several classes, each class's
     * rows come in frames of their own. 0 otherwise.
     */
    offset: number;
    /** x_{t-1}, the sample after the step. */
    x: Float32Array;
    /** The step's predicted x_0. */
    x0: Float32Array;
  }
  | { type: "done"; samples: Float32Array; shape: number[]; ms: number }
  | { type: "error"; message: string };

/**
 * The sampling-steps value of a method and a count: `25` for ancestral sampling on 25 respaced
 * steps, `ddim25`, `dpm++25` or `unipc25` for the others (the syntax of `lib/respace.ts`).
 *
 * @param method The sampling method.
 * @param count The number of steps.
 * @returns The value.
 *
 * @example
 * ```ts
 * import { stepsValue } from "./sampler_protocol.ts";
 * import { parseSampleSteps } from "../lib/respace.ts";
 * import assert from "node:assert/strict";
 * assert.equal(stepsValue("ancestral", 25), "25");
 * assert.deepEqual(parseSampleSteps(stepsValue("ddim", 10)), { method: "ddim", counts: [10] });
 * ```
 */
export function stepsValue(method: SampleMethod, count: number): string {
  return method === "ancestral" ? `${count}` : `${method}${count}`;
}

/**
 * The URL at which the viewer serves the sampling checkpoint (EMA weights alone) of checkpoint
 * `name` of a run (`routes/runs/[id]/ema/[name]/[file].ts`).
 *
 * @param runId The run.
 * @param name The checkpoint's folder, e.g. `step_00000200`.
 * @param file Which of its two files.
 * @returns The URL's path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emaFileUrl } from "./sampler_protocol.ts";
 * assert.equal(
 *   emaFileUrl("r1", "step_00000200", "weights.bin"),
 *   "/runs/r1/ema/step_00000200/weights.bin",
 * );
 * ```
 */
export function emaFileUrl(
  runId: string,
  name: string,
  file: "checkpoint.json" | "weights.bin",
): string {
  return `/runs/${encodeURIComponent(runId)}/ema/${encodeURIComponent(name)}/${file}`;
}
