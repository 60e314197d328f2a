/**
 * Server-side downsampling of metric curves, keeping each bucket's minimum and maximum.
 * @module
 */
import type { MetricTable } from "./jsonl.ts";
import { setOwn } from "./utils/own.ts";

/**
 * Reduces a table to at most `maxPoints` rows (rounded down to even). Rows are split into
 * `maxPoints / 2` buckets of consecutive lines; each bucket gives two rows, at its first and
 * last step, and each column's two values there are that column's minimum and maximum in the
 * bucket, in the order they occur. So spikes and the envelope of every curve survive.
 * A table that already fits is returned as is.
 * @throws {RangeError} when `maxPoints` is below 2 or not an integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { downsampleMinMax } from "./downsample.ts";
 * const steps = [0, 1, 2, 3, 4, 5, 6, 7];
 * const loss = [5, 1, 9, 4, 3, 3, 2, 8];
 * const d = downsampleMinMax({ steps, columns: { loss } }, 4);
 * assert.deepEqual(d.steps, [0, 3, 4, 7]);
 * assert.deepEqual(d.columns.loss, [1, 9, 2, 8]);
 * ```
 */
export function downsampleMinMax(table: MetricTable, maxPoints: number): MetricTable {
  if (!Number.isInteger(maxPoints) || maxPoints < 2) {
    throw new RangeError(`Cannot downsample: maxPoints must be an integer >= 2, got ${maxPoints}`);
  }
  const n = table.steps.length;
  if (n <= maxPoints) return table;
  const buckets = Math.floor(maxPoints / 2);
  const steps: number[] = [];
  // Keys come from files (`__proto__` is one): columns are paired by position, not looked up.
  const keys = Object.keys(table.columns);
  const from = Object.values(table.columns);
  const to = keys.map(() => [] as (number | null)[]);
  const columns: Record<string, (number | null)[]> = {};
  keys.forEach((k, j) => setOwn(columns, k, to[j]!));
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets);
    const hi = Math.floor(((b + 1) * n) / buckets); // exclusive
    steps.push(table.steps[lo]!, table.steps[hi - 1]!);
    for (let j = 0; j < keys.length; j++) {
      const col = from[j]!;
      let min = Infinity, max = -Infinity, iMin = -1, iMax = -1;
      for (let i = lo; i < hi; i++) {
        const v = col[i];
        if (v === null || v === undefined) continue;
        if (v < min) (min = v), (iMin = i);
        if (v > max) (max = v), (iMax = i);
      }
      const out = to[j]!;
      if (iMin < 0) out.push(null, null);
      else if (iMin <= iMax) out.push(min, max);
      else out.push(max, min);
    }
  }
  return { steps, columns };
}

/**
 * Rounds every value to `digits` significant digits, to keep pages small (a curve needs no
 * more). Returns a new table.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { roundTable } from "./downsample.ts";
 * const t = roundTable({ steps: [1], columns: { loss: [0.123456789] } }, 4);
 * assert.deepEqual(t.columns.loss, [0.1235]);
 * ```
 */
export function roundTable(table: MetricTable, digits = 5): MetricTable {
  const columns: Record<string, (number | null)[]> = {};
  for (const [k, col] of Object.entries(table.columns)) {
    setOwn(columns, k, col.map((v) => (v === null || v === 0 ? v : Number(v.toPrecision(digits)))));
  }
  return { steps: table.steps, columns };
}
