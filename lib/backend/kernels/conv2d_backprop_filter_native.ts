/**
 * `Conv2DBackpropFilter` (the weight gradient of a convolution) in oneDNN, or as im2col + sgemm
 * in OpenBLAS, for `wasm` and `cpu`, NHWC, dilation 1.
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import { conv2dBackpropFilter } from "../native/conv.ts";
import { allF32, type ConvAttrs, convGeometry } from "./_native.ts";
import type { KernelArgs, KernelSpec, NativeLibs } from "./_spec.ts";
import { type MemoryStore, memoryStore } from "./_store.ts";

function _backpropFilter(
  args: KernelArgs,
  s: MemoryStore,
  libs: NativeLibs,
): tf.TensorInfo | null {
  const { blas, dnnl, scratch } = libs;
  const { x, dy } = args.inputs;
  if (x === undefined || dy === undefined || !allF32(x, dy)) return null;
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
  const g = convGeometry(x.shape, attrs.filterShape, { ...attrs, dilations: 1 });
  if (g === null) return null;
  const df = s.alloc([g.kh, g.kw, g.cin, g.cout]);
  if (dnnl !== null && g.n * g.ho * g.wo > 0) {
    dnnl.convBackwardWeights(g, s.region(x), s.region(dy), s.region(df));
    return df;
  }
  conv2dBackpropFilter(blas, scratch, s.f32(x), s.f32(dy), s.f32(df), g);
  return df;
}

/**
 * The `Conv2DBackpropFilter` kernel spec.
 *
 * @example
 * ```ts
 * import { conv2dBackpropFilterNative } from "./conv2d_backprop_filter_native.ts";
 * import assert from "node:assert/strict";
 * assert.equal(conv2dBackpropFilterNative.kernelName, "Conv2DBackpropFilter");
 * ```
 */
export const conv2dBackpropFilterNative: KernelSpec = {
  kernelName: "Conv2DBackpropFilter",
  backends: ["wasm", "cpu"],
  needs: "native",
  kernelFunc: (args, ctx) =>
    _backpropFilter(args, memoryStore(ctx.backendName, args.backend)!, ctx.native!),
};
