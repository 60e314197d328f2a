// DiffusionAdamUpdate (JavaScript and C) against Adam composed of tfjs ops, on cpu and wasm: the
// same float32 operations in the same order, so the same bits in every configuration.
import assert from "node:assert/strict";
import { tf } from "../../tf.ts";
import { Rng } from "../../random.ts";
import { initBackend } from "../mod.ts";
import { type AdamUpdateParams, fusedAdamUpdate } from "../ops/optimizer.ts";

const SHAPES = [[3], [17, 5], [128], [1], [9, 9]];
const P: AdamUpdateParams = {
  beta1: 0.9,
  beta2: 0.999,
  c1: 0.1 * 0.7,
  c2: 0.001 * 0.49,
  stepSize: 1e-3 * Math.sqrt(1 - 0.999 ** 2) / (1 - 0.9 ** 2),
  epsHat: 1e-8 * Math.sqrt(1 - 0.999 ** 2),
};

function _draw(seed: number, scale: number, positive = false): Float32Array[] {
  const rng = new Rng(seed, 1);
  return SHAPES.map((s) => {
    const a = rng.fillNormal(new Float32Array(s.reduce((x, y) => x * y, 1)));
    return a.map((x) => positive ? Math.abs(x) * scale : x * scale);
  });
}

const W = _draw(1, 1), M = _draw(2, 0.1), V = _draw(3, 0.01, true), G = _draw(4, 0.5);

/** Two updates composed of tfjs ops (float32 arithmetic), on the cpu backend. */
function _reference(): Float32Array[][] {
  return tf.tidy(() => {
    let w = W.map((a, i) => tf.tensor(a, SHAPES[i]));
    let m = M.map((a, i) => tf.tensor(a, SHAPES[i]));
    let v = V.map((a, i) => tf.tensor(a, SHAPES[i]));
    for (let step = 0; step < 2; step++) {
      const g = G.map((a, i) => tf.mul(tf.tensor(a, SHAPES[i]), step + 1));
      m = m.map((mi, i) => tf.add(tf.mul(mi, P.beta1), tf.mul(g[i]!, P.c1)));
      v = v.map((vi, i) => tf.add(tf.mul(vi, P.beta2), tf.mul(tf.square(g[i]!), P.c2)));
      w = w.map((wi, i) =>
        tf.sub(wi, tf.div(tf.mul(m[i]!, P.stepSize), tf.add(tf.sqrt(v[i]!), P.epsHat)))
      );
    }
    return [w, m, v].map((ts) => ts.map((t) => t.dataSync() as Float32Array));
  });
}

/** Two fused updates on the current backend; a clone of w[0] must keep the old values. */
function _fused(): Float32Array[][] {
  const vars = (arrays: Float32Array[]) =>
    arrays.map((a, i) => tf.tidy(() => tf.variable(tf.tensor(a.slice(), SHAPES[i]), false)));
  const w = vars(W), m = vars(M), v = vars(V);
  const alias = tf.clone(w[0]!);
  for (let step = 0; step < 2; step++) {
    const g = G.map((a, i) => tf.tidy(() => tf.mul(tf.tensor(a, SHAPES[i]), step + 1)));
    assert.ok(fusedAdamUpdate(w, m, v, g, P));
    tf.dispose(g);
  }
  assert.deepEqual(alias.dataSync(), Float32Array.from(W[0]!));
  const out = [w, m, v].map((ts) => ts.map((t) => (t.dataSync() as Float32Array).slice()));
  tf.dispose([...w, ...m, ...v, alias]);
  return out;
}

Deno.test("DiffusionAdamUpdate gives the tfjs ops' bits, in JavaScript and C, on cpu and wasm", async () => {
  await initBackend("cpu", { native: false });
  const want = _reference();
  const runs: [string, Float32Array[][]][] = [];
  for (const backend of ["cpu", "wasm"] as const) {
    for (const native of [false, true]) {
      const info = await initBackend(backend, { native });
      if (native && !/C kernels/.test(info.detail)) continue; // no C compiler here
      const before = tf.memory().numTensors;
      runs.push([`${backend}${native ? "+C" : ""}`, _fused()]);
      assert.equal(tf.memory().numTensors, before, "no tensor leaks");
    }
  }
  await initBackend("cpu", { native: false });
  assert.ok(runs.length >= 2, "JavaScript on cpu and wasm at least");
  console.log(`  compared: ${runs.map(([n]) => n).join(", ")}`);
  for (const [name, got] of runs) {
    got.forEach((group, k) =>
      group.forEach((a, i) => {
        const b = want[k]![i]!;
        for (let j = 0; j < a.length; j++) {
          const tol = 2e-6 * Math.max(1, Math.abs(b[j]!));
          assert.ok(
            Math.abs(a[j]! - b[j]!) <= tol,
            `${name} ${"wmv"[k]}[${i}][${j}]: ${a[j]} vs ${b[j]}`,
          );
        }
        assert.deepEqual(a, runs[0]![1][k]![i], `${name} vs ${runs[0]![0]}: same bits`);
      })
    );
  }
});

Deno.test("fusedAdamUpdate declines other dtypes and mismatched lists", async () => {
  await initBackend("cpu", { native: false });
  const w = tf.variable(tf.zeros([2])), m = tf.variable(tf.zeros([2]));
  const v = tf.variable(tf.zeros([2]));
  assert.equal(fusedAdamUpdate([w], [m], [v], [tf.zeros([3])], P), false);
  assert.equal(fusedAdamUpdate([w], [m], [v], [tf.zeros([2], "int32")], P), false);
  assert.equal(fusedAdamUpdate([], [], [], [], P), false);
  tf.dispose([w, m, v]);
});
