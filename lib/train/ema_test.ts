import assert from "node:assert/strict";
import { tf } from "../tf.ts";
import { emaDecay, emaUpdate } from "./ema.ts";

await tf.setBackend("cpu");

Deno.test("emaDecay warms up as (1 + n) / (10 + n) and caps at the rate", () => {
  assert.equal(emaDecay(0.9999, 0), 0.1);
  assert.equal(emaDecay(0.9999, 10), 11 / 20);
  assert.equal(emaDecay(0.5, 100), 0.5);
  assert.throws(() => emaDecay(1.5, 0), RangeError);
});

Deno.test("emaUpdate mixes in place without leaking", () => {
  const e = tf.variable(tf.tensor1d([1, 1]));
  const w = tf.tensor1d([3, 5]);
  const before = tf.memory().numTensors;
  emaUpdate([e], [w], 0.75);
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(Array.from(e.dataSync()), [1.5, 2]);
  assert.throws(() => emaUpdate([e], [], 0.5), TypeError);
});

Deno.test("emaUpdate never writes through to the caller's arrays or shared tensors", () => {
  const data = new Float32Array([2, 4]);
  const init = tf.tensor1d(data); // on cpu, shares the array `data`
  const e = tf.variable(init);
  init.dispose();
  const f = tf.variable(tf.tensor1d([2, 4]));
  const alias = tf.clone(f);
  emaUpdate([e, f], [tf.tensor1d([0, 0]), tf.tensor1d([0, 0])], 0.5);
  assert.deepEqual(Array.from(e.dataSync()), [1, 2]);
  assert.deepEqual(Array.from(f.dataSync()), [1, 2]);
  assert.deepEqual(Array.from(data), [2, 4]);
  assert.deepEqual(Array.from(alias.dataSync()), [2, 4]);
});
