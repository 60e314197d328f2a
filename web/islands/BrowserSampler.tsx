/**
 * "Sample in the browser": draws samples from the newest checkpoint's EMA weights in the page,
 * with the seed, the number of steps, the sampler and the tfjs backend (wasm or cpu) to choose
 * (and, for a class-conditional run, the class, or every class one row each, and the guidance
 * weight), and shows the denoising as it happens (x_t or the predicted x_0, each step) on a canvas: a grid
 * of digits or a scatter of 2-D points. The sampling runs in a worker (`sampler_worker.ts`, its own bundle, fetched on the
 * first start) with the CLI's code; Stop terminates it.
 *
 * When done, the section's element carries `data-status="done"`, `data-ms` (sampling time) and a
 * `samples` property (the final batch, a Float32Array, row-major), for tests and the console.
 * @module
 */
import type { VNode } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { type DatasetName, DATASETS } from "../../lib/datasets.ts";
import { SAMPLE_METHODS, type SampleMethod } from "../../lib/sample_methods.ts";
import { CLASS_SAMPLING } from "../../lib/class_sampling.ts";
import { classCondOf } from "../class_cond.ts";
import {
  emaFileUrl,
  type SamplerMessage,
  type SamplerRequest,
  stepsValue,
} from "../sampler_protocol.ts";

/** The checkpoint the island samples from. */
export interface SamplerCheckpoint {
  /** Its folder, e.g. `step_00000200`. */
  name: string;
  /** Its training step. */
  step: number;
}

/** Props of {@linkcode BrowserSampler}. */
export interface BrowserSamplerProps {
  runId: string;
  /** The run's data set: digits are drawn as a grid, points as a scatter. */
  dataset: DatasetName;
  /** T of the run's process (step counts above it are not offered). */
  timesteps: number;
  /** The newest complete checkpoint, or null when there is none. */
  checkpoint: SamplerCheckpoint | null;
  /**
   * A class-conditional run's classes (its `run.json`'s `numClasses`): the island then offers a
   * class (or all, one row each) and a guidance weight. @default 0 (no labels: no class control)
   */
  numClasses?: number;
}

/** Where the app serves the worker bundle. */
const WORKER_URL = "/static/build/sampler_worker.js";
const STEP_COUNTS = [10, 25, 50, 100] as const;
const COUNTS: Record<DatasetName, readonly number[]> = {
  mnist: [16, 36, 64],
  "s-curve": [500, 1000, 2000],
};
/** Digits of each class with "all" (one row per class); the CLI's `--class all` default among them. */
const PER_CLASS = [...new Set([2, 4, CLASS_SAMPLING.perClass])].sort((a, b) => a - b);
const S_RANGE = 0.25;
/** A digit's side, and the scale the grid of digits is shown at. */
const DIGIT = 28, DIGIT_SCALE = 3;

type _Status = "idle" | "loading" | "sampling" | "done" | "stopped" | "error";

interface _Frame {
  x: Float32Array;
  x0: Float32Array;
  shape: number[];
}

/** How the samples of a request are laid out: columns, and the class of each row when by class. */
interface _Layout {
  cols: number;
  rows: number;
  classes: number[] | null;
}

/** A class, or every class (one row each). */
type _Class = number | "all";

/**
 * The classes a choice of class asks the worker for, in row order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classesOf } from "./BrowserSampler.tsx";
 * assert.deepEqual(classesOf(3, 10), [3]);
 * assert.deepEqual(classesOf("all", 3), [0, 1, 2]);
 * assert.deepEqual(classesOf(3, 0), []);
 * ```
 */
export function classesOf(cls: _Class, numClasses: number): number[] {
  if (!(numClasses > 0)) return [];
  return cls === "all" ? Array.from({ length: numClasses }, (_, c) => c) : [cls];
}

/**
 * The `deno task sample` command that draws the same samples (up to float rounding).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cliCommand } from "./BrowserSampler.tsx";
 * assert.equal(
 *   cliCommand({ runId: "r1", steps: "ddim25", seed: 2, n: 16 }),
 *   "deno task sample --run r1 --sample-steps ddim25 --seed 2 --n 16",
 * );
 * assert.equal(
 *   cliCommand({ runId: "r1", steps: "10", seed: 0, n: 4, cls: "all", guidance: 2 }),
 *   "deno task sample --run r1 --sample-steps 10 --seed 0 --n 4 --class all --guidance 2",
 * );
 * ```
 */
