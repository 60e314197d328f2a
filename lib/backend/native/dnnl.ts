/**
 * A binding to oneDNN (Debian's `libdnnl2`, the library behind PyTorch's CPU convolutions)
 * through Deno FFI: 2-D convolutions in NHWC with their data and weight gradients, run on the
 * backend's tensor memory in place.
 *
 * Activations stay in NHWC (oneDNN's AVX2/AVX-512 kernels read it directly); the filter, which
 * tfjs keeps as `[kh, kw, cin, cout]` (oneDNN's `hwio`), is reordered into the layout the
 * convolution prefers (a few thousand floats). Primitives are built once per geometry and kept.
 *
 * The binding speaks oneDNN's 2.x C API (Debian 12 ships 2.6.3); another major version is
 * reported as unsupported and the kernels fall back to OpenBLAS.
 *
 * @module
 */
import type { Blas } from "./blas.ts";
import type { ConvGeometry } from "./conv.ts";
import { type Fenv, openFenv } from "./fenv.ts";

/** Where a tensor lies: a buffer and a byte offset into it. */
export interface Region {
  /** The memory (the wasm heap, or a typed array's buffer). */
  buffer: ArrayBuffer | ArrayBufferLike;
  /** Byte offset of the first element. */
  byteOffset: number;
}

/**
 * The convolutions oneDNN runs for the native kernels, and its `sgemm` as a {@linkcode Blas}:
 * with every product and convolution in oneDNN, one OpenMP thread pool does all the work (two
 * pools, OpenBLAS's and OpenMP's, spin against each other on a small machine: measured 1.8x
 * slower UNet-S steps on 2 cores).
 */
export interface Dnnl extends Blas {
  /** `y = conv(x, w) (+ b)`, NHWC, `w` as `[kh, kw, cin, cout]`, `b` of `[cout]` or null. */
  convForward(g: ConvGeometry, x: Region, w: Region, b: Region | null, y: Region): void;
  /** `dx = ∂conv/∂x (dy)`. */
  convBackwardData(g: ConvGeometry, dy: Region, w: Region, dx: Region): void;
  /** `dw = ∂conv/∂w (x, dy)` (the bias gradient is tfjs's `Sum` of `dy`). */
  convBackwardWeights(g: ConvGeometry, x: Region, dy: Region, dw: Region): void;
}

/** Options of {@linkcode openDnnl}. */
export interface OpenDnnlOptions {
  /**
   * Library names or paths tried in order.
   * @default {DEFAULT_DNNL_LIBRARIES}
   */
  libraries?: readonly string[];
  /**
   * Flush subnormal floats to zero inside the convolutions (x86-64 Linux): oneDNN's OpenMP
   * threads start inside the first call and inherit the setting.
   * @default true
   */
  flushSubnormals?: boolean;
  /**
   * OpenMP threads; 0 leaves the runtime's default (`OMP_NUM_THREADS`, else every core).
   * @default 0
   */
  threads?: number;
}

/** The libraries {@linkcode openDnnl} tries, in order. */
export const DEFAULT_DNNL_LIBRARIES: readonly string[] = [
  "libdnnl.so.2",
  "libdnnl.so",
  "libdnnl.2.dylib",
  "/opt/homebrew/opt/onednn/lib/libdnnl.dylib",
];

const P = "pointer" as const;
const B = "buffer" as const;
const I32 = "i32" as const;

const _SYMBOLS = {
  dnnl_version: { parameters: [], result: P },
  dnnl_engine_create: { parameters: [B, I32, "usize"], result: I32 },
  dnnl_stream_create: { parameters: [B, P, "u32"], result: I32 },
  dnnl_stream_wait: { parameters: [P], result: I32 },
  dnnl_memory_desc_init_by_tag: { parameters: [B, I32, B, I32, I32], result: I32 },
  dnnl_memory_desc_equal: { parameters: [B, P], result: I32 },
  dnnl_memory_create: { parameters: [B, B, P, P], result: I32 },
  dnnl_memory_create_from_md_ptr: {
    name: "dnnl_memory_create",
    parameters: [B, P, P, P],
    result: I32,
  },
  dnnl_memory_set_data_handle: { parameters: [P, P], result: I32 },
  dnnl_dilated_convolution_forward_desc_init: {
    parameters: [B, I32, I32, B, B, B, B, B, B, B, B],
    result: I32,
  },
  dnnl_dilated_convolution_backward_data_desc_init: {
    parameters: [B, I32, B, B, B, B, B, B, B],
    result: I32,
  },
  dnnl_dilated_convolution_backward_weights_desc_init: {
    parameters: [B, I32, B, B, B, B, B, B, B, B],
    result: I32,
  },
  dnnl_primitive_desc_create: { parameters: [B, B, P, P, P], result: I32 },
  dnnl_primitive_desc_query_md: { parameters: [P, I32, I32], result: P },
  dnnl_primitive_desc_destroy: { parameters: [P], result: I32 },
  dnnl_reorder_primitive_desc_create: { parameters: [B, B, P, B, P, P], result: I32 },
  dnnl_primitive_create: { parameters: [B, P], result: I32 },
  dnnl_primitive_execute: { parameters: [P, P, I32, B], result: I32 },
  dnnl_primitive_destroy: { parameters: [P], result: I32 },
  dnnl_sgemm: {
    parameters: ["u8", "u8", "i64", "i64", "i64", "f32", B, "i64", B, "i64", "f32", B, "i64"],
    result: I32,
  },
} as const;

