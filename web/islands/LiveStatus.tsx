/**
 * A run's status badge, step counter and duration, updated from the live stream while it
 * trains (the duration counts up every second until the run stops).
 * @module
 */
import { effect } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import type { VNode } from "preact";
import type { LiveCursor } from "../live.ts";
import { formatDuration } from "../format.ts";
import { liveRun } from "../live_store.ts";
import type { RunStatus } from "../runs.ts";

/** Props of {@linkcode LiveStatus}. */
export interface LiveStatusProps {
  runId: string;
  status: RunStatus;
  step: number;
  steps: number;
  /** Whether the run trains now; only then is the stream opened. */
  live: boolean;
  cursor: LiveCursor;
  /** Start time (ISO); with it, the run's duration is shown, counting while the run is live. */
  startedAt?: string;
  /** The duration when the page was made, in ms. */
  durationMs?: number | null;
}

/**
 * The status island: badge, `step N / M`, a progress bar; `data-step` holds the step.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderToString } from "preact-render-to-string";
 * import LiveStatus from "./LiveStatus.tsx";
 * const html = renderToString(
 *   <LiveStatus runId="r1" status="completed" step={10} steps={10} live={false}
 *     cursor={{ metrics: 0, eval: 0, sample: -1 }} />,
 * );
 * assert.match(html, /data-step="10"/);
 * ```
 */
export default function LiveStatus(props: LiveStatusProps): VNode {
  const [status, setStatus] = useState(props.status);
  const [step, setStep] = useState(props.step);
  const [steps, setSteps] = useState(props.steps);
  const [live, setLive] = useState(props.live);
  const [duration, setDuration] = useState(props.durationMs ?? null);
  const start = props.startedAt ? Date.parse(props.startedAt) : NaN;

  // The duration of a live run counts up; it stops with the run.
  useEffect(() => {
    if (!live || !Number.isFinite(start)) return;
    const tick = () => setDuration(Math.max(0, Date.now() - start));
    tick();
    const timer = setInterval(tick, 1000);
    return () => clearInterval(timer);
  }, [live]);

  useEffect(() => {
    if (!props.live) return;
    const run = liveRun(props.runId, props.cursor);
    return effect(() => {
      const s = run.status.value;
      const m = run.metrics.value;
      const lastMetric = m.steps.length > 0 ? m.steps[m.steps.length - 1]! : -Infinity;
      if (s) {
        setStatus(s.status);
        setSteps(s.steps);
        if (s.status !== "running") {
          setLive(false);
          const end = Date.parse(s.updatedAt);
          if (Number.isFinite(start) && Number.isFinite(end)) setDuration(Math.max(0, end - start));
        }
      }
      const best = Math.max(s?.step ?? -Infinity, lastMetric);
      if (Number.isFinite(best)) setStep((old) => Math.max(old, best));
      if (run.connection.value === "ended") setLive(false);
    });
  }, []);

  const pct = steps > 0 ? Math.min(100, (100 * step) / steps) : 0;
  return (
    <div class="live-status">
      <span class={`badge status-${status}`}>{live ? "● live" : status}</span>
      <span class="step-counter">
        step <strong data-step={step}>{step.toLocaleString("en-US")}</strong>
        {steps > 0 ? ` / ${steps.toLocaleString("en-US")}` : ""}
      </span>
      <span class="progress" title={`${pct.toFixed(1)}%`}>
        <span class="bar" style={{ width: `${pct}%` }} />
      </span>
      {props.startedAt !== undefined
        ? (
          <span class="duration sub" data-duration={duration ?? ""}>
            {live ? "running for " : "took "}
            {formatDuration(duration)}
          </span>
        )
        : null}
    </div>
  );
}
