/**
 * `/compare?runs=a,b` (or `?runs=a&runs=b`): the curves of several runs overlaid, one chart
 * per metric, and the config values that differ.
 * @module
 */
import type { VNode } from "preact";
import { Island } from "../components/Island.tsx";
import { Layout } from "../components/Layout.tsx";
import { differingKeys, overlay } from "../compare.ts";
import type { MetricTable } from "../jsonl.ts";
import { page, type PageProps, type RouteHandler } from "../route.ts";
import { loadRun, type RunData, runExists } from "../run_data.ts";
import { isValidRunId } from "../runs.ts";

/** One overlay chart. */
export interface CompareChart {
  title: string;
  table: MetricTable;
}

/** The compare page data. */
export interface CompareData {
  ids: string[];
  /** Ids asked for that are not valid or not found. */
  missing: string[];
  labels: Record<string, string>;
  charts: CompareChart[];
  /** Rows of differing config values: key, then one value per run. */
  diffs: { key: string; values: string[] }[];
}

const MAX_RUNS = 12;

/**
 * GET: reads each listed run (at most 12) and overlays their curves.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { handler } from "./compare.tsx";
 * import { RunIndex } from "../runs.ts";
 * const state = { runsDir: "/nonexistent", index: new RunIndex("/nonexistent"), maxPoints: 1500, pollMs: 500 };
 * const url = new URL("http://x/compare?runs=a,../b");
 * const r = await handler.GET({ req: new Request(url), url, params: {}, state });
 * assert.ok(!(r instanceof Response) && r.data.missing.length === 2);
 * ```
 */
export const handler: RouteHandler<CompareData> = {
  async GET({ url, state }) {
    const asked = [
      ...new Set(
        url.searchParams.getAll("runs").flatMap((v) => v.split(",")).map((s) => s.trim())
          .filter((s) => s !== ""),
      ),
    ].slice(0, MAX_RUNS);
    const ids: string[] = [];
    const missing: string[] = [];
    for (const id of asked) {
      if (isValidRunId(id) && await runExists(state.runsDir, id)) ids.push(id);
      else missing.push(id);
    }
    const maxPoints = Math.max(200, Math.floor(state.maxPoints / Math.max(1, ids.length)));
    const runs: RunData[] = await Promise.all(
      ids.map((id) => loadRun(state.runsDir, id, { maxPoints, maxBytes: state.maxFileBytes })),
    );
    const labels: Record<string, string> = {};
    for (const r of runs) labels[r.id] = r.info.ok ? `${r.info.info.name} (${r.id})` : r.id;
    const charts: CompareChart[] = [];
    const add = (kind: "metrics" | "evals", keys: string[]) => {
      for (const key of keys) {
        const tables = Object.fromEntries(runs.map((r) => [r.id, r[kind].table]));
        const t = overlay(tables, key);
        if (Object.keys(t.columns).length > 0) charts.push({ title: key, table: t });
      }
    };
    const metricKeys = ["loss", "simple", "vlb"];
    add("metrics", metricKeys);
    add("evals", [...new Set(runs.flatMap((r) => Object.keys(r.evals.table.columns)))].sort());
    const configs = runs.map((r) => (r.info.ok ? r.info.info.config : {}));
    const diffs = differingKeys(configs).map((key) => ({
      key,
      values: configs.map((c) => (Object.hasOwn(c, key) ? JSON.stringify(c[key]) : "—")),
    }));
    return page({ ids, missing, labels, charts, diffs }, "Compare runs");
  },
};

/**
 * The compare page.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderToString } from "preact-render-to-string";
 * import Compare from "./compare.tsx";
 * const data = { ids: [], missing: ["x"], labels: {}, charts: [], diffs: [] };
 * assert.match(renderToString(<Compare data={data} url={new URL("http://x/compare")} />), /Not found: x/);
 * ```
 */
export default function Compare({ data }: PageProps<CompareData>): VNode {
  return (
    <Layout title="Compare runs">
      <div class="page-head">
        <h1>Compare runs</h1>
        <p class="sub">
          {data.ids.map((id, i) => (
            <>
              {i > 0 ? " · " : ""}
              <a href={`/runs/${encodeURIComponent(id)}`}>{data.labels[id] ?? id}</a>
            </>
          ))}
        </p>
        {data.missing.length > 0
          ? <p class="error-box">Not found: {data.missing.join(", ")}</p>
          : null}
      </div>
      {data.ids.length === 0
        ? (
          <p class="note">
            Pick runs on the <a href="/">runs list</a> and press Compare.
          </p>
        )
        : null}
      <div class="charts small">
        {data.charts.map((c, i) => (
          <Island
            name="MetricsChart"
            props={{
              title: c.title,
              table: c.table,
              keys: data.ids,
              labels: data.labels,
              spanGaps: true,
              log: i === 0,
              smoothing: i < 3 ? 0.6 : 0,
              height: 240,
            }}
          />
        ))}
      </div>
      {data.diffs.length > 0
        ? (
          <>
            <h2>Config differences</h2>
            <table class="kv">
              <thead>
                <tr>
                  <th />
                  {data.ids.map((id) => <th key={id}>{data.labels[id] ?? id}</th>)}
                </tr>
              </thead>
              <tbody>
                {data.diffs.map((d) => (
                  <tr>
                    <th>{d.key}</th>
                    {d.values.map((v) => (
                      <td>
                        <code>{v}</code>
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )
        : null}
    </Layout>
  );
}
