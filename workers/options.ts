/**
 * The options of the data pipeline, their defaults and their validation.
 *
 * @module
 */

import { type DatasetName, DATASETS } from "../lib/datasets.ts";

export { type DatasetName, DATASETS };
/**
 * S-curve modes: a fixed set iterated in shuffled epochs, or endless fresh points.
 *
 * @example
 * ```ts
 * import { S_CURVE_MODES } from "./options.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...S_CURVE_MODES], ["fixed", "stream"]);
 * ```
 */
export const S_CURVE_MODES = ["fixed", "stream"] as const;
/** S-curve modes: a fixed set iterated in shuffled epochs, or endless fresh points. */
export type SCurveMode = typeof S_CURVE_MODES[number];
/** MNIST splits. */
export type MnistSplitChoice = "train" | "test";
/** How the `failAtBatch` test hook fails: throw from the call, or kill the worker. */
export type FailMode = "throw" | "crash";

/**
 * The range of seeds a pipeline takes (and so a run: its model, noise and timesteps share the
 * seed).
 *
 * @example
 * ```ts
 * import { resolveOptions, SEED_RANGE } from "./options.ts";
 * import assert from "node:assert/strict";
 * assert.equal(SEED_RANGE.max, 2 ** 32 - 1);
 * assert.throws(() => resolveOptions({ dataset: "s-curve", batchSize: 8, seed: SEED_RANGE.max + 1 }));
 * ```
 */
export const SEED_RANGE = { min: -(2 ** 31), max: 2 ** 32 - 1 } as const;

/**
 * The most workers a pipeline may start.
 *
 * @example
 * ```ts
 * import { MAX_WORKERS, resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => resolveOptions({ dataset: "s-curve", batchSize: 8, workers: MAX_WORKERS + 1 }));
 * ```
 */
export const MAX_WORKERS = 16;

/** S-curve options. */
export interface SCurvePipelineOptions {
  /** @default {"fixed"} */
  mode?: SCurveMode;
  /** Size of the fixed set. @default {10000} */
  n?: number;
  /** `make_s_curve` noise (before the division by 10). @default {0.1} */
  noise?: number;
  /** Extra gaussian jitter (std, in data units) added per batch. @default {0} */
  jitter?: number;
}

/** MNIST options. */
export interface MnistPipelineOptions {
  /** @default {"train"} */
  split?: MnistSplitChoice;
  /** Maximum random shift in whole pixels. @default {0} */
  translate?: number;
  /** Maximum random rotation in degrees. @default {0} */
  rotate?: number;
  /** Uniform dequantization noise. @default {false} */
  dequantize?: boolean;
}

/** Options of `createPipeline`. */
export interface PipelineOptions {
  /** The data set. */
  dataset: DatasetName;
  /** Examples per batch, a positive integer. */
  batchSize: number;
  /**
   * Worker count, 0..{@linkcode MAX_WORKERS}; 0 runs the same code inline, without a Worker.
   * @default {max(1, navigator.hardwareConcurrency - 1)}
   */
  workers?: number;
  /** Most batches requested but not yet consumed. @default {2 * workers + 2} */
  prefetch?: number;
  /** The run seed (any 32-bit integer). @default {0} */
  seed?: number;
  /** S-curve options. */
  sCurve?: SCurvePipelineOptions;
  /** MNIST options. */
  mnist?: MnistPipelineOptions;
  /** Index of the first batch, to resume a run. @default {0} */
  startBatch?: number;
  /** Test hook: the worker computing this batch index fails. */
  failAtBatch?: number;
  /** Test hook: how it fails. @default {"throw"} */
  failMode?: FailMode;
}

/** Options with every default filled in, as sent to the workers. */
export interface ResolvedOptions {
  dataset: DatasetName;
  batchSize: number;
  workers: number;
  prefetch: number;
  seed: number;
  sCurve: Required<SCurvePipelineOptions>;
  mnist: Required<MnistPipelineOptions>;
  startBatch: number;
  failAtBatch: number | null;
  failMode: FailMode;
}

/**
 * The default worker count: one less than the cores (the main thread trains), at least 1, at
 * most {@linkcode MAX_WORKERS}.
 *
 * @returns The count.
 *
 * @example
 * ```ts
 * import { defaultWorkers, MAX_WORKERS } from "./options.ts";
 * import assert from "node:assert/strict";
 * assert.ok(defaultWorkers() >= 1 && defaultWorkers() <= MAX_WORKERS);
 * ```
 */
export function defaultWorkers(): number {
  const cores = globalThis.navigator?.hardwareConcurrency ?? 2;
  return Math.min(MAX_WORKERS, Math.max(1, cores - 1));
}

const _TOP = [
  "dataset",
  "batchSize",
  "workers",
  "prefetch",
  "seed",
  "sCurve",
  "mnist",
  "startBatch",
  "failAtBatch",
  "failMode",
];
const _SCURVE = ["mode", "n", "noise", "jitter"];
const _MNIST = ["split", "translate", "rotate", "dequantize"];

