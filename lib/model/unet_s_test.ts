import assert from "node:assert/strict";
import { tf } from "../tf.ts";
import { createUnetS } from "./unet_s.ts";
import { createModel } from "./create_model.ts";

await tf.setBackend("cpu");

Deno.test("UNet-S parameter counts match the spec", () => {
  const m1 = createUnetS({ kind: "unet-s", outChannels: 1 });
  const m2 = createUnetS({ kind: "unet-s", outChannels: 2 });
  assert.equal(m1.paramCount(), 1623169);
  assert.equal(m2.paramCount(), 1623458);
  assert.equal(new Set(m1.names).size, m1.names.length);
  m1.dispose();
  m2.dispose();
});

Deno.test("UNet-S: zero-initialised layers, GroupNorm ones, seeded init", () => {
  const a = createUnetS({ kind: "unet-s", seed: 4 });
  const b = createModel({ kind: "unet-s", seed: 4 });
  const zeroed = a.names.filter((n) =>
    /\.conv2\.[wb]$/.test(n) || /attn\.proj\.[wb]$/.test(n) || /^out\.conv\.[wb]$/.test(n)
  );
  assert.equal(zeroed.length, 2 * (17 + 6 + 1));
  a.names.forEach((n, i) => {
    const v = a.variables[i]!.dataSync();
    if (zeroed.includes(n)) assert.ok(v.every((x) => x === 0), n);
    else if (n.endsWith(".gamma")) assert.ok(v.every((x) => x === 1), n);
    else if (n.endsWith(".beta")) assert.ok(v.every((x) => x === 0), n);
    else assert.ok(v.some((x) => x !== 0), n);
    assert.deepEqual(v, b.variables[i]!.dataSync(), n);
  });
  // conv_in: fan-in 9, so weights lie within ±1/3.
  const w = a.variables[a.names.indexOf("conv_in.w")]!.dataSync();
  assert.ok(w.every((x) => Math.abs(x) <= 1 / 3));
  a.dispose();
  b.dispose();
});

Deno.test("UNet-S: forward shapes, timestep dependence, dropout only in training", () => {
  const m = createUnetS({ kind: "unet-s", outChannels: 2, dropout: 0.5 });
  // Make the zero-initialised output layers non-zero so that the output depends on the input.
  tf.tidy(() => {
    m.names.forEach((n, i) => {
      if (/conv2\.w$|proj\.w$|out\.conv\.w$/.test(n)) {
        const v = m.variables[i]!;
        v.assign(tf.randomNormal(v.shape, 0, 0.05, "float32", i));
      }
    });
  });
  const x = tf.randomNormal([2, 28, 28, 1], 0, 1, "float32", 1);
  const before = tf.memory().numTensors;
  const y0 = m.apply(x, tf.tensor1d([5, 5], "int32"));
  const y1 = m.apply(x, tf.tensor1d([5, 700], "int32"));
  const yt = m.apply(x, tf.tensor1d([5, 5], "int32"), { training: true });
  assert.deepEqual(y0.shape, [2, 28, 28, 2]);
  const a0 = y0.arraySync() as number[][][][], a1 = y1.arraySync() as number[][][][];
  assert.deepEqual(a0[0], a1[0]);
  assert.notDeepEqual(a0[1], a1[1]);
  assert.notDeepEqual(yt.dataSync(), y0.dataSync());
  tf.dispose([y0, y1, yt]);
  assert.equal(tf.memory().numTensors, before + 3); // the three t tensors given inline
  assert.throws(() => m.apply(tf.zeros([1, 28, 28, 3]), tf.tensor1d([0], "int32")), TypeError);
  m.dispose();
});

Deno.test("UNet-S: output is zero at init (zero-initialised last conv)", () => {
  const m = createUnetS({ kind: "unet-s" });
  const y = m.apply(tf.randomNormal([1, 28, 28, 1], 0, 1, "float32", 1), tf.tensor1d([3], "int32"));
  assert.ok(y.dataSync().every((v) => v === 0));
  assert.throws(() => createUnetS({ kind: "unet-s", outChannels: 3 }), RangeError);
  m.dispose();
});

Deno.test("UNet-S with labels: 11 x 128 more parameters, the rest the unconditional weights", () => {
  for (const outChannels of [1, 2]) {
    const plain = createUnetS({ kind: "unet-s", outChannels, seed: 5 });
    const cond = createUnetS({ kind: "unet-s", outChannels, seed: 5, numClasses: 10 });
    assert.equal(cond.paramCount(), plain.paramCount() + 11 * 128);
    assert.equal(cond.numClasses, 10);
    assert.equal(plain.numClasses, 0);
    assert.deepEqual(cond.names, [...plain.names, "label_emb.table"]);
    assert.deepEqual(cond.variables.at(-1)!.shape, [11, 128]);
    plain.variables.forEach((v, i) =>
      assert.deepEqual(cond.variables[i]!.dataSync(), v.dataSync())
    );
    assert.equal((cond.config as { numClasses?: number }).numClasses, 10);
    assert.ok(!("numClasses" in plain.config)); // an unconditional config is recorded as before
    plain.dispose();
    cond.dispose();
  }
  assert.throws(() => createUnetS({ kind: "unet-s", numClasses: 2.5 }), RangeError);
});
