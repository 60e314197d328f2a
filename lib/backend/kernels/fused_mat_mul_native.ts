/**
 * `_FusedMatMul` on the native BLAS, for `wasm` and `cpu`: the product, then the bias and relu
 * in one pass (other activations fall back).
 *
 * @module
 */
import { nativeMatMul } from "./_native.ts";
import type { KernelSpec } from "./_spec.ts";
import { memoryStore } from "./_store.ts";

/**
 * The `_FusedMatMul` kernel spec.
 *
 * @example
 * ```ts
 * import { fusedMatMulNative } from "./fused_mat_mul_native.ts";
 * import assert from "node:assert/strict";
 * assert.equal(fusedMatMulNative.kernelName, "_FusedMatMul");
 * ```
 */
export const fusedMatMulNative: KernelSpec = {
  kernelName: "_FusedMatMul",
  backends: ["wasm", "cpu"],
  needs: "native",
  kernelFunc: (args, ctx) =>
    nativeMatMul(args, memoryStore(ctx.backendName, args.backend)!, ctx.native!, true),
};
