/**
 * Benchmarks of the native kernels: a UNet-S-shaped network (the convolutions, GroupNorms, SiLUs,
 * attention and skip concatenations of `/work/shared/spec/unet-s.md`, batch 64 by default), one
 * forward pass and one Adam training step, on `wasm` alone and on `wasm` + native BLAS.
 *
 * Run: `deno run --allow-all lib/backend/native/bench.ts [--batch 64] [--repeats 5] [--profile]
 * [--forward-only] [--no-baseline] [--cpu]`.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import { Rng } from "../../random.ts";
import { loadWasmBackend } from "../wasm.ts";
import { disableNative, enableNative } from "./mod.ts";

/** One benchmark measurement. */
export interface BenchRecord {
  /** What was timed, e.g. `"unet-s-like/train-step"`. */
  name: string;
  /** The tfjs backend. */
  backend: string;
  /** Whether the native kernels were on. */
  native: boolean;
  /** Batch size. */
  batch: number;
  /** Median wall time of the repeats, in milliseconds. */
  medianMs: number;
  /** Every repeat, in milliseconds. */
  samplesMs: number[];
  /** Why the case could not run (then `medianMs` is NaN). */
  error?: string;
}

/** Options of {@linkcode benchNative}. */
export interface BenchNativeOptions {
  /**
   * Batch size.
   * @default 64
   */
  batch?: number;
  /**
   * Timed repeats after two warm-up runs.
   * @default 5
   */
  repeats?: number;
  /**
   * Also measure without the native kernels.
   * @default true
   */
  baseline?: boolean;
  /**
   * The backend to measure.
   * @default "wasm"
   */
  backend?: "wasm" | "cpu";
  /**
   * What to time. A batch-64 training step of this network needs more than the wasm heap's
   * 4 GiB, so the default measures the step at batch 32 only when asked.
   * @default ["forward", "train-step"]
   */
  cases?: readonly ("forward" | "train-step")[];
}

type Params = Map<string, tf.Variable>;

