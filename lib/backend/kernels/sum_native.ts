/**
 * `Sum` over any axes of a float32 tensor, for `wasm` and `cpu` with the native libraries
 * (contiguous runs summed by the BLAS).
 *
 * @module
 */
import { nativeReduce } from "./_native.ts";
import type { KernelSpec } from "./_spec.ts";
import { memoryStore } from "./_store.ts";

/**
 * The `Sum` kernel spec.
 *
 * @example
 * ```ts
 * import { sumNative } from "./sum_native.ts";
 * import assert from "node:assert/strict";
 * assert.equal(sumNative.kernelName, "Sum");
 * ```
 */
export const sumNative: KernelSpec = {
  kernelName: "Sum",
  backends: ["wasm", "cpu"],
  needs: "native",
  kernelFunc: (args, ctx) =>
    nativeReduce(args, memoryStore(ctx.backendName, args.backend)!, ctx.native!, false),
};
