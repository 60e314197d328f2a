/**
 * Error bars of evaluation measures: a record that holds `x` and `xStderr` (`bpdMc` and
 * `bpdMcStderr`, `kid` and `kidStderr`, `kidFloor` and `kidFloorStderr`) gets a faint band
 * x ± xStderr around its line.
 * @module
 */
import { SERIES_MARK, splitColumn } from "./eval_series.ts";
import { hasOwn, setOwn } from "./utils/own.ts";

/**
 * The standard-error column of each drawn column that has one in the table.
 *
 * @param keys Columns drawn (`<metric>@<series>` or plain).
 * @param columns The table's columns (keys from files: own properties only).
 * @returns Drawn column → its `<metric>Stderr@<series>` column.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stderrColumns } from "./error_bands.ts";
 * const columns = { "kid@a": [1], "kidStderr@a": [0.1], "swd@a": [2], "toStringStderr@a": [1] };
 * assert.deepEqual(stderrColumns(["kid@a", "swd@a", "toString@a"], columns), { "kid@a": "kidStderr@a" });
 * ```
 */
export function stderrColumns(
  keys: readonly string[],
  columns: Readonly<Record<string, unknown>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) {
    if (!hasOwn(columns, key)) continue;
    const { metric, series } = splitColumn(key);
    const err = `${metric}Stderr${series === null ? "" : SERIES_MARK + series}`;
    if (hasOwn(columns, err)) setOwn(out, key, err);
  }
  return out;
}

/**
 * The lower and upper edges of a band: value ∓ stderr where both are known, else null.
 *
 * @param values The measure.
 * @param stderr Its standard errors, row by row.
 * @returns `[lower, upper]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bandEdges } from "./error_bands.ts";
 * assert.deepEqual(bandEdges([1, 2, null], [0.5, null, 1]), [[0.5, null, null], [1.5, null, null]]);
 * ```
 */
export function bandEdges(
  values: readonly (number | null)[],
  stderr: readonly (number | null)[],
): [(number | null)[], (number | null)[]] {
  const at = (i: number, sign: number) => {
    const v = values[i] ?? null, e = stderr[i] ?? null;
    return v === null || e === null ? null : v + sign * e;
  };
  return [values.map((_, i) => at(i, -1)), values.map((_, i) => at(i, 1))];
}
