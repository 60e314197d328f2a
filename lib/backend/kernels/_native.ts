/**
 * What the native kernels (`*_native.ts`) share: convolution geometry from tfjs's attributes,
 * the fused epilogues (bias, relu), and the product, convolution and reduction bodies that two
 * kernels each run (`BatchMatMul` and `_FusedMatMul`, `Conv2D` and `FusedConv2D`, `Sum` and
 * `Mean`). Each reads its inputs in place (on the wasm heap, or the cpu backend's typed arrays),
 * allocates its output through the backend and calls oneDNN or the BLAS; cases it does not
 * handle (other dtypes, `NCHW`, unsupported fused activations, odd broadcasts) return null, so
 * that the kernel registered before runs.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import { conv2dForward, type ConvGeometry, reduceSum } from "../native/conv.ts";
import type { KernelArgs, NativeLibs } from "./_spec.ts";
import type { MemoryStore } from "./_store.ts";

/** The attributes of tfjs's convolution kernels that the native kernels read. */
export type ConvAttrs = {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dilations?: number | [number, number];
  dimRoundingMode?: "floor" | "round" | "ceil";
};

/** The number of elements of a shape. */
export function size(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/** True when every tensor given is float32. */
export function allF32(...ts: (tf.TensorInfo | undefined)[]): boolean {
  return ts.every((t) => t === undefined || t.dtype === "float32");
}

/** The geometry the native convolutions take, or null for `NCHW`. */
export function geometry(info: tf.backend_util.Conv2DInfo): ConvGeometry | null {
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

/** The geometry of an NHWC convolution of the given shapes, or null for `NCHW`. */
export function convGeometry(
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
  return geometry(info);
}

/** Adds a per-last-dimension bias (size `c` or 1) and applies relu when asked. */
export function epilogue(
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
export function fusedOk(
  attrs: tf.NamedAttrMap,
  bias: tf.TensorInfo | undefined,
  c: number,
): { relu: boolean } | null {
  const act = (attrs.activation as string | undefined) ?? "linear";
  if (act !== "linear" && act !== "relu") return null;
  if (bias !== undefined) {
    const s = size(bias.shape);
    if (s !== c && s !== 1) return null;
    if (s === c && bias.shape.length > 1 && bias.shape[bias.shape.length - 1] !== c) return null;
  }
  return { relu: act === "relu" };
}

/** `Conv2D` (`fused` false) and `FusedConv2D` (bias, relu) in oneDNN, or im2col + sgemm. */
export function nativeConv(
  args: KernelArgs,
  s: MemoryStore,
  libs: NativeLibs,
  fused: boolean,
): tf.TensorInfo | null {
  const { blas, dnnl, scratch } = libs;
  const { x, filter, bias, preluActivationWeights } = args.inputs;
  if (x === undefined || filter === undefined || preluActivationWeights !== undefined) {
    return null;
  }
  if (!allF32(x, filter, bias)) return null;
  const g = convGeometry(x.shape, filter.shape, args.attrs as unknown as ConvAttrs);
  if (g === null) return null;
  const ep = fused ? fusedOk(args.attrs ?? {}, bias, g.cout) : { relu: false };
  if (ep === null) return null;
  const out = s.alloc([g.n, g.ho, g.wo, g.cout]);
  if (dnnl !== null) {
    // oneDNN adds a per-channel bias itself; a scalar bias and relu go to the epilogue.
    const inConv = fused && bias !== undefined && size(bias.shape) === g.cout && g.cout > 1;
    dnnl.convForward(
      g,
      s.region(x),
      s.region(filter),
      inConv ? s.region(bias) : null,
      s.region(out),
    );
    if (fused) {
      const rest = bias === undefined || inConv ? null : s.f32(bias);
      if (rest !== null || ep.relu) epilogue(s.f32(out), g.cout, rest, ep.relu);
    }
    return out;
  }
  const o = s.f32(out);
  conv2dForward(blas, scratch, s.f32(x), s.f32(filter), o, g);
  if (fused) epilogue(o, g.cout, bias === undefined ? null : s.f32(bias), ep.relu);
  return out;
}
/** `BatchMatMul` (`fused` false) and `_FusedMatMul` (bias, relu) as sgemm calls. */
export function nativeMatMul(
  args: KernelArgs,
  s: MemoryStore,
  libs: NativeLibs,
  fused: boolean,
): tf.TensorInfo | null {
  const { blas } = libs;
  const { a, b, bias, preluActivationWeights } = args.inputs;
  if (a === undefined || b === undefined || preluActivationWeights !== undefined) return null;
  if (!allF32(a, b, bias)) return null;
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
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
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
  if (size(outer) !== batch) return null;
  const ep = fused ? fusedOk(args.attrs ?? {}, bias, n) : { relu: false };
  if (ep === null) return null;
  const out = s.alloc([...outer, m, n]);
  const o = s.f32(out);
  const av = s.f32(a);
  const bv = s.f32(b);
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
  if (fused) epilogue(o, n, bias === undefined ? null : s.f32(bias), ep.relu);
  return out;
}

/** `Sum` (`mean` false) and `Mean` over any axes. */
export function nativeReduce(
  args: KernelArgs,
  s: MemoryStore,
  libs: NativeLibs,
  mean: boolean,
): tf.TensorInfo | null {
  const { blas } = libs;
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
  const o = s.f32(out);
  reduceSum(s.f32(x), x.shape, axes, o, blas);
  if (mean && count !== 1) {
    const k = 1 / count;
    for (let i = 0; i < o.length; i++) o[i]! *= k;
  }
  return out;
}
