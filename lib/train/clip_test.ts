import assert from "node:assert/strict";
import { tf } from "../tf.ts";
import { clipCoefficient, globalNorm } from "./clip.ts";

await tf.setBackend("cpu");

Deno.test("globalNorm and clipCoefficient", () => {
  const n = globalNorm([tf.tensor1d([1, 2]), tf.tensor2d([[2]]), tf.tensor1d([4])]);
  assert.equal(n.dataSync()[0], 5);
  assert.ok(Math.abs(clipCoefficient(n, 2).dataSync()[0]! - 0.4) < 1e-6);
  assert.equal(clipCoefficient(n, 10).dataSync()[0], 1);
  assert.equal(clipCoefficient(n, 0).dataSync()[0], 1);
  assert.equal(clipCoefficient(n, Infinity).dataSync()[0], 1);
  assert.throws(() => clipCoefficient(n, -1), RangeError);
  assert.throws(() => globalNorm([]), RangeError);
});
