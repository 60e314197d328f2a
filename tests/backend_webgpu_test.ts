// The webgpu backend (Deno's WebGPU; here Mesa's llvmpipe software adapter) against cpu on small
// shapes. Without any WebGPU adapter this fails, with the reason: it is not skipped.
import assert from "node:assert/strict";
import { tf } from "../lib/tf.ts";
import { registerKernels } from "../lib/backend/kernels/mod.ts";
import { loadWebgpuBackend } from "../lib/backend/webgpu.ts";
import { compareBackends, type ScalarFn } from "../lib/backend/_grad_check.ts";

registerKernels("cpu");
const TOL = 1e-3;
const P1: [[number, number], [number, number], [number, number], [number, number]] = [
  [0, 0],
  [1, 1],
  [1, 1],
  [0, 0],
];

let webgpuDetail = "";
Deno.test("webgpu backend loads", async () => {
  webgpuDetail = await loadWebgpuBackend(); // throws "Cannot use backend 'webgpu': ..." if not
  assert.match(webgpuDetail, /^webgpu \(/);
  assert.equal(tf.getBackend(), "webgpu");
});

const silu = (x: tf.Tensor) => tf.mul(x, tf.sigmoid(x));

/** conv → group-norm-like moments → SiLU → stride-2 conv → upsample → concat → conv → MSE. */
const convNet: ScalarFn = (x, w1, w2, w3) => {
  const h1 = tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, P1);
  const { mean, variance } = tf.moments(h1, [1, 2], true);
  const h = silu(tf.div(tf.sub(h1, mean), tf.sqrt(tf.add(variance, 1e-5))));
  const d = tf.conv2d(h as tf.Tensor4D, w2 as tf.Tensor4D, 2, P1);
  const u = tf.image.resizeNearestNeighbor(d as tf.Tensor4D, [6, 6]);
  const out = tf.conv2d(tf.concat([u, h], -1) as tf.Tensor4D, w3 as tf.Tensor4D, 1, P1);
  return tf.losses.meanSquaredError(x!, out) as tf.Tensor;
};

/** The 2-D model's shape: 3 × (dense + embedding(t) + ReLU), then dense; MSE. */
const mlp: ScalarFn = (x, w1, w2, w3, w4, emb) => {
  const e = tf.gather(emb!, tf.tensor1d([0, 3, 7, 3, 9, 1], "int32"));
  let h = tf.relu(tf.add(tf.matMul(x!, w1!), e));
  h = tf.relu(tf.add(tf.matMul(h, w2!), e));
  h = tf.relu(tf.add(tf.matMul(h, w3!), e));
  return tf.losses.meanSquaredError(x!, tf.matMul(h, w4!)) as tf.Tensor;
};

Deno.test("webgpu vs cpu: tiny conv net, loss and gradients", async () => {
  assert.ok(webgpuDetail, "webgpu did not load");
  const { diff, worst } = await compareBackends(
    "webgpu",
    "cpu",
    convNet,
    [[2, 6, 6, 1], [3, 3, 1, 4], [3, 3, 4, 4], [3, 3, 8, 1]],
    4,
    "norm",
  );
  assert.ok(diff < TOL, `${worst} differs by ${diff} on ${webgpuDetail}`);
});

Deno.test("webgpu vs cpu: MLP (dense, embedding, ReLU), loss and gradients", async () => {
  assert.ok(webgpuDetail, "webgpu did not load");
  const { diff, worst } = await compareBackends(
    "webgpu",
    "cpu",
    mlp,
    [[6, 2], [2, 16], [16, 16], [16, 16], [16, 2], [10, 16]],
    5,
    "norm",
  );
  assert.ok(diff < TOL, `${worst} differs by ${diff} on ${webgpuDetail}`);
});
