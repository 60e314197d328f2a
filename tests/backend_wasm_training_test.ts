// Every op type the diffusion models train with, forward and backward, on the wasm backend
// against the cpu backend; then a small conv net with all of them, and an Adam step.
import assert from "node:assert/strict";
import { tf } from "../lib/tf.ts";
import { loadWasmBackend } from "../lib/backend/wasm.ts";
import { registerKernels } from "../lib/backend/kernels/mod.ts";
import { compareBackends, type ScalarFn } from "../lib/backend/_grad_check.ts";

registerKernels("cpu"); // the reference itself must be right (upsampling gradient)
await loadWasmBackend();
registerKernels("wasm");
const TOL = 1e-4;
const P1: [[number, number], [number, number], [number, number], [number, number]] = [
  [0, 0],
  [1, 1],
  [1, 1],
  [0, 0],
];

/** A fixed, non-constant weighting so that upstream gradients vary per element. */
function wsum(y: tf.Tensor): tf.Tensor {
  return tf.sum(tf.mul(y, tf.cos(tf.reshape(tf.range(0, y.size), y.shape))));
}

function groupNorm(x: tf.Tensor, groups: number, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const xg = tf.reshape(x, [b, h, w, groups, c / groups]);
  const { mean, variance } = tf.moments(xg, [1, 2, 4], true);
  const xn = tf.div(tf.sub(xg, mean), tf.sqrt(tf.add(variance, 1e-5)));
  return tf.add(tf.mul(tf.reshape(xn, [b, h, w, c]), gamma), beta);
}

const silu = (x: tf.Tensor) => tf.mul(x, tf.sigmoid(x));
// A fixed dropout mask from a seeded uniform draw (the mask is data, not a function of x).
const mask = (shape: number[], p: number) =>
  tf.cast(tf.greater(tf.randomUniform(shape, 0, 1, "float32", 5), p), "float32");

const cases: [string, ScalarFn, number[][]][] = [
  [
    "conv2d 3x3 stride 1 pad 1",
    (x, w) => wsum(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, P1)),
    [[2, 6, 6, 3], [3, 3, 3, 4]],
  ],
  [
    "conv2d 3x3 stride 2 pad 1",
    (x, w) => wsum(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, P1)),
    [[2, 7, 7, 3], [3, 3, 3, 4]],
  ],
  [
    "conv2d 1x1 + bias",
    (x, w, b) => wsum(tf.add(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "valid"), b!)),
    [[2, 5, 5, 4], [1, 1, 4, 6], [6]],
  ],
  ["matMul", (a, b) => wsum(tf.matMul(a!, b!)), [[5, 4], [4, 3]]],
  [
    "batchMatMul, transposeB (attention scores)",
    (q, k) => wsum(tf.matMul(q!, k!, false, true)),
    [[2, 6, 4], [2, 5, 4]],
  ],
  [
    "attention: softmax(qkᵀ/√c)·v",
    (q, k, v) => {
      const a = tf.softmax(tf.div(tf.matMul(q!, k!, false, true), Math.sqrt(4)));
      return wsum(tf.matMul(a, v!));
    },
    [[2, 6, 4], [2, 6, 4], [2, 6, 4]],
  ],
  [
    "group norm (moments, sqrt, div) + SiLU",
    (x, g, b) => wsum(silu(groupNorm(x!, 2, g!, b!))),
    [[2, 3, 3, 4], [4], [4]],
  ],
  ["mean, variance via moments", (x) => {
    const { mean, variance } = tf.moments(x!, [0, 1]);
    return tf.add(wsum(mean), wsum(variance));
  }, [[3, 4, 5]]],
  ["relu, square, sum", (x) => tf.sum(tf.square(tf.relu(x!))), [[4, 5]]],
  ["exp, log, sqrt, clipByValue", (x) => {
    const e = tf.exp(tf.clipByValue(x!, -2, 2));
    return wsum(tf.add(tf.log(tf.add(e, 1)), tf.sqrt(tf.add(tf.square(x!), 1))));
  }, [[4, 5]]],
  ["dropout mask (where/greater) and scale", (x) => {
    const m = mask([4, 5], 0.3);
    return wsum(tf.where(tf.cast(m, "bool"), tf.div(x!, 0.7), tf.zerosLike(x!)));
  }, [[4, 5]]],
  [
    "resizeNearestNeighbor ×2 (and its gradient)",
    (x) => wsum(tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [8, 6])),
    [[2, 4, 3, 2]],
  ],
  ["gather (embedding) and its gradient", (e) => {
    return wsum(tf.gather(e!, tf.tensor1d([3, 0, 3, 2], "int32")));
  }, [[5, 6]]],
  ["concat, reshape, transpose, split", (a, b) => {
    const c = tf.concat([a!, b!], -1);
    const t = tf.transpose(tf.reshape(c, [2, 4, 4, 3]), [0, 3, 1, 2]);
    const [p, q] = tf.split(t, [1, 2], 1);
    return tf.add(wsum(p!), wsum(tf.square(q!)));
  }, [[2, 4, 4, 2], [2, 4, 4, 1]]],
  [
    "sinusoidal embedding (cos, sin, concat)",
    (t) => wsum(tf.concat([tf.cos(tf.mul(t!, 0.3)), tf.sin(tf.mul(t!, 0.3))], -1)),
    [[3, 4]],
  ],
  [
    "mean squared error",
    (a, b) => tf.losses.meanSquaredError(a!, b!) as tf.Tensor,
    [[4, 3], [4, 3]],
  ],
];

