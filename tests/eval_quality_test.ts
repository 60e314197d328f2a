/**
 * `deno task eval --quality`: an MNIST checkpoint (an untrained UNet-S: its digits are noise)
 * sampled and measured end to end, the record it appends, and the usage errors.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseOptions } from "../tasks/_cli.ts";
import { resolveTrainConfig, TRAIN_OPTIONS } from "../tasks/_train_options.ts";
import { modelConfigOf } from "../lib/train/recipe.ts";
import { createModel } from "../lib/model/mod.ts";
import { createTrainer, saveCheckpoint } from "../lib/train/mod.ts";
import { toyLoss } from "../lib/train/_testing.ts";
import { Rng } from "../lib/random.ts";
import { loadClassifier } from "../lib/quality/weights.ts";

async function run(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tasks/eval.ts", ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function checkpoint(dir: string, flags: string[]): Promise<string> {
  const cfg = resolveTrainConfig(parseOptions(TRAIN_OPTIONS, flags).values);
  const model = createModel(modelConfigOf(cfg));
  const trainer = createTrainer({ model, loss: toyLoss(new Rng(1), cfg.timesteps) });
  const path = join(dir, "ckpt");
  await saveCheckpoint(path, trainer, { config: cfg });
  trainer.dispose();
  model.dispose();
  return path;
}

Deno.test("eval --quality samples digits and prints every measure beside its floor", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ckpt = await checkpoint(dir, ["--dataset", "mnist"]);
    const r = await run([
      "--run",
      ckpt,
      "--quality",
      "--n",
      "24",
      "--steps",
      "2",
      "--json",
      "--backend",
      "wasm",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    const { manifest } = await loadClassifier();
    assert.deepEqual(out.quality, {
      n: 24,
      steps: "2",
      sampler: "ancestral",
      seed: 0,
      classifier: manifest.sha256,
      weights: "ema",
    });
    for (const k of ["frechet", "kid", "kidStderr", "precision", "recall", "classEntropy"]) {
      const floor = k === "kidStderr" ? "kidFloorStderr" : `${k}Floor`;
      assert.ok(Number.isFinite(out[k]) && Number.isFinite(out[floor]), k);
    }
    // An untrained model draws noise: far from the digits, while real digits sit at the floor.
    assert.ok(out.frechet > 10 * out.frechetFloor, JSON.stringify(out));
    assert.equal(out.classes.reduce((a: number, b: number) => a + b, 0), 24);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("eval --quality on an S-curve run is a usage error (exit 2, one line)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ckpt = await checkpoint(dir, []);
    const r = await run(["--run", ckpt, "--quality", "--backend", "cpu"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error: --quality measures digits: it needs an MNIST run$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
