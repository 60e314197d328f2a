/**
 * Throughput and memory of the data pipeline: batches per second for MNIST (batch 64 and 128,
 * with translate 2, rotate 10 and dequantization) and the S-curve (batch 128), inline versus
 * workers, also with a consumer that spends 10 ms per batch (a stand-in for the training step,
 * which is what workers overlap with), and the resident memory the pipeline adds (workers are threads of this process, so
 * `Deno.memoryUsage().rss` covers them).
 *
 * Run directly: `deno run --allow-read --allow-env --allow-sys workers/bench.ts`.
 *
 * @module
 */
import { defaultWorkers } from "./options.ts";
import type { PipelineOptions } from "./options.ts";
import { createPipeline } from "./pipeline.ts";

/** One measured configuration. */
export interface PipelineBenchRow {
  /** What was measured. */
  name: string;
  /** Worker count (0 = inline). */
  workers: number;
  /** Batch size. */
  batchSize: number;
  /** Simulated training step: the consumer spins this long per batch, in milliseconds. */
  stepMs: number;
  /** Batches consumed in the timed part. */
  batches: number;
  /** Batches per second, consuming as fast as possible. */
  batchesPerSec: number;
  /** Examples per second. */
  examplesPerSec: number;
  /** Mean time `next()` waited, in milliseconds. */
  meanWaitMs: number;
  /** Time from `createPipeline` to the first batch, in milliseconds (data loading). */
  startupMs: number;
  /** Resident memory added by the running pipeline, in MB (noisy: the GC runs when it likes). */
  rssDeltaMB: number;
}

/** Options of {@linkcode benchPipeline}. */
export interface PipelineBenchOptions {
  /** Timed batches per configuration. @default {100} */
  batches?: number;
  /** Worker counts to compare. @default {[0, 1, 2, defaultWorkers()] without repeats} */
  workers?: number[];
}

async function _measure(
  name: string,
  opts: PipelineOptions,
  batches: number,
  stepMs = 0,
): Promise<PipelineBenchRow> {
  const rss0 = Deno.memoryUsage().rss;
  const t0 = performance.now();
  const p = createPipeline(opts);
  try {
    await p.next();
    const startupMs = performance.now() - t0;
    for (let i = 0; i < 10; i++) await p.next(); // warm up
    const rssDeltaMB = (Deno.memoryUsage().rss - rss0) / 2 ** 20;
    let wait = 0;
    const t1 = performance.now();
    for (let i = 0; i < batches; i++) {
      wait += (await p.next()).waitMs;
      const until = performance.now() + stepMs;
      while (performance.now() < until) { /* the trainer's step, synchronous */ }
    }
    const sec = (performance.now() - t1) / 1000;
    const r = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
    return {
      name,
      workers: p.options.workers,
      batchSize: opts.batchSize,
      stepMs,
      batches,
      batchesPerSec: r(batches / sec),
      examplesPerSec: Math.round((batches * opts.batchSize) / sec),
      meanWaitMs: r(wait / batches, 2),
      startupMs: Math.round(startupMs),
      rssDeltaMB: r(rssDeltaMB),
    };
  } finally {
    await p.close();
    await new Promise((r) => setTimeout(r, 300)); // let terminated workers free their memory
  }
}

/**
 * Measures the pipeline (see the module doc). Takes some seconds.
 *
 * @param options How many batches, which worker counts.
 * @returns One row per configuration.
 *
 * @example
 * ```ts
 * import { benchPipeline } from "./bench.ts";
 * import assert from "node:assert/strict";
 * const rows = await benchPipeline({ batches: 2, workers: [0] });
 * assert.equal(rows.length, 4);
 * assert.ok(rows.every((r) => r.batchesPerSec > 0));
 * ```
 */
export async function benchPipeline(
  options: PipelineBenchOptions = {},
): Promise<PipelineBenchRow[]> {
  const { batches = 100, workers = [...new Set([0, 1, 2, defaultWorkers()])] } = options;
  const rows: PipelineBenchRow[] = [];
  const aug = { translate: 2, rotate: 10, dequantize: true };
  for (const batchSize of [64, 128]) {
    for (const w of workers) {
      rows.push(
        await _measure(
          `mnist b${batchSize} translate 2, rotate 10, dequantize`,
          { dataset: "mnist", batchSize, workers: w, seed: 1, mnist: aug },
          batches,
        ),
      );
    }
  }
  // With a busy consumer (a synchronous 10 ms "training step"), workers overlap; inline cannot.
  for (const w of workers) {
    rows.push(
      await _measure(
        "mnist b128 augmented, 10 ms step",
        { dataset: "mnist", batchSize: 128, workers: w, seed: 1, mnist: aug },
        batches,
        10,
      ),
    );
  }
  for (const w of workers) {
    rows.push(
      await _measure(
        "s-curve b128 fixed",
        { dataset: "s-curve", batchSize: 128, workers: w, seed: 1 },
        batches,
      ),
    );
  }
  return rows;
}

if (import.meta.main) {
  console.table(await benchPipeline());
}
