/**
 * Speed of the standard benchmark shapes (spec: UNet-S and the 2-D MLP) on each backend.
 *
 * A training step is the real trainer's step (`createTrainer`): forward, epsilon MSE, backward,
 * clipping at norm 1, one Adam update and the EMA. UNet-S's step may be split into
 * micro-batches whose gradients are accumulated (`defaultMicroBatch`, the wasm heap is 4 GiB);
 * the record says which micro-batch was used.
 *
 * @module
 */
import { tf } from "../lib/tf.ts";
import { Rng } from "../lib/random.ts";
import { createModel, type DiffusionModel, type ModelConfig } from "../lib/model/mod.ts";
import { createTrainer, defaultMicroBatch } from "../lib/train/trainer.ts";
import { type BackendInfo, type ConcreteBackendName, initBackend } from "../lib/backend/mod.ts";
import { meanSquaredError } from "../lib/backend/ops.ts";

/** The standard shapes, named as in the spec. */
export const BENCH_SHAPES = [
  "UNet-S out_ch 1 batch 64 Adam train step",
  "UNet-S batch 64 forward (one sampling step)",
  "MLP T=100 batch 128 Adam step",
  "MLP batch 10,000 Adam step",
] as const;

/** One of {@linkcode BENCH_SHAPES}. */
export type BenchShape = (typeof BENCH_SHAPES)[number];

/**
 * The fewest timed runs and the warm-up runs of each shape in `pytorch_reference.py`, which
 * times the millisecond-scale MLP steps many times: `deno task bench` times the project's steps
 * as often, so that both medians rest on as many runs.
 */
export const REFERENCE_RUNS: Readonly<Record<BenchShape, { min: number; warmup: number }>> = {
  "UNet-S out_ch 1 batch 64 Adam train step": { min: 1, warmup: 1 },
  "UNet-S batch 64 forward (one sampling step)": { min: 1, warmup: 1 },
  "MLP T=100 batch 128 Adam step": { min: 200, warmup: 5 },
  "MLP batch 10,000 Adam step": { min: 20, warmup: 5 },
};

/** One measurement. */
export interface BenchRecord {
  /** The backend measured. */
  backend: ConcreteBackendName;
  /** The backend's one-line description (accelerators included). */
  detail: string;
  /** The shape measured. */
  shape: BenchShape;
  /** Median, fastest and slowest time of one step, in milliseconds. */
  msMedian: number;
  msMin: number;
  msMax: number;
  /** Timed runs (after the warm-up). */
  runs: number;
  /** Every timed run, in milliseconds, in order. */
  timesMs?: number[];
  /** Batch items per second at the median. */
  itemsPerSec: number;
  /** The micro-batch of UNet-S's training step (equal to the batch when not split). */
  microBatch?: number;
  /** Why the shape was not measured (then the times are NaN). */
  skipped?: string;
  /**
   * Resident set of the process after the timed runs, MiB (UNet-S shapes): the wasm heap holds
   * the activations and never gives memory back, so this is close to the step's peak.
   */
  rssMiB?: number;
  /** The wasm backend's heap (it only grows, so this is its peak), MiB (UNet-S shapes). */
  wasmHeapMiB?: number;
}

/** One kernel's share of a profiled step. */
export interface KernelTime {
  /** The kernel's name (as registered with tfjs). */
  kernel: string;
  /** Milliseconds spent in it during the step. */
  ms: number;
  /** How many times it ran. */
  calls: number;
}

/** The resident set of the process, in MiB. */
function _rssMiB(): number {
  return Math.round(Deno.memoryUsage().rss / 2 ** 20);
}

/** The wasm backend's heap in MiB, or undefined on other backends. */
function _wasmHeapMiB(): number | undefined {
  const be = tf.backend() as { wasm?: { HEAPU8?: Uint8Array } };
  const bytes = be.wasm?.HEAPU8?.buffer.byteLength;
  return bytes === undefined ? undefined : Math.round(bytes / 2 ** 20);
}

/**
 * Where one step of `shape` spends its time on the current backend: the kernels of one step
 * (after a warm-up), slowest first. Scopes that only wrap kernels are left out, so the times
 * add up to the step's kernel time.
 *
 * @param shape The shape to profile.
 * @returns The kernels, their total milliseconds and call counts.
 *
 * @example
 * ```ts
 * import { tf } from "../lib/tf.ts";
 * import { profileShape } from "./models.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const k = await profileShape("MLP T=100 batch 128 Adam step");
 * assert.ok(k.length > 0 && k.every((r) => r.calls > 0));
 * ```
 */
