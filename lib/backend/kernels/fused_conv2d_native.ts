/**
 * `FusedConv2D` in oneDNN (per-channel bias inside the convolution) or im2col + sgemm, then
 * a scalar bias and relu in one pass, for `wasm` and `cpu`, NHWC (other activations fall back).
 *
 * @module
 */
import { nativeConv } from "./_native.ts";
import type { KernelSpec } from "./_spec.ts";
import { memoryStore } from "./_store.ts";

/**
 * The `FusedConv2D` kernel spec.
 *
 * @example
 * ```ts
 * import { fusedConv2dNative } from "./fused_conv2d_native.ts";
 * import assert from "node:assert/strict";
 * assert.equal(fusedConv2dNative.kernelName, "FusedConv2D");
 * ```
 */
export const fusedConv2dNative: KernelSpec = {
  kernelName: "FusedConv2D",
  backends: ["wasm", "cpu"],
  needs: "native",
  kernelFunc: (args, ctx) =>
    nativeConv(args, memoryStore(ctx.backendName, args.backend)!, ctx.native!, true),
};
