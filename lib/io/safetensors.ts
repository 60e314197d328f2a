/**
 * The safetensors format (Hugging Face's, read by PyTorch, JAX and the browser alike): an
 * 8-byte little-endian header length N, N bytes of JSON (UTF-8, padded with spaces), then the
 * raw little-endian tensors. The header maps each tensor's name to its `dtype`, `shape` and
 * `data_offsets` (`[begin, end)` in the byte buffer after the header); the optional key
 * `__metadata__` holds a map of strings to strings.
 *
 * Reading checks everything the format promises (header length, JSON, dtypes, shapes against
 * byte counts, offsets that tile the buffer without holes or overlaps) and throws a
 * {@linkcode SafetensorsError} with a one-line message naming what was expected and what came.
 *
 * @module
 */

/** The element types of safetensors, as the header spells them. */
export type SafetensorsDtype =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U64"
  | "U32"
  | "U16"
  | "U8"
  | "BOOL";

const _BYTES: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/**
 * The header's largest accepted size (that of the reference implementation: 100 MB).
 *
 * @example
 * ```ts
 * import { SAFETENSORS_MAX_HEADER } from "./safetensors.ts";
 * import assert from "node:assert/strict";
 * assert.equal(SAFETENSORS_MAX_HEADER, 1e8);
 * ```
 */
export const SAFETENSORS_MAX_HEADER = 100_000_000;

/** One tensor: its type, shape and raw little-endian bytes (`product(shape) * size` of them). */
export interface SafetensorsTensor {
  /** The element type. */
  dtype: SafetensorsDtype;
  /** The shape (`[]` for a scalar). */
  shape: number[];
  /** The raw little-endian bytes. */
  data: Uint8Array;
}

/** A decoded file: its tensors in file order and its metadata. */
export interface SafetensorsFile {
  /** The tensors by name, in the order of their data in the file. */
  tensors: Map<string, SafetensorsTensor>;
  /** The `__metadata__` map (empty when absent). */
  metadata: Record<string, string>;
}

/**
 * A file that is not valid safetensors, or a tensor that cannot be encoded; one-line message.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, SafetensorsError } from "./safetensors.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => decodeSafetensors(new Uint8Array(2)), SafetensorsError);
 * ```
 */
export class SafetensorsError extends Error {
  /** @param message What was expected and what came. */
  constructor(message: string) {
    super(message);
    this.name = "SafetensorsError";
  }
}

const _LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function _size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function _isDtype(x: unknown): x is SafetensorsDtype {
  return typeof x === "string" && Object.hasOwn(_BYTES, x);
}

/**
 * A float32 tensor for {@linkcode encodeSafetensors} (the bytes copied, little-endian).
 *
 * @example
 * ```ts
 * import { f32Tensor } from "./safetensors.ts";
 * import assert from "node:assert/strict";
 * const t = f32Tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
 * assert.equal(t.dtype, "F32");
 * assert.equal(t.data.length, 24);
 * ```
 *
 * @param values The values in C order.
 * @param shape The shape (its product must be `values.length`).
 * @returns The tensor.
 */
export function f32Tensor(values: Float32Array, shape: readonly number[]): SafetensorsTensor {
  if (_size(shape) !== values.length) {
    throw new TypeError(
      `Cannot make a tensor of shape [${shape}]: it needs ${
        _size(shape)
      } values, got ${values.length}`,
    );
  }
  const data = new Uint8Array(
    values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength),
  );
  if (!_LITTLE) { for (let i = 0; i < data.length; i += 4) data.subarray(i, i + 4).reverse(); }
  return { dtype: "F32", shape: [...shape], data };
}

/**
 * The values of an `F32` tensor as a new Float32Array.
 *
 * @example
 * ```ts
 * import { f32Tensor, float32Of } from "./safetensors.ts";
 * import assert from "node:assert/strict";
 * const values = new Float32Array([0.5, -2]);
 * assert.deepEqual(float32Of(f32Tensor(values, [2]), "w"), values);
 * ```
 *
 * @param tensor The tensor.
 * @param name Its name, for the message when it is not `F32`.
 * @returns The values in C order.
 * @throws {SafetensorsError} When the tensor is not `F32`.
 */
export function float32Of(tensor: SafetensorsTensor, name: string): Float32Array {
  if (tensor.dtype !== "F32") {
    throw new SafetensorsError(`tensor "${name}" has dtype ${tensor.dtype}, expected F32`);
  }
  const copy = tensor.data.slice();
  if (!_LITTLE) { for (let i = 0; i < copy.length; i += 4) copy.subarray(i, i + 4).reverse(); }
  return new Float32Array(copy.buffer, 0, copy.length / 4);
}

