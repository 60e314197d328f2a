/**
 * A table's rows in increasing step order with one row per step, as uPlot needs its x values:
 * evaluations of one step by different writers (the trainer, then `deno task eval`) become one
 * row, and a later record of the same column at the same step replaces the earlier one.
 * @module
 */
import type { MetricTable } from "./jsonl.ts";
import { setOwn } from "./utils/own.ts";

/**
 * The table with strictly increasing steps; rows at one step are merged (for each column, the
 * last non-null value in file order wins). A table that is already strictly increasing is
 * returned as it is.
 *
 * @param table A table in file order.
 * @returns The aligned table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { alignSteps } from "./align_steps.ts";
 * const t = { steps: [10, 5, 10], columns: { a: [1, 2, null], b: [null, null, 3] } };
 * assert.deepEqual(alignSteps(t), { steps: [5, 10], columns: { a: [2, 1], b: [null, 3] } });
 * ```
 */
export function alignSteps(table: MetricTable): MetricTable {
  const { steps } = table;
  let sorted = true;
  for (let i = 1; i < steps.length && sorted; i++) sorted = steps[i]! > steps[i - 1]!;
  if (sorted) return table;
  const order = steps.map((_, i) => i).sort((a, b) => steps[a]! - steps[b]! || a - b);
  const out: MetricTable = { steps: [], columns: {} };
  // Keys come from files (`__proto__` is one): columns are paired by position, not looked up.
  const keys = Object.keys(table.columns);
  const from = Object.values(table.columns);
  const to = keys.map(() => [] as (number | null)[]);
  keys.forEach((k, j) => setOwn(out.columns, k, to[j]!));
  for (const i of order) {
    const step = steps[i]!;
    const same = out.steps.length > 0 && out.steps[out.steps.length - 1] === step;
    if (!same) out.steps.push(step);
    for (let j = 0; j < keys.length; j++) {
      const v = from[j]![i] ?? null;
      const col = to[j]!;
      if (!same) col.push(v);
      else if (v !== null) col[col.length - 1] = v;
    }
  }
  return out;
}
