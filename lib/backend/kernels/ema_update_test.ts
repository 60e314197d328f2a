// DiffusionEmaUpdate (JavaScript and C) against the EMA composed of tfjs ops, on cpu and wasm:
// within float32 rounding of the ops, and the same bits in every configuration.
import assert from "node:assert/strict";
import { tf } from "../../tf.ts";
import { Rng } from "../../random.ts";
import { initBackend } from "../mod.ts";
import { fusedEmaUpdate } from "../ops/optimizer.ts";

const SHAPES = [[3], [17, 5], [128], [1], [9, 9]];
const DECAYS = [0.1, 0.9999];

function _draw(seed: number): Float32Array[] {
  const rng = new Rng(seed, 2);
  return SHAPES.map((s) => rng.fillNormal(new Float32Array(s.reduce((x, y) => x * y, 1))));
}

const E = _draw(1), W = _draw(2);

/** Two updates composed of tfjs ops (float32 arithmetic), on the cpu backend. */
function _reference(): Float32Array[] {
  return tf.tidy(() => {
    let e = E.map((a, i) => tf.tensor(a, SHAPES[i]));
    const w = W.map((a, i) => tf.tensor(a, SHAPES[i]));
    for (const d of DECAYS) e = e.map((ei, i) => tf.add(tf.mul(ei, d), tf.mul(w[i]!, 1 - d)));
    return e.map((t) => t.dataSync() as Float32Array);
  });
}

/** Two fused updates on the current backend; a clone of e[1] must keep the old values. */
function _fused(): Float32Array[] {
  const e = E.map((a, i) => tf.tidy(() => tf.variable(tf.tensor(a.slice(), SHAPES[i]), false)));
  const w = W.map((a, i) => tf.tensor(a, SHAPES[i]));
  const alias = tf.clone(e[1]!);
  for (const d of DECAYS) assert.ok(fusedEmaUpdate(e, w, d));
  assert.deepEqual(alias.dataSync(), Float32Array.from(E[1]!));
  const out = e.map((t) => (t.dataSync() as Float32Array).slice());
  tf.dispose([...e, ...w, alias]);
  return out;
}

Deno.test("DiffusionEmaUpdate matches tfjs ops, the same bits in JavaScript and C, cpu and wasm", async () => {
  await initBackend("cpu", { native: false });
  const want = _reference();
  const runs: [string, Float32Array[]][] = [];
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
  for (const [name, got] of runs) {
    got.forEach((a, i) => {
      const b = want[i]!;
      for (let j = 0; j < a.length; j++) {
        const tol = 1e-6 * Math.max(1, Math.abs(b[j]!));
        assert.ok(Math.abs(a[j]! - b[j]!) <= tol, `${name} e[${i}][${j}]: ${a[j]} vs ${b[j]}`);
      }
      assert.deepEqual(a, runs[0]![1][i], `${name} vs ${runs[0]![0]}: same bits`);
    });
  }
});
