/**
 * Server-sent events for a run that is training: new metric and eval lines, new sample
 * pictures and status changes, found by polling the run directory.
 * @module
 */
import { flattenEvalRecord } from "./eval_series.ts";
import { emptyTable, parseJsonlTable, readFrom } from "./jsonl.ts";
import { withTimeMs } from "./wall_time.ts";
import { listSamples } from "./run_files.ts";
import { readRunInfo } from "./runs.ts";
import { type ResolvedPath, resolveInRuns } from "./utils/safe_fs.ts";
import { EVAL_FILE, METRICS_FILE } from "../lib/run/layout.ts";

/** Where a client's view of a run stands; sent back as the SSE event id. */
export interface LiveCursor {
  /** Byte offset into metrics.jsonl after the last line the client has. */
  metrics: number;
  /** Byte offset into eval.jsonl after the last line the client has. */
  eval: number;
  /** The highest sample step the client has (-1 for none). */
  sample: number;
}

/**
 * Parses a cursor from the `Last-Event-ID` form `m.e.s` or the query `?m=&e=&s=`.
 * Bad or missing parts are 0 (and -1 for the sample step).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCursor } from "./live.ts";
 * assert.deepEqual(parseCursor("10.20.300", null), { metrics: 10, eval: 20, sample: 300 });
 * const q = new URLSearchParams("m=5&s=7");
 * assert.deepEqual(parseCursor(null, q), { metrics: 5, eval: 0, sample: 7 });
 * ```
 */
export function parseCursor(lastEventId: string | null, query: URLSearchParams | null): LiveCursor {
  const int = (s: string | null | undefined, fallback: number) => {
    const n = s === null || s === undefined || s === "" ? NaN : Number(s);
    return Number.isSafeInteger(n) && n >= fallback ? n : fallback;
  };
  if (lastEventId !== null && /^\d+\.\d+\.-?\d+$/.test(lastEventId)) {
    const [m, e, s] = lastEventId.split(".");
    return { metrics: int(m, 0), eval: int(e, 0), sample: int(s, -1) };
  }
  return {
    metrics: int(query?.get("m"), 0),
    eval: int(query?.get("e"), 0),
    sample: int(query?.get("s"), -1),
  };
}

/** Options for {@linkcode runEventStream}. */
export interface RunEventOptions {
  /** Where the client stands. @default everything (all offsets 0) */
  cursor?: LiveCursor;
  /** Poll period in ms. @default 500 */
  pollMs?: number;
  /** Comment line sent when idle this long, in ms, to keep proxies from closing. @default 15000 */
  heartbeatMs?: number;
  /**
   * Most bytes of each metric file read per poll (a client far behind catches up in steps of
   * this size; a line longer than it is skipped). @default 4 MiB
   */
  maxChunkBytes?: number;
  /** Ends the stream when aborted (the server shutting down), as if the run had ended. */
  signal?: AbortSignal;
}

const encoder = new TextEncoder();

