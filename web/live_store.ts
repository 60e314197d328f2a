/**
 * The browser side of live updates: one EventSource per run, shared by every island on the
 * page through signals. Importing this module on the server does nothing.
 * @module
 */
import { type Signal, signal } from "@preact/signals";
import type { MetricTable } from "./jsonl.ts";
import type { LiveCursor } from "./live.ts";
import type { SampleFile } from "./run_files.ts";
import type { RunStatus } from "./runs.ts";
import { getOwn, setOwn } from "./utils/own.ts";

/** The run status as the `status` event sends it. */
export interface LiveStatusData {
  status: RunStatus;
  step: number;
  steps: number;
  updatedAt: string;
}

/** Signals fed by one run's event stream; tables hold only lines received live. */
export interface LiveRun {
  status: Signal<LiveStatusData | null>;
  metrics: Signal<MetricTable>;
  eval: Signal<MetricTable>;
  samples: Signal<SampleFile[]>;
  /** `connecting`, `open`, `ended` or `error`. */
  connection: Signal<string>;
}

const runs = new Map<string, LiveRun>();

/**
 * The rows of `a` then those of `b`, columns matched by name (a column one of them lacks is
 * `null` there). Column names come from files, so `__proto__` or `toString` are plain names.
 *
 * @param a The rows so far.
 * @param b The rows that arrived.
 * @returns A new table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { concatTables } from "./live_store.ts";
 * const b = JSON.parse('{"steps":[1],"columns":{"__proto__":[2],"toString":[3]}}');
 * const t = concatTables({ steps: [0], columns: { loss: [1] } }, b);
 * assert.deepEqual(t.steps, [0, 1]);
 * assert.deepEqual(Object.keys(t.columns), ["loss", "__proto__", "toString"]);
 * assert.deepEqual(Object.getOwnPropertyDescriptor(t.columns, "__proto__")?.value, [null, 2]);
 * assert.deepEqual(t.columns.toString, [null, 3]);
 * ```
 */
export function concatTables(a: MetricTable, b: MetricTable): MetricTable {
  const n = a.steps.length, m = b.steps.length;
  const columns: Record<string, (number | null)[]> = {};
  for (const k of new Set([...Object.keys(a.columns), ...Object.keys(b.columns)])) {
    // Keys from files (`__proto__`, `toString`): own properties only.
    const left = getOwn(a.columns, k) ?? new Array<null>(n).fill(null);
    const right = getOwn(b.columns, k) ?? new Array<null>(m).fill(null);
    setOwn(columns, k, left.concat(right));
  }
  return { steps: a.steps.concat(b.steps), columns };
}

/**
 * The live signals of a run, opening its event stream on first use in a browser (in other
 * environments the signals stay at their initial values).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { liveRun } from "./live_store.ts";
 * const live = liveRun("r1", { metrics: 0, eval: 0, sample: -1 });
 * assert.equal(live.status.value, null);
 * assert.deepEqual(live.metrics.value.steps, []);
 * ```
 */
export function liveRun(id: string, cursor: LiveCursor): LiveRun {
  let run = runs.get(id);
  if (run !== undefined) return run;
  run = {
    status: signal(null),
    metrics: signal({ steps: [], columns: {} }),
    eval: signal({ steps: [], columns: {} }),
    samples: signal([]),
    connection: signal("connecting"),
  };
  runs.set(id, run);
  if (typeof EventSource === "undefined" || typeof document === "undefined") return run;
  const q = new URLSearchParams({
    m: String(cursor.metrics),
    e: String(cursor.eval),
    s: String(cursor.sample),
  });
  const source = new EventSource(`/api/runs/${encodeURIComponent(id)}/events?${q}`);
  const r = run;
  source.onopen = () => (r.connection.value = "open");
  source.onerror = () => {
    if (r.connection.value !== "ended") r.connection.value = "error";
  };
  source.addEventListener("status", (e) => {
    r.status.value = JSON.parse((e as MessageEvent).data);
  });
  source.addEventListener("metrics", (e) => {
    r.metrics.value = concatTables(r.metrics.value, JSON.parse((e as MessageEvent).data));
  });
  source.addEventListener("eval", (e) => {
    r.eval.value = concatTables(r.eval.value, JSON.parse((e as MessageEvent).data));
  });
  source.addEventListener("samples", (e) => {
    r.samples.value = r.samples.value.concat(JSON.parse((e as MessageEvent).data));
  });
  // The run's files were cut back (it was resumed): what the page shows is stale.
  source.addEventListener("rewind", () => {
    source.close();
    location.reload();
  });
  source.addEventListener("end", () => {
    r.connection.value = "ended";
    source.close();
  });
  return run;
}
