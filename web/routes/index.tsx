/**
 * `/`: the runs list, sortable by any column (`?sort=<key>&dir=asc|desc`), filtered by words
 * (`?q=`: every word in the id, name, data set, model, backend, status, schedule, loss,
 * variance or "class-conditional"), a page at a time (`?page=`, {@linkcode PAGE_SIZE} rows), with boxes to pick runs
 * for `/compare`.
 * @module
 */
import { classCondOf } from "../class_cond.ts";
import type { VNode } from "preact";
import { Layout } from "../components/Layout.tsx";
import { StatusBadge } from "../components/StatusBadge.tsx";
import { formatDuration, formatNumber, formatTime } from "../format.ts";
import { page, type PageProps, type RouteHandler } from "../route.ts";
import { RUN_SORT_KEYS, type RunSortKey, type RunSummary, sortRuns } from "../runs.ts";

/** Rows on one page of the list. */
export const PAGE_SIZE = 100;

/** The list page data. */
export interface RunsListData {
  /** The rows of this page. */
  runs: RunSummary[];
  sort: RunSortKey;
  dir: "asc" | "desc";
  runsDir: string;
  ms: number;
  /** The filter words as typed. @default "" */
  q?: string;
  /** This page, from 1. @default 1 */
  page?: number;
  /** Pages in all. @default 1 */
  pages?: number;
  /** Runs that pass the filter. @default runs.length */
  matched?: number;
  /** Runs in the folder. @default runs.length */
  total?: number;
  /** Runs training now (of all). @default 0 */
  live?: number;
}

/** A config value of a run as text, or "" when it has none. */
function configText(r: RunSummary, key: string): string {
  const v = r.info?.config[key];
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : "";
}

/**
 * True when every word of `q` (case-insensitive) is in the run's id, name, data set, model,
 * backend, status, schedule, loss or variance.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchesQuery } from "./index.tsx";
 * import type { RunSummary } from "../runs.ts";
 * const r = {
 *   id: "20261130-mnist", info: { name: "mnist", dataset: "mnist", model: "unet-s", backend: "wasm",
 *     status: "completed", config: { schedule: "cosine", loss: "hybrid" } },
 * } as unknown as RunSummary;
 * assert.equal(matchesQuery(r, "MNIST cosine"), true);
 * assert.equal(matchesQuery(r, "mnist linear"), false);
 * assert.equal(matchesQuery(r, "  "), true);
 * ```
 */
export function matchesQuery(r: RunSummary, q: string): boolean {
  const words = q.toLowerCase().split(/\s+/).filter((w) => w !== "");
  if (words.length === 0) return true;
  const i = r.info;
  const hay = [
    r.id,
    i?.name,
    i?.dataset,
    i?.model,
    i?.backend,
    i?.status,
    configText(r, "schedule"),
    configText(r, "loss"),
    configText(r, "variance"),
    i && classCondOf(i.config) ? "class-conditional" : "",
  ].join(" ").toLowerCase();
  return words.every((w) => hay.includes(w));
}

/**
 * GET: reads (cached) summaries, filters and sorts them, and keeps one page; unknown sort keys
 * fall back to start time, pages out of range to the nearest.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { handler } from "./index.tsx";
 * import { RunIndex } from "../runs.ts";
 * const state = { runsDir: "/nonexistent", index: new RunIndex("/nonexistent"), maxPoints: 1500, pollMs: 500 };
 * const url = new URL("http://x/?sort=bogus&page=7");
 * const r = await handler.GET({ req: new Request(url), url, params: {}, state });
 * assert.ok(!(r instanceof Response) && r.data.sort === "started" && r.data.page === 1);
 * ```
 */
export const handler: RouteHandler<RunsListData> = {
  async GET({ url, state }) {
    const t0 = performance.now();
    const q = url.searchParams.get("sort") as RunSortKey;
    const sort = RUN_SORT_KEYS.includes(q) ? q : "started";
    const dir = url.searchParams.get("dir") === "asc" ? "asc" : "desc";
    const words = (url.searchParams.get("q") ?? "").slice(0, 200);
    const all = await state.index.list();
    const matched = sortRuns(all.filter((r) => matchesQuery(r, words)), sort, dir);
    const pages = Math.max(1, Math.ceil(matched.length / PAGE_SIZE));
    const asked = Number(url.searchParams.get("page") ?? "1");
    const at = Number.isSafeInteger(asked) ? Math.min(pages, Math.max(1, asked)) : 1;
    const runs = matched.slice((at - 1) * PAGE_SIZE, at * PAGE_SIZE);
    return page({
      runs,
      sort,
      dir,
      runsDir: state.runsDir,
      ms: performance.now() - t0,
      q: words,
      page: at,
      pages,
      matched: matched.length,
      total: all.length,
      live: all.filter((r) => r.live).length,
    }, "Runs");
  },
};