export function cliCommand(
  o: { runId: string; steps: string; seed: number; n: number; cls?: _Class; guidance?: number },
): string {
  const cls = o.cls === undefined ? "" : ` --class ${o.cls} --guidance ${o.guidance}`;
  return `deno task sample --run ${o.runId} --sample-steps ${o.steps} --seed ${o.seed} --n ${o.n}${cls}`;
}

/**
 * The island's props for a run (from its `run.json` and checkpoint list), or null when the run
 * cannot be sampled here: an unknown data set, or no number of timesteps in its config. The
 * checkpoint is the newest complete one whose two files the viewer serves (null when none).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { browserSamplerProps } from "./BrowserSampler.tsx";
 * const dir = "checkpoints/step_00000020";
 * const files = [`${dir}/checkpoint.json`, `${dir}/weights.bin`];
 * const info = { dataset: "s-curve", config: { timesteps: 50 } };
 * const ckpts = [{ name: "step_00000020", step: 20, latest: true, files }];
 * const p = browserSamplerProps("r1", info, ckpts);
 * assert.deepEqual(p?.checkpoint, { name: "step_00000020", step: 20 });
 * assert.equal(p?.numClasses, 0);
 * const cc = { dataset: "mnist", config: { timesteps: 1000, numClasses: 10, labelDropout: 0.1 } };
 * assert.equal(browserSamplerProps("r1", cc, ckpts)?.numClasses, 10);
 * assert.equal(browserSamplerProps("r1", info, [])?.checkpoint, null);
 * assert.equal(browserSamplerProps("r1", { dataset: "cifar", config: {} }, []), null);
 * ```
 */
export function browserSamplerProps(
  runId: string,
  info: { dataset: string; config: Record<string, unknown> } | null,
  checkpoints: readonly { name: string; step: number; latest: boolean; files: string[] }[],
): BrowserSamplerProps | null {
  const timesteps = info?.config.timesteps;
  if (!info || !(DATASETS as readonly string[]).includes(info.dataset)) return null;
  if (typeof timesteps !== "number" || !Number.isInteger(timesteps) || timesteps < 1) return null;
  const c = checkpoints.find((c) => c.latest);
  const json = c?.files.find((f) => f.endsWith("/checkpoint.json"));
  const weights = c?.files.find((f) => f.endsWith("/weights.bin"));
  return {
    runId,
    dataset: info.dataset as DatasetName,
    timesteps,
    checkpoint: c && json && weights ? { name: c.name, step: c.step } : null,
    numClasses: classCondOf(info.config)?.numClasses ?? 0,
  };
}

function _layout(n: number, classes: number[]): _Layout {
  if (classes.length > 1) return { cols: n, rows: classes.length, classes };
  const cols = Math.ceil(Math.sqrt(n));
  return { cols, rows: Math.ceil(n / cols), classes: null };
}

