/**
 * `SplitV` of a float32 tensor as block copies, for `wasm` and `cpu` with the native kernels on.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import { size } from "./_native.ts";
import type { KernelArgs, KernelSpec } from "./_spec.ts";
import { type MemoryStore, memoryStore } from "./_store.ts";

function _splitV(args: KernelArgs, s: MemoryStore): tf.TensorInfo[] | null {
  const { x } = args.inputs;
  if (x === undefined || x.dtype !== "float32") return null;
  const axis = tf.util.parseAxisParam(args.attrs?.axis as number, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(
    x as unknown as tf.Tensor,
    args.attrs?.numOrSizeSplits as number | number[],
    axis,
  );
  const outer = size(x.shape.slice(0, axis));
  const inner = size(x.shape.slice(axis + 1));
  const full = x.shape[axis]! * inner;
  const outs = sizes.map((n) => {
    const shape = [...x.shape];
    shape[axis] = n;
    return s.alloc(shape);
  });
  const xv = s.f32(x);
  let offset = 0;
  outs.forEach((out, j) => {
    const len = sizes[j]! * inner;
    const o = s.f32(out);
    for (let i = 0; i < outer; i++) {
      const src = i * full + offset;
      if (len >= 256) o.set(xv.subarray(src, src + len), i * len);
      else for (let k = 0; k < len; k++) o[i * len + k] = xv[src + k]!;
    }
    offset += len;
  });
  return outs;
}

/**
 * The `SplitV` kernel spec.
 *
 * @example
 * ```ts
 * import { splitVNative } from "./split_v_native.ts";
 * import assert from "node:assert/strict";
 * assert.equal(splitVNative.kernelName, "SplitV");
 * ```
 */
export const splitVNative: KernelSpec = {
  kernelName: "SplitV",
  backends: ["wasm", "cpu"],
  needs: "native",
  kernelFunc: (args, ctx) => _splitV(args, memoryStore(ctx.backendName, args.backend)!),
};
