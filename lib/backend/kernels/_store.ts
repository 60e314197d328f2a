/**
 * Direct access to the memory of tensors on the `wasm` and `cpu` backends: typed-array views of
 * a tensor's data (on the wasm heap, or the cpu backend's own array), so that the kernels of
 * this folder (JavaScript loops, BLAS, oneDNN and C calls) can read and write it without going
 * through tfjs ops, and allocate their outputs. The one store abstraction of the project: the
 * kernels and the optimiser's ops (`../ops/optimizer.ts`) use it.
 *
 * Other backends (webgpu, tensorflow) keep their data elsewhere; there every function here
 * reports "not available" (null / false) and callers use tfjs ops instead.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import type { Region } from "../native/dnnl.ts";

/** The backends whose tensor memory this module can reach. */
export type MemoryBackendName = "wasm" | "cpu";

interface WasmData {
  memoryOffset: number | null;
  refCount: number;
}

interface WasmLike {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): WasmData | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

interface CpuLike {
  data: { get(dataId: object): { values?: unknown; refCount: number } | undefined };
  makeTensorInfo(
    shape: number[],
    dtype: tf.DataType,
    values?: Float32Array | Int32Array,
  ): tf.TensorInfo;
}

/** Reads and allocates tensors of one backend, for kernels that work on raw memory. */
export interface MemoryStore {
  /** The backend's name. */
  readonly name: MemoryBackendName;
  /** A float32 view of the tensor's data; invalid after the next `alloc` (the heap may grow). */
  f32(t: tf.TensorInfo): Float32Array;
  /** An int32 view of the tensor's data; invalid after the next `alloc`. */
  i32(t: tf.TensorInfo): Int32Array;
  /** A new output tensor of the backend, zero-filled on cpu, unspecified contents on wasm. */
  alloc(shape: number[], dtype?: "float32" | "int32"): tf.TensorInfo;
  /** How many holders the data has (1: only this tensor; in-place writes are then safe). */
  refCount(t: tf.TensorInfo): number;
  /**
   * Whether `t`'s data may be written in place: `t` alone holds it, no kernel keeps anything
   * derived from it ({@linkcode markPacked}), and, on `cpu`, it is private state (`owned`: made
   * by the caller and handed to no one), since a cpu tensor made by `tf.tensor(a)` shares the
   * caller's array `a`. On `wasm` every tensor's data is the backend's own copy.
   */
  writable(t: tf.TensorInfo, owned: boolean): boolean;
  /** The address of the tensor's first element as an integer, for arrays of pointers. */
  address(t: tf.TensorInfo): bigint;
  /** The address of the tensor's first element, for native code; invalid after `alloc`. */
  pointer(t: tf.TensorInfo): Deno.PointerValue;
  /** Where the tensor's data lies (buffer and byte offset), for oneDNN; invalid after `alloc`. */
  region(t: tf.TensorInfo): Region;
}

/**
 * The data of tensors that a kernel has read and may keep something derived from, by the
 * tensor's data: XNNPACK, behind the wasm backend's matrix products and convolutions, packs the
 * weights (and bias) of an operator once and keeps them until the tensor is disposed, so
 * weights written in place would be read stale. `../kernels/xnnpack_packed_wasm.ts` marks them.
 */
const _packed = new WeakSet<object>();

/**
 * Marks a tensor's data as read by a kernel that keeps what it derives from it (see
 * {@linkcode MemoryStore.writable}); the mark goes with the data.
 *
 * @param dataId The tensor's `dataId`.
 *
 * @example
 * ```ts
 * import { tf } from "../../tf.ts";
 * import { markPacked, memoryStore } from "./_store.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const s = memoryStore("cpu", tf.backend())!;
 * const a = tf.tidy(() => tf.variable(tf.zeros([2])));
 * assert.ok(s.writable(a, true));
 * markPacked(a.dataId);
 * assert.ok(!s.writable(a, true));
 * ```
 */
export function markPacked(dataId: object): void {
  _packed.add(dataId);
}

let _heap: ArrayBufferLike | null = null;
let _heapAt = 0;

/**
 * The address of the wasm heap's first byte, as a number (exact: addresses stay below 2^53);
 * looked up again only when the heap has grown into a new buffer.
 */
function _heapAddress(buffer: ArrayBufferLike): number {
  if (buffer !== _heap) {
    _heapAt = Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer as ArrayBuffer)));
    _heap = buffer;
  }
  return _heapAt;
}

/** The address of a typed array's first element. */
function _pointerOf(a: ArrayBufferView): Deno.PointerValue {
  const base = Deno.UnsafePointer.of(a.buffer as ArrayBuffer);
  return a.byteOffset === 0 ? base : Deno.UnsafePointer.offset(base!, a.byteOffset);
}

