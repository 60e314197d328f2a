import assert from "node:assert/strict";
import { tf } from "../tf.ts";
import { Rng, type RngState } from "../random.ts";
import { createModel } from "../model/create_model.ts";
import type { MlpConfig } from "../model/types.ts";
import { createTrainer } from "./trainer.ts";
import { toyLoss } from "./_testing.ts";
import { CheckpointError, loadCheckpoint, loadModel, saveCheckpoint } from "./checkpoint.ts";

await tf.setBackend("cpu");

const CONFIG: MlpConfig = { kind: "mlp", timesteps: 10, outDim: 2, dropout: 0.2, seed: 5 };

function oneLine(e: unknown): boolean {
  return e instanceof CheckpointError && !e.message.includes("\n");
}

Deno.test("checkpoint: resuming gives bitwise the same losses as the uninterrupted run", async () => {
  const dir = await Deno.makeTempDir();
  const x0 = tf.tensor(new Rng(9).fillNormal(new Float32Array(32 * 2)), [32, 2]);
  const opts = { lr: 5e-3, warmupSteps: 3, clipNorm: 0.5, emaRate: 0.99 };

  const modelA = createModel(CONFIG);
  const rngA = new Rng(1);
  const a = createTrainer({ model: modelA, loss: toyLoss(rngA, 10), ...opts });
  for (let i = 0; i < 3; i++) await a.step(x0);
  await saveCheckpoint(`${dir}/ckpt`, a, { loss: rngA.getState() });
  const expected = [];
  for (let i = 0; i < 3; i++) expected.push(await a.step(x0));

  const ckpt = await loadCheckpoint(`${dir}/ckpt`);
  assert.equal(ckpt.step, 3);
  assert.deepEqual(ckpt.config, modelA.config);
  const modelB = createModel({ ...(ckpt.config as MlpConfig), seed: 99 });
  const rngB = new Rng(12345);
  const b = createTrainer({ model: modelB, loss: toyLoss(rngB, 10), ...opts });
  b.restore(ckpt);
  rngB.setState((ckpt.extra as { loss: RngState }).loss);
  for (const e of expected) {
    const r = await b.step(x0);
    assert.equal(r.step, e.step);
    assert.equal(r.loss, e.loss);
    assert.equal(r.gradNorm, e.gradNorm);
    assert.equal(r.lr, e.lr);
  }
  modelA.variables.forEach((v, i) =>
    assert.deepEqual(v.dataSync(), modelB.variables[i]!.dataSync())
  );
  a.ema.variables.forEach((v, i) => assert.deepEqual(v.dataSync(), b.ema.variables[i]!.dataSync()));

  // loadModel gives the EMA weights by default.
  const emaModel = await loadModel(`${dir}/ckpt`);
  assert.deepEqual(emaModel.variables[0]!.dataSync(), ckpt.ema[0]);
  emaModel.dispose();
  for (const t of [a, b]) t.dispose();
  for (const m of [modelA, modelB]) m.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoint: replacing is atomic and leaves no temporary directories", async () => {
  const dir = await Deno.makeTempDir();
  const model = createModel(CONFIG);
  const trainer = createTrainer({ model, loss: toyLoss(new Rng(1), 10) });
  await saveCheckpoint(`${dir}/ckpt`, trainer, { n: 1 });
  await trainer.step(tf.ones([4, 2]));
  await saveCheckpoint(`${dir}/ckpt`, trainer, { n: 2 });
  const names = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  assert.deepEqual(names, ["ckpt"]);
  const ckpt = await loadCheckpoint(`${dir}/ckpt`);
  assert.deepEqual(ckpt.extra, { n: 2 });
  assert.equal(ckpt.step, 1);
  const json = JSON.parse(await Deno.readTextFile(`${dir}/ckpt/checkpoint.json`));
  assert.equal(json.format, "diffusion-ts-checkpoint");
  assert.equal(json.weightsManifest[0].weights.length, 4 * model.variables.length);
  const size = (await Deno.stat(`${dir}/ckpt/weights.bin`)).size;
  assert.equal(size, 4 * 4 * model.paramCount());
  // A save interrupted between its renames: the previous checkpoint sits at <dir>.old-*.
  await Deno.rename(`${dir}/ckpt`, `${dir}/ckpt.old-1234`);
  assert.equal((await loadCheckpoint(`${dir}/ckpt`)).step, 1);
  trainer.dispose();
  model.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoint: missing, corrupt and mismatched checkpoints give one-line errors", async () => {
  const dir = await Deno.makeTempDir();
  await assert.rejects(loadCheckpoint(`${dir}/nothing`), oneLine);
  const model = createModel(CONFIG);
  const trainer = createTrainer({ model, loss: toyLoss(new Rng(1), 10) });
  await saveCheckpoint(`${dir}/ckpt`, trainer);

  const other = createModel({ ...CONFIG, outDim: 4 });
  const otherTrainer = createTrainer({ model: other, loss: toyLoss(new Rng(1), 10) });
  const ckpt = await loadCheckpoint(`${dir}/ckpt`);
  assert.throws(() => otherTrainer.restore(ckpt), (e) => oneLine(e) && /out\.w/.test(String(e)));

  const bin = await Deno.readFile(`${dir}/ckpt/weights.bin`);
  await Deno.writeFile(`${dir}/ckpt/weights.bin`, bin.subarray(0, bin.length - 4));
  await assert.rejects(loadCheckpoint(`${dir}/ckpt`), (e) => oneLine(e) && /bytes/.test(String(e)));
  await Deno.writeTextFile(`${dir}/ckpt/checkpoint.json`, "{ not json");
  await assert.rejects(loadCheckpoint(`${dir}/ckpt`), (e) => oneLine(e) && /JSON/.test(String(e)));
  await Deno.writeTextFile(`${dir}/ckpt/checkpoint.json`, JSON.stringify({ format: "x" }));
  await assert.rejects(loadCheckpoint(`${dir}/ckpt`), oneLine);
  for (const t of [trainer, otherTrainer]) t.dispose();
  for (const m of [model, other]) m.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoint: one holding NaN or Infinity is refused at load, naming the tensor", async () => {
  const dir = await Deno.makeTempDir();
  const model = createModel(CONFIG);
  const trainer = createTrainer({ model, loss: toyLoss(new Rng(1), 10) });
  await saveCheckpoint(`${dir}/ckpt`, trainer);
  const bin = await Deno.readFile(`${dir}/ckpt/weights.bin`);
  for (const [bad, pattern] of [[NaN, /NaN/], [-Infinity, /-Infinity/]] as const) {
    const poisoned = bin.slice();
    // The last float of the file: the last parameter's Adam second moment.
    new DataView(poisoned.buffer).setFloat32(poisoned.length - 4, bad, true);
    await Deno.writeFile(`${dir}/ckpt/weights.bin`, poisoned);
    await assert.rejects(
      loadCheckpoint(`${dir}/ckpt`),
      (e) => oneLine(e) && pattern.test(String(e)) && /\(adam_v\)/.test(String(e)),
    );
    await assert.rejects(loadModel(`${dir}/ckpt`), CheckpointError);
  }
  trainer.dispose();
  model.dispose();
  await Deno.remove(dir, { recursive: true });
});
