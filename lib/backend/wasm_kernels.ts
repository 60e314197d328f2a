/**
 * Kernels that `@tensorflow/tfjs-backend-wasm` lacks but training needs.
 *
 * The wasm backend ships forward kernels and a few gradients, but not `Conv2DBackpropFilter`
 * (the weight gradient of every convolution) nor `UnsortedSegmentSum` (the gradient of
 * `tf.gather`, used by embeddings). Both are added here, built from the backend's own kernels
 * (pad, strided slice, concat, batched matmul) or, where no such kernel helps, a plain loop over
 * the wasm heap.
 *
 * @module
 */
import { tf } from "../tf.ts";

/** The part of tfjs-backend-wasm's `BackendWasm` that these kernels use. */
export interface WasmBackendLike {
  /** Tensor bookkeeping: heap offset and wasm-side id of every dataId. */
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } | undefined };
  /** Allocates an output tensor on the wasm heap. */
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /** A typed-array view of a tensor's bytes on the wasm heap (invalid after the heap grows). */
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  /** Releases a tensor made by a kernel. */
  disposeData(dataId: object, force?: boolean): boolean;
}

type KernelArgs = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
};

/** The names of the kernels this module adds to the wasm backend. */
export const WASM_TRAINING_KERNELS = [
  "Conv2DBackpropFilter",
  "Conv2DBackpropInput",
  "BatchMatMul",
  "UnsortedSegmentSum",
] as const;

const BLOCK = 256;
let _im2colLimit = 16 * 1024 * 1024;

/** Test hook: sets the im2col chunk size in floats and returns the previous one. */
export function _setIm2colLimit(floats: number): number {
  const prev = _im2colLimit;
  _im2colLimit = floats;
  return prev;
}

/** The attributes of tfjs's two convolution gradient kernels that these kernels read. */
type ConvGradAttrs = {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
  /** Given to `Conv2DBackpropFilter` only. */
  filterShape: [number, number, number, number];
  /** Given to `Conv2DBackpropInput` only. */
  inputShape: [number, number, number, number];
};

/** The geometry of an NHWC convolution with dilation 1 of the given shapes. */
function _convInfo(
  inShape: number[],
  filterShape: number[],
  attrs: ConvGradAttrs,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
}

/** Calls another kernel of the wasm backend directly (no engine, no tape). */
function _run(
  name: string,
  backend: WasmBackendLike,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
): tf.TensorInfo {
  const k = tf.getKernel(name, "wasm");
  if (k === undefined) throw new Error(`wasm backend has no kernel '${name}'`);
  const out = k.kernelFunc({ inputs, backend: backend as unknown as tf.KernelBackend, attrs });
  if (Array.isArray(out)) throw new Error(`kernel '${name}' returned several outputs`);
  return out as tf.TensorInfo;
}

function _input(inputs: tf.NamedTensorInfoMap, name: string, kernel: string): tf.TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new TypeError(`${kernel}: expected input '${name}', got none`);
  return t;
}

/**
 * `Conv2DBackpropFilter` for the wasm backend (NHWC, dilation 1).
 *
 * dW[fh, fw, ci, co] = Σ_{b, oh, ow} x[b, oh·sh − pt + fh, ow·sw − pl + fw, ci] · dy[b, oh, ow, co].
 * For a chunk of images at a time, a transposed im2col matrix colᵀ[FH·FW·Cin, N] is written on
 * the wasm heap by a plain loop, and the backend's matmul computes colᵀ·dy[N, Cout], which is
 * already dW's layout; the chunks' products are summed. (The wasm matmul is fast for plain
 * operands but several times slower with transposeA, and it packs its second operand, so the
 * small dy goes second.) Chunks keep colᵀ under about 64 MB.
 */