function _size(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/**
 * The memory store of a backend instance, or null when the backend is neither `wasm` nor `cpu`.
 *
 * @param name The backend's registered name.
 * @param backend The backend instance (e.g. a kernel's `args.backend`).
 * @returns The store, or null.
 *
 * @example
 * ```ts
 * import { tf } from "../../tf.ts";
 * import { memoryStore } from "./_store.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const s = memoryStore("cpu", tf.backend())!;
 * const x = tf.tensor1d([1, 2, 3]);
 * assert.deepEqual(Array.from(s.f32(x)), [1, 2, 3]);
 * assert.equal(memoryStore("webgpu", tf.backend()), null);
 * ```
 */
export function memoryStore(name: string, backend: unknown): MemoryStore | null {
  switch (name) {
    case "wasm": {
      const be = backend as WasmLike;
      const offset = (t: tf.TensorInfo): number => {
        const d = be.dataIdMap.get(t.dataId);
        if (d === undefined || d.memoryOffset === null) {
          throw new TypeError("Cannot view a tensor: it has no data on the wasm heap");
        }
        return d.memoryOffset;
      };
      return {
        name: "wasm",
        f32: (t) => new Float32Array(be.wasm.HEAPU8.buffer, offset(t), _size(t.shape)),
        i32: (t) => new Int32Array(be.wasm.HEAPU8.buffer, offset(t), _size(t.shape)),
        alloc: (shape, dtype = "float32") => be.makeOutput(shape, dtype),
        refCount: (t) => be.dataIdMap.get(t.dataId)?.refCount ?? 0,
        writable: (t) => be.dataIdMap.get(t.dataId)?.refCount === 1 && !_packed.has(t.dataId),
        address: (t) => BigInt(_heapAddress(be.wasm.HEAPU8.buffer) + offset(t)),
        pointer: (t) =>
          Deno.UnsafePointer.create(BigInt(_heapAddress(be.wasm.HEAPU8.buffer) + offset(t))),
        region: (t) => ({ buffer: be.wasm.HEAPU8.buffer, byteOffset: offset(t) }),
      };
    }
    case "cpu": {
      const be = backend as CpuLike;
      const values = (t: tf.TensorInfo): unknown => be.data.get(t.dataId)?.values;
      return {
        name: "cpu",
        f32(t) {
          const v = values(t);
          if (!(v instanceof Float32Array)) {
            throw new TypeError(`Cannot view a tensor: expected float32 data, got ${t.dtype}`);
          }
          return v;
        },
        i32(t) {
          const v = values(t);
          if (!(v instanceof Int32Array)) {
            throw new TypeError(`Cannot view a tensor: expected int32 data, got ${t.dtype}`);
          }
          return v;
        },
        alloc: (shape, dtype = "float32") =>
          be.makeTensorInfo(
            shape,
            dtype,
            dtype === "int32" ? new Int32Array(_size(shape)) : new Float32Array(_size(shape)),
          ),
        refCount: (t) => be.data.get(t.dataId)?.refCount ?? 0,
        writable: (t, owned) =>
          owned && be.data.get(t.dataId)?.refCount === 1 && !_packed.has(t.dataId),
        address(t) {
          return BigInt(Deno.UnsafePointer.value(this.pointer(t)));
        },
        pointer(t) {
          const v = values(t);
          if (!(v instanceof Float32Array || v instanceof Int32Array)) {
            throw new TypeError(`Cannot point at a tensor: no typed array data`);
          }
          return _pointerOf(v);
        },
        region(t) {
          const v = this.f32(t);
          return { buffer: v.buffer, byteOffset: v.byteOffset };
        },
      };
    }
    default:
      return null;
  }
}

/**
 * The memory store of the current backend, when every tensor given lives there (tfjs moves data
 * between backends lazily, so a tensor made before a backend switch may live elsewhere).
 *
 * @param tensors Tensors that must live on the current backend.
 * @returns The store, or null (another backend, or a tensor elsewhere).
 *
 * @example
 * ```ts
 * import { tf } from "../../tf.ts";
 * import { currentStore } from "./_store.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * assert.equal(currentStore([tf.scalar(1)])?.name, "cpu");
 * ```
 */
export function currentStore(tensors: readonly tf.Tensor[] = []): MemoryStore | null {
  const engine = tf.engine();
  const backend = engine.backend;
  const store = memoryStore(engine.backendName, backend);
  if (store === null) return null;
  for (const t of tensors) {
    if (t.isDisposed || engine.state.tensorInfo.get(t.dataId)?.backend !== backend) return null;
  }
  return store;
}
