/**
 * Class-conditional training (classifier-free guidance's label dropout): the labels reach the
 * label embedding, dropped labels train only the null row, and a run resumes bit-exactly.
 */
import assert from "node:assert/strict";
import { tf } from "../tf.ts";
import { createUnetS } from "../model/unet_s.ts";
import type { DiffusionModel } from "../model/types.ts";
import { createDiffusionTrainer, type DiffusionTrainer } from "./diffusion_trainer.ts";
import { restoreTrainingCheckpoint, saveTrainingCheckpoint } from "./diffusion_trainer.ts";
import { loadCheckpoint } from "./checkpoint.ts";
import { type TrainingBatch, trainLoop } from "./loop.ts";
import type { DiffusionRecipe } from "./recipe.ts";
import { enableNative } from "../backend/native/mod.ts";

await tf.setBackend("cpu");
await enableNative("cpu"); // the native convolutions when they load: seconds, not minutes

const RECIPE: DiffusionRecipe = {
  dataset: "mnist",
  model: "unet-s",
  schedule: "cosine",
  timesteps: 50,
  loss: "hybrid",
  variance: "learned-range",
  tSampler: "uniform",
  batch: 2,
  lr: 1e-3,
  warmup: 0,
  ema: 0.99,
  clip: 1,
  dropout: 0.1,
  timeEmbedding: "learned",
  seed: 3,
  microBatch: 1, // two micro-batches a step: the labels are sliced with the batch
  numClasses: 10,
  labelDropout: 0.5,
};

/** Batch i: two images and their labels (a function of i only). */
async function* batches(start = 0): AsyncGenerator<TrainingBatch> {
  for (let i = start;; i++) {
    const x = new Float32Array(2 * 784);
    for (let k = 0; k < x.length; k++) x[k] = Math.sin(i * 7 + k * 0.01);
    yield { x, shape: [2, 28, 28, 1], labels: Uint8Array.of(i % 10, (3 * i + 1) % 10) };
  }
}

function table(m: DiffusionModel): number[][] {
  return m.variables[m.names.indexOf("label_emb.table")]!.arraySync() as number[][];
}

/** A class-conditional UNet-S whose zero-initialised layers are made non-zero (gradients reach the label embedding at once). */
function liveModel(): DiffusionModel {
  const m = createUnetS({ kind: "unet-s", outChannels: 2, numClasses: 10, dropout: 0.1, seed: 3 });
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

/** The rows of the label table that one step on labels [3, 7] changes, at a label dropout. */
async function changedRows(labelDropout: number): Promise<number[]> {
  const model = liveModel();
  const trainer = createDiffusionTrainer({
    recipe: { ...RECIPE, microBatch: 0, labelDropout },
    model,
  });
  const before = table(model);
  await trainer.step(new Float32Array(2 * 784).fill(0.3), [2, 28, 28, 1], [3, 7]);
  const after = table(model);
  trainer.dispose();
  model.dispose();
  return before.flatMap((row, i) => row.some((v, j) => v !== after[i]![j]) ? [i] : []);
}

Deno.test("label dropout 1 trains only the null label's row; 0 only the batch's labels", async () => {
  assert.deepEqual(await changedRows(1), [10]);
  assert.deepEqual(await changedRows(0), [3, 7]);
});

Deno.test("a class-conditional model: labels required, checked, and counted in the parameters", async () => {
  const trainer = createDiffusionTrainer({ recipe: RECIPE });
  assert.equal(trainer.model.numClasses, 10);
  assert.equal(trainer.model.paramCount(), 1623458 + 11 * 128);
  const x = new Float32Array(2 * 784);
  await assert.rejects(trainer.step(x, [2, 28, 28, 1]), /expected 2 labels, got none/);
  await assert.rejects(trainer.step(x, [2, 28, 28, 1], [3, 10]), /labels in 0\.\.9, got 10/);
  assert.equal(trainer.stepCount, 0);
  trainer.dispose();
  // An unconditional model ignores the labels that MNIST batches always carry.
  const plain = createDiffusionTrainer({ recipe: { ...RECIPE, numClasses: 0 } });
  await plain.step(x, [2, 28, 28, 1], [1, 2]);
  plain.dispose();
});

Deno.test("a class-conditional run resumed after 2 steps is bitwise the 4-step run", async () => {
  const dir = await Deno.makeTempDir();
  const run = async (trainer: DiffusionTrainer, start: number, target: number) =>
    (await trainLoop({ trainer, batches: batches(start), target, every: { log: 1 } })).losses;
  try {
    const whole = createDiffusionTrainer({ recipe: RECIPE });
    const expected = await run(whole, 0, 4);

    const first = createDiffusionTrainer({ recipe: RECIPE });
    const head = await run(first, 0, 2);
    await saveTrainingCheckpoint(`${dir}/ckpt`, first, { config: RECIPE });
    first.dispose();
    const second = createDiffusionTrainer({ recipe: RECIPE });
    restoreTrainingCheckpoint(second, await loadCheckpoint(`${dir}/ckpt`));
    const tail = await run(second, 2, 4);

    assert.deepEqual([...head, ...tail], expected);
    assert.deepEqual(table(second.model), table(whole.model));
    assert.deepEqual(table(second.ema), table(whole.ema));
    whole.dispose();
    second.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