export function conv2DBackpropFilterWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const x = _input(args.inputs, "x", "Conv2DBackpropFilter");
  const dy = _input(args.inputs, "dy", "Conv2DBackpropFilter");
  const attrs = (args.attrs ?? {}) as unknown as ConvGradAttrs;
  if (attrs.dataFormat === "NCHW") {
    throw new TypeError("Conv2DBackpropFilter on wasm: expected dataFormat NHWC, got NCHW");
  }
  if (x.dtype !== "float32" || dy.dtype !== "float32") {
    throw new TypeError(
      `Conv2DBackpropFilter on wasm: expected float32 inputs, got ${x.dtype} and ${dy.dtype}`,
    );
  }
  const info = _convInfo(x.shape, attrs.filterShape, attrs);
  const { batchSize, inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { filterHeight, filterWidth, inChannels, outChannels } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const k = filterHeight * filterWidth * inChannels;
  const perImage = outHeight * outWidth;
  const imagesPerChunk = Math.max(
    1,
    Math.min(batchSize, Math.floor(_im2colLimit / (perImage * k))),
  );
  const acc = new Float32Array(outChannels * k);
  const src = new Int32Array(BLOCK);
  let col: tf.TensorInfo | null = null;
  let dyChunk: tf.TensorInfo | null = null;
  try {
    for (let b0 = 0; b0 < batchSize; b0 += imagesPerChunk) {
      const images = Math.min(imagesPerChunk, batchSize - b0);
      const n = images * perImage;
      if (col === null || col.shape[2] !== n) {
        if (col !== null) backend.disposeData(col.dataId);
        col = null;
        col = backend.makeOutput([1, k, n], "float32");
      }
      // The matmul caches its packed second operand by tensor id, so that operand must be a
      // new tensor for every chunk: dy itself when one chunk covers the batch, else a copy.
      if (images === batchSize) {
        dyChunk = _run("Reshape", backend, { x: dy }, { shape: [1, n, outChannels] });
      } else {
        dyChunk = backend.makeOutput([1, n, outChannels], "float32");
        const dyBase = b0 * perImage * outChannels;
        backend.typedArrayFromHeap(dyChunk).set(
          backend.typedArrayFromHeap(dy).subarray(dyBase, dyBase + n * outChannels),
        );
      }
      // Views only after the allocations: growing the heap detaches older views.
      const xv = backend.typedArrayFromHeap(x);
      const colv = backend.typedArrayFromHeap(col);
      // Transposed im2col: row (fh, fw, ci), column r = (b, oh, ow); built in blocks of
      // columns so that the writes stay within a few cache lines per row.
      for (let fh = 0; fh < filterHeight; fh++) {
        for (let fw = 0; fw < filterWidth; fw++) {
          const rowBase = (fh * filterWidth + fw) * inChannels * n;
          for (let r0 = 0; r0 < n; r0 += BLOCK) {
            const r1 = Math.min(n, r0 + BLOCK);
            for (let r = r0; r < r1; r++) {
              const b = b0 + Math.floor(r / perImage);
              const rem = r % perImage;
              const ih = Math.floor(rem / outWidth) * strideHeight - top + fh;
              const iw = (rem % outWidth) * strideWidth - left + fw;
              src[r - r0] = ih < 0 || ih >= inHeight || iw < 0 || iw >= inWidth
                ? -1
                : ((b * inHeight + ih) * inWidth + iw) * inChannels;
            }
            for (let c = 0; c < inChannels; c++) {
              const dst = rowBase + c * n;
              for (let r = r0; r < r1; r++) {
                const s0 = src[r - r0]!;
                colv[dst + r] = s0 < 0 ? 0 : xv[s0 + c]!;
              }
            }
          }
        }
      }
      const prod = _run("BatchMatMul", backend, { a: col, b: dyChunk }, {
        transposeA: false,
        transposeB: false,
      });
      backend.disposeData(dyChunk.dataId);
      dyChunk = null;
      const pv = backend.typedArrayFromHeap(prod);
      for (let i = 0; i < acc.length; i++) acc[i]! += pv[i]!;
      backend.disposeData(prod.dataId);
    }
  } finally {
    if (col !== null) backend.disposeData(col.dataId);
    if (dyChunk !== null) backend.disposeData(dyChunk.dataId);
  }
  const out = backend.makeOutput([filterHeight, filterWidth, inChannels, outChannels], "float32");
  const ov = backend.typedArrayFromHeap(out);
  ov.set(acc);
  return out;
}

/** The wasm package's own kernels that this module replaced, by name. */
const _packageKernels = new Map<string, tf.KernelFunc>();

/**
 * `Conv2DBackpropInput` for the wasm backend (NHWC, dilation 1), replacing the package's own
 * kernel, which loops naively and takes most of a UNet training step.
 *
 * dx is the stride-1 convolution of dy (zero-dilated by the stride) with the filter rotated by
 * 180° and its channel axes swapped, padded by FH − 1 − top before and by whatever restores the
 * input size after; it runs on the backend's XNNPACK Conv2D. Padding layouts this cannot express
 * (negative padding) fall back on the package's kernel.
 */
