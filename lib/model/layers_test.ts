import assert from "node:assert/strict";
import { tf } from "../tf.ts";
import { Rng } from "../random.ts";
import { conv2d, dropout, embeddingLookup, groupNorm, timestepEmbedding } from "./layers.ts";

await tf.setBackend("cpu");

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
  }
}

Deno.test("groupNorm matches a direct per-group computation", () => {
  const [B, H, W, C, G] = [2, 3, 4, 6, 3];
  const rng = new Rng(1);
  const xs = rng.fillNormal(new Float32Array(B * H * W * C)).map((v) => 3 * v + 1);
  const gamma = Float32Array.from({ length: C }, (_, i) => 1 + i / 10);
  const beta = Float32Array.from({ length: C }, (_, i) => i / 5);
  const p = {
    gamma: tf.variable(tf.tensor1d(gamma)),
    beta: tf.variable(tf.tensor1d(beta)),
    groups: G,
  };
  const y = groupNorm(tf.tensor4d(xs, [B, H, W, C]), p).dataSync();
  const expected = new Float32Array(xs.length);
  const cg = C / G;
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < G; g++) {
      const idx: number[] = [];
      for (let s = 0; s < H * W; s++) {
        for (let j = 0; j < cg; j++) idx.push(b * H * W * C + s * C + g * cg + j);
      }
      const mean = idx.reduce((a, i) => a + xs[i]!, 0) / idx.length;
      const variance = idx.reduce((a, i) => a + (xs[i]! - mean) ** 2, 0) / idx.length;
      for (const i of idx) {
        const c = i % C;
        expected[i] = (xs[i]! - mean) / Math.sqrt(variance + 1e-5) * gamma[c]! + beta[c]!;
      }
    }
  }
  close(y, expected, 1e-4);
  tf.dispose([p.gamma, p.beta]);
});

Deno.test("conv2d stride 2 pads like PyTorch (one row/column on each side)", () => {
  // A 1 at input (0, 0): with PyTorch's padding 1, output (0, 0) sees it through kernel tap (1, 1).
  const x = tf.buffer([1, 4, 4, 1]);
  x.set(1, 0, 0, 0, 0);
  const w = new Float32Array(9).map((_, i) => i); // tap (ky, kx) has value 3 * ky + kx
  const p = {
    w: tf.variable(tf.tensor4d(w, [3, 3, 1, 1])),
    b: tf.variable(tf.zeros([1])),
    stride: 2,
    pad: 1,
  };
  const y = conv2d(x.toTensor(), p);
  assert.deepEqual(y.shape, [1, 2, 2, 1]);
  assert.deepEqual(Array.from(y.dataSync()), [4, 0, 0, 0]);
  tf.dispose([p.w, p.b]);
});

Deno.test("timestepEmbedding puts cos first and uses exp(-ln(1e4) i / half)", () => {
  const e = timestepEmbedding(tf.tensor1d([3], "int32"), 8).dataSync();
  const expected: number[] = [];
  const freqs = [0, 1, 2, 3].map((i) => Math.exp(-Math.log(10000) * i / 4));
  for (const f of freqs) expected.push(Math.cos(3 * f));
  for (const f of freqs) expected.push(Math.sin(3 * f));
  close(e, expected, 1e-6);
  assert.throws(() => timestepEmbedding(tf.tensor1d([1], "int32"), 3), RangeError);
});

Deno.test("dropout is seeded, keeps about 1 - rate and scales by 1 / (1 - rate)", () => {
  const a = dropout(tf.ones([4000]), 0.1, new Rng(5)).dataSync();
  const b = dropout(tf.ones([4000]), 0.1, new Rng(5)).dataSync();
  assert.deepEqual(a, b);
  const kept = a.filter((v) => v !== 0);
  assert.ok(kept.length > 3500 && kept.length < 3700, `kept ${kept.length}`);
  close([kept[0]!], [1 / 0.9], 1e-6);
  assert.throws(() => dropout(tf.ones([2]), 1, new Rng(1)), RangeError);
});

Deno.test("embeddingLookup's gradient equals gather's", () => {
  const table = tf.randomNormal([7, 3], 0, 1, "float32", 2);
  const t = tf.tensor1d([0, 6, 6, 2, 0], "int32");
  const w = tf.randomNormal([5, 3], 0, 1, "float32", 3);
  const f1 = (tab: tf.Tensor) => tf.sum(tf.mul(embeddingLookup(tab as tf.Tensor2D, t), w));
  const f2 = (tab: tf.Tensor) => tf.sum(tf.mul(tf.gather(tab, t), w));
  close(tf.grad(f1)(table).dataSync(), tf.grad(f2)(table).dataSync(), 1e-6);
});
