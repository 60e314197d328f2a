import assert from "node:assert/strict";
import {
  decodeSafetensors,
  encodeSafetensors,
  f32Tensor,
  float32Of,
  SafetensorsError,
  type SafetensorsTensor,
} from "./safetensors.ts";

function _file(header: unknown, data: Uint8Array = new Uint8Array(0), pad = 0): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header) + " ".repeat(pad));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

Deno.test("safetensors: a round trip keeps names, order, dtypes, shapes, bytes and metadata", () => {
  const w = new Float32Array(24).map((_, i) => Math.sin(i) * 1e3);
  w[3] = -0;
  w[4] = 1.401298464324817e-45; // the smallest subnormal
  const ints = new Uint8Array(new Int32Array([1, -2, 3]).buffer);
  const tensors = new Map<string, SafetensorsTensor>([
    ["z.weight", f32Tensor(w, [2, 3, 2, 2])],
    ["a.index", { dtype: "I32", shape: [3], data: ints }],
    ["scalar", f32Tensor(new Float32Array([7]), [])],
    ["empty", f32Tensor(new Float32Array(0), [0, 4])],
  ]);
  const bytes = encodeSafetensors(tensors, { format: "pt", step: "12" });
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.deepEqual(headerLength % 8, 0, "the data starts 8-byte aligned");
  const back = decodeSafetensors(bytes);
  assert.deepEqual([...back.tensors.keys()], ["z.weight", "a.index", "scalar", "empty"]);
  assert.deepEqual(back.metadata, { format: "pt", step: "12" });
  const got = float32Of(back.tensors.get("z.weight")!, "z.weight");
  assert.deepEqual(new Uint8Array(got.buffer), new Uint8Array(w.buffer), "bit-identical");
  assert.deepEqual(back.tensors.get("a.index")!.dtype, "I32");
  assert.deepEqual(back.tensors.get("scalar")!.shape, []);
  assert.deepEqual(back.tensors.get("empty")!.shape, [0, 4]);
  assert.deepEqual(
    encodeSafetensors(back.tensors, back.metadata),
    bytes,
    "re-encoding is identical",
  );
});

Deno.test("safetensors: reads files written by others (unsorted offsets, no metadata)", () => {
  const data = new Uint8Array(new Float32Array([1, 2, 3]).buffer);
  const file = _file(
    {
      b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
      a: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
    },
    data,
    3,
  );
  const back = decodeSafetensors(file);
  assert.deepEqual([...back.tensors.keys()], ["a", "b"]);
  assert.deepEqual(Array.from(float32Of(back.tensors.get("b")!, "b")), [2, 3]);
  assert.deepEqual(back.metadata, {});
});

Deno.test("safetensors: bad files are refused with one-line messages", () => {
  const f32 = (n: number) => new Uint8Array(4 * n);
  const cases: [string, Uint8Array, RegExp][] = [
    ["too short", new Uint8Array(5), /shorter than the 8-byte header length/],
    ["a zip file", new TextEncoder().encode("PK\u0003\u0004 and then some bytes"), /header length/],
    [
      "header past the end",
      _file({}).subarray(0, 9),
      /header length is 2 bytes but the file has 1/,
    ],
    [
      "not JSON",
      (() => {
        const f = _file({ a: 1 });
        f[9] = 0x78;
        return f;
      })(),
      /not JSON/,
    ],
    ["not an object", _file([1, 2]), /does not start with '\{'|not a JSON object/],
    [
      "unknown dtype",
      _file({ a: { dtype: "F8", shape: [1], data_offsets: [0, 1] } }, f32(1)),
      /unknown dtype "F8"/,
    ],
    [
      "bad shape",
      _file({ a: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, f32(1)),
      /bad shape/,
    ],
    [
      "size mismatch",
      _file({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, f32(2)),
      /needs 12 bytes, its offsets span 8/,
    ],
    [
      "past the end",
      _file({ a: { dtype: "F32", shape: [3], data_offsets: [0, 12] } }, f32(2)),
      /past the data/,
    ],
    ["hole", _file({ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, f32(2)), /a hole/],
    [
      "overlap",
      _file({
        a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
        b: { dtype: "F32", shape: [1], data_offsets: [4, 8] },
      }, f32(2)),
      /overlaps/,
    ],
    [
      "trailing bytes",
      _file({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, f32(2)),
      /4 bytes after the last tensor/,
    ],
    [
      "metadata not strings",
      _file({ __metadata__: { step: 3 } }),
      /__metadata__ "step" is not a string/,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    assert.throws(() => decodeSafetensors(bytes), (e: Error) => {
      assert.ok(e instanceof SafetensorsError, what);
      assert.match(e.message, message, what);
      assert.ok(!e.message.includes("\n"), `${what}: one line`);
      return true;
    });
  }
});

Deno.test("safetensors: encoding refuses what it cannot write", () => {
  assert.throws(
    () => encodeSafetensors({ a: { dtype: "F32", shape: [2], data: new Uint8Array(4) } }),
    /needs 8 bytes, got 4/,
  );
  assert.throws(
    () => encodeSafetensors({ __metadata__: f32Tensor(new Float32Array(1), [1]) }),
    SafetensorsError,
  );
  assert.throws(
    () => float32Of({ dtype: "F16", shape: [1], data: new Uint8Array(2) }, "h"),
    /tensor "h" has dtype F16, expected F32/,
  );
});