export function conv2DBackpropInputWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const dy = _input(args.inputs, "dy", "Conv2DBackpropInput");
  const filter = _input(args.inputs, "filter", "Conv2DBackpropInput");
  const attrs = (args.attrs ?? {}) as unknown as ConvGradAttrs;
  const fallback = () => {
    const orig = _packageKernels.get("Conv2DBackpropInput");
    if (orig === undefined) {
      throw new TypeError("Conv2DBackpropInput on wasm: unsupported configuration");
    }
    return orig(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  };
  if (attrs.dataFormat === "NCHW" || dy.dtype !== "float32" || filter.dtype !== "float32") {
    return fallback();
  }
  const info = _convInfo(attrs.inputShape, filter.shape, attrs);
  const { batchSize, inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { filterHeight: fh, filterWidth: fw, inChannels, outChannels } = info;
  const dh = (outHeight - 1) * strideHeight + 1;
  const dw = (outWidth - 1) * strideWidth + 1;
  const top = fh - 1 - info.padInfo.top;
  const left = fw - 1 - info.padInfo.left;
  const bottom = inHeight + fh - 1 - top - dh;
  const right = inWidth + fw - 1 - left - dw;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return fallback();

  const temps: tf.TensorInfo[] = [];
  try {
    const wf = backend.makeOutput([fh, fw, outChannels, inChannels], "float32");
    temps.push(wf);
    let src = dy;
    if (strideHeight > 1 || strideWidth > 1) {
      src = backend.makeOutput([batchSize, dh, dw, outChannels], "float32");
      temps.push(src);
    }
    const wv = backend.typedArrayFromHeap(filter);
    const wfv = backend.typedArrayFromHeap(wf);
    for (let i = 0; i < fh; i++) {
      for (let j = 0; j < fw; j++) {
        const from = ((fh - 1 - i) * fw + (fw - 1 - j)) * inChannels * outChannels;
        const to = (i * fw + j) * outChannels * inChannels;
        for (let ci = 0; ci < inChannels; ci++) {
          for (let co = 0; co < outChannels; co++) {
            wfv[to + co * inChannels + ci] = wv[from + ci * outChannels + co]!;
          }
        }
      }
    }
    if (src !== dy) {
      const dyv = backend.typedArrayFromHeap(dy);
      const sv = backend.typedArrayFromHeap(src);
      sv.fill(0);
      let o = 0;
      for (let b = 0; b < batchSize; b++) {
        for (let r = 0; r < outHeight; r++) {
          for (let c = 0; c < outWidth; c++, o += outChannels) {
            const d = ((b * dh + r * strideHeight) * dw + c * strideWidth) * outChannels;
            sv.set(dyv.subarray(o, o + outChannels), d);
          }
        }
      }
    }
    return _run("Conv2D", backend, { x: src, filter: wf }, {
      strides: [1, 1],
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dataFormat: "NHWC",
      dilations: [1, 1],
    });
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/** dst[c·rows + r] = src[r·cols + c] for one rows × cols matrix, in cache-sized tiles. */
function _transposeInto(
  src: Float32Array | Int32Array | Uint8Array,
  srcOff: number,
  rows: number,
  cols: number,
  dst: Float32Array | Int32Array | Uint8Array,
  dstOff: number,
): void {
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) {
        const s = srcOff + r * cols;
        for (let c = c0; c < c1; c++) dst[dstOff + c * rows + r] = src[s + c]!;
      }
    }
  }
}

/**
 * `BatchMatMul` for the wasm backend with `transposeA`: the package's kernel is several times
 * slower with a transposed first operand (every weight gradient `xᵀ·dy` of a dense or 1x1
 * layer), so the operand is transposed explicitly first. Other calls go to the package kernel.
 */
