/**
 * `Conv2DBackpropInput` (the input gradient of a convolution) in oneDNN, or as sgemm + col2im in
 * OpenBLAS, for `wasm` and `cpu`, NHWC, dilation 1.
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import { conv2dBackpropInput } from "../native/conv.ts";
import { allF32, type ConvAttrs, convGeometry } from "./_native.ts";
import type { KernelArgs, KernelSpec, NativeLibs } from "./_spec.ts";
import { type MemoryStore, memoryStore } from "./_store.ts";

function _backpropInput(
  args: KernelArgs,
  s: MemoryStore,
  libs: NativeLibs,
): tf.TensorInfo | null {
  const { blas, dnnl, scratch } = libs;
  const { dy, filter } = args.inputs;
  if (dy === undefined || filter === undefined || !allF32(dy, filter)) return null;
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
  const g = convGeometry(attrs.inputShape, filter.shape, { ...attrs, dilations: 1 });
  if (g === null) return null;
  const dx = s.alloc([g.n, g.h, g.w, g.cin]);
  if (dnnl !== null) {
    dnnl.convBackwardData(g, s.region(dy), s.region(filter), s.region(dx));
    return dx;
  }
  conv2dBackpropInput(blas, scratch, s.f32(dy), s.f32(filter), s.f32(dx), g);
  return dx;
}

/**
 * The `Conv2DBackpropInput` kernel spec.
 *
 * @example
 * ```ts
 * import { conv2dBackpropInputNative } from "./conv2d_backprop_input_native.ts";
 * import assert from "node:assert/strict";
 * assert.equal(conv2dBackpropInputNative.kernelName, "Conv2DBackpropInput");
 * ```
 */
export const conv2dBackpropInputNative: KernelSpec = {
  kernelName: "Conv2DBackpropInput",
  backends: ["wasm", "cpu"],
  needs: "native",
  kernelFunc: (args, ctx) =>
    _backpropInput(args, memoryStore(ctx.backendName, args.backend)!, ctx.native!),
};