/**
 * Encodes tensors and string metadata as the bytes of a safetensors file: the tensors' data in
 * the order given, the header padded with spaces so that the data starts 8-byte aligned.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors, f32Tensor } from "./safetensors.ts";
 * import assert from "node:assert/strict";
 * const bytes = encodeSafetensors(
 *   { "fc.weight": f32Tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [3, 2]) },
 *   { step: "10" },
 * );
 * const back = decodeSafetensors(bytes);
 * assert.deepEqual(back.tensors.get("fc.weight")!.shape, [3, 2]);
 * assert.deepEqual(back.metadata, { step: "10" });
 * ```
 *
 * @param tensors The tensors by name (a record or a map; `__metadata__` is not a tensor name).
 * @param metadata Strings to store in `__metadata__`. @default {{}}
 * @returns The file's bytes.
 * @throws {SafetensorsError} For a bad name, dtype, shape or byte count, or non-string metadata.
 */
export function encodeSafetensors(
  tensors: Record<string, SafetensorsTensor> | Map<string, SafetensorsTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") {
      throw new SafetensorsError(
        `Cannot encode metadata "${k}": expected a string, got ${typeof v}`,
      );
    }
  }
  if (Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === "__metadata__" || name.length === 0) {
      throw new SafetensorsError(`Cannot encode a tensor named "${name}"`);
    }
    if (!_isDtype(t.dtype)) {
      throw new SafetensorsError(`Cannot encode "${name}": unknown dtype ${t.dtype}`);
    }
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(`Cannot encode "${name}": bad shape [${t.shape}]`);
    }
    const bytes = _size(t.shape) * _BYTES[t.dtype];
    if (t.data.length !== bytes) {
      throw new SafetensorsError(
        `Cannot encode "${name}": ${t.dtype} [${t.shape}] needs ${bytes} bytes, got ${t.data.length}`,
      );
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, t] of entries) {
    out.set(t.data, at);
    at += t.data.length;
  }
  return out;
}

/**
 * Decodes the bytes of a safetensors file, checking the header against the data.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, SafetensorsError } from "./safetensors.ts";
 * import assert from "node:assert/strict";
 * assert.throws(
 *   () => decodeSafetensors(new TextEncoder().encode("PK\u0003\u0004 not a tensor file")),
 *   SafetensorsError,
 * );
 * ```
 *
 * @param bytes The file's bytes.
 * @returns The tensors (their `data` are views into `bytes`) and the metadata.
 * @throws {SafetensorsError} With a one-line message when the bytes are not valid safetensors.
 */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  const fail = (why: string): never => {
    throw new SafetensorsError(`Not a safetensors file: ${why}`);
  };
  if (bytes.length < 8) fail(`${bytes.length} bytes, shorter than the 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(SAFETENSORS_MAX_HEADER)) {
    fail(`the header length is ${n} bytes (at most ${SAFETENSORS_MAX_HEADER})`);
  }
  const headerLength = Number(n);
  if (8 + headerLength > bytes.length) {
    fail(
      `the header length is ${headerLength} bytes but the file has ${bytes.length - 8} after it`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    return fail("the header is not UTF-8");
  }
  if (!text.startsWith("{")) fail("the header does not start with '{'");
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`the header is not JSON (${(e as Error).message.split("\n")[0]})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    fail("the header is not a JSON object");
  }
  const buffer = bytes.subarray(8 + headerLength);
  const metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number; tensor: SafetensorsTensor }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
        fail("__metadata__ is not an object");
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__ "${k}" is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (e === null || typeof e !== "object") fail(`tensor "${name}" is not an object`);
    if (!_isDtype(e!.dtype)) {
      fail(`tensor "${name}" has an unknown dtype ${JSON.stringify(e!.dtype)}`);
    }
    const dtype = e!.dtype as SafetensorsDtype;
    const shape = e!.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}" has a bad shape ${JSON.stringify(shape)}`);
    }
    const off = e!.data_offsets;
    if (
      !Array.isArray(off) || off.length !== 2 ||
      !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]
    ) {
      fail(`tensor "${name}" has bad data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    const want = _size(shape as number[]) * _BYTES[dtype];
    if (end - begin !== want) {
      fail(
        `tensor "${name}" (${dtype} [${shape}]) needs ${want} bytes, its offsets span ${
          end - begin
        }`,
      );
    }
    if (end > buffer.length) {
      fail(`tensor "${name}" ends at byte ${end}, past the data's ${buffer.length}`);
    }
    spans.push({
      name,
      begin,
      end,
      tensor: { dtype, shape: shape as number[], data: buffer.subarray(begin, end) },
    });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const s of spans) {
    if (s.begin !== at) {
      fail(
        s.begin < at
          ? `tensor "${s.name}" overlaps the one before it (starts at ${s.begin}, expected ${at})`
          : `a hole in the data before tensor "${s.name}" (bytes ${at} to ${s.begin})`,
      );
    }
    at = s.end;
  }
  if (at !== buffer.length) fail(`${buffer.length - at} bytes after the last tensor`);
  return { tensors: new Map(spans.map((s) => [s.name, s.tensor])), metadata };
}