export function batchMatMulWasm(args: KernelArgs): tf.TensorInfo {
  const orig = _packageKernels.get("BatchMatMul");
  if (orig === undefined) throw new Error("BatchMatMul on wasm: not initialised");
  const backend = args.backend as WasmBackendLike;
  const a = _input(args.inputs, "a", "BatchMatMul");
  const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  if (attrs.transposeA !== true || a.dtype !== "float32" || a.shape.length < 2) {
    return orig(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  }
  const r = a.shape.length;
  const rows = a.shape[r - 2]!;
  const cols = a.shape[r - 1]!;
  const batch = a.shape.slice(0, r - 2).reduce((x, y) => x * y, 1);
  const aT = backend.makeOutput([...a.shape.slice(0, r - 2), cols, rows], "float32");
  try {
    const src = backend.typedArrayFromHeap(a);
    const dst = backend.typedArrayFromHeap(aT);
    for (let i = 0; i < batch; i++) {
      _transposeInto(src, i * rows * cols, rows, cols, dst, i * rows * cols);
    }
    return orig(
      {
        inputs: { a: aT, b: _input(args.inputs, "b", "BatchMatMul") },
        backend: args.backend as tf.KernelBackend,
        attrs: { ...attrs, transposeA: false },
      } as unknown as Parameters<tf.KernelFunc>[0],
    ) as tf.TensorInfo;
  } finally {
    backend.disposeData(aT.dataId);
  }
}

/**
 * `UnsortedSegmentSum` for the wasm backend: out[s, ...] = Σ_{i: ids[i] = s} x[i, ...].
 * Ids outside [0, numSegments) are dropped, as in TensorFlow. A plain loop over the heap.
 */
export function unsortedSegmentSumWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const x = _input(args.inputs, "x", "UnsortedSegmentSum");
  const ids = _input(args.inputs, "segmentIds", "UnsortedSegmentSum");
  const numSegments = (args.attrs as { numSegments: number }).numSegments;
  if (ids.dtype !== "int32") {
    throw new TypeError(`UnsortedSegmentSum on wasm: expected int32 segmentIds, got ${ids.dtype}`);
  }
  const idsSize = ids.shape.reduce((a, b) => a * b, 1);
  const lead = x.shape.slice(0, ids.shape.length);
  if (lead.length !== ids.shape.length || lead.some((d, i) => d !== ids.shape[i])) {
    throw new TypeError(
      `UnsortedSegmentSum on wasm: expected x to start with segmentIds' shape [${ids.shape}], ` +
        `got x of shape [${x.shape}]`,
    );
  }
  const innerShape = x.shape.slice(ids.shape.length);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([numSegments, ...innerShape], x.dtype);
  // Views only after the allocation: growing the heap detaches older views.
  const xv = backend.typedArrayFromHeap(x);
  const iv = backend.typedArrayFromHeap(ids);
  const ov = backend.typedArrayFromHeap(out);
  ov.fill(0);
  for (let i = 0; i < idsSize; i++) {
    const s = iv[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) ov[dst + j]! += xv[src + j]!;
  }
  return out;
}

/**
 * Registers the training kernels missing from the wasm backend and replaces its slow
 * `Conv2DBackpropInput`. Idempotent: a second call, or a call after an accelerator registered
 * its own kernels, changes nothing.
 *
 * @returns the names of the kernels this call registered.
 *
 * @example
 * ```ts
 * import { registerWasmTrainingKernels } from "./wasm_kernels.ts";
 * import assert from "node:assert/strict";
 * registerWasmTrainingKernels();
 * assert.deepEqual(registerWasmTrainingKernels(), []); // second call: nothing new
 * ```
 */
export function registerWasmTrainingKernels(): string[] {
  const added: string[] = [];
  const configs: tf.KernelConfig[] = [
    {
      kernelName: "Conv2DBackpropFilter",
      backendName: "wasm",
      kernelFunc: conv2DBackpropFilterWasm as unknown as tf.KernelFunc,
    },
    {
      kernelName: "UnsortedSegmentSum",
      backendName: "wasm",
      kernelFunc: unsortedSegmentSumWasm as unknown as tf.KernelFunc,
    },
  ];
  for (const c of configs) {
    if (tf.getKernel(c.kernelName, "wasm") !== undefined) continue;
    tf.registerKernel(c);
    added.push(c.kernelName);
  }
  const replacements: [string, unknown][] = [
    ["Conv2DBackpropInput", conv2DBackpropInputWasm],
    ["BatchMatMul", batchMatMulWasm],
  ];
  for (const [name, kernelFunc] of replacements) {
    const own = tf.getKernel(name, "wasm");
    if (_packageKernels.has(name) || own === undefined) continue;
    _packageKernels.set(name, own.kernelFunc);
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({
      kernelName: name,
      backendName: "wasm",
      kernelFunc: kernelFunc as tf.KernelFunc,
    });
    added.push(name);
  }
  return added;
}
