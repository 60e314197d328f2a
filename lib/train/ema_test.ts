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
