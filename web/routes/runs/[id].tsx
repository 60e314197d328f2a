/**
 * `/runs/:id`: one run: status, curves, eval metrics, samples by step, the forward process
 * and a denoising trajectory, checkpoints, config. While the run trains, islands follow it.
 * @module
 */
import type { VNode } from "preact";
import { Island } from "../../components/Island.tsx";
import {
  classCondLabel,
  classCondOf,
  classGridCaption,
  classTrajectoryCaption,
} from "../../class_cond.ts";
import { browserSamplerProps } from "../../islands/BrowserSampler.tsx";
import { Layout } from "../../components/Layout.tsx";
import { chartProps } from "../../chart_props.ts";
import { formatBytes, formatTime } from "../../format.ts";
import type { LiveCursor } from "../../live.ts";
import { type ChartGroup, groupColumns } from "../../metric_groups.ts";
import { notFound, page, type PageProps, type RouteHandler } from "../../route.ts";
import { loadRun, type RunData, runExists, type SeriesData } from "../../run_data.ts";
import { LIVE_WINDOW_MS } from "../../runs.ts";
import { resolveInRuns } from "../../utils/safe_fs.ts";
import { METRICS_FILE } from "../../../lib/run/layout.ts";

/** The run page data. */
export interface RunPageData {
  run: RunData;
  live: boolean;
  cursor: LiveCursor;
  durationMs: number | null;
}

/**
 * GET: 404 for an unknown run; otherwise everything readable about it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { handler } from "./[id].tsx";
 * import { RunIndex } from "../../runs.ts";
 * const state = { runsDir: "/nonexistent", index: new RunIndex("/nonexistent"), maxPoints: 1500, pollMs: 500 };
 * const url = new URL("http://x/runs/r1");
 * const r = await handler.GET({ req: new Request(url), url, params: { id: "r1" }, state });
 * assert.ok(r instanceof Response && r.status === 404);
 * ```
 */
export const handler: RouteHandler<RunPageData> = {
  async GET({ params, state }) {
    const id = params.id!;
    if (!(await runExists(state.runsDir, id))) return notFound(`No run ${id}`);
    const run = await loadRun(state.runsDir, id, {
      maxPoints: state.maxPoints,
      maxBytes: state.maxFileBytes,
    });
    const now = Date.now();
    let live = false;
    let durationMs: number | null = null;
    if (run.info.ok) {
      const info = run.info.info;
      const updated = Date.parse(info.updatedAt);
      const m = await resolveInRuns(state.runsDir, `${id}/${METRICS_FILE}`);
      const metricsWrite = (m.ok ? m.info.mtime?.getTime() : undefined) ?? -Infinity;
      const last = Math.max(Number.isFinite(updated) ? updated : -Infinity, metricsWrite);
      live = info.status === "running" && now - last <= LIVE_WINDOW_MS;
      const start = Date.parse(info.startedAt);
      const end = info.endedAt ? Date.parse(info.endedAt) : live ? now : last;
      if (Number.isFinite(start) && Number.isFinite(end)) durationMs = Math.max(0, end - start);
    }
    const lastSample = run.samples.at(-1)?.step ?? -1;
    const cursor = { metrics: run.metrics.offset, eval: run.evals.offset, sample: lastSample };
    const title = run.info.ok ? run.info.info.name : id;
    return page({ run, live, cursor, durationMs }, title);
  },
};

function SeriesNotes({ s, file }: { s: SeriesData; file: string }): VNode | null {
  const notes: string[] = [];
  if (s.error !== null && s.error !== "missing") {
    notes.push(`${file} could not be read: ${s.error}`);
  }
  if (s.skippedBytes) {
    notes.push(
      `${file} is longer than a page reads: its first ${
        formatBytes(s.skippedBytes)
      } were left out; the curves show its last lines.`,
    );
  }
  if (s.malformed > 0) notes.push(`${s.malformed} malformed line(s) in ${file} were skipped.`);
  if (s.partialTail) notes.push(`The last line of ${file} is partly written; it was left out.`);
  if (s.rows > s.table.steps.length) {
    notes.push(
      `${
        s.rows.toLocaleString("en-US")
      } lines, drawn as ${s.table.steps.length} points (min/max per bucket).`,
    );
  }
  if (notes.length === 0) return null;
  return (
    <ul class="notes">
      {notes.map((n) => <li key={n}>{n}</li>)}
    </ul>
  );
}

function Charts(
  { data, kind }: { data: RunPageData; kind: "metrics" | "eval" },
): VNode {
  const s = kind === "metrics" ? data.run.metrics : data.run.evals;
  const file = kind === "metrics" ? "metrics.jsonl" : "eval.jsonl";
  const groups = groupColumns(Object.keys(s.table.columns), kind, s.table);
  const live = data.live ? { runId: data.run.id, kind, cursor: data.cursor } : undefined;
  const note = s.error === "missing" ? `No ${file} yet.` : `${file} has no metric lines yet.`;
  // A live run may start writing a file the page did not have yet: its charts appear then.
  if (groups.length === 0) {
    return (
      <>
        <SeriesNotes s={s} file={file} />
        {data.live
          ? (
            <Island
              name="LiveCharts"
              props={{ runId: data.run.id, kind, cursor: data.cursor, note }}
            />
          )
          : <p class="note">{note}</p>}
      </>
    );
  }
  const chart = (g: ChartGroup) => (
    <Island
      name="MetricsChart"
      props={{ ...chartProps(g, s.table, kind), ...(live ? { live } : {}) }}
    />
  );
  const main = groups.filter((g) => g.main), rest = groups.filter((g) => !g.main);
  return (
    <>
      <SeriesNotes s={s} file={file} />
      {main.length > 0 ? <div class="charts main">{main.map(chart)}</div> : null}
      {rest.length > 0 ? <div class="charts small">{rest.map(chart)}</div> : null}
    </>
  );
}