/** A UNet-S-shaped network with its own parameters (not the project's model). */
function _makeNet(
  rng: Rng,
): { params: Params; apply: (x: tf.Tensor4D, t: tf.Tensor1D) => tf.Tensor4D } {
  const params: Params = new Map();
  const p = (name: string, shape: number[], scale: number): tf.Variable => {
    const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
    rng.fillNormal(v);
    for (let i = 0; i < v.length; i++) v[i]! *= scale;
    const variable = tf.variable(tf.tensor(v, shape), true, name);
    params.set(name, variable);
    return variable;
  };
  const get = (name: string, shape: number[], scale = 0.05) =>
    params.get(name) ?? p(name, shape, scale);
  const conv = (name: string, x: tf.Tensor4D, cout: number, k = 3, stride = 1): tf.Tensor4D => {
    const cin = x.shape[3];
    const w = get(`${name}.w`, [k, k, cin, cout], Math.sqrt(1 / (k * k * cin)));
    const b = get(`${name}.b`, [cout], 0);
    const pad = k === 1
      ? "valid"
      : [[0, 0], [1, 1], [1, 1], [0, 0]] as tf.backend_util.ExplicitPadding;
    return tf.add(tf.conv2d(x, w as tf.Tensor4D, stride, pad as "valid"), b);
  };
  const dense = (name: string, x: tf.Tensor2D, cout: number): tf.Tensor2D =>
    tf.add(
      tf.matMul(x, get(`${name}.w`, [x.shape[1], cout], Math.sqrt(1 / x.shape[1]))),
      get(`${name}.b`, [cout], 0),
    );
  const gn = (name: string, x: tf.Tensor4D): tf.Tensor4D => {
    const [n, h, w, c] = x.shape;
    const g = tf.reshape(x, [n, h, w, 8, c / 8]);
    const { mean, variance } = tf.moments(g, [1, 2, 4], true);
    const y = tf.reshape(tf.mul(tf.sub(g, mean), tf.rsqrt(tf.add(variance, 1e-5))), x.shape);
    return tf.add(tf.mul(y, get(`${name}.g`, [c], 0).add(1)), get(`${name}.b`, [c], 0));
  };
  const silu = <T extends tf.Tensor>(x: T): T => tf.mul(x, tf.sigmoid(x));
  const res = (name: string, x: tf.Tensor4D, temb: tf.Tensor2D, cout: number): tf.Tensor4D => {
    let h = conv(`${name}.c1`, silu(gn(`${name}.n1`, x)), cout);
    const e = dense(`${name}.t`, silu(temb), cout);
    h = tf.add(h, tf.reshape(e, [e.shape[0], 1, 1, cout]));
    h = conv(`${name}.c2`, silu(gn(`${name}.n2`, h)), cout);
    const skip = x.shape[3] === cout ? x : conv(`${name}.skip`, x, cout, 1);
    return tf.add(skip, h);
  };
  const attn = (name: string, x: tf.Tensor4D): tf.Tensor4D => {
    const [n, h, w, c] = x.shape;
    const qkv = tf.reshape(conv(`${name}.qkv`, gn(`${name}.n`, x), 3 * c, 1), [n, h * w, 3 * c]);
    const [q, k, v] = tf.split(qkv, 3, 2);
    const a = tf.softmax(tf.mul(tf.matMul(q!, k!, false, true), 1 / Math.sqrt(c)));
    const o = tf.reshape(tf.matMul(a, v!), [n, h, w, c]) as tf.Tensor4D;
    return tf.add(x, conv(`${name}.o`, o, c, 1));
  };
  const apply = (x: tf.Tensor4D, t: tf.Tensor1D): tf.Tensor4D => {
    const freqs = tf.exp(tf.mul(tf.range(0, 16, 1, "float32"), -Math.log(10000) / 16));
    const args = tf.mul(tf.reshape(tf.cast(t, "float32"), [-1, 1]), tf.reshape(freqs, [1, 16]));
    let temb = tf.concat([tf.cos(args), tf.sin(args)], 1) as tf.Tensor2D;
    temb = dense("temb.2", silu(dense("temb.1", temb, 128)), 128);
    let h = conv("in", x, 32);
    const skips: tf.Tensor4D[] = [h];
    const chans = [32, 64, 64];
    chans.forEach((c, level) => {
      for (let i = 0; i < 2; i++) {
        h = res(`d${level}.${i}`, h, temb, c);
        if (level === 2) h = attn(`d${level}.${i}.a`, h);
        skips.push(h);
      }
      if (level < 2) {
        h = conv(`d${level}.down`, h, c, 3, 2);
        skips.push(h);
      }
    });
    h = res("m.0", h, temb, 64);
    h = attn("m.a", h);
    h = res("m.1", h, temb, 64);
    for (let level = 2; level >= 0; level--) {
      for (let i = 0; i < 3; i++) {
        h = res(`u${level}.${i}`, tf.concat([h, skips.pop()!], 3), temb, chans[level]!);
        if (level === 2) h = attn(`u${level}.${i}.a`, h);
      }
      if (level > 0) {
        const [n, hh, ww, c] = h.shape;
        h = tf.image.resizeNearestNeighbor(h, [hh * 2, ww * 2]);
        h = conv(`u${level}.up`, h, c);
        void n;
      }
    }
    return conv("out", silu(gn("out.n", h)), 1);
  };
  return { params, apply };
}

function _median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function _time(repeats: number, f: () => Promise<void>): Promise<number[]> {
  await f();
  await f();
  const out: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await f();
    out.push(performance.now() - t0);
  }
  return out;
}

/**
 * Times a UNet-S-shaped forward pass and Adam training step on `wasm`, with and without the
 * native kernels (the network is built here; it is not the project's model).
 *
 * @param options Batch size, repeats and whether to measure the baseline.
 * @returns One record per (case, native on/off).
 */
