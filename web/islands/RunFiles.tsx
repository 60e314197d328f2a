/**
 * A run's files below its charts: the forward-process and trajectory pictures, the
 * checkpoints and the downloads. While the run trains, they are read again from
 * `/api/runs/<id>/files` whenever the live stream says that run.json changed (a checkpoint, the
 * final phase) or a sample picture came, and once more when the run ends: a trajectory or a
 * checkpoint written after the page loaded appears.
 * @module
 */
import { effect } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import type { VNode } from "preact";
import { PixelPicture } from "../components/PixelPicture.tsx";
import { formatBytes } from "../format.ts";
import type { LiveCursor } from "../live.ts";
import { liveRun } from "../live_store.ts";
import type { PictureInfo } from "../run_data.ts";
import type { CheckpointEntry, EvalSampleSet } from "../run_files.ts";
import { runFileUrl } from "./SampleSlider.tsx";

/** What `/api/runs/<id>/files` answers: the run's files that the page lists. */
export interface RunFilesData {
  pictures: { forward: PictureInfo | null; trajectory: PictureInfo | null };
  checkpoints: CheckpointEntry[];
  evalSamples: EvalSampleSet[];
  /** Which of metrics.jsonl, eval.jsonl and run.json can be read. */
  has: { metrics: boolean; eval: boolean; run: boolean };
}

/** Props of {@linkcode RunFiles}. */
export interface RunFilesProps {
  runId: string;
  files: RunFilesData;
  /** Follow the run's live stream. */
  live?: { cursor: LiveCursor };
  /** What a picture shows, under it, by picture (e.g. a class-conditional run's trajectory). */
  captions?: Partial<Record<"forward" | "trajectory", string>>;
}

const PICTURES = [
  {
    key: "forward",
    file: "forward.png",
    title: "Forward process q(x_t | x_0): training data noised to t",
    what: "forward-process picture",
  },
  {
    key: "trajectory",
    file: "trajectory.png",
    title: "Denoising trajectory: samples from noise (t = T - 1) to t = 0",
    what: "trajectory picture",
  },
] as const;

function Link({ runId, rel, label }: { runId: string; rel: string; label?: string }): VNode {
  return <a href={runFileUrl(runId, rel)} download>{label ?? rel}</a>;
}

function Downloads({ runId, files }: { runId: string; files: RunFilesData }): VNode {
  const base = `/runs/${encodeURIComponent(runId)}`;
  const newest = files.checkpoints.find((c) => c.latest);
  const name = (f: string) => f.slice(f.lastIndexOf("/") + 1);
  return (
    <ul class="downloads">
      {files.has.metrics
        ? (
          <li>
            Training metrics: <a href={`${base}/metrics.csv`} download>metrics.csv</a>{" "}
            (every logged step) · <Link runId={runId} rel="metrics.jsonl" />
          </li>
        )
        : null}
      {files.has.eval
        ? (
          <li>
            Evaluations: <a href={`${base}/eval.csv`} download>eval.csv</a> ·{" "}
            <Link runId={runId} rel="eval.jsonl" />
          </li>
        )
        : null}
      {files.has.run
        ? (
          <li>
            Run record: <Link runId={runId} rel="run.json" />
          </li>
        )
        : null}
      {newest
        ? (
          <li>
            Newest checkpoint, <code>{newest.name}</code> ({formatBytes(newest.bytes)}):{" "}
            {newest.files.map((f, i) => (
              <span key={f}>
                {i > 0 ? " · " : ""}
                <Link runId={runId} rel={f} label={name(f)} />
              </span>
            ))}
          </li>
        )
        : null}
      {files.evalSamples.map((set) => (
        <li key={set.setting}>
          Digits kept by <code>eval --quality</code>, <code>{set.setting}</code> ({set.files.length}
          {" "}
          .npy batch{set.files.length === 1 ? "" : "es"}, {formatBytes(set.bytes)}):{" "}
          {set.files.map((f, i) => (
            <span key={f}>
              {i > 0 ? " · " : ""}
              <Link runId={runId} rel={f} label={name(f)} />
            </span>
          ))}
        </li>
      ))}
    </ul>
  );
}

/**
 * The island.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderToString } from "preact-render-to-string";
 * import RunFiles from "./RunFiles.tsx";
 * const files = {
 *   pictures: { forward: { file: "forward.png", width: 342, height: 246, t: [0, 999] }, trajectory: null },
 *   checkpoints: [], evalSamples: [], has: { metrics: true, eval: false, run: true },
 * };
 * const html = renderToString(<RunFiles runId="r1" files={files} />);
 * assert.match(html, /data-picture="forward.png"/);
 * assert.match(html, /No trajectory picture/);
 * assert.match(html, /metrics\.csv/);
 * ```
 */
export default function RunFiles(props: RunFilesProps): VNode {
  const [files, setFiles] = useState(props.files);

  useEffect(() => {
    if (!props.live) return;
    const live = liveRun(props.runId, props.live.cursor);
    let last = "", pending = false, again = false;
    const reload = async () => {
      if (pending) {
        again = true;
        return;
      }
      pending = true;
      try {
        const res = await fetch(`/api/runs/${encodeURIComponent(props.runId)}/files`);
        if (res.ok) setFiles(await res.json());
      } catch { /* the next change tries again */ }
      pending = false;
      if (again) {
        again = false;
        reload();
      }
    };
    return effect(() => {
      const s = live.status.value;
      const key = `${s?.updatedAt}|${live.samples.value.length}|${live.connection.value}`;
      if (last !== "" && key !== last) reload();
      last = key;
    });
  }, []);

  const { runId } = props;
  return (
    <div class="run-files">
      {PICTURES.map(({ key, file, title, what }) => {
        const p = files.pictures[key];
        return (
          <section key={file} data-picture={file}>
            <h2>{title}</h2>
            {p
              ? (
                <PixelPicture
                  src={runFileUrl(runId, p.file)}
                  alt={what}
                  width={p.width}
                  height={p.height}
                  t={p.t}
                />
              )
              : <p class="note">No {what} ({file}) for this run{props.live ? " yet" : ""}.</p>}
            {p && props.captions?.[key]
              ? <p class="note picture-caption">{props.captions[key]}</p>
              : null}
          </section>
        );
      })}

      <h2>Checkpoints</h2>
      {files.checkpoints.length === 0
        ? <p class="note">No checkpoints{props.live ? " yet" : ""}.</p>
        : (
          <table class="checkpoints">
            <thead>
              <tr>
                <th>checkpoint</th>
                <th>step</th>
                <th>size</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {files.checkpoints.map((c) => (
                <tr>
                  <td data-checkpoint={c.name}>
                    <code>{c.name}</code>
                  </td>
                  <td class="num">{c.step.toLocaleString("en-US")}</td>
                  <td class="num">{formatBytes(c.bytes)}</td>
                  <td>
                    {c.latest ? <span class="badge status-completed">latest</span> : null}
                    {c.complete ? null : <span class="badge status-failed">incomplete</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}

      <h2>Downloads</h2>
      <Downloads runId={runId} files={files} />
    </div>
  );
}
