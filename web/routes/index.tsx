/**
 * `/`: the runs list, sortable by any column (`?sort=<key>&dir=asc|desc`), with boxes to
 * pick runs for `/compare`.
 * @module
 */
import type { VNode } from "preact";
import { Layout } from "../components/Layout.tsx";
import { StatusBadge } from "../components/StatusBadge.tsx";
import { formatDuration, formatNumber, formatTime } from "../format.ts";
import { page, type PageProps, type RouteHandler } from "../route.ts";
import { RUN_SORT_KEYS, type RunSortKey, type RunSummary, sortRuns } from "../runs.ts";

/** The list page data. */
export interface RunsListData {
  runs: RunSummary[];
  sort: RunSortKey;
  dir: "asc" | "desc";
  runsDir: string;
  ms: number;
}

/**
 * GET: reads (cached) summaries and sorts them; unknown sort keys fall back to start time.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { handler } from "./index.tsx";
 * import { RunIndex } from "../runs.ts";
 * const state = { runsDir: "/nonexistent", index: new RunIndex("/nonexistent"), maxPoints: 1500, pollMs: 500 };
 * const url = new URL("http://x/?sort=bogus");
 * const r = await handler.GET({ req: new Request(url), url, params: {}, state });
 * assert.ok(!(r instanceof Response) && r.data.sort === "started");
 * ```
 */
export const handler: RouteHandler<RunsListData> = {
  async GET({ url, state }) {
    const t0 = performance.now();
    const q = url.searchParams.get("sort") as RunSortKey;
    const sort = RUN_SORT_KEYS.includes(q) ? q : "started";
    const dir = url.searchParams.get("dir") === "asc" ? "asc" : "desc";
    const runs = sortRuns(await state.index.list(), sort, dir);
    return page({ runs, sort, dir, runsDir: state.runsDir, ms: performance.now() - t0 }, "Runs");
  },
};

const HEADERS: [RunSortKey, string][] = [
  ["name", "name"],
  ["dataset", "dataset"],
  ["model", "model"],
  ["backend", "backend"],
  ["status", "status"],
  ["step", "step"],
  ["loss", "last loss"],
  ["started", "started (UTC)"],
  ["duration", "duration"],
];

function Row({ r }: { r: RunSummary }): VNode {
  const info = r.info;
  const href = `/runs/${encodeURIComponent(r.id)}`;
  return (
    <tr class={r.live ? "live" : undefined} data-run={r.id}>
      <td>
        <input type="checkbox" name="runs" value={r.id} aria-label={`compare ${r.id}`} />
      </td>
      <td class="name">
        <a href={href}>{info?.name ?? r.id}</a>
        {info && info.name !== r.id ? <div class="sub">{r.id}</div> : null}
        {r.error ? <div class="error-text">{r.error}</div> : null}
      </td>
      <td>{info?.dataset ?? "—"}</td>
      <td>{info?.model ?? "—"}</td>
      <td>{info?.backend ?? "—"}</td>
      <td>{info ? <StatusBadge status={info.status} live={r.live} /> : "—"}</td>
      <td class="num">
        {r.lastStep !== null ? r.lastStep.toLocaleString("en-US") : "—"}
        {info && info.steps > 0
          ? <span class="sub">/ {info.steps.toLocaleString("en-US")}</span>
          : null}
      </td>
      <td class="num">{formatNumber(r.lastLoss)}</td>
      <td class="num">{formatTime(info?.startedAt)}</td>
      <td class="num">{formatDuration(r.durationMs)}</td>
    </tr>
  );
}

/**
 * The list page.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderToString } from "preact-render-to-string";
 * import RunsList from "./index.tsx";
 * const data = { runs: [], sort: "started" as const, dir: "desc" as const, runsDir: "runs", ms: 1 };
 * assert.match(renderToString(<RunsList data={data} url={new URL("http://x/")} />), /No runs/);
 * ```
 */
export default function RunsList({ data }: PageProps<RunsListData>): VNode {
  const live = data.runs.filter((r) => r.live).length;
  return (
    <Layout title="Runs">
      <div class="page-head">
        <h1>Runs</h1>
        <p class="sub">
          {data.runs.length} runs in <code>{data.runsDir}</code>
          {live > 0 ? `, ${live} training now` : ""} · listed in {data.ms.toFixed(0)} ms
        </p>
      </div>
      {data.runs.length === 0
        ? (
          <p class="note">
            No runs yet. Start one with <code>deno task train</code>; it will appear here.
          </p>
        )
        : (
          <form method="get" action="/compare">
            <div class="toolbar">
              <button type="submit">Compare selected</button>
            </div>
            <table class="runs">
              <thead>
                <tr>
                  <th />
                  {HEADERS.map(([key, label]) => {
                    const active = key === data.sort;
                    const next = active && data.dir === "desc" ? "asc" : "desc";
                    return (
                      <th class={active ? "sorted" : undefined}>
                        <a href={`/?sort=${key}&dir=${next}`}>
                          {label}
                          {active ? (data.dir === "desc" ? " ▾" : " ▴") : ""}
                        </a>
                      </th>
                    );
                  })}
                </tr>
              </thead>
              <tbody>
                {data.runs.map((r) => <Row key={r.id} r={r} />)}
              </tbody>
            </table>
          </form>
        )}
    </Layout>
  );
}