export async function benchNative(options: BenchNativeOptions = {}): Promise<BenchRecord[]> {
  const batch = options.batch ?? 64;
  const repeats = options.repeats ?? 5;
  const backend = options.backend ?? "wasm";
  await loadWasmBackend();
  const prevBackend = tf.getBackend();
  await tf.setBackend(backend);
  const rng = new Rng(1, 9);
  const net = _makeNet(rng);
  const xv = new Float32Array(batch * 28 * 28);
  rng.fillNormal(xv);
  const x = tf.tensor4d(xv, [batch, 28, 28, 1]);
  const t = tf.tensor1d(Array.from({ length: batch }, (_, i) => (i * 37) % 1000), "int32");
  const opt = tf.train.adam(1e-4);
  const records: BenchRecord[] = [];
  const forward = async () => {
    const y = tf.tidy(() => net.apply(x, t));
    await y.data();
    y.dispose();
  };
  const step = async () => {
    const loss = opt.minimize(() => tf.mean(tf.square(tf.sub(net.apply(x, t), x))), true);
    await loss!.data();
    loss!.dispose();
  };
  const modes = options.baseline === false ? [true] : [true, false];
  for (const native of modes) {
    if (native) {
      const s = await enableNative(backend);
      if (!s.enabled) throw new Error(s.detail);
    }
    const cases = options.cases ?? ["forward", "train-step"];
    for (const name of cases) {
      const f = name === "forward" ? forward : step;
      const record: BenchRecord = {
        name: `unet-s-like/${name}`,
        backend,
        native,
        batch,
        medianMs: NaN,
        samplesMs: [],
      };
      try {
        record.samplesMs = await _time(repeats, f);
        record.medianMs = _median(record.samplesMs);
      } catch (e) {
        record.error = (e instanceof Error ? e.message : String(e)).split("\n")[0];
      }
      records.push(record);
      if (record.error !== undefined) break;
    }
    if (native) disableNative(backend);
  }
  tf.dispose([x, t, ...net.params.values()]);
  opt.dispose();
  if (prevBackend !== undefined) await tf.setBackend(prevBackend);
  return records;
}

/** What {@linkcode profileStep} found. */
export interface StepProfile {
  /** Per-kernel totals, heaviest first. */
  kernels: { kernel: string; ms: number; calls: number }[];
  /** Peak bytes of tensor memory during the step. */
  peakBytes: number;
  /** Wall time of the profiled step, in milliseconds. */
  wallMs: number;
}

/** Per-kernel totals of one UNet-S-like training step with the native kernels on. */
export async function profileStep(
  batch = 64,
  backend: "wasm" | "cpu" = "wasm",
): Promise<StepProfile> {
  await loadWasmBackend();
  await tf.setBackend(backend);
  await enableNative(backend);
  const rng = new Rng(1, 9);
  const net = _makeNet(rng);
  const x = tf.randomNormal([batch, 28, 28, 1], 0, 1, "float32", 1) as tf.Tensor4D;
  const t = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 1000), "int32");
  const opt = tf.train.adam(1e-4);
  const run = () => opt.minimize(() => tf.mean(tf.square(tf.sub(net.apply(x, t), x))), true)!;
  tf.dispose(tf.tidy(() => net.apply(x, t))); // creates the parameters
  tf.dispose(run());
  const t0 = performance.now();
  const info = await tf.profile(() => run());
  const wallMs = performance.now() - t0;
  const totals = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const e = totals.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
    e.calls++;
    totals.set(k.name, e);
  }
  tf.dispose(info.result);
  tf.dispose([x, t, ...net.params.values()]);
  opt.dispose();
  disableNative(backend);
  const kernels = [...totals].map(([kernel, v]) => ({ kernel, ...v })).sort((a, b) => b.ms - a.ms);
  return { kernels, peakBytes: info.peakBytes, wallMs };
}

if (import.meta.main) {
  const args = Deno.args;
  const batch = Number(args[args.indexOf("--batch") + 1] ?? 64) || 64;
  const repeats = Number(args[args.indexOf("--repeats") + 1] ?? 5) || 5;
  const backend = args.includes("--cpu") ? "cpu" : "wasm";
  const baseline = !args.includes("--no-baseline");
  const cases = args.includes("--forward-only") ? ["forward" as const] : undefined;
  for (const r of await benchNative({ batch, repeats, backend, baseline, cases })) {
    console.log(JSON.stringify({ ...r, samplesMs: r.samplesMs.map((v) => Math.round(v)) }));
  }
  if (args.includes("--profile")) {
    const p = await profileStep(batch, backend);
    const total = p.kernels.reduce((a, r) => a + r.ms, 0);
    console.log(
      `profile: ${total.toFixed(0)} ms of kernel time, ${p.wallMs.toFixed(0)} ms wall, ` +
        `peak ${(p.peakBytes / 2 ** 20).toFixed(0)} MiB`,
    );
    for (const r of p.kernels.slice(0, 25)) {
      console.log(
        `${r.kernel.padEnd(28)} ${r.ms.toFixed(1).padStart(8)} ms ${
          String(r.calls).padStart(5)
        } calls`,
      );
    }
  }
}
