/**
 * `Conv2DBackpropFilter` for the wasm backend, which lacks it: a transposed im2col on the heap
 * and the backend's own matmul, chunked.
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import type { KernelArgs, KernelSpec } from "./_spec.ts";
import {
  BLOCK,
  type ConvGradAttrs,
  convGradInfo,
  im2colLimit,
  input,
  runWasmKernel,
  type WasmBackendLike,
} from "./_wasm.ts";

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
function _conv2dBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const x = input(args.inputs, "x", "Conv2DBackpropFilter");
  const dy = input(args.inputs, "dy", "Conv2DBackpropFilter");
  const attrs = (args.attrs ?? {}) as unknown as ConvGradAttrs;
  if (attrs.dataFormat === "NCHW") {
    throw new TypeError("Conv2DBackpropFilter on wasm: expected dataFormat NHWC, got NCHW");
  }
  if (x.dtype !== "float32" || dy.dtype !== "float32") {
    throw new TypeError(
      `Conv2DBackpropFilter on wasm: expected float32 inputs, got ${x.dtype} and ${dy.dtype}`,
    );
  }
  const info = convGradInfo(x.shape, attrs.filterShape, attrs);
  const { batchSize, inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { filterHeight, filterWidth, inChannels, outChannels } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const k = filterHeight * filterWidth * inChannels;
  const perImage = outHeight * outWidth;
  const imagesPerChunk = Math.max(
    1,
    Math.min(batchSize, Math.floor(im2colLimit() / (perImage * k))),
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
        dyChunk = runWasmKernel("Reshape", backend, { x: dy }, { shape: [1, n, outChannels] });
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
      const prod = runWasmKernel("BatchMatMul", backend, { a: col, b: dyChunk }, {
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

/**
 * The `Conv2DBackpropFilter` kernel spec for `wasm`.
 *
 * @example
 * ```ts
 * import { conv2dBackpropFilterWasm } from "./conv2d_backprop_filter_wasm.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(conv2dBackpropFilterWasm.backends, ["wasm"]);
 * ```
 */
export const conv2dBackpropFilterWasm: KernelSpec = {
  kernelName: "Conv2DBackpropFilter",
  backends: ["wasm"],
  needs: "none",
  kernelFunc: _conv2dBackpropFilter,
};
