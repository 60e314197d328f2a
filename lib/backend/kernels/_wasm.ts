/**
 * What the wasm kernels (`*_wasm.ts`) share: the part of tfjs-backend-wasm's backend they use,
 * a direct call of another wasm kernel, the convolution geometry of the gradient kernels, and
 * the im2col chunk size.
 *
 * @module
 */
import { tf } from "../../tf.ts";

/** The part of tfjs-backend-wasm's `BackendWasm` that these kernels use. */
export interface WasmBackendLike {
  /** Tensor bookkeeping: heap offset and wasm-side id of every dataId. */
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } | undefined };
  /** Allocates an output tensor on the wasm heap. */
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /** A typed-array view of a tensor's bytes on the wasm heap (invalid after the heap grows). */
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  /** Releases a tensor made by a kernel. */
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Columns per block of the im2col loops. */
export const BLOCK = 256;

/** The largest im2col matrix of the wasm weight gradient, in floats (16 Mi: 64 MB). */
let _im2colLimit = 16 * 1024 * 1024;

/**
 * Test hook: sets the im2col chunk size in floats and returns the previous one.
 *
 * @param floats The new limit.
 * @returns The previous limit.
 *
 * @example
 * ```ts
 * import { _setIm2colLimit } from "./_wasm.ts";
 * import assert from "node:assert/strict";
 * const prev = _setIm2colLimit(1024);
 * assert.equal(_setIm2colLimit(prev), 1024);
 * ```
 */
export function _setIm2colLimit(floats: number): number {
  const prev = _im2colLimit;
  _im2colLimit = floats;
  return prev;
}

/** The current im2col chunk size in floats. */
export function im2colLimit(): number {
  return _im2colLimit;
}

/** The attributes of tfjs's two convolution gradient kernels that these kernels read. */
export type ConvGradAttrs = {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
  /** Given to `Conv2DBackpropFilter` only. */
  filterShape: [number, number, number, number];
  /** Given to `Conv2DBackpropInput` only. */
  inputShape: [number, number, number, number];
};

/** The geometry of an NHWC convolution with dilation 1 of the given shapes. */
export function convGradInfo(
  inShape: number[],
  filterShape: number[],
  attrs: ConvGradAttrs,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
}

/** Calls another kernel of the wasm backend directly (no engine, no tape). */
export function runWasmKernel(
  name: string,
  backend: WasmBackendLike,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
): tf.TensorInfo {
  const k = tf.getKernel(name, "wasm");
  if (k === undefined) throw new Error(`wasm backend has no kernel '${name}'`);
  const out = k.kernelFunc({ inputs, backend: backend as unknown as tf.KernelBackend, attrs });
  if (Array.isArray(out)) throw new Error(`kernel '${name}' returned several outputs`);
  return out as tf.TensorInfo;
}

export function input(inputs: tf.NamedTensorInfoMap, name: string, kernel: string): tf.TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new TypeError(`${kernel}: expected input '${name}', got none`);
  return t;
}
