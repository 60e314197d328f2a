/**
 * tfjs kernels backed by a native BLAS, for the `wasm` and `cpu` backends.
 *
 * Each kernel reads its inputs in place (on the wasm heap, or the cpu backend's typed arrays),
 * allocates its output through the backend, and calls {@linkcode Blas.sgemm}. Cases it does not
 * handle (other dtypes, `NCHW`, unsupported fused activations, odd broadcasts) go to the kernel
 * it replaced.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import type { Blas } from "./blas.ts";
import type { Dnnl, Region } from "./dnnl.ts";
import {
  conv2dBackpropFilter,
  conv2dBackpropInput,
  conv2dForward,
  type ConvGeometry,
  reduceSum,
  Scratch,
} from "./conv.ts";

/** The backends the native kernels know how to read and write. */
export type NativeBackendName = "wasm" | "cpu";

/** The kernels registered by {@linkcode registerNativeKernels}. */
export const NATIVE_KERNELS = [
  "BatchMatMul",
  "_FusedMatMul",
  "Conv2D",
  "FusedConv2D",
  "Conv2DBackpropInput",
  "Conv2DBackpropFilter",
  "Sum",
  "Mean",
  "SplitV",
] as const;

/** Reads and allocates float32 tensors of one backend. */
interface Store {
  /** A float32 view of the tensor's data, valid until the next `alloc` (the heap may grow). */
  view(t: tf.TensorInfo): Float32Array;
  /** A new float32 output tensor (contents unspecified). */
  alloc(shape: number[]): tf.TensorInfo;
  /** Where the tensor's data lies, for native code (valid until the next `alloc`). */
  region(t: tf.TensorInfo): Region;
}

interface WasmBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

interface CpuBackend {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array): tf.TensorInfo;
}

function _size(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

function _store(name: NativeBackendName, backend: unknown): Store {
  switch (name) {
    case "wasm": {
      const be = backend as WasmBackend;
      return {
        view(t) {
          const off = be.dataIdMap.get(t.dataId).memoryOffset;
          return new Float32Array(be.wasm.HEAPU8.buffer, off, _size(t.shape));
        },
        alloc(shape) {
          return be.makeOutput(shape, "float32");
        },
        region(t) {
          return {
            buffer: be.wasm.HEAPU8.buffer,
            byteOffset: be.dataIdMap.get(t.dataId).memoryOffset,
          };
        },
      };
    }
    case "cpu": {
      const be = backend as CpuBackend;
      return {
        view(t) {
          const v = be.data.get(t.dataId).values;
          if (!(v instanceof Float32Array)) {
            throw new TypeError(`native kernel: expected Float32Array data, got ${typeof v}`);
          }
          return v;
        },
        alloc(shape) {
          return be.makeTensorInfo(shape, "float32", new Float32Array(_size(shape)));
        },
        region(t) {
          const v = this.view(t);
          return { buffer: v.buffer, byteOffset: v.byteOffset };
        },
      };
    }
    default: {
      const never: never = name;
      throw new RangeError(`native kernel: unknown backend '${never}'`);
    }
  }
}

type Args = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
type Impl = (args: Args, store: Store) => tf.TensorInfo | tf.TensorInfo[] | null;

function _allF32(...ts: (tf.TensorInfo | undefined)[]): boolean {
  return ts.every((t) => t === undefined || t.dtype === "float32");
}

function _geometry(info: tf.backend_util.Conv2DInfo): ConvGeometry | null {
  if (info.dataFormat !== "channelsLast") return null;
  return {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    cin: info.inChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    cout: info.outChannels,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    ho: info.outHeight,
    wo: info.outWidth,
  };
}

type ConvAttrs = {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dilations?: number | [number, number];
  dimRoundingMode?: "floor" | "round" | "ceil";
};

function _convInfo(
  xShape: number[],
  filterShape: number[],
  a: ConvAttrs,
): ConvGeometry | null {
  if (a.dataFormat === "NCHW") return null;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    false,
    "channelsLast",
  );
  return _geometry(info);
}

/** Adds a per-last-dimension bias (size `c` or 1) and applies relu when asked. */
function _epilogue(
  out: Float32Array,
  c: number,
  bias: Float32Array | null,
  relu: boolean,
): void {
  if (bias !== null) {
    if (bias.length === 1) {
      const b = bias[0]!;
      for (let i = 0; i < out.length; i++) out[i]! += b;
    } else {
      for (let i = 0; i < out.length; i += c) {
        for (let j = 0; j < c; j++) out[i + j]! += bias[j]!;
      }
    }
  }
  if (relu) {
    for (let i = 0; i < out.length; i++) if (!(out[i]! > 0)) out[i] = 0;
  }
}

/** Which fused epilogues are handled natively; others fall back. */
function _fusedOk(
  attrs: tf.NamedAttrMap,
  bias: tf.TensorInfo | undefined,
  c: number,
): { relu: boolean } | null {
  const act = (attrs.activation as string | undefined) ?? "linear";
  if (act !== "linear" && act !== "relu") return null;
  if (bias !== undefined) {
    const s = _size(bias.shape);
    if (s !== c && s !== 1) return null;
    if (s === c && bias.shape.length > 1 && bias.shape[bias.shape.length - 1] !== c) return null;
  }
  return { relu: act === "relu" };
}

