/**
 * The browser sampler's worker, bundled on its own (`sampler_worker.js`, loaded only when the
 * user starts sampling): it fetches a checkpoint's EMA weights (the viewer's `ema` route),
 * decodes them with `lib/train/checkpoint_format.ts`, builds the model with `lib/model` and
 * samples with `lib/sampler.ts` on the schedule of `lib/respace.ts`, with the batch seed and
 * clipping of `lib/sample_batches.ts`: what `deno task sample` runs, on tfjs's `wasm` backend
 * (XNNPACK; its binaries are served beside the bundle) or its plain JavaScript `cpu` one. Every
 * step goes to the island as a frame (x_t and the predicted x_0); the island stops it by
 * terminating the worker. A class-conditional model samples the classes asked for with
 * classifier-free guidance (`lib/guidance.ts`), class after class from the same seed, as
 * `deno task sample --class c|all --guidance w`, or with the null label when none are asked for,
 * as `deno task sample` without `--class`.
 *
 * @module
 */
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { tf } from "../lib/tf.ts";
import { decodeCheckpoint, parseCheckpointManifest } from "../lib/train/checkpoint_format.ts";
import { modelFromCheckpoint } from "../lib/train/checkpoint_model.ts";
import { type DiffusionRecipe, scheduleOf } from "../lib/train/recipe.ts";
import { samplingSchedule } from "../lib/respace.ts";
import { sample } from "../lib/sampler.ts";
import {
  batchSeed,
  clipsByDefault,
  SAMPLE_BATCH,
  SAMPLE_ITEM_SHAPES,
} from "../lib/sample_batches.ts";
import type { DiffusionModel } from "../lib/model/types.ts";
import { guidedModelFn } from "../lib/guidance.ts";
import { CLASS_SAMPLING } from "../lib/class_sampling.ts";
import type { SamplerMessage, SamplerRequest } from "./sampler_protocol.ts";

/** What sampling needs of a run's configuration (`run.json`'s or the checkpoint's `config`). */
type _Config = Pick<DiffusionRecipe, "dataset" | "schedule" | "timesteps" | "variance">;

interface _Loaded {
  key: string;
  model: DiffusionModel;
  config: _Config;
  step: number;
}

let _loaded: _Loaded | null = null;
let _wasmReady = false;

/** Where the app serves the wasm backend's binaries (`build.ts` copies them there). */
const _WASM_DIR = "/static/build/";

async function _useBackend(name: SamplerRequest["backend"]): Promise<string> {
  if (name === "wasm" && !_wasmReady) {
    // Threads need cross-origin isolation (SharedArrayBuffer), which the viewer does not ask for.
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    setWasmPaths(_WASM_DIR);
    _wasmReady = true;
  }
  if (tf.getBackend() !== name) {
    _loaded?.model.dispose();
    _loaded = null;
    if (!(await tf.setBackend(name))) throw new Error(`Cannot start the ${name} backend`);
  }
  await tf.ready();
  if (name !== "wasm") return name;
  const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true;
  return `wasm (XNNPACK${simd ? ", SIMD" : ""})`;
}

function _post(msg: SamplerMessage, transfer: Transferable[] = []): void {
  (globalThis as unknown as { postMessage(m: unknown, t: Transferable[]): void })
    .postMessage(msg, transfer);
}

async function _fetch(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) {
    const why = (await res.text().catch(() => "")).trim().split("\n")[0]?.slice(0, 300);
    throw new Error(`Cannot fetch ${url}: HTTP ${res.status}${why ? ` (${why})` : ""}`);
  }
  return res;
}

/**
 * The model (EMA weights) and configuration of a checkpoint served by the viewer, kept for the
 * next request of the same checkpoint; the configuration from the checkpoint's `extra.config`
 * (what the trainer writes), else from `run.json`, as `deno task sample` reads them.
 */
