import assert from "node:assert/strict";
import { tf } from "../tf.ts";
import { loadWasmBackend } from "../backend/wasm.ts";
import { initBackend } from "../backend/mod.ts";
import { emaUpdate } from "./ema.ts";
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

function _noWriteThrough(): void {
  const data = new Float32Array([1, 2]);
  const init = tf.tensor1d(data); // on cpu, shares the array `data`
  const w = tf.variable(init);
  init.dispose();
  const other = tf.variable(tf.tensor1d([1, 2]));
  const alias = tf.clone(other); // shares other's memory
  const adam = new Adam([w, other]);
  const m = new Float32Array([0.5, 0.5]), v = new Float32Array([1, 1]);
  adam.setState({ step: 1, m: [m, m], v: [v, v] });
  const g = tf.tensor1d([0.3, -0.7]);
  adam.update([g, g], 0.1);
  assert.deepEqual(Array.from(m), [0.5, 0.5]);
  assert.deepEqual(Array.from(v), [1, 1]);
  assert.deepEqual(Array.from(alias.dataSync()), [1, 2]);
  assert.deepEqual(Array.from(data), [1, 2]);
  assert.notDeepEqual(Array.from(w.dataSync()), [1, 2]);
  assert.deepEqual(w.dataSync(), other.dataSync());
  const before = tf.memory().numTensors;
  adam.update([g, g], 0.1, tf.scalar(0.5));
  assert.equal(tf.memory().numTensors, before + 1); // the scale above
  adam.dispose();
  tf.dispose([w, other, alias, g]);
}

Deno.test("Adam in place: state arrays and shared weights are never written through", async () => {
  _noWriteThrough(); // tfjs ops (no kernels registered yet)
  for (const backend of ["cpu", "wasm"] as const) {
    await initBackend(backend, { native: true }); // the fused kernels
    _noWriteThrough();
  }
  await initBackend("cpu", { native: false });
});

Deno.test("Adam and the EMA on wasm: matrix products see the new weights (no stale caches)", async () => {
  // Plain tfjs ops first; then the fused kernels without and with the native ones.
  for (const setup of ["plain", "kernels", "native"] as const) {
    if (setup === "plain") await loadWasmBackend();
    else await initBackend("wasm", { native: setup === "native" });
    try {
      const init = Float32Array.from({ length: 24 }, (_, i) => i / 10 - 1);
      const variable = () => {
        const t = tf.tensor2d(init, [4, 6]);
        const v = tf.variable(t);
        t.dispose(); // the variable alone holds the data
        return v;
      };
      const w = variable(), e = variable();
      const x = tf.tensor2d(Float32Array.from({ length: 12 }, (_, i) => i / 5 - 1), [3, 4]);
      const bias = tf.zeros([6]);
      // XNNPACK packs (and keeps) the second operand of a product, keyed by the tensor's data.
      const mm = (b: tf.Tensor) => tf.fused.matMul({ a: x, b: b as tf.Tensor2D, bias });
      const fresh = (v: tf.Tensor) => mm(tf.tensor(v.dataSync().slice(), v.shape));
      tf.dispose([mm(w), mm(e)]);
      const adam = new Adam([w]);
      for (let i = 0; i < 2; i++) {
        adam.update([tf.ones([4, 6])], 0.5);
        emaUpdate([e], [tf.zeros([4, 6])], 0.5);
        assert.deepEqual(mm(w).dataSync(), fresh(w).dataSync(), setup);
        assert.deepEqual(mm(e).dataSync(), fresh(e).dataSync(), setup);
      }
      adam.dispose();
    } finally {
      await initBackend("cpu", { native: false });
    }
  }
});

Deno.test("Adam: the fused kernels give the same bits on cpu and wasm, with and without C", async () => {
  const init = Float32Array.from({ length: 70 }, (_, i) => Math.sin(i));
  const grad = Float32Array.from({ length: 70 }, (_, i) => Math.cos(i * 0.7));
  const results: Float32Array[] = [];
  for (const backend of ["cpu", "wasm"] as const) {
    for (const native of [false, true]) {
      await initBackend(backend, { native });
      const w = tf.tidy(() => tf.variable(tf.tensor2d(init, [7, 10])));
      const adam = new Adam([w]);
      for (let i = 0; i < 3; i++) {
        tf.tidy(() => adam.update([tf.tensor2d(grad, [7, 10])], 0.01, tf.scalar(0.5)));
      }
      results.push((w.dataSync() as Float32Array).slice());
      adam.dispose();
      w.dispose();
    }
  }
  await initBackend("cpu", { native: false });
  for (const r of results) assert.deepEqual(r, results[0]);
});
