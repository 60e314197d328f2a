/**
 * NumPy `.npy` (format version 1.0) encoding of float32 arrays, so that Python tools can read
 * what `deno task sample` writes with `numpy.load`.
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
