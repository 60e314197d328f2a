/**
 * `UnsortedSegmentSum` (the gradient of `tf.gather`, used by embeddings) for the wasm backend,
 * which lacks it: a plain loop over the heap.
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import type { KernelArgs, KernelSpec } from "./_spec.ts";
import { input, type WasmBackendLike } from "./_wasm.ts";

/**
 * `UnsortedSegmentSum` for the wasm backend: out[s, ...] = Σ_{i: ids[i] = s} x[i, ...].
 * Ids outside [0, numSegments) are dropped, as in TensorFlow. A plain loop over the heap.
 */
function _unsortedSegmentSum(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const x = input(args.inputs, "x", "UnsortedSegmentSum");
  const ids = input(args.inputs, "segmentIds", "UnsortedSegmentSum");
  const numSegments = (args.attrs as { numSegments: number }).numSegments;
  if (ids.dtype !== "int32") {
    throw new TypeError(`UnsortedSegmentSum on wasm: expected int32 segmentIds, got ${ids.dtype}`);
  }
  const idsSize = ids.shape.reduce((a, b) => a * b, 1);
  const lead = x.shape.slice(0, ids.shape.length);
  if (lead.length !== ids.shape.length || lead.some((d, i) => d !== ids.shape[i])) {
    throw new TypeError(
      `UnsortedSegmentSum on wasm: expected x to start with segmentIds' shape [${ids.shape}], ` +
        `got x of shape [${x.shape}]`,
    );
  }
  const innerShape = x.shape.slice(ids.shape.length);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([numSegments, ...innerShape], x.dtype);
  // Views only after the allocation: growing the heap detaches older views.
  const xv = backend.typedArrayFromHeap(x);
  const iv = backend.typedArrayFromHeap(ids);
  const ov = backend.typedArrayFromHeap(out);
  ov.fill(0);
  for (let i = 0; i < idsSize; i++) {
    const s = iv[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) ov[dst + j]! += xv[src + j]!;
  }
  return out;
}

/**
 * The `UnsortedSegmentSum` kernel spec for `wasm`.
 *
 * @example
 * ```ts
 * import { unsortedSegmentSumWasm } from "./unsorted_segment_sum_wasm.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(unsortedSegmentSumWasm.backends, ["wasm"]);
 * ```
 */
export const unsortedSegmentSumWasm: KernelSpec = {
  kernelName: "UnsortedSegmentSum",
  backends: ["wasm"],
  needs: "none",
  kernelFunc: _unsortedSegmentSum,
};
