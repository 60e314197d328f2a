import assert from "node:assert/strict";
import { tf } from "../tf.ts";
import { createMlp } from "./mlp.ts";

await tf.setBackend("cpu");

Deno.test("MLP parameter counts", () => {
  const m2 = createMlp({ kind: "mlp", timesteps: 100, outDim: 2 });
  const m4 = createMlp({ kind: "mlp", timesteps: 100, outDim: 4 });
  assert.equal(m2.paramCount(), 72066);
  assert.equal(m4.paramCount(), 72066 + 2 * 129);
  m2.dispose();
  m4.dispose();
});

Deno.test("MLP: a seed gives identical weights and outputs; another seed differs", () => {
  const a = createMlp({ kind: "mlp", timesteps: 10, outDim: 2, seed: 1 });
  const b = createMlp({ kind: "mlp", timesteps: 10, outDim: 2, seed: 1 });
  const c = createMlp({ kind: "mlp", timesteps: 10, outDim: 2, seed: 2 });
  const x = tf.randomNormal([5, 2], 0, 1, "float32", 1);
  const t = tf.tensor1d([0, 1, 2, 3, 9], "int32");
  assert.deepEqual(a.apply(x, t).dataSync(), b.apply(x, t).dataSync());
  assert.notDeepEqual(a.apply(x, t).dataSync(), c.apply(x, t).dataSync());
  assert.equal(new Set(a.variables.map((v) => v.name)).size, a.variables.length);
  assert.deepEqual(a.names, b.names);
  for (const m of [a, b, c]) m.dispose();
});

Deno.test("MLP: the timestep changes the output; outDim 4 gives 4 channels", () => {
  const m = createMlp({ kind: "mlp", timesteps: 10, outDim: 4 });
  const x = tf.zeros([2, 2]);
  const y = m.apply(x, tf.tensor1d([0, 5], "int32")).arraySync() as number[][];
  assert.equal(y[0]!.length, 4);
  assert.notDeepEqual(y[0], y[1]);
  m.dispose();
});

Deno.test("MLP: sinusoidal embedding option runs and has gradients everywhere", () => {
  const m = createMlp({ kind: "mlp", timesteps: 10, outDim: 2, timeEmbedding: "sinusoidal" });
  const x = tf.randomNormal([4, 2], 0, 1, "float32", 1);
  const t = tf.tensor1d([0, 3, 6, 9], "int32");
  const { grads } = tf.variableGrads(
    () => tf.sum(tf.square(m.apply(x, t))) as tf.Scalar,
    m.variables,
  );
  assert.equal(Object.keys(grads).length, m.variables.length);
  m.dispose();
});

Deno.test("MLP: dropout acts in training mode only", () => {
  const m = createMlp({ kind: "mlp", timesteps: 10, outDim: 2, dropout: 0.5 });
  const x = tf.randomNormal([8, 2], 0, 1, "float32", 1);
  const t = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], "int32");
  assert.deepEqual(m.apply(x, t).dataSync(), m.apply(x, t).dataSync());
  assert.notDeepEqual(m.apply(x, t, { training: true }).dataSync(), m.apply(x, t).dataSync());
  m.dispose();
});

Deno.test("MLP: wrong shapes and configs throw", () => {
  assert.throws(() => createMlp({ kind: "mlp", timesteps: 0, outDim: 2 }), RangeError);
  assert.throws(() => createMlp({ kind: "mlp", timesteps: 10, outDim: 3 }), RangeError);
  const m = createMlp({ kind: "mlp", timesteps: 10, outDim: 2 });
  assert.throws(() => m.apply(tf.zeros([2, 3]), tf.tensor1d([0, 1], "int32")), TypeError);
  assert.throws(() => m.apply(tf.zeros([2, 2]), tf.tensor1d([0], "int32")), TypeError);
  m.dispose();
});

Deno.test("MLP: apply leaks no tensors", () => {
  const m = createMlp({ kind: "mlp", timesteps: 10, outDim: 2 });
  const x = tf.zeros([2, 2]);
  const t = tf.tensor1d([0, 1], "int32");
  const before = tf.memory().numTensors;
  tf.dispose(m.apply(x, t));
  assert.equal(tf.memory().numTensors, before);
  m.dispose();
  assert.equal(tf.memory().numTensors, before - 9);
});
