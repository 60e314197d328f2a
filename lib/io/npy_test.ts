import assert from "node:assert/strict";
import { decodeNpy, encodeNpy } from "./npy.ts";

/** A `.npy` file as NumPy writes one: version 1.0, the header padded to 64 bytes. */
function npy(descr: string, shape: string, body: Uint8Array, fortran = "False"): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 11, " ") + "\n";
  const out = new Uint8Array(total + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(body, total);
  return out;
}

Deno.test("decodeNpy reads back what encodeNpy wrote, 1-D to 4-D", () => {
  for (const shape of [[5], [2, 3], [2, 2, 2], [1, 28, 28, 1]]) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: size }, (_, i) => Math.sin(i) * 1e3);
    const back = decodeNpy(encodeNpy(data, shape));
    assert.deepEqual(back.shape, shape);
    assert.deepEqual(back.data, data);
  }
});

Deno.test("decodeNpy reads float64, uint8 and int64 arrays as NumPy writes them", () => {
  const f8 = new Float64Array([0.5, -2, 1e-3]);
  assert.deepEqual([...decodeNpy(npy("<f8", "(3,)", new Uint8Array(f8.buffer))).data], [
    0.5,
    -2,
    Math.fround(1e-3),
  ]);
  const u1 = decodeNpy(npy("|u1", "(2, 2)", new Uint8Array([0, 255, 7, 128])));
  assert.deepEqual(u1.shape, [2, 2]);
  assert.deepEqual([...u1.data], [0, 255, 7, 128]);
  const i8 = new BigInt64Array([-3n, 9n]);
  assert.deepEqual([...decodeNpy(npy("<i8", "(2,)", new Uint8Array(i8.buffer))).data], [-3, 9]);
  // A scalar: shape ().
  const s = decodeNpy(npy("<f4", "()", new Uint8Array(new Float32Array([4]).buffer)));
  assert.deepEqual(s.shape, []);
  assert.deepEqual([...s.data], [4]);
});

Deno.test("decodeNpy refuses what it cannot read, saying why", () => {
  const body = new Uint8Array(16);
  const cases: [Uint8Array, RegExp][] = [
    [new TextEncoder().encode("PNG not npy"), /not a NumPy \.npy file/],
    [npy("<f4", "(2, 2)", body, "True"), /Fortran-ordered/],
    [npy(">f4", "(4,)", body), /dtype '>f4' is not read/],
    [npy("|O", "(4,)", body), /dtype '\|O' is not read/],
    [npy("<f4", "(5,)", body), /cut short \(16 bytes for 5 values\)/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(
      () => decodeNpy(bytes),
      (e: Error) => e instanceof TypeError && message.test(e.message),
    );
  }
});