function _keys(o: object | undefined, allowed: string[], what: string): void {
  if (o === undefined) return;
  if (typeof o !== "object" || o === null) {
    throw new TypeError(
      `Invalid ${what}: expected an object, got ${o === null ? "null" : typeof o}`,
    );
  }
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      throw new TypeError(`Unknown ${what} "${k}": expected one of ${allowed.join(", ")}`);
    }
  }
}

function _int(v: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== "number") {
    throw new TypeError(`Invalid ${name}: expected a number, got ${typeof v}`);
  }
  if (!Number.isInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`;
    throw new RangeError(`Invalid ${name}: expected an integer ${range}, got ${v}`);
  }
  return v;
}

function _real(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== "number") {
    throw new TypeError(`Invalid ${name}: expected a number, got ${typeof v}`);
  }
  if (!(v >= min && v <= max)) {
    throw new RangeError(`Invalid ${name}: expected a number in [${min}, ${max}], got ${v}`);
  }
  return v;
}

function _oneOf<T extends string>(v: unknown, name: string, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) {
    throw new RangeError(
      `Invalid ${name}: expected ${allowed.map((a) => `"${a}"`).join(" | ")}, got ${
        JSON.stringify(v)
      }`,
    );
  }
  return v as T;
}

/**
 * Validates pipeline options and fills in the defaults. Errors are one line: a `TypeError` for
 * an unknown option or a wrong type, a `RangeError` for a value out of range or an unknown name.
 *
 * Limits: `batchSize` 1..65536, `workers` 0..{@linkcode MAX_WORKERS}, `prefetch` 1..256,
 * `startBatch` >= 0, `sCurve.n` 1..10^7, `sCurve.noise` and `sCurve.jitter` in [0, 10],
 * `mnist.translate` 0..14 pixels, `mnist.rotate` in [0, 180] degrees.
 *
 * @param opts The options as given.
 * @returns The complete options.
 *
 * @example
 * ```ts
 * import { resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 * const o = resolveOptions({ dataset: "mnist", batchSize: 8, workers: 2 });
 * assert.equal(o.prefetch, 6);
 * assert.equal(o.mnist.translate, 0);
 * assert.throws(() => resolveOptions({ dataset: "mnist", batchSize: 0 }), RangeError);
 * ```
 */
export function resolveOptions(opts: PipelineOptions): ResolvedOptions {
  if (typeof opts !== "object" || opts === null) {
    throw new TypeError(
      `Invalid pipeline options: expected an object, got ${opts === null ? "null" : typeof opts}`,
    );
  }
  _keys(opts, _TOP, "pipeline option");
  _keys(opts.sCurve, _SCURVE, "S-curve option");
  _keys(opts.mnist, _MNIST, "MNIST augmentation option");
  const dataset = _oneOf(opts.dataset, "dataset", DATASETS);
  const batchSize = _int(opts.batchSize, "batchSize", 1, 65536);
  const workers = _int(opts.workers ?? defaultWorkers(), "workers", 0, MAX_WORKERS);
  const prefetch = _int(opts.prefetch ?? 2 * workers + 2, "prefetch", 1, 256);
  const seed = _int(opts.seed ?? 0, "seed", SEED_RANGE.min, SEED_RANGE.max);
  const startBatch = _int(opts.startBatch ?? 0, "startBatch", 0);
  const s = opts.sCurve ?? {};
  const sCurve = {
    mode: _oneOf(s.mode ?? "fixed", "sCurve.mode", S_CURVE_MODES),
    n: _int(s.n ?? 10_000, "sCurve.n", 1, 10_000_000),
    noise: _real(s.noise ?? 0.1, "sCurve.noise", 0, 10),
    jitter: _real(s.jitter ?? 0, "sCurve.jitter", 0, 10),
  };
  const m = opts.mnist ?? {};
  if (m.dequantize !== undefined && typeof m.dequantize !== "boolean") {
    throw new TypeError(`Invalid mnist.dequantize: expected a boolean, got ${typeof m.dequantize}`);
  }
  const mnist = {
    split: _oneOf(m.split ?? "train", "mnist.split", ["train", "test"] as const),
    translate: _int(m.translate ?? 0, "mnist.translate", 0, 14),
    rotate: _real(m.rotate ?? 0, "mnist.rotate", 0, 180),
    dequantize: m.dequantize ?? false,
  };
  const failAtBatch = opts.failAtBatch === undefined
    ? null
    : _int(opts.failAtBatch, "failAtBatch", 0);
  const failMode = _oneOf(opts.failMode ?? "throw", "failMode", ["throw", "crash"] as const);
  return {
    dataset,
    batchSize,
    workers,
    prefetch,
    seed,
    sCurve,
    mnist,
    startBatch,
    failAtBatch,
    failMode,
  };
}
