import assert from "node:assert/strict";
import { encode } from "fast-png";
import { encodeNpy } from "../io/npy.ts";
import { decodeNpyGrey, decodePngGrey, readGreyImage } from "./grey.ts";

Deno.test("decodePngGrey: grey, grey with alpha, RGBA, 16 and 1 bits", () => {
  const grey = decodePngGrey(
    encode({ width: 2, height: 1, channels: 1, depth: 8, data: new Uint8Array([0, 51]) }),
  );
  assert.deepEqual([...grey.data], [0, Math.fround(0.2)]);
  const ga = decodePngGrey(
    encode({ width: 1, height: 1, channels: 2, depth: 8, data: new Uint8Array([255, 51]) }),
  );
  assert.ok(Math.abs(ga.data[0]! - 0.2) < 1e-6); // laid over black
  const rgba = decodePngGrey(
    encode({ width: 1, height: 1, channels: 4, depth: 8, data: new Uint8Array([0, 255, 0, 255]) }),
  );
  assert.ok(Math.abs(rgba.data[0]! - 0.587) < 1e-6);
  const deep = decodePngGrey(
    encode({ width: 1, height: 1, channels: 1, depth: 16, data: new Uint16Array([65535]) }),
  );
  assert.equal(deep.data[0], 1);
  // 1-bit grey, 10 pixels a row (two bytes, padded).
  const bits = decodePngGrey(
    encode({
      width: 10,
      height: 2,
      channels: 1,
      depth: 1,
      data: new Uint8Array([0b10100000, 0b01000000, 0, 0b11000000]),
    }),
  );
  assert.deepEqual([...bits.data], [1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
  assert.throws(() => decodePngGrey(new Uint8Array([1, 2, 3])), TypeError);
});

Deno.test("decodeNpyGrey: [0, 1] and [0, 255] values; bad shapes and ranges", () => {
  assert.deepEqual([...decodeNpyGrey(encodeNpy(new Float32Array([0, 0.5]), [1, 2])).data], [
    0,
    0.5,
  ]);
  assert.deepEqual([...decodeNpyGrey(encodeNpy(new Float32Array([0, 255]), [1, 2])).data], [0, 1]);
  assert.throws(() => decodeNpyGrey(encodeNpy(new Float32Array([-1, 1]), [1, 2])), /\[-1, 1\]/);
  assert.throws(() => decodeNpyGrey(encodeNpy(new Float32Array([0, 256]), [1, 2])), /0, 255/);
  assert.throws(() => decodeNpyGrey(encodeNpy(new Float32Array(4), [4])), /\[H, W\]/);
});

Deno.test("readGreyImage: the model's [-1, 1], and the size checked", () => {
  const png = encode({
    width: 2,
    height: 2,
    channels: 1,
    depth: 8,
    data: new Uint8Array([0, 255, 255, 0]),
  });
  assert.deepEqual([...readGreyImage(png, "x.PNG", [2, 2])], [-1, 1, 1, -1]);
  assert.throws(
    () => readGreyImage(png, "x.png", [28, 28]),
    /expected a 28x28 grey image, got 2x2/,
  );
});
