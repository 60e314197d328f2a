/**
 * `/runs/:id/metrics.csv` and `/runs/:id/eval.csv`: a run's metrics as CSV for a spreadsheet
 * or pandas, one row per step (all of them, not the page's downsampled curve), a column per
 * numeric field; evaluations with one column per measure and setting (`<metric>@<series>`).
 * @module
 */
import { EVAL_FILE, METRICS_FILE } from "../../../../lib/run/layout.ts";
import { alignSteps } from "../../../align_steps.ts";
import { flattenEvalRecord } from "../../../eval_series.ts";
import type { MetricTable } from "../../../jsonl.ts";
import { parseJsonlTable, readFrom } from "../../../jsonl.ts";
import { notFound, type RouteHandler } from "../../../route.ts";
import { isValidRunId } from "../../../runs.ts";
import { resolveRunFile } from "../../../run_files.ts";

/** The most bytes of a JSON-lines file turned into CSV (64 MiB: about a million lines). */
const MAX_BYTES = 64 * 1024 * 1024;

/** The tables served as CSV: the name in the URL and the file it comes from. */
export const CSV_TABLES: Readonly<Record<string, string>> = {
  metrics: METRICS_FILE,
  eval: EVAL_FILE,
};

/**
 * A table as CSV: `step` then the columns in `keys` order; empty cells for missing values,
 * numbers as JavaScript writes them (full precision), names quoted when they need it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tableToCsv } from "./[name].csv.ts";
 * const csv = tableToCsv({ steps: [1, 2], columns: { loss: [0.5, null], "a,b": [1, 2] } });
 * assert.equal(csv, 'step,loss,"a,b"\n1,0.5,1\n2,,2\n');
 * ```
 */
export function tableToCsv(table: MetricTable): string {
  const keys = Object.keys(table.columns);
  const quote = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [["step", ...keys].map(quote).join(",")];
  table.steps.forEach((step, i) => {
    const cells = keys.map((k) => {
      const v = table.columns[k]![i];
      return v === null || v === undefined ? "" : String(v);
    });
    lines.push([String(step), ...cells].join(","));
  });
  return lines.join("\n") + "\n";
}

/**
 * GET: the CSV (as a download named `<run>-<name>.csv`), or 404 for an unknown run, name or a
 * file the run does not have.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { handler } from "./[name].csv.ts";
 * import { RunIndex } from "../../../runs.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/r1`);
 * await Deno.writeTextFile(`${dir}/r1/metrics.jsonl`, '{"step":1,"loss":0.5}\n');
 * const state = { runsDir: dir, index: new RunIndex(dir), maxPoints: 1500, pollMs: 500 };
 * const url = new URL("http://x/runs/r1/metrics.csv");
 * const r = await handler.GET({ req: new Request(url), url, params: { id: "r1", name: "metrics" }, state });
 * assert.ok(r instanceof Response);
 * assert.equal(await r.text(), "step,loss\n1,0.5\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export const handler: RouteHandler<never> = {
  async GET({ params, state }) {
    const id = params.id!, name = params.name ?? "";
    const file = Object.hasOwn(CSV_TABLES, name) ? CSV_TABLES[name] : undefined;
    if (!isValidRunId(id) || file === undefined) return notFound();
    const path = await resolveRunFile(state.runsDir, id, file);
    const bytes = path === null ? null : await readFrom(path, 0, MAX_BYTES).catch(() => null);
    if (bytes === null) return notFound(`No ${file} in run ${id}`);
    const parsed = parseJsonlTable(
      bytes,
      undefined,
      file === EVAL_FILE ? flattenEvalRecord : undefined,
    );
    return new Response(tableToCsv(alignSteps(parsed.table)), {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="${id}-${name}.csv"`,
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
      },
    });
  },
};
