/**
 * A `GatherV2` for the wasm backend's commonest case, a row lookup (axis 0, no batch dims,
 * float32 table, int32 indices), as a block copy on the wasm heap. The package's kernel walks
 * element by element: measured 137 ms to look up 10,000 rows of a [100, 384] embedding table,
 * which made every sampling step of the 2-D model slow. Other cases go to the package's kernel.
 *
 * @module
 */
import { tf } from "../tf.ts";
import type { WasmBackendLike } from "./wasm_kernels.ts";

let _original: tf.KernelFunc | null = null;

type GatherArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/**
 * The kernel function: a row gather, or the original kernel for anything else.
 *
 * @param args The kernel's inputs (`x`, `indices`), backend and attributes (`axis`, `batchDims`).
 * @returns The gathered rows.
 */
export function gatherRowsWasm(args: GatherArgs): tf.TensorInfo {
  const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
  const { axis = 0, batchDims = 0 } = (args.attrs ?? {}) as { axis?: number; batchDims?: number };
  const fast = axis === 0 && batchDims === 0 && x.dtype === "float32" &&
    indices.dtype === "int32" && x.shape.length >= 1;
  if (!fast) return _original!(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  const backend = args.backend as WasmBackendLike;
  const rows = x.shape[0]!;
  const rowSize = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], "float32");
  // Views are taken after makeOutput: allocating may grow (and detach) the heap.
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const idx = backend.typedArrayFromHeap(indices) as Int32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i]!;
    if (r < 0 || r >= rows) {
      backend.disposeData(out.dataId);
      throw new RangeError(`gather: index ${r} is outside [0, ${rows})`);
    }
    dst.set(src.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize);
  }
  return out;
}

/**
 * Puts the fast row gather in place of the wasm backend's `GatherV2` (once).
 *
 * @returns Whether it was registered by this call.
 *
 * @example
 * ```ts ignore
 * import { registerWasmGather } from "./wasm_gather.ts";
 * registerWasmGather(); // after the wasm backend is registered
 * ```
 */
export function registerWasmGather(): boolean {
  if (_original !== null) return false;
  const k = tf.getKernel("GatherV2", "wasm");
  if (k === undefined) return false;
  _original = k.kernelFunc;
  tf.unregisterKernel("GatherV2", "wasm");
  tf.registerKernel({
    kernelName: "GatherV2",
    backendName: "wasm",
    kernelFunc: gatherRowsWasm as unknown as tf.KernelFunc,
  });
  return true;
}
