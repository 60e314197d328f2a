/**
 * Tolerant reading of JSON-lines files (metrics.jsonl, eval.jsonl) into columns.
 *
 * Lines are parsed one by one: a malformed line is counted and skipped, and a last line that
 * has no newline yet (a writer is still on it) is left out and reported, never an error.
 * @module
 */
import { getOwn, setOwn } from "./utils/own.ts";
import { MAX_JSONL_BYTES, readRegularFile } from "./utils/safe_fs.ts";

/** Numeric columns keyed by name, aligned with `steps`; a missing or non-numeric value is `null`. */
export interface MetricTable {
  /** The x axis: the `step` of each kept line, in file order. */
  steps: number[];
  /** One array per numeric key seen in any line (the step key excluded), same length as `steps`. */
  columns: Record<string, (number | null)[]>;
}

/** What {@linkcode parseJsonlTable} found. */
export interface JsonlTableResult {
  /** The parsed lines as columns. */
  table: MetricTable;
  /** How many complete lines were not a JSON object with a numeric step. */
  malformed: number;
  /** True when text after the last newline was left out as a partially written line. */
  partialTail: boolean;
  /** Bytes up to and including the last newline: where to resume reading. */
  bytesConsumed: number;
}

/** Returns an empty {@linkcode MetricTable}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyTable } from "./jsonl.ts";
 * assert.deepEqual(emptyTable(), { steps: [], columns: {} });
 * ```
 */
export function emptyTable(): MetricTable {
  return { steps: [], columns: {} };
}

/**
 * Appends parsed records to a table in place, adding `null`-filled columns for new keys.
 * Records without a finite numeric `step` are not added; the count of those is returned.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { appendRecords, emptyTable } from "./jsonl.ts";
 * const t = emptyTable();
 * const bad = appendRecords(t, [{ step: 1, loss: 2 }, { step: 2, vlb: 3 }, { nope: 1 }]);
 * assert.equal(bad, 1);
 * assert.deepEqual(t, { steps: [1, 2], columns: { loss: [2, null], vlb: [null, 3] } });
 * ```
 */
export function appendRecords(table: MetricTable, records: readonly unknown[]): number {
  let rejected = 0;
  for (const record of records) {
    if (record === null || typeof record !== "object" || Array.isArray(record)) {
      rejected++;
      continue;
    }
    const r = record as Record<string, unknown>;
    const step = r.step;
    if (typeof step !== "number" || !Number.isFinite(step)) {
      rejected++;
      continue;
    }
    const n = table.steps.length;
    table.steps.push(step);
    for (const key of Object.keys(r)) {
      if (key === "step") continue;
      const v = r[key];
      if (typeof v !== "number") continue;
      // Keys come from the file: `__proto__` or `toString` must stay plain column names.
      let col = getOwn(table.columns, key);
      if (col === undefined) {
        col = new Array<number | null>(n).fill(null);
        setOwn(table.columns, key, col);
      }
      col.push(Number.isFinite(v) ? v : null);
    }
    for (const col of Object.values(table.columns)) {
      if (col.length === n) col.push(null);
    }
  }
  return rejected;
}

const NEWLINE = 0x0a;
const decoder = new TextDecoder();

/**
 * Parses JSON-lines bytes into a {@linkcode MetricTable}, appending to `into` when given;
 * `mapRecord`, when given, turns each parsed line into the record that is tabled.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJsonlTable } from "./jsonl.ts";
 * const bytes = new TextEncoder().encode('{"step":1,"loss":0.5}\nnot json\n{"step":2,"lo');
 * const r = parseJsonlTable(bytes);
 * assert.deepEqual(r.table.steps, [1]);
 * assert.equal(r.malformed, 1);
 * assert.equal(r.partialTail, true);
 * assert.equal(r.bytesConsumed, 31);
 * ```
 */
export function parseJsonlTable(
  bytes: Uint8Array,
  into?: MetricTable,
  mapRecord?: (record: unknown) => unknown,
): JsonlTableResult {
  const table = into ?? emptyTable();
  const end = bytes.lastIndexOf(NEWLINE) + 1;
  const tail = decoder.decode(bytes.subarray(end)).trim();
  const lines = decoder.decode(bytes.subarray(0, end)).split("\n");
  let malformed = 0;
  const records: unknown[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "") continue;
    try {
      const record: unknown = JSON.parse(line);
      records.push(mapRecord ? mapRecord(record) : record);
    } catch {
      malformed++;
    }
  }
  malformed += appendRecords(table, records);
  return { table, malformed, partialTail: tail !== "", bytesConsumed: end };
}

/**
 * Reads the last complete line of a JSON-lines file that parses as an object, reading only
 * the last `maxBytes` of the file. Returns `null` when there is none (or no file).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLastRecord } from "./jsonl.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, '{"step":1}\n{"step":2,"loss":0.1}\n{"step":3,');
 * assert.deepEqual(await readLastRecord(path), { step: 2, loss: 0.1 });
 * await Deno.remove(path);
 * ```
 */
export async function readLastRecord(
  path: string,
  maxBytes = 8192,
): Promise<Record<string, unknown> | null> {
  let bytes: Uint8Array;
  try {
    // A regular file only (a FIFO would block the open), and only its tail.
    bytes = (await readRegularFile(path, { maxBytes, fromEnd: true })).bytes;
  } catch {
    return null;
  }
  const lines = decoder.decode(bytes).split("\n");
  lines.pop(); // text after the last newline: empty or partially written
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    try {
      const v: unknown = JSON.parse(line);
      if (v !== null && typeof v === "object" && !Array.isArray(v)) {
        return v as Record<string, unknown>;
      }
    } catch {
      // a cut first line or a corrupt one: look further back
    }
  }
  return null;
}

/**
 * Reads the bytes of a file from `offset` to its current end, at most `maxBytes` of them
 * (empty when nothing new). Only a regular file is read (checked before it is opened).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readFrom } from "./jsonl.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "abcdef");
 * assert.equal(new TextDecoder().decode(await readFrom(path, 2)), "cdef");
 * await Deno.remove(path);
 * ```
 */
export async function readFrom(
  path: string,
  offset: number,
  maxBytes: number = MAX_JSONL_BYTES,
): Promise<Uint8Array> {
  return (await readRegularFile(path, { offset, maxBytes })).bytes;
}
