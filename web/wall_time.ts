/**
 * Wall time for the training charts: each `metrics.jsonl` line's ISO `time` becomes a numeric
 * column (milliseconds since the epoch), which a chart can show as minutes since the first
 * line instead of steps.
 * @module
 */

/**
 * The column holding each line's wall time in milliseconds since the epoch.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TIME_COLUMN, withTimeMs } from "./wall_time.ts";
 * const r = withTimeMs({ step: 1, time: "1970-01-01T00:00:02Z" }) as Record<string, number>;
 * assert.equal(r[TIME_COLUMN], 2000);
 * ```
 */
export const TIME_COLUMN = "time";

/**
 * A metrics record with its ISO `time` as milliseconds since the epoch (a `mapRecord` for
 * `parseJsonlTable`); a record without a readable time keeps no time.
 *
 * @param record One parsed line.
 * @returns The record to table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withTimeMs } from "./wall_time.ts";
 * assert.deepEqual(withTimeMs({ step: 1, time: "2026-01-01T00:01:00.000Z", loss: 2 }),
 *   { step: 1, time: Date.UTC(2026, 0, 1, 0, 1), loss: 2 });
 * assert.deepEqual(withTimeMs({ step: 1, time: "not a time" }), { step: 1 });
 * assert.equal(withTimeMs("x"), "x");
 * ```
 */
export function withTimeMs(record: unknown): unknown {
  if (record === null || typeof record !== "object" || Array.isArray(record)) return record;
  const r = record as Record<string, unknown>;
  if (!Object.hasOwn(r, TIME_COLUMN)) return record;
  // A spread copies own keys as own keys (`__proto__` from a file stays a plain key).
  const out: Record<string, unknown> = { ...r };
  const ms = typeof r[TIME_COLUMN] === "string" ? Date.parse(r[TIME_COLUMN]) : NaN;
  if (Number.isFinite(ms)) out[TIME_COLUMN] = ms;
  else delete out[TIME_COLUMN];
  return out;
}

/**
 * Minutes since the first known time: the x values of a wall-time axis (unknown stay null).
 *
 * @param times Milliseconds since the epoch, or null where a line had no time.
 * @param origin The time of minute 0. @default the first non-null time
 * @returns Elapsed minutes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { elapsedMinutes } from "./wall_time.ts";
 * assert.deepEqual(elapsedMinutes([null, 60_000, 90_000, null, 180_000]), [null, 0, 0.5, null, 2]);
 * assert.deepEqual(elapsedMinutes([120_000], 0), [2]);
 * ```
 */
export function elapsedMinutes(
  times: readonly (number | null)[],
  origin?: number,
): (number | null)[] {
  const t0 = origin ?? times.find((t) => t !== null) ?? 0;
  return times.map((t) => (t === null ? null : (t - t0) / 60_000));
}

/**
 * The rows a wall-time axis draws and their x values (minutes since the first known time):
 * rows without a time, and rows whose time goes back before an earlier row's, are left out,
 * since the x values of a plot only go up.
 *
 * @param times Milliseconds since the epoch, row by row, or null.
 * @returns The kept rows' indices and their elapsed minutes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wallTimeRows } from "./wall_time.ts";
 * assert.deepEqual(wallTimeRows([null, 60_000, 180_000, 120_000, 240_000]), {
 *   rows: [1, 2, 4],
 *   x: [0, 2, 3],
 * });
 * ```
 */
export function wallTimeRows(times: readonly (number | null)[]): { rows: number[]; x: number[] } {
  const rows: number[] = [];
  let last = -Infinity;
  times.forEach((t, i) => {
    if (t !== null && t >= last) {
      rows.push(i);
      last = t;
    }
  });
  const x = elapsedMinutes(rows.map((i) => times[i]!)) as number[];
  return { rows, x };
}
