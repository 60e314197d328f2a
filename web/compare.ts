/**
 * Overlaying one metric of several runs on a shared step axis.
 * @module
 */
import type { MetricTable } from "./jsonl.ts";
import { getOwn, hasOwn, setOwn } from "./utils/own.ts";

/**
 * Builds one table whose columns are the `key` column of each named table, on the sorted
 * union of their steps; a run without a value at a step gets `null` there.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { overlay } from "./compare.ts";
 * const a = { steps: [0, 2], columns: { loss: [1, 0.5] } };
 * const b = { steps: [1, 2], columns: { loss: [2, 1] } };
 * assert.deepEqual(overlay({ a, b }, "loss"), {
 *   steps: [0, 1, 2],
 *   columns: { a: [1, null, 0.5], b: [null, 2, 1] },
 * });
 * ```
 */
export function overlay(tables: Record<string, MetricTable>, key: string): MetricTable {
  const all = new Set<number>();
  for (const t of Object.values(tables)) {
    if (hasOwn(t.columns, key)) { for (const s of t.steps) all.add(s); }
  }
  const steps = [...all].sort((x, y) => x - y);
  const where = new Map(steps.map((s, i) => [s, i]));
  const columns: Record<string, (number | null)[]> = {};
  for (const [name, t] of Object.entries(tables)) {
    const col = getOwn(t.columns, key);
    if (col === undefined) continue;
    const out = new Array<number | null>(steps.length).fill(null);
    t.steps.forEach((s, i) => {
      const v = col[i];
      if (v !== null && v !== undefined) out[where.get(s)!] = v;
    });
    setOwn(columns, name, out);
  }
  return { steps, columns };
}

/**
 * The config keys whose values differ between runs (compared as JSON), sorted.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { differingKeys } from "./compare.ts";
 * assert.deepEqual(differingKeys([{ lr: 1, b: 2 }, { lr: 2, b: 2 }]), ["lr"]);
 * assert.deepEqual(differingKeys([{ toString: 1 }, {}]), ["toString"]);
 * ```
 */
export function differingKeys(configs: readonly Record<string, unknown>[]): string[] {
  const keys = new Set(configs.flatMap((c) => Object.keys(c)));
  return [...keys].filter((k) => new Set(configs.map((c) => JSON.stringify(getOwn(c, k)))).size > 1)
    .sort();
}