function ConfigTable({ obj }: { obj: Record<string, unknown> }): VNode {
  const keys = Object.keys(obj).sort();
  if (keys.length === 0) return <p class="note">Empty.</p>;
  return (
    <table class="kv">
      <tbody>
        {keys.map((k) => (
          <tr>
            <th>{k}</th>
            <td>
              <code>{typeof obj[k] === "string" ? obj[k] as string : JSON.stringify(obj[k])}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function BrowserSamplerSection({ data }: { data: RunPageData }): VNode | null {
  const info = data.run.info.ok ? data.run.info.info : null;
  const props = browserSamplerProps(data.run.id, info, data.run.checkpoints);
  if (props === null) return null;
  return (
    <>
      <h2>Sample in the browser</h2>
      <Island name="BrowserSampler" props={props} />
    </>
  );
}

/**
 * The run page.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderToString } from "preact-render-to-string";
 * import RunPage from "./[id].tsx";
 * const empty = { table: { steps: [], columns: {} }, totalPoints: 0, rows: 0, malformed: 0, partialTail: false, offset: 0, error: "missing" };
 * const run = { id: "r1", info: { ok: false as const, error: "run.json is missing" }, metrics: empty, evals: empty,
 *   samples: [], checkpoints: [], hasForward: false, hasTrajectory: false };
 * const data = { run, live: false, cursor: { metrics: 0, eval: 0, sample: -1 }, durationMs: null };
 * assert.match(renderToString(<RunPage data={data} url={new URL("http://x/runs/r1")} />), /run.json is missing/);
 * ```
 */
export default function RunPage({ data }: PageProps<RunPageData>): VNode {
  const { run } = data;
  const info = run.info.ok ? run.info.info : null;
  const title = info?.name ?? run.id;
  const classCond = info ? classCondOf(info.config) : null;
  return (
    <Layout title={title}>
      <div class="page-head">
        <h1>{title}</h1>
        <p class="sub">
          <code>{run.id}</code>
          {info
            ? (
              <>
                {" · "}
                {info.dataset} · {info.model}
                {classCond
                  ? (
                    <>
                      {" · "}
                      <span class="class-cond">{classCondLabel(classCond)}</span>
                    </>
                  )
                  : null}
                {" · "}
                {info.backend}
                {" · "}
                {info.paramCount.toLocaleString("en-US")} params · started{" "}
                {formatTime(info.startedAt)} UTC
                {info.gitCommit
                  ? (
                    <>
                      {" · "}git <code>{info.gitCommit.slice(0, 10)}</code>
                    </>
                  )
                  : null}
              </>
            )
            : null}
          {" · "}
          <a href={`/compare?runs=${encodeURIComponent(run.id)}`}>compare…</a>
        </p>
        {info
          ? (
            <Island
              name="LiveStatus"
              props={{
                runId: run.id,
                status: info.status,
                step: Math.max(info.step, run.metrics.table.steps.at(-1) ?? 0),
                steps: info.steps,
                live: data.live,
                cursor: data.cursor,
                startedAt: info.startedAt,
                durationMs: data.durationMs,
              }}
            />
          )
          : <p class="error-box">{run.info.ok ? "" : run.info.error}</p>}
        {info?.error ? <p class="error-box">Run error: {info.error}</p> : null}
      </div>

      <h2>Training curves</h2>
      <Charts data={data} kind="metrics" />

      <h2>Evaluation</h2>
      <Charts data={data} kind="eval" />

      <h2>Samples</h2>
      <Island
        name="SampleSlider"
        props={{
          runId: run.id,
          samples: run.samples,
          size: run.sampleSize ?? null,
          ...(classCond ? { caption: classGridCaption(classCond) } : {}),
          ...(data.live ? { live: { cursor: data.cursor } } : {}),
        }}
      />

      <BrowserSamplerSection data={data} />

      <Island
        name="RunFiles"
        props={{
          runId: run.id,
          files: {
            pictures: run.pictures ?? { forward: null, trajectory: null },
            checkpoints: run.checkpoints,
            evalSamples: run.evalSamples ?? [],
            has: {
              metrics: run.metrics.error === null,
              eval: run.evals.error === null,
              run: run.info.ok,
            },
          },
          ...(classCond ? { captions: { trajectory: classTrajectoryCaption(classCond) } } : {}),
          ...(data.live ? { live: { cursor: data.cursor } } : {}),
        }}
      />

      <div class="two">
        <section>
          <h2>Config</h2>
          {info ? <ConfigTable obj={info.config} /> : <p class="note">run.json unavailable.</p>}
        </section>
        <section>
          <h2>Versions</h2>
          {info ? <ConfigTable obj={info.versions} /> : <p class="note">run.json unavailable.</p>}
        </section>
      </div>
    </Layout>
  );
}
