/**
 * The sample pictures of a run by step, with a slider; new pictures from the live stream
 * are added, and followed when the slider is at the newest.
 * @module
 */
import { effect } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import type { VNode } from "preact";
import type { LiveCursor } from "../live.ts";
import { liveRun } from "../live_store.ts";
import type { SampleFile } from "../run_files.ts";
import { PixelPicture } from "../components/PixelPicture.tsx";

/** Props of {@linkcode SampleSlider}. */
export interface SampleSliderProps {
  runId: string;
  samples: SampleFile[];
  /** Follow the run's live stream. */
  live?: { cursor: LiveCursor };
  /** The pictures' size in pixels (all have one), drawn at a whole-number scale. */
  size?: { width: number; height: number } | null;
  /**
   * What the pictures show, under them: e.g. that a class-conditional run's rows are its
   * classes (`class_cond.ts`).
   */
  caption?: string;
}

/**
 * The URL the viewer serves a run file at.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runFileUrl } from "./SampleSlider.tsx";
 * assert.equal(runFileUrl("r1", "samples/step_00000010.png"), "/runs/r1/files/samples/step_00000010.png");
 * ```
 */
export function runFileUrl(runId: string, path: string): string {
  return `/runs/${encodeURIComponent(runId)}/files/${path}`;
}

/**
 * The slider island; it starts at the newest picture.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderToString } from "preact-render-to-string";
 * import SampleSlider from "./SampleSlider.tsx";
 * const html = renderToString(
 *   <SampleSlider runId="r1" samples={[{ step: 5, path: "samples/step_00000005.png" }]} />,
 * );
 * assert.match(html, /step_00000005\.png/);
 * const captioned = renderToString(
 *   <SampleSlider runId="r1" samples={[{ step: 5, path: "samples/step_00000005.png" }]} caption="rows" />,
 * );
 * assert.match(captioned, /<p class="note picture-caption">rows<\/p>/);
 * ```
 */
export default function SampleSlider(props: SampleSliderProps): VNode {
  const [samples, setSamples] = useState(props.samples);
  const [index, setIndex] = useState(Math.max(0, props.samples.length - 1));

  useEffect(() => {
    if (!props.live) return;
    const live = liveRun(props.runId, props.live.cursor);
    let seen = 0;
    return effect(() => {
      const list = live.samples.value;
      if (list.length <= seen) return;
      const fresh = list.slice(seen);
      seen = list.length;
      setSamples((old) => {
        const known = new Set(old.map((s) => s.path));
        const next = old.concat(fresh.filter((s) => !known.has(s.path)));
        setIndex((i) => (i >= old.length - 1 ? next.length - 1 : i));
        return next;
      });
    });
  }, []);

  if (samples.length === 0) return <p class="note">No sample pictures yet.</p>;
  const current = samples[Math.min(index, samples.length - 1)]!;
  return (
    <div class="samples">
      <div class="slider-row">
        <input
          type="range"
          class="sample-slider"
          min="0"
          max={samples.length - 1}
          step="1"
          value={index}
          aria-label="sample step"
          onInput={(e) => setIndex(Number((e.target as HTMLInputElement).value))}
        />
        <span class="num" data-sample-step={current.step}>
          step {current.step} ({index + 1}/{samples.length})
        </span>
      </div>
      <PixelPicture
        src={runFileUrl(props.runId, current.path)}
        alt={`samples at step ${current.step}`}
        width={props.size?.width ?? null}
        height={props.size?.height ?? null}
        maxScale={2}
        imgClass="sample-img"
      />
      {props.caption ? <p class="note picture-caption">{props.caption}</p> : null}
    </div>
  );
}