const _OMP = {
  omp_set_num_threads: { parameters: [I32], result: "void" },
  omp_get_max_threads: { parameters: [], result: I32 },
} as const;

type _Lib = Deno.DynamicLibrary<typeof _SYMBOLS>;

// oneDNN 2.x ABI constants (dnnl_types.h).
const _MD_BYTES = 696; // sizeof(dnnl_memory_desc_t)
const _OP_DESC_BYTES = 8192; // sizeof(dnnl_convolution_desc_t) is 5,976
const _F32 = 3;
const _TAG_ANY = 1;
const _TAG_A = 2;
const _TAG_NHWC = 20;
const _TAG_HWIO = 30;
const _FORWARD_TRAINING = 64;
const _CONV_DIRECT = 1;
const _ENGINE_CPU = 1;
const _STREAM_DEFAULT = 1;
const _Q_WEIGHTS_MD = 131;
const _Q_DIFF_WEIGHTS_MD = 132;
const _ARG_SRC = 1;
const _ARG_DST = 17;
const _ARG_WEIGHTS = 33;
const _ARG_BIAS = 41;
const _ARG_DIFF_SRC = 129;
const _ARG_DIFF_DST = 145;
const _ARG_DIFF_WEIGHTS = 161;
/** Products below this many flops run on one thread (measured: 8 MFLOP is about 0.2 ms). */
const _SMALL_GEMM_FLOPS = 8e6;
const _MEMORY_ALLOCATE = Deno.UnsafePointer.create(0xffffffffffffffffn);

function _check(status: number, what: string): void {
  if (status !== 0) throw new Error(`oneDNN: ${what} failed (status ${status})`);
}

function _dims(values: readonly number[]): BigInt64Array {
  const d = new BigInt64Array(12);
  values.forEach((v, i) => d[i] = BigInt(v));
  return d;
}

/** A user-side memory: a descriptor in a fixed layout and a memory object pointed per call. */
interface _UserMemory {
  md: Uint8Array;
  mem: Deno.PointerValue;
}

/** A primitive with its arguments; `set` points the user memories before `run`. */
interface _Step {
  prim: Deno.PointerValue;
  args: Uint8Array;
}

interface _ConvPlan {
  src: _UserMemory;
  wUser: _UserMemory;
  dst: _UserMemory;
  bias: _UserMemory | null;
  /** User weights → primitive layout, or the reverse for the weight gradient. */
  reorder: _Step | null;
  conv: _Step;
}

/**
 * Opens oneDNN 2.x. Throws an `Error` naming every library tried and why it failed.
 *
 * @param options Libraries to try, flush-to-zero.
 * @returns The binding.
 *
 * @example
 * ```ts
 * import { openDnnl } from "./dnnl.ts";
 * import assert from "node:assert/strict";
 * const dnnl = openDnnl();
 * // A 1x3 image, one channel, a 1x2 filter [1, 10]: outputs 1 + 20 and 2 + 30.
 * const g = { n: 1, h: 1, w: 3, cin: 1, kh: 1, kw: 2, cout: 1, sh: 1, sw: 1, dh: 1, dw: 1,
 *   padTop: 0, padLeft: 0, ho: 1, wo: 2 };
 * const region = (a: Float32Array) => ({ buffer: a.buffer, byteOffset: a.byteOffset });
 * const y = new Float32Array(2);
 * dnnl.convForward(g, region(new Float32Array([1, 2, 3])), region(new Float32Array([1, 10])),
 *   null, region(y));
 * assert.deepEqual(Array.from(y), [21, 32]);
 * dnnl.close();
 * ```
 */
