import assert from "node:assert/strict";
import { tf } from "./tf.ts";
import { createUnetS } from "./model/unet_s.ts";
import { createModel } from "./model/create_model.ts";
import type { DiffusionModel } from "./model/types.ts";
import { createSchedule } from "./schedule.ts";
import { sample } from "./sampler.ts";
import { guidedModelFn } from "./guidance.ts";
import { enableNative } from "./backend/native/mod.ts";

await tf.setBackend("cpu");
await enableNative("cpu"); // the native convolutions when they load: seconds, not minutes

/** A class-conditional UNet-S whose output depends on its input, time and label. */
function liveModel(outChannels: number): DiffusionModel {
  const m = createUnetS({ kind: "unet-s", outChannels, numClasses: 10, dropout: 0, seed: 2 });
  // The zero-initialised layers made non-zero, so that the output is not zero.
  tf.tidy(() => {
    m.names.forEach((n, i) => {
      if (/conv2\.w$|proj\.w$|out\.conv\.w$/.test(n)) {
        const v = m.variables[i]!;
        v.assign(tf.randomNormal(v.shape, 0, 0.05, "float32", i));
      }
    });
  });
  return m;
}

const SHAPE = [2, 28, 28, 1];

Deno.test("guidance 0 draws exactly the unconditional samples, 1 the conditional ones", () => {
  const m = liveModel(2);
  const s = createSchedule("cosine", { numTimesteps: 3 });
  const opts = { seed: 7, variance: "learned-range" as const, clipDenoised: true };
  const draw = (fn: (x: tf.Tensor, t: tf.Tensor1D) => tf.Tensor) => {
    const { sample: x } = sample(s, fn, SHAPE, opts);
    const d = x.dataSync().slice();
    x.dispose();
    return d;
  };
  const uncond = draw((x, t) => m.apply(x, t)); // no labels: the null label
  const cond = draw((x, t) => m.apply(x, t, { labels: tf.tensor1d([3, 3], "int32") }));
  assert.notDeepEqual(uncond, cond); // the label matters
  assert.deepEqual(draw(guidedModelFn(m, { labels: 3, guidance: 0 })), uncond);
  assert.deepEqual(draw(guidedModelFn(m, { labels: 3, guidance: 1 })), cond);
  assert.notDeepEqual(draw(guidedModelFn(m, { labels: 3, guidance: 3 })), cond);
  m.dispose();
});

Deno.test("guided output: eps_u + w (eps_c - eps_u), with the conditional variance channels", () => {
  for (const outChannels of [1, 2]) {
    const m = liveModel(outChannels);
    const x = tf.randomNormal(SHAPE, 0, 1, "float32", 3);
    const t = tf.tensor1d([10, 900], "int32");
    const labels = tf.tensor1d([4, 9], "int32");
    const w = 2.5;
    const got = guidedModelFn(m, { labels, guidance: w })(x, t);
    const oc = m.apply(x, t, { labels });
    const ou = m.apply(x, t, { labels: tf.tensor1d([10, 10], "int32") });
    const want = tf.tidy(() => {
      const [ec, eu] = [oc, ou].map((o) => tf.slice(o, [0, 0, 0, 0], [-1, -1, -1, 1]));
      const eps = tf.add(eu!, tf.mul(tf.sub(ec!, eu!), w));
      return outChannels === 1
        ? eps
        : tf.concat([eps, tf.slice(oc, [0, 0, 0, 1], [-1, -1, -1, 1])], 3);
    });
    assert.deepEqual(got.shape, [2, 28, 28, outChannels]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]!);
    const scale = tf.tidy(() => tf.max(tf.abs(want)).dataSync()[0]!);
    assert.ok(scale > 0.01 && diff < 1e-4 * scale, `diff ${diff}, scale ${scale}`);
    tf.dispose([x, t, labels, got, oc, ou, want]);
    m.dispose();
  }
});

Deno.test("a guided sampling step leaks no tensors", () => {
  const m = liveModel(2);
  const s = createSchedule("cosine", { numTimesteps: 2 });
  const net = guidedModelFn(m, { labels: 5, guidance: 4 });
  const run = () => sample(s, net, SHAPE, { seed: 1, variance: "learned-range" }).sample.dispose();
  run(); // warm-up: kernels may keep tensors on first use
  const before = tf.memory().numTensors;
  run();
  assert.equal(tf.memory().numTensors, before);
  m.dispose();
});

Deno.test("guidance refuses a model without labels, a bad class or weight, a wrong batch", () => {
  const plain = createModel({ kind: "unet-s" });
  assert.throws(() => guidedModelFn(plain, { labels: 3 }), TypeError);
  assert.throws(
    () =>
      plain.apply(tf.zeros([1, 28, 28, 1]), tf.tensor1d([1], "int32"), {
        labels: tf.tensor1d([3], "int32"),
      }),
    /trained without labels/,
  );
  plain.dispose();
  const m = createModel({ kind: "unet-s", numClasses: 10 });
  for (const labels of [-1, 10, 2.5]) {
    assert.throws(() => guidedModelFn(m, { labels }), RangeError, String(labels));
  }
  for (const guidance of [-0.5, NaN, Infinity]) {
    assert.throws(() => guidedModelFn(m, { labels: 1, guidance }), RangeError, String(guidance));
  }
  const net = guidedModelFn(m, { labels: tf.tensor1d([1, 2, 3], "int32"), guidance: 2 });
  assert.throws(() => net(tf.zeros([2, 28, 28, 1]), tf.tensor1d([1, 1], "int32")), TypeError);
  m.dispose();
});
