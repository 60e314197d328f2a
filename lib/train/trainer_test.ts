import assert from "node:assert/strict";
import { tf } from "../tf.ts";
import { Rng } from "../random.ts";
import { createModel } from "../model/create_model.ts";
import { createTrainer, defaultMicroBatch, type LossFn } from "./trainer.ts";
import type { ModelConfig } from "../model/types.ts";
import { toyLoss } from "./_testing.ts";
import { disableNative, enableNative } from "../backend/native/mod.ts";

await tf.setBackend("cpu");

Deno.test("trainer: MLP loss goes down, no tensor leaks between step 10 and step 100", async () => {
  const model = createModel({ kind: "mlp", timesteps: 20, outDim: 2 });
  const trainer = createTrainer({ model, loss: toyLoss(new Rng(1), 20), lr: 3e-3 });
  const x0 = tf.tensor(new Rng(2).fillNormal(new Float32Array(64 * 2)), [64, 2]);
  const losses: number[] = [];
  let atTen = -1;
  for (let i = 0; i < 100; i++) {
    const r = await trainer.step(x0);
    losses.push(r.loss);
    assert.equal(r.step, i + 1);
    assert.equal(r.extras.perExample!.length, 64);
    if (r.step === 10) atTen = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, atTen);
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(mean(losses.slice(-10)) < mean(losses.slice(0, 10)), "loss did not go down");
  trainer.dispose();
  model.dispose();
});

Deno.test("trainer: warm-up, clipping on the pre-clip norm, EMA decay warm-up", async () => {
  const model = createModel({ kind: "mlp", timesteps: 10, outDim: 2 });
  const w0 = model.variables.map((v) => v.dataSync().slice());
  const trainer = createTrainer({
    model,
    loss: toyLoss(new Rng(3), 10),
    lr: 1e-2,
    warmupSteps: 4,
    clipNorm: 1e-3,
    emaRate: 0.9999,
  });
  assert.equal(trainer.lrAt(0), 2.5e-3);
  assert.equal(trainer.lrAt(10), 1e-2);
  const x0 = tf.ones([8, 2]);
  const r = await trainer.step(x0);
  assert.equal(r.lr, 2.5e-3);
  assert.ok(r.gradNorm > 1e-3);
  const state = trainer.getState();
  // m after one step is (1 - beta1) * clipped gradient, whose global norm is the clip norm.
  const mNorm = Math.sqrt(state.adam.m.reduce((s, a) => s + a.reduce((t, v) => t + v * v, 0), 0));
  assert.ok(Math.abs(mNorm - 0.1 * 1e-3) < 1e-7, `|m| = ${mNorm}`);
  // EMA after the first update: decay min(0.9999, 1/10) = 0.1.
  state.ema.forEach((e, i) => {
    for (let j = 0; j < e.length; j += 97) {
      const expected = 0.1 * w0[i]![j]! + 0.9 * state.weights[i]![j]!;
      assert.ok(Math.abs(e[j]! - expected) < 1e-6);
    }
  });
  assert.equal(trainer.ema.kind, "mlp");
  assert.throws(() => createTrainer({ model, loss: toyLoss(new Rng(1), 10), lr: -1 }), RangeError);
  trainer.dispose();
  model.dispose();
});

/** An epsilon-style loss whose timesteps and noise come in as aux tensors (deterministic). */
const auxLoss: LossFn = (apply, x0, _step, aux) => {
  const b = x0.shape[0]!;
  const out = apply(tf.add(tf.mul(x0, 0.8), tf.mul(aux.noise!, 0.6)), aux.t as tf.Tensor1D);
  const perExample = tf.mean(tf.reshape(tf.square(tf.sub(out, aux.noise!)), [b, -1]), 1);
  const loss = tf.mean(perExample) as tf.Scalar;
  return { loss, extras: { perExample, loss: tf.mul(loss, 1) } };
};

function _closeArrays(a: Float32Array[], b: Float32Array[], tol: number, what: string): void {
  assert.equal(a.length, b.length);
  a.forEach((x, i) => {
    const y = b[i]!;
    for (let j = 0; j < x.length; j++) {
      assert.ok(Math.abs(x[j]! - y[j]!) <= tol, `${what}[${i}][${j}]: ${x[j]} vs ${y[j]}`);
    }
  });
}

