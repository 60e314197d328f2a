/**
 * `deno task eval`'s record says what it measured (the sampling steps, n and seed on the
 * S-curve), so that the viewer keeps records of other settings apart.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseOptions } from "../tasks/_cli.ts";
import { resolveTrainConfig, TRAIN_OPTIONS } from "../tasks/_train_options.ts";
import { modelConfigOf } from "../tasks/_train_loop.ts";
import { createModel } from "../lib/model/mod.ts";
import { createTrainer, saveCheckpoint } from "../lib/train/mod.ts";
import { toyLoss } from "../lib/train/_testing.ts";
import { Rng } from "../lib/random.ts";

Deno.test("eval's record names its sampling steps, n and seed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cfg = resolveTrainConfig(parseOptions(TRAIN_OPTIONS, []).values);
    const model = createModel(modelConfigOf(cfg));
    const trainer = createTrainer({ model, loss: toyLoss(new Rng(1), cfg.timesteps) });
    const ckpt = join(dir, "ckpt");
    await saveCheckpoint(ckpt, trainer, { config: cfg });
    trainer.dispose();
    model.dispose();
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "tasks/eval.ts",
        "--run",
        ckpt,
        "--n",
        "100",
        "--sample-steps",
        "5",
        "--json",
      ]
        .concat(["--seed", "3", "--backend", "cpu"]),
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const r = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.deepEqual([r.n, r.steps, r.seed], [100, "5", 3]);
    assert.ok(Number.isFinite(r.swd), JSON.stringify(r));

    // --bound is MNIST's: on an S-curve run it is a usage error, not ignored and recorded.
    const lines = async () => (await Deno.readTextFile(join(dir, "eval.jsonl")).catch(() => ""));
    const before = await lines();
    const bad = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "tasks/eval.ts", "--run", ckpt, "--bound", "mc", "--backend", "cpu"],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const err = new TextDecoder().decode(bad.stderr).trim();
    assert.equal(bad.code, 2, err);
    assert.match(err, /--bound applies only to MNIST runs \(this run is s-curve\)$/);
    assert.equal(await lines(), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
