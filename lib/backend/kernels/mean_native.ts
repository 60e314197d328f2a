/**
 * `Mean` over any axes of a float32 tensor: the native `Sum`, scaled.
 *
 * @module
 */
import { nativeReduce } from "./_native.ts";
import type { KernelSpec } from "./_spec.ts";
import { memoryStore } from "./_store.ts";

/**
 * The `Mean` kernel spec.
 *
 * @example
 * ```ts
 * import { meanNative } from "./mean_native.ts";
 * import assert from "node:assert/strict";
 * assert.equal(meanNative.kernelName, "Mean");
 * ```
 */
export const meanNative: KernelSpec = {
  kernelName: "Mean",
  backends: ["wasm", "cpu"],
  needs: "native",
  kernelFunc: (args, ctx) =>
    nativeReduce(args, memoryStore(ctx.backendName, args.backend)!, ctx.native!, true),
};
