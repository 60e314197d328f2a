/**
 * Which metric columns share a chart: known keys in named groups, any other numeric key in
 * a chart of its own.
 * @module
 */

/** One chart: a title and the columns drawn in it. */
export interface ChartGroup {
  title: string;
  keys: string[];
}

const KNOWN: Record<"metrics" | "eval", ChartGroup[]> = {
  metrics: [
    { title: "Loss", keys: ["loss", "simple", "vlb"] },
    { title: "Gradient norm", keys: ["gradNorm"] },
    { title: "Learning rate", keys: ["lr"] },
    { title: "Step time (ms)", keys: ["stepMs", "dataWaitMs"] },
    { title: "Throughput (items/s)", keys: ["itemsPerSec"] },
  ],
  eval: [
    { title: "Sliced Wasserstein distance", keys: ["swd", "swdFloor"] },
    {
      title: "Bits per dimension",
      keys: ["bpd", "bpdUnclipped", "bpdMc", "priorBpd", "decoderBpd", "decoderBpdUnclipped"],
    },
  ],
};

/**
 * Groups the columns present in a file into charts, known groups first.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { groupColumns } from "./metric_groups.ts";
 * assert.deepEqual(groupColumns(["vlb", "loss", "fid"], "metrics"), [
 *   { title: "Loss", keys: ["loss", "vlb"] },
 *   { title: "fid", keys: ["fid"] },
 * ]);
 * ```
 */
export function groupColumns(present: readonly string[], kind: "metrics" | "eval"): ChartGroup[] {
  const have = new Set(present);
  const used = new Set<string>();
  const out: ChartGroup[] = [];
  for (const g of KNOWN[kind]) {
    const keys = g.keys.filter((k) => have.has(k));
    if (keys.length === 0) continue;
    keys.forEach((k) => used.add(k));
    out.push({ title: g.title, keys });
  }
  for (const k of present) if (!used.has(k)) out.push({ title: k, keys: [k] });
  return out;
}