/**
 * The SSE byte stream of a run. Events: `status` ({status, step, steps, updatedAt}),
 * `metrics` and `eval` (a MetricTable of the new lines; eval lines as series columns, see
 * `eval_series.ts`), `samples` (new {step, path} files),
 * and `end` once the run is no longer running and all was sent; the stream then closes.
 * `rewind` ({file}) says that `metrics.jsonl` or `eval.jsonl` was rewritten under the cursor (a
 * resumed run cuts them back to its checkpoint): the client's lines are stale; the stream closes.
 * Every event carries the cursor as its id so that a reconnecting EventSource resumes.
 * Cancelling the stream (the client leaving) stops the polling.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runEventStream } from "./live.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/r1`);
 * await Deno.writeTextFile(`${dir}/r1/run.json`, JSON.stringify({ status: "completed", step: 2 }));
 * await Deno.writeTextFile(`${dir}/r1/metrics.jsonl`, '{"step":1,"loss":1}\n');
 * const text = await new Response(runEventStream(dir, "r1", { pollMs: 10 })).text();
 * assert.match(text, /event: metrics\nid: 20\.0\.-1\ndata: \{"steps":\[1\]/);
 * assert.match(text, /event: end/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function runEventStream(
  runsDir: string,
  id: string,
  options: RunEventOptions = {},
): ReadableStream<Uint8Array> {
  const pollMs = options.pollMs ?? 500;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxChunk = options.maxChunkBytes ?? 4 * 1024 * 1024;
  const cursor: LiveCursor = { ...(options.cursor ?? { metrics: 0, eval: 0, sample: -1 }) };
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, ms);
    });
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    wake?.();
  };
  options.signal?.addEventListener("abort", stop, { once: true });

  return new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (event: string, data: unknown) => {
        const idLine = `${cursor.metrics}.${cursor.eval}.${cursor.sample}`;
        try {
          controller.enqueue(
            encoder.encode(`event: ${event}\nid: ${idLine}\ndata: ${JSON.stringify(data)}\n\n`),
          );
        } catch {
          stopped = true; // the client left while we were reading
        }
      };
      // The file each cursor points into: a new one (rewritten, not appended to), a shorter one,
      // or a cursor that is not at a line's end means the lines the client has are stale.
      const inode: Partial<Record<"metrics" | "eval", number | null>> = {};
      const rewound = async (
        file: ResolvedPath,
        key: "metrics" | "eval",
      ): Promise<boolean> => {
        if (!file.ok) return cursor[key] > 0; // gone (never mid-rewrite: rewrites are renames)
        const stat = file.info;
        const first = !(key in inode);
        if (!first && inode[key] !== stat.ino) return true;
        inode[key] = stat.ino;
        if (cursor[key] > stat.size) return true;
        if (first && cursor[key] > 0) {
          const before = await readFrom(file.path, cursor[key] - 1, 1).catch(() => null);
          return before?.[0] !== 0x0a;
        }
        return false;
      };
      // At most maxChunk bytes of each file per poll, through the runs directory's doorway.
      const tail = async (file: string, key: "metrics" | "eval"): Promise<boolean> => {
        const resolved = await resolveInRuns(runsDir, `${id}/${file}`);
        // A link out of the runs directory, a FIFO or a device: nothing is read from it.
        if (!resolved.ok && resolved.reason !== "missing") return false;
        if (await rewound(resolved, key)) {
          send("rewind", { file });
          stopped = true;
          return false;
        }
        if (!resolved.ok) return false;
        let bytes: Uint8Array;
        try {
          bytes = await readFrom(resolved.path, cursor[key], maxChunk);
        } catch {
          return false;
        }
        if (bytes.length === 0) return false;
        const r = parseJsonlTable(
          bytes,
          emptyTable(),
          key === "eval" ? flattenEvalRecord : withTimeMs,
        );
        if (r.bytesConsumed === 0) {
          if (bytes.length < maxChunk) return false; // a line still being written
          cursor[key] += bytes.length; // a line longer than a chunk: skipped
          return true;
        }
        cursor[key] += r.bytesConsumed;
        if (r.table.steps.length > 0) send(key, r.table);
        return true;
      };
      let lastStatus = "";
      let idleMs = 0;
      controller.enqueue(encoder.encode(`retry: 2000\n\n`));
      // One poll more after the run stops, so that its last lines are sent before `end`.
      let finishing = false;
      if (options.signal?.aborted) stopped = true;
      while (!stopped) {
        let sent = false;
        const info = await readRunInfo(runsDir, id);
        if (info.ok) {
          const s = {
            status: info.info.status,
            step: info.info.step,
            steps: info.info.steps,
            updatedAt: info.info.updatedAt,
          };
          const key = JSON.stringify(s);
          if (key !== lastStatus) {
            lastStatus = key;
            send("status", s);
            sent = true;
          }
        }
        if (!stopped && await tail(METRICS_FILE, "metrics")) sent = true;
        if (!stopped && await tail(EVAL_FILE, "eval")) sent = true;
        const fresh = (await listSamples(runsDir, id)).filter((s) => s.step > cursor.sample);
        if (fresh.length > 0 && !stopped) {
          cursor.sample = fresh[fresh.length - 1]!.step;
          send("samples", fresh);
          sent = true;
        }
        if (stopped) break;
        const running = !info.ok || info.info.status === "running";
        if (!running) {
          if (finishing && !sent) {
            send("end", { status: info.ok ? info.info.status : null });
            controller.close();
            return;
          }
          finishing = true;
        } else finishing = false;
        idleMs = sent ? 0 : idleMs + pollMs;
        if (idleMs >= heartbeatMs) {
          controller.enqueue(encoder.encode(`: ping\n\n`));
          idleMs = 0;
        }
        await sleep(finishing ? Math.min(pollMs, 50) : pollMs);
      }
      options.signal?.removeEventListener("abort", stop);
      // Stopped by the signal: close, so that the response ends and the server can shut down.
      // (After a cancel by the client, close throws; nothing is left to do then.)
      try {
        controller.close();
      } catch { /* cancelled */ }
    },
    cancel() {
      options.signal?.removeEventListener("abort", stop);
      stop();
    },
  });
}