export async function profileShape(shape: BenchShape): Promise<KernelTime[]> {
  const w = _workload(shape, undefined);
  try {
    await w.run();
    const info = await tf.profile(() => w.run());
    const backend = tf.getBackend();
    const by = new Map<string, KernelTime>();
    for (const k of info.kernels) {
      if (tf.getKernel(k.name, backend) === undefined) continue;
      const e = by.get(k.name) ?? { kernel: k.name, ms: 0, calls: 0 };
      e.ms += Number(k.kernelTimeMs) || 0;
      e.calls++;
      by.set(k.name, e);
    }
    return [...by.values()]
      .map((e) => ({ ...e, ms: Math.round(e.ms * 10) / 10 }))
      .sort((a, b) => b.ms - a.ms);
  } finally {
    w.dispose();
  }
}

/** Options of {@linkcode benchModels}. */
export interface BenchOptions {
  /**
   * Backends to measure; those that do not load are reported as skipped.
   * @default {["wasm", "cpu", "webgpu", "tensorflow"]}
   */
  backends?: ConcreteBackendName[];
  /** Shapes to measure. @default {BENCH_SHAPES} */
  shapes?: readonly BenchShape[];
  /** Timed runs per shape, or a function of the shape. @default {5} */
  runs?: number | ((shape: BenchShape) => number);
  /** Untimed warm-up runs per shape, or a function of the shape. @default {1} */
  warmup?: number | ((shape: BenchShape) => number);
  /** Native kernels on wasm/cpu (see `initBackend`). @default {true} */
  native?: boolean;
  /**
   * Micro-batch of the UNet-S training step; 0 for the whole batch.
   * @default {defaultMicroBatch("unet-s", backend)}
   */
  unetMicroBatch?: number;
  /**
   * A shape whose warm-up run takes longer than this is not timed further (its record says
   * so): the plain cpu backend needs minutes for one UNet-S step.
   * @default {60000}
   */
  maxWarmupMs?: number;
  /** Called with each record as soon as it is measured. */
  onRecord?: (r: BenchRecord) => void;
}

interface Workload {
  batch: number;
  run: () => Promise<void>;
  dispose: () => void;
}

function _model(shape: BenchShape): ModelConfig {
  return shape.startsWith("UNet")
    ? { kind: "unet-s", outChannels: 1, seed: 0 }
    : { kind: "mlp", timesteps: 100, outDim: 2, seed: 0 };
}

function _batch(shape: BenchShape): number {
  switch (shape) {
    case "UNet-S out_ch 1 batch 64 Adam train step":
    case "UNet-S batch 64 forward (one sampling step)":
      return 64;
    case "MLP T=100 batch 128 Adam step":
      return 128;
    case "MLP batch 10,000 Adam step":
      return 10_000;
    default: {
      const never: never = shape;
      throw new RangeError(`Unknown benchmark shape '${never}'`);
    }
  }
}

/** Builds one step of `shape` on the current backend: model, data and the real trainer. */
function _workload(shape: BenchShape, microBatch: number | undefined): Workload {
  const model: DiffusionModel = createModel(_model(shape));
  const batch = _batch(shape);
  const rng = new Rng(1, 0);
  const dataShape = model.kind === "unet-s" ? [batch, 28, 28, 1] : [batch, 2];
  const size = dataShape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(rng.fillNormal(new Float32Array(size)), dataShape);
  // Epsilon prediction: the target has the data's shape (out_ch 1; MLP out 2).
  const noise = tf.tensor(rng.fillNormal(new Float32Array(size)), dataShape);
  const t = tf.tensor1d(Array.from({ length: batch }, () => rng.int(100)), "int32");
  if (shape === "UNet-S batch 64 forward (one sampling step)") {
    return {
      batch,
      run: async () => {
        const y = tf.tidy(() => model.apply(x, t));
        await y.data();
        y.dispose();
      },
      dispose: () => {
        tf.dispose([x, noise, t]);
        model.dispose();
      },
    };
  }
  // The real training step: epsilon MSE, Adam, clipping at 1, EMA (see lib/train/trainer.ts).
  const trainer = createTrainer({
    model,
    lr: 2e-4,
    clipNorm: 1,
    emaRate: 0.9999,
    microBatch,
    loss: (apply, xs, _step, aux) => {
      const xt = tf.add(tf.mul(xs, 0.8), tf.mul(aux.noise!, 0.6));
      const out = apply(xt, aux.t as tf.Tensor1D);
      return { loss: meanSquaredError(out, aux.noise!, "all") as tf.Scalar };
    },
  });
  return {
    batch,
    run: async () => {
      await trainer.step(x, { noise, t });
    },
    dispose: () => {
      trainer.dispose();
      tf.dispose([x, noise, t]);
      model.dispose();
    },
  };
}

