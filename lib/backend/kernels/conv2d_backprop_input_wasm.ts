/**
 * `Conv2DBackpropInput` for the wasm backend: the package's kernel loops naively; this one runs
 * the gradient as a stride-1 convolution on XNNPACK.
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import type { KernelArgs, KernelSpec } from "./_spec.ts";
import {
  type ConvGradAttrs,
  convGradInfo,
  input,
  runWasmKernel,
  type WasmBackendLike,
} from "./_wasm.ts";

/**
 * `Conv2DBackpropInput` for the wasm backend (NHWC, dilation 1), replacing the package's own
 * kernel, which loops naively and takes most of a UNet training step.
 *
 * dx is the stride-1 convolution of dy (zero-dilated by the stride) with the filter rotated by
 * 180° and its channel axes swapped, padded by FH − 1 − top before and by whatever restores the
 * input size after; it runs on the backend's XNNPACK Conv2D. Padding layouts this cannot express
 * (negative padding) return null: the package's kernel runs.
 */
function _conv2dBackpropInput(args: KernelArgs): tf.TensorInfo | null {
  const backend = args.backend as WasmBackendLike;
  const dy = input(args.inputs, "dy", "Conv2DBackpropInput");
  const filter = input(args.inputs, "filter", "Conv2DBackpropInput");
  const attrs = (args.attrs ?? {}) as unknown as ConvGradAttrs;
  if (attrs.dataFormat === "NCHW" || dy.dtype !== "float32" || filter.dtype !== "float32") {
    return null;
  }
  const info = convGradInfo(attrs.inputShape, filter.shape, attrs);
  const { batchSize, inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { filterHeight: fh, filterWidth: fw, inChannels, outChannels } = info;
  const dh = (outHeight - 1) * strideHeight + 1;
  const dw = (outWidth - 1) * strideWidth + 1;
  const top = fh - 1 - info.padInfo.top;
  const left = fw - 1 - info.padInfo.left;
  const bottom = inHeight + fh - 1 - top - dh;
  const right = inWidth + fw - 1 - left - dw;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return null;

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
    return runWasmKernel("Conv2D", backend, { x: src, filter: wf }, {
      strides: [1, 1],
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dataFormat: "NHWC",
      dilations: [1, 1],
    });
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/**
 * The `Conv2DBackpropInput` kernel spec for `wasm`.
 *
 * @example
 * ```ts
 * import { conv2dBackpropInputWasm } from "./conv2d_backprop_input_wasm.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(conv2dBackpropInputWasm.backends, ["wasm"]);
 * ```
 */
export const conv2dBackpropInputWasm: KernelSpec = {
  kernelName: "Conv2DBackpropInput",
  backends: ["wasm"],
  needs: "none",
  kernelFunc: _conv2dBackpropInput,
};