for (const [name, f, shapes] of cases) {
  Deno.test(`wasm vs cpu, forward and gradients: ${name}`, async () => {
    const { diff, worst } = await compareBackends("wasm", "cpu", f, shapes);
    assert.ok(diff < TOL, `${worst} differs by ${diff}`);
  });
}

/** A small UNet-like net over all those ops, parameters passed in (so every one gets a grad). */
const netShapes: number[][] = [
  [2, 8, 8, 1], // x
  [3, 3, 1, 8], // conv_in
  [8], // conv_in bias
  [8], // gn gamma
  [8], // gn beta
  [3, 3, 8, 8], // down conv stride 2
  [10, 8], // time embedding table
  [1, 1, 8, 24], // qkv
  [3, 3, 16, 8], // up conv after concat
  [3, 3, 8, 1], // conv_out
];

const smallNet: ScalarFn = (x, wIn, bIn, gamma, beta, wDown, emb, wQkv, wUp, wOut) => {
  let h = tf.add(tf.conv2d(x as tf.Tensor4D, wIn as tf.Tensor4D, 1, P1), bIn!); // [2,8,8,8]
  const skip = h;
  h = silu(groupNorm(h, 2, gamma!, beta!));
  const t = tf.gather(emb!, tf.tensor1d([3, 7], "int32")); // [2, 8]
  h = tf.add(h, tf.reshape(t, [2, 1, 1, 8]));
  h = tf.conv2d(h as tf.Tensor4D, wDown as tf.Tensor4D, 2, P1); // [2,4,4,8]
  // attention at 4x4
  const qkv = tf.reshape(tf.conv2d(h as tf.Tensor4D, wQkv as tf.Tensor4D, 1, "valid"), [2, 16, 24]);
  const [q, k, v] = tf.split(qkv, 3, -1);
  const a = tf.softmax(tf.div(tf.matMul(q!, k!, false, true), Math.sqrt(8)));
  h = tf.add(h, tf.reshape(tf.matMul(a, v!), [2, 4, 4, 8]));
  h = tf.image.resizeNearestNeighbor(h as tf.Tensor4D, [8, 8]);
  h = tf.mul(h, mask([2, 8, 8, 8], 0.1));
  h = tf.conv2d(tf.concat([h, skip], -1) as tf.Tensor4D, wUp as tf.Tensor4D, 1, P1);
  h = tf.relu(h);
  const out = tf.conv2d(h as tf.Tensor4D, wOut as tf.Tensor4D, 1, P1);
  return tf.losses.meanSquaredError(x!, out) as tf.Tensor;
};

Deno.test("wasm vs cpu: a small conv net with every op, loss and all gradients", async () => {
  const { diff, worst } = await compareBackends("wasm", "cpu", smallNet, netShapes, 3, "norm");
  assert.ok(diff < TOL, `${worst} differs by ${diff}`);
});

Deno.test("wasm vs cpu: three Adam steps on the small net give the same losses", async () => {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const values = netShapes.map((s, i) =>
      tf.mul(tf.randomNormal(s, 0, 1, "float32", 11 + i), i === 0 ? 1 : 0.3)
    );
    const x = values[0]!;
    const params = values.slice(1).map((t) => tf.variable(t));
    const opt = tf.train.adam(1e-2);
    const losses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const loss = opt.minimize(() => smallNet(x, ...params) as tf.Scalar, true)!;
      losses.push((await loss.data())[0]!);
      loss.dispose();
    }
    opt.dispose();
    tf.dispose([...values, ...params]);
    return losses;
  };
  const w = await run("wasm");
  const c = await run("cpu");
  w.forEach((l, i) => assert.ok(Math.abs(l - c[i]!) < TOL * (1 + Math.abs(c[i]!)), `${l} ${c[i]}`));
  assert.ok(w[2]! < w[0]!, `loss should fall: ${w}`);
});
