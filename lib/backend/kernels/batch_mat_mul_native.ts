/**
 * `BatchMatMul` on the native BLAS (oneDNN's sgemm, or OpenBLAS), for `wasm` and `cpu`: one
 * sgemm for a batch that shares its second operand, else one per batch entry.
 *
 * @module
 */
import { nativeMatMul } from "./_native.ts";
import type { KernelSpec } from "./_spec.ts";
import { memoryStore } from "./_store.ts";

/**
 * The `BatchMatMul` kernel spec.
 *
 * @example
 * ```ts
 * import { batchMatMulNative } from "./batch_mat_mul_native.ts";
 * import assert from "node:assert/strict";
 * assert.equal(batchMatMulNative.kernelName, "BatchMatMul");
 * ```
 */
export const batchMatMulNative: KernelSpec = {
  kernelName: "BatchMatMul",
  backends: ["wasm", "cpu"],
  needs: "native",
  kernelFunc: (args, ctx) =>
    nativeMatMul(args, memoryStore(ctx.backendName, args.backend)!, ctx.native!, false),
};