async function _microVsWhole(config: ModelConfig, dataShape: number[], micro: number) {
  const batch = dataShape[0]!;
  const rng = new Rng(9);
  const size = dataShape.reduce((a, b) => a * b, 1);
  const x0 = tf.tensor(rng.fillNormal(new Float32Array(size)), dataShape);
  const aux = {
    noise: tf.tensor(rng.fillNormal(new Float32Array(size)), dataShape),
    t: tf.tensor1d(Array.from({ length: batch }, () => rng.int(10)), "int32"),
  };
  const results = [];
  for (const microBatch of [undefined, micro]) {
    const model = createModel(config);
    // clipNorm 0: Adam's first moment after one step is exactly 0.1 x the gradient.
    const trainer = createTrainer({ model, loss: auxLoss, clipNorm: 0, lr: 1e-3, microBatch });
    assert.equal(trainer.microBatch, microBatch);
    const r = await trainer.step(x0, aux);
    results.push({ r, state: trainer.getState() });
    trainer.dispose();
    model.dispose();
  }
  const [whole, parts] = results as [(typeof results)[0], (typeof results)[0]];
  assert.ok(Math.abs(whole.r.loss - parts.r.loss) < 1e-5);
  assert.ok(Math.abs(whole.r.gradNorm - parts.r.gradNorm) < 1e-5 * Math.max(1, whole.r.gradNorm));
  assert.equal(parts.r.extras.perExample!.length, batch);
  _closeArrays([whole.r.extras.perExample!], [parts.r.extras.perExample!], 1e-5, "perExample");
  _closeArrays([whole.r.extras.loss!], [parts.r.extras.loss!], 1e-5, "loss extra");
  _closeArrays(whole.state.adam.m, parts.state.adam.m, 1e-6, "m");
  _closeArrays(whole.state.weights, parts.state.weights, 1e-5, "weights");
  tf.dispose([x0, aux.noise, aux.t]);
}

Deno.test("trainer: micro-batches give the whole batch's gradients (MLP, uneven split)", async () => {
  await _microVsWhole({ kind: "mlp", timesteps: 10, outDim: 2 }, [37, 2], 8);
});

Deno.test("trainer: micro-batches give the whole batch's gradients (UNet-S, batch 3)", async () => {
  // The plain cpu kernels need minutes for UNet-S's convolution gradients; OpenBLAS does not.
  const native = await enableNative("cpu", { threads: 1 });
  try {
    await _microVsWhole({ kind: "unet-s", outChannels: 2, dropout: 0 }, [3, 28, 28, 1], 2);
  } finally {
    if (native.enabled) disableNative("cpu");
  }
});

Deno.test("trainer: micro-batched steps leak no tensors; bad aux, extras, microBatch throw", async () => {
  const model = createModel({ kind: "mlp", timesteps: 10, outDim: 2 });
  const trainer = createTrainer({ model, loss: toyLoss(new Rng(1), 10), microBatch: 5 });
  const x0 = tf.tensor(new Rng(2).fillNormal(new Float32Array(12 * 2)), [12, 2]);
  await trainer.step(x0);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) {
    const r = await trainer.step(x0);
    assert.equal(r.extras.perExample!.length, 12);
  }
  assert.equal(tf.memory().numTensors, before);
  await assert.rejects(trainer.step(x0, { t: tf.zeros([11]) }), TypeError);
  const bad = createTrainer({
    model,
    microBatch: 5,
    loss: (apply, x) => {
      const t = tf.zeros([x.shape[0]!], "int32") as tf.Tensor1D;
      return { loss: tf.mean(apply(x, t)) as tf.Scalar, extras: { row: tf.zeros([1, 3]) } };
    },
  });
  const count = tf.memory().numTensors;
  await assert.rejects(bad.step(x0), TypeError);
  assert.equal(tf.memory().numTensors, count);
  assert.throws(
    () => createTrainer({ model, loss: toyLoss(new Rng(1), 10), microBatch: 0 }),
    RangeError,
  );
  assert.equal(defaultMicroBatch("mlp", "wasm"), undefined);
  assert.equal(typeof defaultMicroBatch("unet-s", "wasm"), "number");
  tf.dispose(x0);
  bad.dispose();
  trainer.dispose();
  model.dispose();
});