function _makeImpls(
  blas: Blas,
  dnnl: Dnnl | null,
  scratch: Scratch,
): Record<(typeof NATIVE_KERNELS)[number], Impl> {
  const conv = (args: Args, s: Store, fused: boolean): tf.TensorInfo | null => {
    const { x, filter, bias, preluActivationWeights } = args.inputs;
    if (x === undefined || filter === undefined || preluActivationWeights !== undefined) {
      return null;
    }
    if (!_allF32(x, filter, bias)) return null;
    const g = _convInfo(x.shape, filter.shape, args.attrs as unknown as ConvAttrs);
    if (g === null) return null;
    const ep = fused ? _fusedOk(args.attrs ?? {}, bias, g.cout) : { relu: false };
    if (ep === null) return null;
    const out = s.alloc([g.n, g.ho, g.wo, g.cout]);
    if (dnnl !== null) {
      // oneDNN adds a per-channel bias itself; a scalar bias and relu go to the epilogue.
      const inConv = fused && bias !== undefined && _size(bias.shape) === g.cout && g.cout > 1;
      dnnl.convForward(
        g,
        s.region(x),
        s.region(filter),
        inConv ? s.region(bias) : null,
        s.region(out),
      );
      if (fused) {
        const rest = bias === undefined || inConv ? null : s.view(bias);
        if (rest !== null || ep.relu) _epilogue(s.view(out), g.cout, rest, ep.relu);
      }
      return out;
    }
    const o = s.view(out);
    conv2dForward(blas, scratch, s.view(x), s.view(filter), o, g);
    if (fused) _epilogue(o, g.cout, bias === undefined ? null : s.view(bias), ep.relu);
    return out;
  };
  const matmul = (args: Args, s: Store, fused: boolean): tf.TensorInfo | null => {
    const { a, b, bias, preluActivationWeights } = args.inputs;
    if (a === undefined || b === undefined || preluActivationWeights !== undefined) return null;
    if (!_allF32(a, b, bias)) return null;
    const tA = Boolean(args.attrs?.transposeA);
    const tB = Boolean(args.attrs?.transposeB);
    const ra = a.shape.length;
    const rb = b.shape.length;
    if (ra < 2 || rb < 2) return null;
    const m = tA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
    const k = tA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
    const kb = tB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
    const n = tB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
    if (k !== kb) return null;
    const batchA = _size(a.shape.slice(0, -2));
    const batchB = _size(b.shape.slice(0, -2));
    if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
    let outer: number[];
    try {
      outer = tf.backend_util.assertAndGetBroadcastShape(
        a.shape.slice(0, -2),
        b.shape.slice(0, -2),
      );
    } catch {
      return null;
    }
    const batch = Math.max(batchA, batchB);
    if (_size(outer) !== batch) return null;
    const ep = fused ? _fusedOk(args.attrs ?? {}, bias, n) : { relu: false };
    if (ep === null) return null;
    const out = s.alloc([...outer, m, n]);
    const o = s.view(out);
    const av = s.view(a);
    const bv = s.view(b);
    const lda = tA ? m : k;
    const ldb = tB ? k : n;
    if (batchB === 1 && !tA) {
      blas.sgemm(false, tB, batch * m, n, k, 1, av, lda, bv, ldb, 0, o, n);
    } else {
      const sa = batchA === 1 ? 0 : m * k;
      const sb = batchB === 1 ? 0 : k * n;
      for (let i = 0; i < batch; i++) {
        blas.sgemm(
          tA,
          tB,
          m,
          n,
          k,
          1,
          av.subarray(i * sa),
          lda,
          bv.subarray(i * sb),
          ldb,
          0,
          o.subarray(i * m * n),
          n,
        );
      }
    }
    if (fused) _epilogue(o, n, bias === undefined ? null : s.view(bias), ep.relu);
    return out;
  };
  const reduce = (args: Args, s: Store, mean: boolean): tf.TensorInfo | null => {
    const { x } = args.inputs;
    if (x === undefined || x.dtype !== "float32") return null;
    const axes = tf.util.parseAxisParam(args.attrs?.axis as number | number[], x.shape);
    const keep = Boolean(args.attrs?.keepDims);
    const outShape: number[] = [];
    let count = 1;
    x.shape.forEach((d, i) => {
      if (!axes.includes(i)) outShape.push(d);
      else {
        count *= d;
        if (keep) outShape.push(1);
      }
    });
    const out = s.alloc(outShape);
    const o = s.view(out);
    reduceSum(s.view(x), x.shape, axes, o, blas);
    if (mean && count !== 1) {
      const k = 1 / count;
      for (let i = 0; i < o.length; i++) o[i]! *= k;
    }
    return out;
  };
  const splitV = (args: Args, s: Store): tf.TensorInfo[] | null => {
    const { x } = args.inputs;
    if (x === undefined || x.dtype !== "float32") return null;
    const axis = tf.util.parseAxisParam(args.attrs?.axis as number, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(
      x as unknown as tf.Tensor,
      args.attrs?.numOrSizeSplits as number | number[],
      axis,
    );
    const outer = _size(x.shape.slice(0, axis));
    const inner = _size(x.shape.slice(axis + 1));
    const full = x.shape[axis]! * inner;
    const outs = sizes.map((n) => {
      const shape = [...x.shape];
      shape[axis] = n;
      return s.alloc(shape);
    });
    const xv = s.view(x);
    let offset = 0;
    outs.forEach((out, j) => {
      const len = sizes[j]! * inner;
      const o = s.view(out);
      for (let i = 0; i < outer; i++) {
        const src = i * full + offset;
        if (len >= 256) o.set(xv.subarray(src, src + len), i * len);
        else for (let k = 0; k < len; k++) o[i * len + k] = xv[src + k]!;
      }
      offset += len;
    });
    return outs;
  };
  return {
    SplitV: splitV,
    Sum: (args, s) => reduce(args, s, false),
    Mean: (args, s) => reduce(args, s, true),
    BatchMatMul: (args, s) => matmul(args, s, false),
    _FusedMatMul: (args, s) => matmul(args, s, true),
    Conv2D: (args, s) => conv(args, s, false),
    FusedConv2D: (args, s) => conv(args, s, true),
    Conv2DBackpropInput(args, s) {
      const { dy, filter } = args.inputs;
      if (dy === undefined || filter === undefined || !_allF32(dy, filter)) return null;
      const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
      const g = _convInfo(attrs.inputShape, filter.shape, { ...attrs, dilations: 1 });
      if (g === null) return null;
      const dx = s.alloc([g.n, g.h, g.w, g.cin]);
      if (dnnl !== null) {
        dnnl.convBackwardData(g, s.region(dy), s.region(filter), s.region(dx));
        return dx;
      }
      conv2dBackpropInput(blas, scratch, s.view(dy), s.view(filter), s.view(dx), g);
      return dx;
    },
    Conv2DBackpropFilter(args, s) {
      const { x, dy } = args.inputs;
      if (x === undefined || dy === undefined || !_allF32(x, dy)) return null;
      const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
      const g = _convInfo(x.shape, attrs.filterShape, { ...attrs, dilations: 1 });
      if (g === null) return null;
      const df = s.alloc([g.kh, g.kw, g.cin, g.cout]);
      if (dnnl !== null && g.n * g.ho * g.wo > 0) {
        dnnl.convBackwardWeights(g, s.region(x), s.region(dy), s.region(df), null);
        return df;
      }
      conv2dBackpropFilter(blas, scratch, s.view(x), s.view(dy), s.view(df), g);
      return df;
    },
  };
}

/** The kernels replaced on one backend, kept so that they can be restored. */
export interface Registration {
  /** The backend the kernels were registered for. */
  backendName: NativeBackendName;
  /** Restores the replaced kernels (and removes those that had no predecessor). */
  restore(): void;
}

/**
 * Replaces {@linkcode NATIVE_KERNELS} of `backendName` with BLAS-backed ones.
 *
 * Call it after the backend's own kernels are registered (kernels registered later for the
 * same names replace these).
 *
 * @param backendName `"wasm"` or `"cpu"`.
 * @param blas The BLAS binding the kernels call.
 * @param dnnl oneDNN, for the convolutions; null runs them as im2col + sgemm.
 * @returns A handle whose `restore()` puts the previous kernels back.
 *
 * @example
 * ```ts
 * import { tf } from "../../tf.ts";
 * import { openBlas } from "./blas.ts";
 * import { registerNativeKernels } from "./kernels.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const reg = registerNativeKernels("cpu", openBlas({ threads: 1 }));
 * const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
 * assert.deepEqual(Array.from(y.dataSync()), [11]);
 * reg.restore();
 * ```
 */
export function registerNativeKernels(
  backendName: NativeBackendName,
  blas: Blas,
  dnnl: Dnnl | null = null,
): Registration {
  const impls = _makeImpls(blas, dnnl, new Scratch());
  const previous = new Map<string, tf.KernelConfig | undefined>();
  for (const name of NATIVE_KERNELS) {
    const prev = tf.getKernel(name, backendName);
    previous.set(name, prev);
    const impl = impls[name];
    const kernelFunc = (args: Args): tf.TensorInfo | tf.TensorInfo[] => {
      const out = impl(args, _store(backendName, args.backend));
      if (out !== null) return out;
      if (prev === undefined) {
        throw new TypeError(`${name}: case not supported by the native kernel and no fallback`);
      }
      return prev.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
    };
    if (prev !== undefined) tf.unregisterKernel(name, backendName);
    tf.registerKernel({
      kernelName: name,
      backendName,
      kernelFunc: kernelFunc as tf.KernelFunc,
      setupFunc: prev?.setupFunc,
      disposeFunc: prev?.disposeFunc,
    });
  }
  return {
    backendName,
    restore() {
      for (const [name, prev] of previous) {
        if (tf.getKernel(name, backendName) !== undefined) tf.unregisterKernel(name, backendName);
        if (prev !== undefined) tf.registerKernel(prev);
      }
    },
  };
}
