/**
 * NumPy `.npy` files: float32 arrays encoded (format version 1.0), so that Python tools can read
 * what `deno task sample` writes with `numpy.load`, and decoded (what NumPy's `np.save` writes,
 * read as float32), so that the project reads arrays made in Python.
 *
 * @module
 */

/**
 * Encodes a float32 array of the given shape as the bytes of a `.npy` file (little-endian,
 * C order).
 *
 * @param data The values, `product(shape)` of them.
 * @param shape The array's shape.
 * @returns The file's bytes.
 *
 * @example
 * ```ts
 * import { encodeNpy } from "./npy.ts";
 * import assert from "node:assert/strict";
 * const bytes = encodeNpy(new Float32Array([1, 2, 3, 4]), [2, 2]);
 * assert.equal(new TextDecoder().decode(bytes.subarray(1, 6)), "NUMPY");
 * assert.equal(bytes.length % 16, 0);
 * ```
 */
export function encodeNpy(data: Float32Array, shape: number[]): Uint8Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) {
    throw new TypeError(
      `Cannot encode .npy: shape [${shape}] needs ${size} values, got ${data.length}`,
    );
  }
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  // Magic (6) + version (2) + header length (2) + header + '\n', padded to a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, " ") + "\n";
  const out = new Uint8Array(total + data.byteLength);
  out.set([0x93, ...new TextEncoder().encode("NUMPY"), 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const body = new DataView(out.buffer, total);
  for (let i = 0; i < data.length; i++) body.setFloat32(i * 4, data[i]!, true);
  return out;
}

/** The dtypes {@linkcode decodeNpy} reads, by their `.npy` descriptor (little-endian or none). */
const _DTYPES: Record<string, { bytes: number; get: (v: DataView, o: number) => number }> = {
  "<f4": { bytes: 4, get: (v, o) => v.getFloat32(o, true) },
  "<f8": { bytes: 8, get: (v, o) => v.getFloat64(o, true) },
  "|u1": { bytes: 1, get: (v, o) => v.getUint8(o) },
  "<u1": { bytes: 1, get: (v, o) => v.getUint8(o) },
  "|b1": { bytes: 1, get: (v, o) => v.getUint8(o) },
  "<i4": { bytes: 4, get: (v, o) => v.getInt32(o, true) },
  "<i8": { bytes: 8, get: (v, o) => Number(v.getBigInt64(o, true)) },
};

/**
 * Decodes the bytes of a `.npy` file (format 1.0 to 3.0, C order) as float32: float32, float64,
 * uint8, bool, int32 and int64 arrays are read, as NumPy writes them on a little-endian machine.
 * Anything else (a pickle, Fortran order, a big-endian or complex dtype, a file cut short) is a
 * TypeError whose message says what is wrong.
 *
 * @param bytes The file's bytes.
 * @returns The values as float32 and the array's shape.
 *
 * @example
 * ```ts
 * import { decodeNpy, encodeNpy } from "./npy.ts";
 * import assert from "node:assert/strict";
 * const { data, shape } = decodeNpy(encodeNpy(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]));
 * assert.deepEqual(shape, [2, 3]);
 * assert.deepEqual([...data], [1, 2, 3, 4, 5, 6]);
 * ```
 */
export function decodeNpy(bytes: Uint8Array): { data: Float32Array; shape: number[] } {
  const fail = (why: string): never => {
    throw new TypeError(`Cannot read .npy: ${why}`);
  };
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) fail("not a NumPy .npy file");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  if (major < 1 || major > 3) fail(`format version ${major}.${bytes[7]} is not known`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLength > bytes.length) fail("the header is cut short");
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(start, start + headerLength),
  );
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail("the header has no descr, fortran_order or shape");
  }
  if (fortran === "True") fail("Fortran-ordered arrays are not read (save with C order)");
  const dtype = _DTYPES[descr!] ?? fail(
    `dtype '${descr}' is not read (float32, float64, ` +
      "uint8, bool, int32 or int64)",
  );
  const shape = shapeText!.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail(`shape (${shapeText}) is not valid`);
  const size = shape.reduce((a, b) => a * b, 1);
  const body = start + headerLength;
  if (bytes.length - body < size * dtype.bytes) {
    fail(`the data is cut short (${bytes.length - body} bytes for ${size} values)`);
  }
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = dtype.get(view, body + i * dtype.bytes);
  return { data, shape };
}
