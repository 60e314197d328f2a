/**
 * The data pipeline: batches from a pool of workers (or inline), in order, through a bounded
 * prefetch queue.
 *
 * @module
 */
import { type BatchSource, createBatchSource, type RawBatch } from "./batch_source.ts";
import { type PipelineOptions, type ResolvedOptions, resolveOptions } from "./options.ts";
import { startPool, type WorkerPool } from "./pool.ts";

/** A batch as the trainer receives it. */
export interface Batch extends RawBatch {
  /** How long `next()` waited for this batch, in milliseconds. */
  waitMs: number;
}

/** A running pipeline. */
export interface Pipeline extends AsyncIterable<Batch>, AsyncDisposable {
  /** The options with their defaults filled in. */
  readonly options: ResolvedOptions;
  /** Batches requested and not yet handed out: at most `prefetch` (unless more `next()` calls than that are pending at once); 0 inline. */
  readonly inFlight: number;
  /** Resolves to the data set size (`null` for the S-curve stream) once the data is loaded. */
  ready(): Promise<number | null>;
  /**
   * The next batch (indices `startBatch`, `startBatch + 1`, …). Rejects with a clear error if a
   * worker fails or dies, or if the pipeline is closed; after a failure every call rejects.
   */
  next(): Promise<Batch>;
  /** Terminates the workers; pending and later `next()` calls reject. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a data pipeline. Batch `i` is the same whatever the number of workers (see
 * `workers/batch_source.ts`), so runs are reproducible and `startBatch: k` resumes exactly.
 *
 * At most `prefetch` batches are requested and not yet handed out. With `workers: 0` the same
 * code runs inline, batch by batch, inside `next()`.
 *
 * Iterating with `for await` never ends by itself; leaving the loop (`break`) closes the pipeline.
 *
 * @param opts The options; see {@linkcode PipelineOptions}.
 * @returns The pipeline.
 * @throws {TypeError} For an unknown option or a wrong type.
 * @throws {RangeError} For a value out of range or an unknown data set or mode name.
 *
 * @example
 * ```ts
 * import { createPipeline } from "./pipeline.ts";
 * import assert from "node:assert/strict";
 * const p = createPipeline({ dataset: "s-curve", batchSize: 16, workers: 1, seed: 3 });
 * const b = await p.next();
 * assert.equal(b.index, 0);
 * assert.deepEqual(b.shape, [16, 2]);
 * assert.equal(b.x.length, 32);
 * await p.close();
 * ```
 */
export function createPipeline(opts: PipelineOptions): Pipeline {
  const o = resolveOptions(opts);
  return o.workers === 0 ? _inline(o) : _pooled(o);
}

function _closedError(): Error {
  return new Error("Data pipeline is closed");
}

function _iterate(p: Pipeline): AsyncIterator<Batch> {
  return {
    async next() {
      return { value: await p.next(), done: false };
    },
    async return() {
      await p.close();
      return { value: undefined, done: true };
    },
  };
}

function _inline(o: ResolvedOptions): Pipeline {
  let source: Promise<BatchSource> | undefined;
  const load = (): Promise<BatchSource> => (source ??= createBatchSource(o));
  let nextIndex = o.startBatch;
  let closed = false;
  let failure: Error | undefined;
  const p: Pipeline = {
    options: o,
    inFlight: 0,
    ready: async () => (await load()).size,
    async next() {
      const t0 = performance.now();
      if (failure) throw failure;
      if (closed) throw _closedError();
      const index = nextIndex++;
      try {
        const src = await load();
        if (closed) throw _closedError();
        if (index === o.failAtBatch) {
          throw new Error(`Data pipeline failed on batch ${index} (failAtBatch test hook)`);
        }
        const b = src.batch(index);
        return { ...b, waitMs: performance.now() - t0 };
      } catch (err) {
        if (!closed) failure ??= err instanceof Error ? err : new Error(String(err));
        throw failure ?? err;
      }
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
    [Symbol.asyncIterator]: () => _iterate(p),
    [Symbol.asyncDispose]: () => p.close(),
  };
  return p;
}

function _pooled(o: ResolvedOptions): Pipeline {
  const pool: WorkerPool = startPool(o);
  const queue = new Map<number, Promise<RawBatch>>();
  let requested = o.startBatch; // next index to request
  let taken = o.startBatch; // next index to hand out
  let delivered = 0; // batches handed out
  let closed = false;
  let failure: Error | undefined;

  const fill = (): void => {
    // Outstanding = requested - (startBatch + delivered): in flight or buffered, not yet returned.
    while (!closed && !failure && requested - o.startBatch - delivered < o.prefetch) {
      const i = requested++;
      const req = pool.request(i);
      req.catch(() => {}); // handled when consumed
      queue.set(i, req);
    }
  };
  const shutdown = (): void => {
    closed = true;
    pool.close();
    queue.clear();
  };
  fill();

  const p: Pipeline = {
    options: o,
    get inFlight() {
      return closed ? 0 : requested - o.startBatch - delivered;
    },
    ready: () => pool.ready,
    async next() {
      const t0 = performance.now();
      if (failure) throw failure;
      if (closed) throw _closedError();
      const index = taken++;
      fill();
      let req = queue.get(index);
      if (!req) { // more concurrent next() calls than the prefetch depth
        req = pool.request(index);
        requested = Math.max(requested, index + 1);
      }
      queue.delete(index);
      try {
        const b = await req;
        delivered++;
        fill();
        return { ...b, waitMs: performance.now() - t0 };
      } catch (err) {
        if (closed && !failure) throw _closedError();
        failure ??= err instanceof Error ? err : new Error(String(err));
        shutdown();
        throw failure;
      }
    },
    close() {
      shutdown();
      return Promise.resolve();
    },
    [Symbol.asyncIterator]: () => _iterate(p),
    [Symbol.asyncDispose]: () => p.close(),
  };
  return p;
}