function _drawDigits(canvas: HTMLCanvasElement, data: Float32Array, n: number, cols: number): void {
  const rows = Math.ceil(n / cols);
  canvas.width = cols * 28;
  canvas.height = rows * 28;
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  const img = ctx.createImageData(canvas.width, canvas.height);
  for (let k = 0; k < n; k++) {
    const ox = (k % cols) * 28, oy = Math.floor(k / cols) * 28;
    for (let i = 0; i < 28 * 28; i++) {
      const v = Math.round(Math.min(1, Math.max(0, (data[k * 784 + i]! + 1) / 2)) * 255);
      const p = ((oy + Math.floor(i / 28)) * canvas.width + ox + (i % 28)) * 4;
      img.data[p] = img.data[p + 1] = img.data[p + 2] = v;
      img.data[p + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

function _drawPoints(canvas: HTMLCanvasElement, data: Float32Array): void {
  const size = 360;
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  // The window follows the cloud's spread while it is noise, and settles at the data's.
  let sq = 0;
  for (const v of data) sq += v * v;
  const range = Math.max(S_RANGE, 3 * Math.sqrt(sq / Math.max(1, data.length)));
  const px = (v: number) => ((v + range) / (2 * range)) * (size - 1);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, size, size);
  ctx.fillStyle = "#e1e1e1";
  ctx.fillRect(0, Math.round(px(0)), size, 1);
  ctx.fillRect(Math.round(px(0)), 0, 1, size);
  ctx.fillStyle = "rgba(37, 99, 235, 0.6)";
  for (let i = 0; i + 1 < data.length; i += 2) {
    ctx.fillRect(px(data[i]!) - 1, size - 1 - px(data[i + 1]!) - 1, 2, 2);
  }
  ctx.fillStyle = "#6b7280";
  ctx.font = "11px sans-serif";
  ctx.fillText(`±${range.toPrecision(2)}`, 4, 12);
}

/**
 * The island.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderToString } from "preact-render-to-string";
 * import BrowserSampler from "./BrowserSampler.tsx";
 * const checkpoint = { name: "step_00000200", step: 200 };
 * const html = renderToString(
 *   <BrowserSampler runId="r1" dataset="s-curve" timesteps={50} checkpoint={checkpoint} />,
 * );
 * assert.match(html, /data-status="idle"/);
 * assert.match(html, /step 200/);
 * assert.doesNotMatch(html, /value="100"/); // more steps than the process has
 * assert.doesNotMatch(html, /name="class"/); // no labels, no class control
 * const cc = renderToString(
 *   <BrowserSampler runId="r1" dataset="mnist" timesteps={1000} checkpoint={checkpoint} numClasses={10} />,
 * );
 * assert.match(cc, /<select name="class"/);
 * assert.match(cc, /<option value="all">/);
 * assert.match(cc, /name="guidance"[^>]*value="1"/);
 * ```
 */
export default function BrowserSampler(props: BrowserSamplerProps): VNode {
  const { checkpoint, dataset } = props;
  const counts = STEP_COUNTS.filter((c) => c <= props.timesteps);
  const [method, setMethod] = useState<SampleMethod>("ancestral");
  const [steps, setSteps] = useState<number>(counts.includes(25) ? 25 : counts[0] ?? 1);
  const [seed, setSeed] = useState(0);
  const [n, setN] = useState(COUNTS[dataset]?.[0] ?? 16);
  const numClasses = props.numClasses ?? 0;
  const [cls, setCls] = useState<_Class>(0);
  const [perClass, setPerClass] = useState<number>(CLASS_SAMPLING.perClass);
  const [guidance, setGuidance] = useState<number>(CLASS_SAMPLING.guidance);
  const byClass = numClasses > 0 && cls === "all";
  const count = byClass ? perClass : n;
  const [layout, setLayout] = useState<_Layout>(() => _layout(count, []));
  const [show, setShow] = useState<"x" | "x0">("x");
  const [backend, setBackend] = useState<"wasm" | "cpu">("wasm");
  const [status, setStatus] = useState<_Status>("idle");
  const [note, setNote] = useState("");
  const [progress, setProgress] = useState({ done: 0, total: 0, t: 0 });
  const [ms, setMs] = useState<number | null>(null);
  const root = useRef<HTMLElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const worker = useRef<Worker | null>(null);
  const frame = useRef<_Frame | null>(null);
  const raf = useRef(0);
  const showRef = useRef(show);
  const layoutRef = useRef(layout);
  const started = useRef(0);

  const draw = () => {
    raf.current = 0;
    const f = frame.current, c = canvas.current;
    if (!f || !c) return;
    const data = showRef.current === "x0" ? f.x0 : f.x;
    if (dataset === "mnist") _drawDigits(c, data, f.shape[0]!, layoutRef.current.cols);
    else _drawPoints(c, data);
  };
  const schedule = () => {
    if (raf.current === 0) raf.current = requestAnimationFrame(draw);
  };

  useEffect(() => () => worker.current?.terminate(), []);
  useEffect(() => {
    showRef.current = show;
    schedule();
  }, [show]);

  const onMessage = (e: MessageEvent<SamplerMessage>) => {
    const m = e.data;
    switch (m.type) {
      case "status":
        setNote(m.text);
        break;
      case "ready":
        setStatus("sampling");
        setNote(`${m.backend} backend · checkpoint step ${m.step}`);
        setProgress({ done: 0, total: m.total, t: 0 });
        {
          // Rows not sampled yet (by class) stay black until their class's frames come.
          const size = m.shape.reduce((a, b) => a * b, 1);
          const x = new Float32Array(size).fill(-1), x0 = new Float32Array(size).fill(-1);
          frame.current = { x, x0, shape: m.shape };
        }
        started.current = performance.now();
        break;
      case "frame": {
        const f = frame.current;
        if (!f) break;
        const item = f.x.length / Math.max(1, f.shape[0] ?? 1);
        f.x.set(m.x, m.offset * item);
        f.x0.set(m.x0, m.offset * item);
        setProgress({ done: m.done, total: m.total, t: m.t });
        schedule();
        break;
      }
      case "done": {
        frame.current = { x: m.samples, x0: m.samples, shape: m.shape };
        schedule();
        setMs(m.ms);
        const el = root.current as (HTMLElement & { samples?: Float32Array }) | null;
        if (el) el.samples = m.samples;
        setStatus("done");
        break;
      }
      case "error":
        setNote(m.message);
        setStatus("error");
        worker.current?.terminate();
        worker.current = null;
        break;
    }
  };

  const start = () => {
    if (!checkpoint) return;
    if (!worker.current) {
      worker.current = new Worker(WORKER_URL, { type: "module" });
      worker.current.onmessage = onMessage;
      worker.current.onerror = (e) => {
        setNote(`the sampler failed: ${e.message || "worker error"}`);
        setStatus("error");
        worker.current?.terminate();
        worker.current = null;
      };
    }
    const classes = classesOf(cls, numClasses);
    const next = _layout(count, classes);
    layoutRef.current = next;
    setLayout(next);
    const req: SamplerRequest = {
      type: "start",
      runId: props.runId,
      urls: {
        json: emaFileUrl(props.runId, checkpoint.name, "checkpoint.json"),
        weights: emaFileUrl(props.runId, checkpoint.name, "weights.bin"),
        run: `/runs/${encodeURIComponent(props.runId)}/files/run.json`,
      },
      seed,
      steps: stepsValue(method, steps),
      n: count,
      backend,
      ...(classes.length > 0 ? { classes, guidance } : {}),
    };
    setStatus("loading");
    setNote("loading the sampler…");
    setMs(null);
    const el = root.current as (HTMLElement & { samples?: Float32Array }) | null;
    if (el) delete el.samples;
    worker.current.postMessage(req);
  };

  const stop = () => {
    worker.current?.terminate();
    worker.current = null;
    setStatus("stopped");
    setNote("stopped");
  };

  const busy = status === "loading" || status === "sampling";
  const perStep = progress.done > 0 && status === "sampling"
    ? (performance.now() - started.current) / progress.done / 1000
    : null;
  return (
    <section
      class="browser-sampler"
      ref={root}
      data-status={status}
      data-ms={ms ?? undefined}
      data-done={progress.done}
    >
      {checkpoint === null
        ? (
          <p class="note">
            No checkpoint here: the sampler needs the run's EMA weights (a run before its first
            checkpoint, or a copy of a run's records without them, as `sweep --export` writes).
          </p>
        )
        : (
          <>
            <div class="toolbar" style="flex-wrap: wrap">
              <label class="control">
                sampler
                <select
                  name="method"
                  value={method}
                  disabled={busy}
                  onChange={(e) => setMethod(e.currentTarget.value as SampleMethod)}
                >
                  {SAMPLE_METHODS.map((m) => <option key={m} value={m}>{m}</option>)}
                </select>
              </label>
              <label class="control">
                steps
                <select
                  name="steps"
                  value={String(steps)}
                  disabled={busy}
                  onChange={(e) => setSteps(Number(e.currentTarget.value))}
                >
                  {counts.map((c) => <option key={c} value={String(c)}>{c}</option>)}
                </select>
              </label>
              <label class="control">
                seed
                <input
                  name="seed"
                  type="number"
                  min="0"
                  step="1"
                  value={seed}
                  disabled={busy}
                  style="width: 6em"
                  onInput={(e) => setSeed(Math.max(0, Math.floor(Number(e.currentTarget.value))))}
                />
              </label>
              {numClasses > 0
                ? (
                  <>
                    <label class="control" title="a class, or every class: one row each">
                      class
                      <select
                        name="class"
                        value={String(cls)}
                        disabled={busy}
                        onChange={(e) => {
                          const v = e.currentTarget.value;
                          setCls(v === "all" ? "all" : Number(v));
                        }}
                      >
                        {Array.from(
                          { length: numClasses },
                          (_, c) => <option key={c} value={String(c)}>{c}</option>,
                        )}
                        <option value="all">all (a row each)</option>
                      </select>
                    </label>
                    <label
                      class="control"
                      title="classifier-free guidance w: 0 unconditional, 1 conditional, above 1 guided"
                    >
                      guidance
                      <input
                        name="guidance"
                        type="number"
                        min="0"
                        max={String(CLASS_SAMPLING.maxGuidance)}
                        step="0.5"
                        value={guidance}
                        disabled={busy}
                        style="width: 4.5em"
                        onInput={(e) => {
                          const w = Number(e.currentTarget.value);
                          if (e.currentTarget.value !== "" && Number.isFinite(w)) {
                            setGuidance(Math.min(CLASS_SAMPLING.maxGuidance, Math.max(0, w)));
                          }
                        }}
                      />
                    </label>
                  </>
                )
                : null}
              <label class="control">
                {byClass ? "per class" : dataset === "mnist" ? "digits" : "points"}
                <select
                  name="count"
                  value={String(count)}
                  disabled={busy}
                  onChange={(e) => (byClass ? setPerClass : setN)(Number(e.currentTarget.value))}
                >
                  {(byClass ? PER_CLASS : COUNTS[dataset] ?? [n]).map((c) => (
                    <option key={c} value={String(c)}>{c}</option>
                  ))}
                </select>
              </label>
              <label class="control">
                backend
                <select
                  name="backend"
                  value={backend}
                  disabled={busy}
                  onChange={(e) => setBackend(e.currentTarget.value as "wasm" | "cpu")}
                >
                  <option value="wasm">wasm</option>
                  <option value="cpu">cpu (JavaScript)</option>
                </select>
              </label>
              <label class="control">
                show
                <select
                  name="show"
                  value={show}
                  onChange={(e) => setShow(e.currentTarget.value as "x" | "x0")}
                >
                  <option value="x">x_t</option>
                  <option value="x0">predicted x_0</option>
                </select>
              </label>
              {busy
                ? <button type="button" class="sampler-stop" onClick={stop}>Stop</button>
                : <button type="button" class="sampler-start" onClick={start}>Sample</button>}
            </div>
            <p class="note">
              EMA weights of checkpoint step{" "}
              {checkpoint.step}, sampled with tfjs in this page (a worker), with the code of{" "}
              <code>deno task sample</code>: the same seed gives the same samples as{" "}
              <code class="sampler-cli">
                {cliCommand({
                  runId: props.runId,
                  steps: stepsValue(method, steps),
                  seed,
                  n: count,
                  ...(numClasses > 0 ? { cls, guidance } : {}),
                })}
              </code>
              {numClasses > 0
                ? " (guidance 0 is the unconditional model, 1 the conditional one, above 1 guided)"
                : ""}.
            </p>
            <p class="sampler-progress">
              <span class="progress">
                <span
                  class="bar"
                  style={`width: ${
                    progress.total ? Math.round(100 * progress.done / progress.total) : 0
                  }%`}
                />
              </span>{" "}
              {status === "idle" ? "" : `${progress.done}/${progress.total} steps`}
              {status === "sampling" && progress.done > 0 ? ` · t = ${progress.t}` : ""}
              {perStep !== null ? ` · ${perStep.toFixed(2)} s/step` : ""}
              {status === "done" && ms !== null ? ` · done in ${(ms / 1000).toFixed(1)} s` : ""}
              {note ? ` · ${note}` : ""}
            </p>
            <div class="sampler-grid">
              {layout.classes
                ? (
                  <div class="class-rows" aria-label="the class of each row">
                    {layout.classes.map((c) => (
                      <span key={c} data-class={c} style={`height: ${DIGIT * DIGIT_SCALE}px`}>
                        {c}
                      </span>
                    ))}
                  </div>
                )
                : null}
              <canvas
                ref={canvas}
                class="pixelated"
                width={dataset === "mnist" ? layout.cols * DIGIT : 360}
                height={dataset === "mnist" ? layout.rows * DIGIT : 360}
                style={`width: ${dataset === "mnist" ? layout.cols * DIGIT * DIGIT_SCALE : 360}px`}
              />
            </div>
          </>
        )}
    </section>
  );
}
