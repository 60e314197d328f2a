/**
 * `Conv2D` in oneDNN (or im2col + sgemm in OpenBLAS without it), for `wasm` and `cpu`, NHWC.
 *
 * @module
 */
import { nativeConv } from "./_native.ts";
import type { KernelSpec } from "./_spec.ts";
import { memoryStore } from "./_store.ts";

/**
 * The `Conv2D` kernel spec.
 *
 * @example
 * ```ts
 * import { conv2dNative } from "./conv2d_native.ts";
 * import assert from "node:assert/strict";
 * assert.equal(conv2dNative.kernelName, "Conv2D");
 * ```
 */
export const conv2dNative: KernelSpec = {
  kernelName: "Conv2D",
  backends: ["wasm", "cpu"],
  needs: "native",
  kernelFunc: (args, ctx) =>
    nativeConv(args, memoryStore(ctx.backendName, args.backend)!, ctx.native!, false),
};