const HEADERS: [RunSortKey | null, string][] = [
  ["name", "name"],
  ["dataset", "data · model"],
  ["status", "status"],
  [null, "schedule"],
  [null, "loss"],
  [null, "variance"],
  [null, "lr"],
  ["step", "step"],
  ["loss", "last loss"],
  ["started", "started (UTC)"],
  ["duration", "duration"],
];

function Row({ r }: { r: RunSummary }): VNode {
  const info = r.info;
  const href = `/runs/${encodeURIComponent(r.id)}`;
  const lr = info?.config.lr;
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
      <td>
        {info?.dataset || "—"}
        <div class="sub">
          {[info?.model, info && classCondOf(info.config) ? "class-conditional" : "", info?.backend]
            .filter((v) => v).join(" · ")}
        </div>
      </td>
      <td>{info ? <StatusBadge status={info.status} live={r.live} /> : "—"}</td>
      <td>{configText(r, "schedule") || "—"}</td>
      <td>{configText(r, "loss") || "—"}</td>
      <td>{configText(r, "variance") || "—"}</td>
      <td class="num">
        {typeof lr === "number" ? Number(lr.toPrecision(3)).toExponential() : "—"}
      </td>
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

/** A link to the list with some of its query changed. */
function listHref(data: RunsListData, change: Record<string, string | number>): string {
  const p = new URLSearchParams();
  const q = { sort: data.sort, dir: data.dir, q: data.q ?? "", page: data.page ?? 1, ...change };
  for (const [k, v] of Object.entries(q)) {
    if (v !== "" && !(k === "page" && v === 1)) p.set(k, String(v));
  }
  return `/?${p}`;
}

function Pager({ data }: { data: RunsListData }): VNode | null {
  const pages = data.pages ?? 1, at = data.page ?? 1;
  if (pages <= 1) return null;
  return (
    <nav class="pager" aria-label="pages">
      {at > 1 ? <a href={listHref(data, { page: at - 1 })} rel="prev">← previous</a> : null}
      <span class="sub">
        page {at} of {pages}
      </span>
      {at < pages ? <a href={listHref(data, { page: at + 1 })} rel="next">next →</a> : null}
    </nav>
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
  const total = data.total ?? data.runs.length;
  const matched = data.matched ?? data.runs.length;
  const live = data.live ?? data.runs.filter((r) => r.live).length;
  const q = data.q ?? "";
  return (
    <Layout title="Runs">
      <div class="page-head">
        <h1>Runs</h1>
        <p class="sub">
          {total} runs in <code>{data.runsDir}</code>
          {live > 0 ? `, ${live} training now` : ""} · listed in {data.ms.toFixed(0)} ms
        </p>
      </div>
      {total === 0
        ? (
          <p class="note">
            No runs yet. Start one with <code>deno task train</code>; it will appear here.
          </p>
        )
        : (
          <>
            <form method="get" action="/" class="filter" role="search">
              <input
                type="search"
                name="q"
                value={q}
                placeholder="filter: id, data set, model, loss, schedule, variance, status…"
                aria-label="filter runs"
              />
              <input type="hidden" name="sort" value={data.sort} />
              <input type="hidden" name="dir" value={data.dir} />
              <button type="submit">Filter</button>
              {q !== "" ? <a href={listHref(data, { q: "", page: 1 })}>clear</a> : null}
              <span class="sub" data-matched={matched}>
                {q !== "" ? `${matched} of ${total} match` : ""}
              </span>
            </form>
            {matched === 0
              ? <p class="note">No run matches “{q}”.</p>
              : (
                <form method="get" action="/compare">
                  <div class="toolbar">
                    <button type="submit">Compare selected</button>
                    <Pager data={data} />
                  </div>
                  <div class="table-scroll">
                    <table class="runs">
                      <thead>
                        <tr>
                          <th />
                          {HEADERS.map(([key, label]) => {
                            if (key === null) return <th key={label}>{label}</th>;
                            const active = key === data.sort;
                            const next = active && data.dir === "desc" ? "asc" : "desc";
                            return (
                              <th key={label} class={active ? "sorted" : undefined}>
                                <a href={listHref(data, { sort: key, dir: next, page: 1 })}>
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
                  </div>
                  <Pager data={data} />
                </form>
              )}
          </>
        )}
    </Layout>
  );
}