async function _load(req: SamplerRequest): Promise<_Loaded> {
  const key = req.urls.weights;
  if (_loaded?.key === key) return _loaded;
  _loaded?.model.dispose();
  _loaded = null;
  _post({ type: "status", text: "fetching the checkpoint…" });
  const source = req.urls.json;
  const manifest = parseCheckpointManifest(await (await _fetch(source)).text(), source);
  const bytes = new Uint8Array(
    await (await _fetch(req.urls.weights)).arrayBuffer(),
  );
  const ckpt = decodeCheckpoint(manifest, bytes);
  let config = (ckpt.extra as { config?: _Config } | null)?.config;
  if (!config) {
    const record = await (await _fetch(req.urls.run)).json();
    config = record?.config as _Config | undefined;
  }
  if (!config || !(config.dataset in SAMPLE_ITEM_SHAPES)) {
    throw new Error("Cannot tell how the checkpoint was trained: no config in it or in run.json");
  }
  _loaded = { key, model: modelFromCheckpoint(ckpt, { weights: "ema" }), config, step: ckpt.step };
  return _loaded;
}

/**
 * The classes of a request, checked against the model: none for the null label; else each a
 * class of the model, with a guidance weight in the CLI's range.
 */
function _classesOf(req: SamplerRequest, model: DiffusionModel): number[] {
  const classes = req.classes ?? [];
  if (classes.length === 0) return [];
  const k = model.numClasses;
  if (!(k > 0)) {
    throw new TypeError("Cannot sample a class: the checkpoint's model was trained without labels");
  }
  for (const c of classes) {
    if (!(Number.isInteger(c) && c >= 0 && c < k)) {
      throw new RangeError(`Cannot sample: expected a class in 0..${k - 1}, got ${c}`);
    }
  }
  const w = req.guidance ?? CLASS_SAMPLING.guidance;
  if (!(Number.isFinite(w) && w >= 0 && w <= CLASS_SAMPLING.maxGuidance)) {
    throw new RangeError(
      `Cannot sample: expected a guidance weight from 0 to ${CLASS_SAMPLING.maxGuidance}, got ${w}`,
    );
  }
  return classes;
}

async function _run(req: SamplerRequest): Promise<void> {
  const backend = await _useBackend(req.backend);
  const { model, config, step } = await _load(req);
  const { schedule, method } = samplingSchedule(scheduleOf(config), req.steps);
  const limit = SAMPLE_BATCH[config.dataset];
  if (!Number.isInteger(req.n) || req.n < 1 || req.n > limit) {
    throw new RangeError(`Cannot sample: expected 1 to ${limit} samples, got ${req.n}`);
  }
  const classes = _classesOf(req, model);
  const item = SAMPLE_ITEM_SHAPES[config.dataset];
  const size = item.reduce((a, b) => a * b, 1);
  const parts = Math.max(1, classes.length);
  const shape = [parts * req.n, ...item];
  const total = parts * schedule.numTimesteps;
  _post({ type: "ready", dataset: config.dataset, shape, total, backend, step });
  const t0 = performance.now();
  const samples = new Float32Array(parts * req.n * size);
  let done = 0;
  // As `generateClassSamples` (`deno task sample --class`): class after class, each a batch of
  // n with the seed of batch 0, so that every class starts from the same noise.
  for (let i = 0; i < parts; i++) {
    const offset = i * req.n;
    const labels = classes.length > 0
      ? tf.tensor1d(new Int32Array(req.n).fill(classes[i]!), "int32")
      : null;
    try {
      const net = labels
        ? guidedModelFn(model, { labels, guidance: req.guidance ?? CLASS_SAMPLING.guidance })
        : (x: tf.Tensor, t: tf.Tensor1D) => model.apply(x, t, { training: false });
      const out = sample(schedule, net, [req.n, ...item], {
        method,
        eta: 0,
        seed: batchSeed(req.seed, 0),
        variance: config.variance,
        clipDenoised: clipsByDefault(config.dataset),
        onStep: (s) => {
          const x = Float32Array.from(s.sample.dataSync());
          const x0 = Float32Array.from(s.predXstart.dataSync());
          _post({ type: "frame", done: ++done, total, t: s.t, offset, x, x0 }, [
            x.buffer,
            x0.buffer,
          ]);
        },
      });
      samples.set(out.sample.dataSync(), offset * size);
      out.sample.dispose();
    } finally {
      labels?.dispose();
    }
  }
  _post({ type: "done", samples, shape, ms: Math.round(performance.now() - t0) }, [
    samples.buffer,
  ]);
}

if ("WorkerGlobalScope" in globalThis) {
  globalThis.addEventListener("message", (e: Event) => {
    const req = (e as MessageEvent<SamplerRequest>).data;
    if (req?.type !== "start") return;
    _run(req).catch((err) =>
      _post({ type: "error", message: err instanceof Error ? err.message : String(err) })
    );
  });
}
