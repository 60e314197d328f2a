/**
 * The Worker entry of the data pipeline: exposes {@linkcode workerApi} with Comlink. Each worker
 * loads its data set once (in `init`), then computes the batches it is asked for and transfers
 * their buffers back without copying.
 *
 * Started by `workers/pool.ts` as
 * `new Worker(new URL("./batch_worker.ts", import.meta.url), { type: "module" })`.
 *
 * @module
 */
import * as Comlink from "comlink";
import { type BatchSource, createBatchSource, type RawBatch } from "./batch_source.ts";
import type { ResolvedOptions } from "./options.ts";

let _source: BatchSource | undefined;
let _opts: ResolvedOptions | undefined;

/**
 * What a worker offers, over Comlink. Outside a worker it can be called directly.
 *
 * @example
 * ```ts
 * import { workerApi } from "./batch_worker.ts";
 * import { resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 * assert.equal(await workerApi.init(resolveOptions({ dataset: "s-curve", batchSize: 2, workers: 1 })), 10000);
 * const b = await workerApi.batch(0);
 * assert.deepEqual(b.shape, [2, 2]);
 * ```
 */
export const workerApi = {
  /**
   * Loads the data set for these options; call once before `batch`.
   * @param opts The resolved pipeline options.
   * @returns The data set size (`null` for the stream).
   */
  async init(opts: ResolvedOptions): Promise<number | null> {
    _opts = opts;
    _source = await createBatchSource(opts);
    return _source.size;
  },
  /**
   * Computes batch `index` and transfers its buffers.
   * @param index The batch index.
   * @returns The batch.
   */
  batch(index: number): RawBatch | Promise<RawBatch> {
    if (!_source || !_opts) throw new Error("Batch worker: batch() called before init()");
    if (index === _opts.failAtBatch) {
      const msg = `Batch worker failed at batch ${index} (failAtBatch test hook)`;
      if (_opts.failMode === "crash") {
        // An uncaught error in the worker's event loop: the worker dies, this call never answers.
        setTimeout(() => {
          throw new Error(msg);
        }, 0);
        return new Promise<RawBatch>(() => {});
      }
      throw new Error(msg);
    }
    const b = _source.batch(index);
    const buffers: ArrayBuffer[] = [b.x.buffer as ArrayBuffer];
    if (b.labels) buffers.push(b.labels.buffer as ArrayBuffer);
    if (b.indices) buffers.push(b.indices.buffer as ArrayBuffer);
    return Comlink.transfer(b, buffers);
  },
};

/** The type to `Comlink.wrap` a batch worker with. */
export type WorkerApi = typeof workerApi;

// Only expose when running as a worker (importing this module for its types must not listen).
if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
  Comlink.expose(workerApi);
}
