/**
 * UNet-S training steps, end to end: tensor hygiene and checkpoint resume. The cpu backend's
 * own Conv2DBackpropFilter takes seconds per call, so these run only when the native (OpenBLAS)
 * kernels can be enabled.
 */
import assert from "node:assert/strict";
import { tf } from "../lib/tf.ts";
import { Rng } from "../lib/random.ts";
import { createModel } from "../lib/model/create_model.ts";
import { createTrainer } from "../lib/train/trainer.ts";
import { loadCheckpoint, saveCheckpoint } from "../lib/train/checkpoint.ts";
import { toyLoss } from "../lib/train/_testing.ts";
import { enableNative } from "../lib/backend/native/mod.ts";

await tf.setBackend("cpu");
const native = await enableNative("cpu");

Deno.test({
  name: "UNet-S: steps leak no tensors, and a resumed step matches the uninterrupted one",
  ignore: !native.enabled,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const config = { kind: "unet-s" as const, outChannels: 2, dropout: 0.1, seed: 1 };
    const x0 = tf.tensor(new Rng(4).fillNormal(new Float32Array(2 * 28 * 28)), [2, 28, 28, 1]);
    const modelA = createModel(config);
    const rngA = new Rng(7);
    const a = createTrainer({ model: modelA, loss: toyLoss(rngA, 1000), lr: 2e-4 });
    await a.step(x0);
    const tensors = tf.memory().numTensors;
    await saveCheckpoint(`${dir}/ckpt`, a, { loss: rngA.getState() });
    const expected = await a.step(x0);
    assert.equal(tf.memory().numTensors, tensors);
    assert.ok(Number.isFinite(expected.loss) && expected.gradNorm > 0);

    const ckpt = await loadCheckpoint(`${dir}/ckpt`);
    const modelB = createModel(ckpt.config);
    const rngB = new Rng(0);
    const b = createTrainer({ model: modelB, loss: toyLoss(rngB, 1000), lr: 2e-4 });
    b.restore(ckpt);
    rngB.setState((ckpt.extra as { loss: ReturnType<Rng["getState"]> }).loss);
    const got = await b.step(x0);
    assert.ok(Math.abs(got.loss - expected.loss) <= 1e-6 * Math.abs(expected.loss));
    assert.ok(Math.abs(got.gradNorm - expected.gradNorm) <= 1e-5 * expected.gradNorm);
    for (const t of [a, b]) t.dispose();
    for (const m of [modelA, modelB]) m.dispose();
    await Deno.remove(dir, { recursive: true });
  },
});
