/**
 * A pool of batch workers behind Comlink: starts them, loads the data set in each, hands each
 * request to the least busy worker, turns a worker's death or a failed call into a rejected
 * promise (never a hang), and terminates them all on close.
 *
 * @module
 */
import * as Comlink from "comlink";
import type { RawBatch } from "./batch_source.ts";
import type { WorkerApi } from "./batch_worker.ts";
import type { ResolvedOptions } from "./options.ts";

/** A started pool of batch workers. */
export interface WorkerPool {
  /** Number of workers. */
  readonly size: number;
  /** Resolves to the data set size (`null` for a stream) once every worker has loaded it. */
  readonly ready: Promise<number | null>;
  /**
   * Asks the least busy worker for batch `index`.
   * @param index The batch index.
   * @returns The batch; rejects if the call fails, a worker dies, or the pool closes.
   */
  request(index: number): Promise<RawBatch>;
  /** Terminates every worker; pending requests reject. Idempotent. */
  close(): void;
}

interface _Slot {
  worker: Worker;
  api: Comlink.Remote<WorkerApi>;
  busy: number;
  init: Promise<number | null>;
}

/**
 * Starts `opts.workers` batch workers and loads the data set in each.
 *
 * @param opts The resolved options (`opts.workers >= 1`).
 * @returns The pool.
 *
 * @example
 * ```ts
 * import { startPool } from "./pool.ts";
 * import { resolveOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 * const pool = startPool(resolveOptions({ dataset: "s-curve", batchSize: 4, workers: 1 }));
 * assert.equal(await pool.ready, 10000);
 * const b = await pool.request(0);
 * assert.equal(b.x.length, 8);
 * pool.close();
 * ```
 */
export function startPool(opts: ResolvedOptions): WorkerPool {
  if (opts.workers < 1) {
    throw new RangeError(`Cannot start a worker pool: expected workers >= 1, got ${opts.workers}`);
  }
  let closed = false;
  let rejectAbort!: (e: Error) => void;
  const abort = new Promise<never>((_, reject) => (rejectAbort = reject));
  abort.catch(() => {});

  const slots: _Slot[] = [];
  const fail = (e: Error): void => {
    rejectAbort(e);
    terminate();
  };
  const terminate = (): void => {
    if (closed) return;
    closed = true;
    for (const s of slots) s.worker.terminate();
  };

  for (let k = 0; k < opts.workers; k++) {
    const worker = new Worker(new URL("./batch_worker.ts", import.meta.url), { type: "module" });
    worker.addEventListener("error", (e: ErrorEvent) => {
      e.preventDefault(); // keep the worker's uncaught error from taking the whole process down
      fail(new Error(`Data pipeline worker ${k} died: ${e.message}`));
    });
    worker.addEventListener("messageerror", () => {
      fail(new Error(`Data pipeline worker ${k} sent a message that could not be read`));
    });
    const api = Comlink.wrap<WorkerApi>(worker);
    const init = Promise.race([api.init(opts), abort]).catch((err: unknown) => {
      throw _wrap(err, `Data pipeline worker ${k} could not load "${opts.dataset}"`);
    });
    init.catch(() => {});
    slots.push({ worker, api, busy: 0, init });
  }

  const ready = Promise.all(slots.map((s) => s.init)).then((sizes) => sizes[0] ?? null);
  ready.catch(() => {}); // reported through request() and to whoever awaits `ready`
  return {
    size: slots.length,
    ready,
    request(index) {
      if (closed) {
        return Promise.race([abort, Promise.reject(new Error("Data pipeline is closed"))]);
      }
      let slot = slots[0]!;
      for (const s of slots) if (s.busy < slot.busy) slot = s;
      const k = slots.indexOf(slot);
      slot.busy++;
      const call = slot.init.then(() => slot.api.batch(index)).catch((err: unknown) => {
        throw _wrap(err, `Data pipeline worker ${k} failed on batch ${index}`);
      });
      return Promise.race([call, abort]).finally(() => slot.busy--);
    },
    close() {
      rejectAbort(new Error("Data pipeline is closed"));
      terminate();
    },
  };
}

function _wrap(err: unknown, context: string): Error {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.startsWith("Data pipeline")
    ? (err as Error)
    : new Error(`${context}: ${msg}`, { cause: err });
}
