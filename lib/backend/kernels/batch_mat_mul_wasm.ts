/**
 * `BatchMatMul` for the wasm backend with `transposeA`: the operand transposed explicitly, then the
 * package's kernel (several times faster than its own transposed product).
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import type { KernelArgs, KernelContext, KernelSpec } from "./_spec.ts";
import { input, type WasmBackendLike } from "./_wasm.ts";

/** dst[c·rows + r] = src[r·cols + c] for one rows × cols matrix, in cache-sized tiles. */
function _transposeInto(
  src: Float32Array | Int32Array | Uint8Array,
  srcOff: number,
  rows: number,
  cols: number,
  dst: Float32Array | Int32Array | Uint8Array,
  dstOff: number,
): void {
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) {
        const s = srcOff + r * cols;
        for (let c = c0; c < c1; c++) dst[dstOff + c * rows + r] = src[s + c]!;
      }
    }
  }
}

/**
 * `BatchMatMul` for the wasm backend with `transposeA`: the package's kernel is several times
 * slower with a transposed first operand (every weight gradient `xᵀ·dy` of a dense or 1x1
 * layer), so the operand is transposed explicitly first. Other calls return null: the package kernel runs.
 */
function _batchMatMul(args: KernelArgs, ctx: KernelContext): tf.TensorInfo | null {
  const orig = ctx.prev;
  if (orig === undefined) throw new Error("BatchMatMul on wasm: the package's kernel is missing");
  const backend = args.backend as WasmBackendLike;
  const a = input(args.inputs, "a", "BatchMatMul");
  const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  if (attrs.transposeA !== true || a.dtype !== "float32" || a.shape.length < 2) {
    return null;
  }
  const r = a.shape.length;
  const rows = a.shape[r - 2]!;
  const cols = a.shape[r - 1]!;
  const batch = a.shape.slice(0, r - 2).reduce((x, y) => x * y, 1);
  const aT = backend.makeOutput([...a.shape.slice(0, r - 2), cols, rows], "float32");
  try {
    const src = backend.typedArrayFromHeap(a);
    const dst = backend.typedArrayFromHeap(aT);
    for (let i = 0; i < batch; i++) {
      _transposeInto(src, i * rows * cols, rows, cols, dst, i * rows * cols);
    }
    return orig(
      {
        inputs: { a: aT, b: input(args.inputs, "b", "BatchMatMul") },
        backend: args.backend as tf.KernelBackend,
        attrs: { ...attrs, transposeA: false },
      } as unknown as Parameters<tf.KernelFunc>[0],
    ) as tf.TensorInfo;
  } finally {
    backend.disposeData(aT.dataId);
  }
}

/**
 * The `BatchMatMul` kernel spec for `wasm`.
 *
 * @example
 * ```ts
 * import { batchMatMulWasm } from "./batch_mat_mul_wasm.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(batchMatMulWasm.backends, ["wasm"]);
 * ```
 */
export const batchMatMulWasm: KernelSpec = {
  kernelName: "BatchMatMul",
  backends: ["wasm"],
  needs: "none",
  kernelFunc: _batchMatMul,
};