/**
 * The median of `xs` (the mean of the middle two for an even count).
 *
 * @param xs Numbers (not empty).
 * @returns The median.
 *
 * @example
 * ```ts
 * import { median } from "./models.ts";
 * import assert from "node:assert/strict";
 * assert.equal(median([3, 1, 2]), 2);
 * assert.equal(median([4, 1, 2, 3]), 2.5);
 * ```
 */
export function median(xs: number[]): number {
  return _median(xs);
}

function _median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Measures the standard shapes on each backend that loads.
 *
 * @param opts Backends, shapes, runs and limits.
 * @returns One record per backend and shape (skipped ones included, with the reason).
 *
 * @example
 * ```ts
 * import { benchModels } from "./models.ts";
 * import assert from "node:assert/strict";
 * const [r] = await benchModels({
 *   backends: ["cpu"],
 *   shapes: ["MLP T=100 batch 128 Adam step"],
 *   runs: 5,
 *   native: false,
 * });
 * assert.equal(r!.runs, 5);
 * assert.ok(r!.msMin <= r!.msMedian && r!.msMedian <= r!.msMax);
 * ```
 */
export async function benchModels(opts: BenchOptions = {}): Promise<BenchRecord[]> {
  const backends = opts.backends ?? ["wasm", "cpu", "webgpu", "tensorflow"];
  const shapes = opts.shapes ?? BENCH_SHAPES;
  const runsOf = (s: BenchShape) => typeof opts.runs === "function" ? opts.runs(s) : opts.runs ?? 5;
  const warmupOf = (s: BenchShape) =>
    typeof opts.warmup === "function" ? opts.warmup(s) : opts.warmup ?? 1;
  const maxWarmupMs = opts.maxWarmupMs ?? 60_000;
  for (const s of shapes) {
    const runs = runsOf(s);
    if (!Number.isInteger(runs) || runs < 1) {
      throw new RangeError(`Cannot benchmark: runs must be a positive integer, got ${runs}`);
    }
  }
  const records: BenchRecord[] = [];
  const emit = (r: BenchRecord) => {
    records.push(r);
    opts.onRecord?.(r);
  };
  const skip = (
    backend: ConcreteBackendName,
    detail: string,
    shape: BenchShape,
    why: string,
  ) =>
    emit({
      backend,
      detail,
      shape,
      msMedian: NaN,
      msMin: NaN,
      msMax: NaN,
      runs: 0,
      itemsPerSec: NaN,
      skipped: why,
    });
  for (const backend of backends) {
    let info: BackendInfo;
    try {
      info = await initBackend(backend, { native: opts.native });
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      for (const shape of shapes) skip(backend, "", shape, why);
      continue;
    }
    for (const shape of shapes) {
      const runs = runsOf(shape), warmup = warmupOf(shape);
      const isUnetStep = shape === "UNet-S out_ch 1 batch 64 Adam train step";
      const chosen = isUnetStep
        ? opts.unetMicroBatch ?? defaultMicroBatch("unet-s", backend) ?? 0
        : 0;
      const micro = chosen > 0 ? chosen : undefined;
      const w = _workload(shape, micro);
      try {
        let warmMs = 0;
        for (let i = 0; i < warmup; i++) {
          const t0 = performance.now();
          await w.run();
          warmMs = Math.max(warmMs, performance.now() - t0);
          if (warmMs > maxWarmupMs) break;
        }
        if (warmMs > maxWarmupMs) {
          skip(
            backend,
            info.detail,
            shape,
            `warm-up took ${Math.round(warmMs)} ms > maxWarmupMs ${maxWarmupMs}`,
          );
          continue;
        }
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          const t0 = performance.now();
          await w.run();
          times.push(performance.now() - t0);
        }
        const msMedian = _median(times);
        const r: BenchRecord = {
          backend,
          detail: info.detail,
          shape,
          msMedian,
          msMin: Math.min(...times),
          msMax: Math.max(...times),
          runs,
          timesMs: times.map((t) => Math.round(t * 100) / 100),
          itemsPerSec: w.batch / (msMedian / 1000),
        };
        if (isUnetStep) r.microBatch = Math.min(micro ?? w.batch, w.batch);
        if (shape.startsWith("UNet")) {
          r.rssMiB = _rssMiB();
          const heap = _wasmHeapMiB();
          if (heap !== undefined) r.wasmHeapMiB = heap;
        }
        emit(r);
      } catch (e) {
        skip(backend, info.detail, shape, e instanceof Error ? e.message : String(e));
      } finally {
        w.dispose();
      }
    }
  }
  return records;
}
