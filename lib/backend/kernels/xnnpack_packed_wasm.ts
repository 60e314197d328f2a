/**
 * Marks for `wasm` the tensors that XNNPACK may keep packed copies of: the wasm backend's matrix
 * products, convolutions and PReLU create an XNNPACK operator per weights tensor, which packs
 * the weights and bias once and is kept until that tensor is disposed (keyed by the tensor's
 * id). A weight written in place afterwards would be read stale, so the optimiser's kernels
 * write only unmarked data in place (`MemoryStore.writable` of `_store.ts`) and give marked
 * tensors new data instead.
 *
 * One spec per tfjs kernel name, registered in front of tfjs's own: it marks every input and
 * hands the call on (returns null), so whatever reaches tfjs's kernel (directly, or as the
 * fallback of a native kernel) passes here. Data that XNNPACK packed before `registerKernels`
 * ran is not known.
 *
 * @module
 */
import type { KernelSpec } from "./_spec.ts";
import { markPacked } from "./_store.ts";

/** The wasm backend's kernels that keep packed weights (XNNPACK operators cached by id). */
export const XNNPACK_PACKING_KERNELS: readonly string[] = [
  "BatchMatMul",
  "_FusedMatMul",
  "Conv2D",
  "FusedConv2D",
  "DepthwiseConv2dNative",
  "FusedDepthwiseConv2D",
  "Prelu",
];

/**
 * The marking specs, one per name of {@linkcode XNNPACK_PACKING_KERNELS}.
 *
 * @example
 * ```ts
 * import { xnnpackPackedWasm } from "./xnnpack_packed_wasm.ts";
 * import assert from "node:assert/strict";
 * assert.ok(xnnpackPackedWasm.some((k) => k.kernelName === "_FusedMatMul"));
 * ```
 */
export const xnnpackPackedWasm: readonly KernelSpec[] = XNNPACK_PACKING_KERNELS.map((name) => ({
  kernelName: name,
  backends: ["wasm"],
  needs: "none",
  kernelFunc: (args) => {
    for (const t of Object.values(args.inputs)) if (t !== undefined) markPacked(t.dataId);
    return null;
  },
}));
