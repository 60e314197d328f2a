import assert from "node:assert/strict";
import { tf } from "../tf.ts";
import { Adam } from "./adam.ts";

await tf.setBackend("cpu");

Deno.test("Adam follows PyTorch's update over several steps, with a gradient scale", () => {
  const w0 = [0.5, -1, 2];
  const grads = [[0.1, -0.2, 0.3], [1, 0.5, -0.5], [-0.3, 0.2, 0.1]];
  const scales = [1, 0.5, 0.25];
  const lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const w = tf.variable(tf.tensor1d(w0));
  const adam = new Adam([w]);
  const ref = w0.slice(), m = [0, 0, 0], v = [0, 0, 0];
  grads.forEach((g, s) => {
    tf.tidy(() => adam.update([tf.tensor1d(g)], lr, tf.scalar(scales[s]!)));
    const step = s + 1;
    for (let i = 0; i < 3; i++) {
      const gi = g[i]! * scales[s]!;
      m[i] = b1 * m[i]! + (1 - b1) * gi;
      v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
      const denom = Math.sqrt(v[i]!) / Math.sqrt(1 - b2 ** step) + eps;
      ref[i] = ref[i]! - lr / (1 - b1 ** step) * m[i]! / denom;
    }
  });
  const got = w.dataSync();
  for (let i = 0; i < 3; i++) {
    assert.ok(Math.abs(got[i]! - ref[i]!) < 1e-6, `${got[i]} vs ${ref[i]}`);
  }
  assert.equal(adam.step, 3);
  adam.dispose();
  w.dispose();
});

Deno.test("Adam state round-trips and the restored optimiser continues identically", () => {
  const a = tf.variable(tf.tensor1d([1, 2])), b = tf.variable(tf.tensor1d([1, 2]));
  const oa = new Adam([a]), ob = new Adam([b]);
  const g = tf.tensor1d([0.3, -0.7]);
  oa.update([g], 0.1);
  oa.update([g], 0.1);
  ob.setState(oa.getState());
  b.assign(a);
  oa.update([g], 0.1);
  ob.update([g], 0.1);
  assert.deepEqual(a.dataSync(), b.dataSync());
  assert.equal(ob.step, 3);
  assert.throws(() => ob.setState({ step: 1, m: [], v: [] }), TypeError);
  assert.throws(() => ob.update([], 0.1), TypeError);
  oa.dispose();
  ob.dispose();
});