export function openDnnl(options: OpenDnnlOptions = {}): Dnnl {
  const libraries = options.libraries ?? DEFAULT_DNNL_LIBRARIES;
  const fenv = (options.flushSubnormals ?? true) ? openFenv() : null;
  const failures: string[] = [];
  for (const name of libraries) {
    let lib: _Lib;
    try {
      lib = Deno.dlopen(name, _SYMBOLS);
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        throw new Error(`FFI not permitted (run with --allow-ffi)`);
      }
      failures.push(name);
      continue;
    }
    const v = new Deno.UnsafePointerView(lib.symbols.dnnl_version()!);
    const version = `${v.getInt32(0)}.${v.getInt32(4)}.${v.getInt32(8)}`;
    if (v.getInt32(0) !== 2) {
      lib.close();
      failures.push(`${name} is oneDNN ${version}, this binding speaks 2.x`);
      continue;
    }
    return _wrap(lib, `${name} ${version}`, fenv, options.threads ?? 0);
  }
  throw new Error(`no oneDNN 2.x library found (tried ${failures.join(", ")})`);
}

function _wrap(lib: _Lib, library: string, fenv: Fenv | null, threads: number): Dnnl {
  const s = lib.symbols;
  const out = new BigUint64Array(1);
  const outPtr = (): Deno.PointerValue => Deno.UnsafePointer.create(out[0]!);
  _check(s.dnnl_engine_create(out, _ENGINE_CPU, 0n), "engine");
  const engine = outPtr();
  _check(s.dnnl_stream_create(out, engine, _STREAM_DEFAULT), "stream");
  const stream = outPtr();
  const prims: Deno.PointerValue[] = [];
  let omp: Deno.DynamicLibrary<typeof _OMP> | null = null;
  try {
    omp = Deno.dlopen("libgomp.so.1", _OMP);
  } catch {
    // Another threading runtime: the thread count is the library's own.
  }
  if (threads > 0) omp?.symbols.omp_set_num_threads(threads);
  const N = "N".charCodeAt(0), T = "T".charCodeAt(0);

  const md = (dims: readonly number[], tag: number): Uint8Array => {
    const m = new Uint8Array(_MD_BYTES);
    _check(
      s.dnnl_memory_desc_init_by_tag(m, dims.length, _dims(dims), _F32, tag),
      "memory descriptor",
    );
    return m;
  };
  const userMemory = (dims: readonly number[], tag: number): _UserMemory => {
    const m = md(dims, tag);
    // A placeholder handle; the real one is set before each run.
    _check(s.dnnl_memory_create(out, m, engine, null), "memory");
    return { md: m, mem: outPtr() };
  };
  const ownedMemory = (mdPtr: Deno.PointerValue): Deno.PointerValue => {
    _check(s.dnnl_memory_create_from_md_ptr(out, mdPtr, engine, _MEMORY_ALLOCATE), "memory");
    return outPtr();
  };
  const primitive = (pd: Deno.PointerValue, args: [number, Deno.PointerValue][]): _Step => {
    _check(s.dnnl_primitive_create(out, pd), "primitive");
    const prim = outPtr();
    prims.push(prim);
    const a = new Uint8Array(16 * args.length);
    const view = new DataView(a.buffer);
    args.forEach(([arg, mem], i) => {
      view.setInt32(16 * i, arg, true);
      view.setBigUint64(16 * i + 8, BigInt(Deno.UnsafePointer.value(mem)), true);
    });
    return { prim, args: a };
  };
  const reorderStep = (
    from: Uint8Array | Deno.PointerValue,
    fromMem: Deno.PointerValue,
    to: Uint8Array | Deno.PointerValue,
    toMem: Deno.PointerValue,
  ): _Step => {
    const fromMd = from instanceof Uint8Array ? from : _copyMd(from);
    const toMd = to instanceof Uint8Array ? to : _copyMd(to);
    _check(
      s.dnnl_reorder_primitive_desc_create(out, fromMd, engine, toMd, engine, null),
      "reorder",
    );
    const pd = outPtr();
    const step = primitive(pd, [[_ARG_SRC, fromMem], [_ARG_DST, toMem]]);
    s.dnnl_primitive_desc_destroy(pd);
    return step;
  };
  const run = (step: _Step): void => {
    _check(
      s.dnnl_primitive_execute(step.prim, stream, step.args.length / 16, step.args),
      "execute",
    );
  };
  /** Runs the steps in order and waits, with FTZ/DAZ set on this thread (and new threads). */
  const runAll = (...steps: (_Step | null)[]): void => {
    fenv?.enter();
    try {
      for (const step of steps) if (step !== null) run(step);
      s.dnnl_stream_wait(stream);
    } finally {
      fenv?.leave();
    }
  };
  const point = (m: _UserMemory, r: Region): void => {
    const base = Deno.UnsafePointer.of(r.buffer as ArrayBuffer);
    _check(
      s.dnnl_memory_set_data_handle(m.mem, Deno.UnsafePointer.offset(base!, r.byteOffset)),
      "data handle",
    );
  };

  const geometry = (g: ConvGeometry) => {
    const strides = _dims([g.sh, g.sw]);
    const dilates = _dims([g.dh - 1, g.dw - 1]);
    const padL = _dims([g.padTop, g.padLeft]);
    const padR = _dims([
      (g.ho - 1) * g.sh + (g.kh - 1) * g.dh + 1 - g.h - g.padTop,
      (g.wo - 1) * g.sw + (g.kw - 1) * g.dw + 1 - g.w - g.padLeft,
    ]);
    return {
      strides,
      dilates,
      padL,
      padR,
      src: [g.n, g.cin, g.h, g.w],
      dst: [g.n, g.cout, g.ho, g.wo],
      wts: [g.cout, g.cin, g.kh, g.kw],
    };
  };
  const key = (g: ConvGeometry): string =>
    `${g.n},${g.h},${g.w},${g.cin},${g.kh},${g.kw},${g.cout},${g.sh},${g.sw},${g.dh},${g.dw},` +
    `${g.padTop},${g.padLeft},${g.ho},${g.wo}`;

  const createPd = (op: Uint8Array, hint: Deno.PointerValue): Deno.PointerValue => {
    _check(s.dnnl_primitive_desc_create(out, op, null, engine, hint), "primitive descriptor");
    return outPtr();
  };
  /**
   * The operation descriptor of one direction: source, weights (layout left to oneDNN) and
   * destination in NHWC, the bias only for the forward pass.
   */
  const convDesc = (kind: "fwd" | "bwd_data" | "bwd_w", g: ConvGeometry, withBias: boolean) => {
    const d = geometry(g);
    const op = new Uint8Array(_OP_DESC_BYTES);
    const src = md(d.src, _TAG_NHWC), wts = md(d.wts, _TAG_ANY), dst = md(d.dst, _TAG_NHWC);
    const tail = [d.strides, d.dilates, d.padL, d.padR] as const;
    const status = kind === "fwd"
      ? s.dnnl_dilated_convolution_forward_desc_init(
        op,
        _FORWARD_TRAINING,
        _CONV_DIRECT,
        src,
        wts,
        withBias ? md([g.cout], _TAG_A) : null,
        dst,
        ...tail,
      )
      : kind === "bwd_data"
      ? s.dnnl_dilated_convolution_backward_data_desc_init(op, _CONV_DIRECT, src, wts, dst, ...tail)
      : s.dnnl_dilated_convolution_backward_weights_desc_init(
        op,
        _CONV_DIRECT,
        src,
        wts,
        null,
        dst,
        ...tail,
      );
    _check(status, `convolution ${kind} descriptor`);
    return op;
  };
  const forwardPds = new Map<string, Deno.PointerValue>();
  const forwardPd = (g: ConvGeometry, withBias: boolean): Deno.PointerValue => {
    const k = `${key(g)},${withBias}`;
    let pd = forwardPds.get(k);
    if (pd === undefined) forwardPds.set(k, pd = createPd(convDesc("fwd", g, withBias), null));
    return pd;
  };
  /** Weights memory in the layout `pd` wants, and the reorder into or out of it. */
  const weightsFor = (
    pd: Deno.PointerValue,
    query: number,
    wUser: _UserMemory,
    direction: "in" | "out",
  ): { reorder: _Step | null; wMem: Deno.PointerValue } => {
    const want = s.dnnl_primitive_desc_query_md(pd, query, 0);
    if (s.dnnl_memory_desc_equal(wUser.md, want) === 1) return { reorder: null, wMem: wUser.mem };
    const wPrim = ownedMemory(want);
    const reorder = direction === "in"
      ? reorderStep(wUser.md, wUser.mem, want, wPrim)
      : reorderStep(want, wPrim, wUser.md, wUser.mem);
    return { reorder, wMem: wPrim };
  };

  const plans = new Map<string, _ConvPlan>();
  const plan = (kind: "fwd" | "fwdb" | "bwd_data" | "bwd_w", g: ConvGeometry): _ConvPlan => {
    const k = `${kind}:${key(g)}`;
    const hit = plans.get(k);
    if (hit !== undefined) return hit;
    const d = geometry(g);
    const src = userMemory(d.src, _TAG_NHWC);
    const dst = userMemory(d.dst, _TAG_NHWC);
    const wUser = userMemory(d.wts, _TAG_HWIO);
    const bias = kind === "fwdb" ? userMemory([g.cout], _TAG_A) : null;
    const fwd = forwardPd(g, bias !== null);
    let p: _ConvPlan;
    if (kind === "fwd" || kind === "fwdb") {
      const w = weightsFor(fwd, _Q_WEIGHTS_MD, wUser, "in");
      const args: [number, Deno.PointerValue][] = [
        [_ARG_SRC, src.mem],
        [_ARG_WEIGHTS, w.wMem],
        [_ARG_DST, dst.mem],
      ];
      if (bias !== null) args.push([_ARG_BIAS, bias.mem]);
      p = { src, wUser, dst, bias, reorder: w.reorder, conv: primitive(fwd, args) };
    } else {
      const pd = createPd(convDesc(kind, g, false), fwd);
      const w = kind === "bwd_data"
        ? weightsFor(pd, _Q_WEIGHTS_MD, wUser, "in")
        : weightsFor(pd, _Q_DIFF_WEIGHTS_MD, wUser, "out");
      const conv = primitive(
        pd,
        kind === "bwd_data"
          ? [[_ARG_DIFF_DST, dst.mem], [_ARG_WEIGHTS, w.wMem], [_ARG_DIFF_SRC, src.mem]]
          : [[_ARG_SRC, src.mem], [_ARG_DIFF_DST, dst.mem], [_ARG_DIFF_WEIGHTS, w.wMem]],
      );
      s.dnnl_primitive_desc_destroy(pd);
      p = { src, wUser, dst, bias: null, reorder: w.reorder, conv };
    }
    plans.set(k, p);
    return p;
  };

  return {
    library,
    get threads() {
      return omp?.symbols.omp_get_max_threads() ?? 0;
    },
    withThreads(max, fn) {
      if (omp === null) return fn();
      const prev = omp.symbols.omp_get_max_threads();
      if (prev <= max) return fn();
      omp.symbols.omp_set_num_threads(max);
      try {
        return fn();
      } finally {
        omp.symbols.omp_set_num_threads(prev);
      }
    },
    sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
      if (m === 0 || n === 0) return;
      // A small product runs on this thread alone: waking the pool costs more than it brings,
      // and on a busy machine a preempted worker can hold a parallel region for a time slice.
      const small = omp !== null && 2 * m * n * k < _SMALL_GEMM_FLOPS;
      const prev = small ? omp!.symbols.omp_get_max_threads() : 0;
      if (small && prev > 1) omp!.symbols.omp_set_num_threads(1);
      fenv?.enter();
      const status = s.dnnl_sgemm(
        transA ? T : N,
        transB ? T : N,
        BigInt(m),
        BigInt(n),
        BigInt(k),
        alpha,
        a,
        BigInt(lda),
        b,
        BigInt(ldb),
        beta,
        c,
        BigInt(ldc),
      );
      fenv?.leave();
      if (small && prev > 1) omp!.symbols.omp_set_num_threads(prev);
      _check(status, "sgemm");
    },
    convForward(g, x, w, b, y) {
      const p = plan(b === null ? "fwd" : "fwdb", g);
      point(p.src, x);
      point(p.wUser, w);
      point(p.dst, y);
      if (b !== null) point(p.bias!, b);
      runAll(p.reorder, p.conv);
    },
    convBackwardData(g, dy, w, dx) {
      const p = plan("bwd_data", g);
      point(p.dst, dy);
      point(p.wUser, w);
      point(p.src, dx);
      runAll(p.reorder, p.conv);
    },
    convBackwardWeights(g, x, dy, dw) {
      const p = plan("bwd_w", g);
      point(p.src, x);
      point(p.dst, dy);
      point(p.wUser, dw);
      runAll(p.conv, p.reorder);
    },
    close() {
      for (const prim of prims) s.dnnl_primitive_destroy(prim);
      prims.length = 0;
      plans.clear();
      // The library stays loaded: OpenMP's pool threads outlive any call, and unloading the code
      // they run (libgomp goes with the last handle) crashes the process.
    },
  };
}

/** A copy of a memory descriptor that oneDNN owns (queried from a primitive descriptor). */
function _copyMd(ptr: Deno.PointerValue): Uint8Array {
  const m = new Uint8Array(_MD_BYTES);
  new Deno.UnsafePointerView(ptr!).copyInto(m);
  return m;
}
