// DiffusionGlobalNorm (JavaScript and C) against the norm composed of tfjs ops, on cpu and wasm:
// within float32 rounding of the ops, and the same bits in every configuration.
import assert from "node:assert/strict";
import { tf } from "../../tf.ts";
import { Rng } from "../../random.ts";
import { initBackend } from "../mod.ts";
import { fusedGlobalNorm } from "../ops/optimizer.ts";

// Sizes that are and are not multiples of the 8 lanes, and one large tensor.
const SHAPES = [[3], [17, 5], [128], [1], [9, 9], [300, 257]];

Deno.test("DiffusionGlobalNorm matches tfjs ops, the same bits in JavaScript and C, cpu and wasm", async () => {
  const rng = new Rng(5, 3);
  const xs = SHAPES.map((s) => rng.fillNormal(new Float32Array(s.reduce((a, b) => a * b, 1))));
  await initBackend("cpu", { native: false });
  const want = tf.tidy(() =>
    tf.sqrt(tf.addN(xs.map((a, i) => tf.sum(tf.square(tf.tensor(a, SHAPES[i])))))).dataSync()[0]!
  );
  const got: [string, number][] = [];
  for (const backend of ["cpu", "wasm"] as const) {
    for (const native of [false, true]) {
      const info = await initBackend(backend, { native });
      if (native && !/C kernels/.test(info.detail)) continue; // no C compiler here
      const ts = xs.map((a, i) => tf.tensor(a, SHAPES[i]));
      const before = tf.memory().numTensors;
      const n = fusedGlobalNorm(ts)!;
      assert.deepEqual(n.shape, []);
      got.push([`${backend}${native ? "+C" : ""}`, n.dataSync()[0]!]);
      tf.dispose([n, ...ts]);
      assert.equal(tf.memory().numTensors, before - ts.length, "no tensor leaks");
    }
  }
  await initBackend("cpu", { native: false });
  assert.ok(got.length >= 2, "JavaScript on cpu and wasm at least");
  for (const [name, v] of got) {
    assert.ok(Math.abs(v - want) <= 1e-5 * want, `${name}: ${v} vs ${want}`);
    assert.equal(v, got[0]![1], `${name} vs ${got[0]![0]}: same bits`);
  }
  assert.equal(fusedGlobalNorm([]), null);
});
