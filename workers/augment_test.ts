import assert from "node:assert/strict";
import { Rng } from "../lib/random.ts";
import { augmentDigit, dequantizeImage, jitterPoints, warpImage } from "./augment.ts";

function _pattern(side: number): Float32Array {
  const a = new Float32Array(side * side);
  for (let i = 0; i < a.length; i++) a[i] = ((i * 37) % 101) / 50 - 1;
  return a;
}

Deno.test("warpImage: integer shifts move pixels exactly and fill with -1", () => {
  const src = _pattern(5);
  const out = warpImage(src, new Float32Array(25), 5, 2, -1, 0);
  for (let y = 0; y < 5; y++) {
    for (let x = 0; x < 5; x++) {
      const sx = x - 2, sy = y + 1;
      const want = sx >= 0 && sx < 5 && sy < 5 ? src[sy * 5 + sx]! : -1;
      assert.equal(out[y * 5 + x], want, `pixel ${x},${y}`);
    }
  }
});

Deno.test("warpImage: 90 and 360 degree turns are exact; small turns stay in range", () => {
  const side = 6, src = _pattern(side);
  const turned = warpImage(src, new Float32Array(36), side, 0, 0, 90);
  // Counter-clockwise on screen: the right column becomes the top row.
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const want = src[x * side + (side - 1 - y)]!;
      assert.ok(Math.abs(turned[y * side + x]! - want) < 1e-5, `pixel ${x},${y}`);
    }
  }
  const full = warpImage(src, new Float32Array(36), side, 0, 0, 360);
  for (let i = 0; i < 36; i++) assert.ok(Math.abs(full[i]! - src[i]!) < 1e-5);
  const small = warpImage(src, new Float32Array(36), side, 1, 1, 7);
  assert.ok(small.every((v) => v >= -1 && v <= 1));
  assert.notDeepEqual(small, src);
  assert.throws(() => warpImage(src, new Float32Array(35), side, 0, 0, 0), TypeError);
});

Deno.test("dequantizeImage: level k lands in its own bin [(k)/256, (k+1)/256) mapped to [-1, 1)", () => {
  const rng = new Rng(4);
  for (const k of [0, 1, 100, 254, 255]) {
    const img = dequantizeImage(new Float32Array(200).fill((2 * k) / 255 - 1), rng);
    const lo = (2 * k) / 256 - 1, hi = (2 * (k + 1)) / 256 - 1;
    let mean = 0;
    for (const v of img) {
      assert.ok(v >= lo - 1e-6 && v < hi + 1e-6, `level ${k}: ${v} outside [${lo}, ${hi})`);
      mean += v / img.length;
    }
    assert.ok(Math.abs(mean - (lo + hi) / 2) < 0.2 * (hi - lo), `level ${k}: mean ${mean}`);
  }
});

Deno.test("augmentDigit: seeded, bounded, identity when everything is off", () => {
  const src = _pattern(28);
  const aug = { translate: 2, rotate: 10, dequantize: true };
  const a = augmentDigit(src, new Float32Array(784), new Rng(9, 1), aug);
  const b = augmentDigit(src, new Float32Array(784), new Rng(9, 1), aug);
  const c = augmentDigit(src, new Float32Array(784), new Rng(9, 2), aug);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.ok(a.every((v) => v >= -1 && v < 1));
  const rng = new Rng(1);
  const before = rng.getState();
  assert.deepEqual(augmentDigit(src, new Float32Array(784), rng, {}), src);
  assert.deepEqual(rng.getState(), before, "no augmentation must draw nothing");
});

Deno.test("augmentDigit: translations stay within k pixels", () => {
  // A single bright pixel in the middle moves to within 2 pixels of where it was.
  const src = new Float32Array(784).fill(-1);
  src[14 * 28 + 14] = 1;
  const seen = new Set<string>();
  for (let s = 0; s < 200; s++) {
    const out = augmentDigit(src, new Float32Array(784), new Rng(s), { translate: 2 });
    const at = out.indexOf(1);
    const dx = (at % 28) - 14, dy = Math.floor(at / 28) - 14;
    assert.ok(Math.abs(dx) <= 2 && Math.abs(dy) <= 2);
    seen.add(`${dx},${dy}`);
  }
  assert.equal(seen.size, 25);
});

Deno.test("jitterPoints: adds noise of the given std", () => {
  const p = jitterPoints(new Float32Array(20_000), new Rng(3), 0.05);
  let v = 0;
  for (const x of p) v += (x * x) / p.length;
  assert.ok(Math.abs(Math.sqrt(v) - 0.05) < 0.002);
});
