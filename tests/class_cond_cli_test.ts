/**
 * Class-conditional training and sampling at the command line: the flags' one-line errors
 * (exit 2, nothing written), the recorded config, and `sample --class` on a checkpoint.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseOptions } from "../tasks/_cli.ts";
import { resolveTrainConfig, TRAIN_OPTIONS } from "../tasks/_train_options.ts";
import { modelConfigOf } from "../lib/train/recipe.ts";
import { exists } from "./_train_helpers.ts";
import { oneLineError, runTask, untrainedCheckpoint } from "./_cli_helpers.ts";

const run = runTask;

const config = (flags: string[]) => resolveTrainConfig(parseOptions(TRAIN_OPTIONS, flags).values);

Deno.test("train --class-cond records numClasses and the label dropout; other runs record neither", () => {
  const c = config(["--dataset", "mnist", "--class-cond"]);
  assert.equal(c.numClasses, 10);
  assert.equal(c.labelDropout, 0.1);
  assert.equal(
    config(["--dataset", "mnist", "--class-cond", "--label-dropout", "0.2"]).labelDropout,
    0.2,
  );
  assert.deepEqual(modelConfigOf(c), {
    kind: "unet-s",
    outChannels: 2,
    dropout: 0.1,
    seed: 0,
    numClasses: 10,
  });
  const plain = config(["--dataset", "mnist"]);
  assert.ok(!("numClasses" in plain) && !("labelDropout" in plain));
  assert.throws(() => config(["--class-cond"]), /--class-cond needs labelled data; s-curve/);
  assert.throws(
    () => config(["--dataset", "mnist", "--label-dropout", "0.2"]),
    /only with --class-cond/,
  );
});

Deno.test("train: --class-cond on the S-curve and a stray --label-dropout exit 2, nothing written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const runs = join(dir, "runs");
    const cases: [string[], RegExp][] = [
      [["--class-cond"], /--class-cond needs labelled data; s-curve has no labels/],
      [
        ["--dataset", "mnist", "--label-dropout", "0.3"],
        /--label-dropout applies only with --class-cond/,
      ],
      [
        ["--dataset", "mnist", "--class-cond", "--label-dropout", "1.5"],
        /--label-dropout must be at most 1/,
      ],
    ];
    for (const [args, pattern] of cases) {
      oneLineError(await run("train", [...args, "--out", runs]), pattern);
      assert.equal(await exists(runs), false, `${args.join(" ")} wrote ${runs}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A checkpoint of an MNIST model made directly (no training), with or without labels. */
function checkpoint(dir: string, flags: string[]): Promise<string> {
  return untrainedCheckpoint(join(dir, flags.length ? "cond" : "plain"), [
    ...["--dataset", "mnist", "--timesteps", "10", "--sample-steps", "2"],
    ...flags,
  ]);
}

Deno.test("sample: bad --class and --guidance, or either on a model without labels: exit 2, nothing written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cond = await checkpoint(dir, ["--class-cond"]);
    const plain = await checkpoint(dir, []);
    const png = join(dir, "s.png");
    const cases: [string, string[], RegExp][] = [
      [cond, ["--class", "10"], /--class must be a whole number from 0 to 9 or all; got "10"/],
      [cond, ["--class", "-1"], /--class must be a whole number from 0 to 9 or all/],
      [cond, ["--class", "2.5"], /--class must be a whole number from 0 to 9 or all/],
      [cond, ["--class", "three"], /--class must be a whole number from 0 to 9 or all/],
      [cond, ["--class", "3", "--guidance", "-1"], /--guidance must be at least 0/],
      [cond, ["--class", "3", "--guidance", "25"], /--guidance must be at most 20/],
      [cond, ["--guidance", "2"], /--guidance applies only with --class/],
      [plain, ["--class", "3"], /--class needs a class-conditional model/],
      [plain, ["--class", "all", "--guidance", "2"], /--class needs a class-conditional model/],
    ];
    for (const [ckpt, args, pattern] of cases) {
      const r = await run("sample", ["--run", ckpt, "--backend", "cpu", "--out", png, ...args]);
      oneLineError(r, pattern);
      assert.equal(await exists(png), false, `${args.join(" ")} wrote ${png}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sample --class all draws one row per class; --class 3 --guidance 2 writes its labels", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cond = await checkpoint(dir, ["--class-cond"]);
    const json = join(dir, "s.json");
    const base = ["--run", cond, "--backend", "cpu", "--sample-steps", "1"];
    let r = await run("sample", [
      ...base,
      "--class",
      "3",
      "--guidance",
      "2",
      "--n",
      "2",
      "--out",
      json,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(await Deno.readTextFile(json));
    assert.deepEqual(got.shape, [2, 28, 28, 1]);
    assert.deepEqual([got.labels, got.guidance], [[3, 3], 2]);
    r = await run("sample", [...base, "--class", "all", "--n", "1", "--out", json]);
    assert.equal(r.code, 0, r.stderr);
    const all = JSON.parse(await Deno.readTextFile(json));
    assert.deepEqual(all.shape, [10, 28, 28, 1]);
    assert.deepEqual(all.labels, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const png = join(dir, "grid.png");
    r = await run("sample", [...base, "--class", "all", "--n", "1", "--out", png]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(await exists(png));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("eval --quality --guidance: balanced classes, their accuracy recorded; bad uses exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cond = await checkpoint(dir, ["--class-cond"]);
    const plain = await checkpoint(dir, []);
    const base = ["--backend", "cpu", "--no-record", "--quality", "--sample-steps", "1"];
    for (
      const [ckpt, args, pattern] of [
        [plain, ["--guidance", "2"], /--guidance needs a class-conditional model/],
        [cond, ["--guidance", "21"], /--guidance must be at most 20/],
      ] as [string, string[], RegExp][]
    ) {
      oneLineError(await run("eval", ["--run", ckpt, ...base, ...args]), pattern);
    }
    oneLineError(
      await run("eval", ["--run", cond, "--backend", "cpu", "--guidance", "2"]),
      /--guidance applies only with --quality/,
    );
    const r = await run("eval", ["--run", cond, ...base, "--n", "20", "--guidance", "2", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    assert.equal(got.quality.guidance, 2);
    assert.equal(got.classAccuracies.length, 10);
    assert.ok(got.classAccuracy >= 0 && got.classAccuracy <= 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a class-conditional MNIST run through the data workers records its model and resumes bitwise", async () => {
  const { runTraining } = await import("../tasks/_train_loop.ts");
  const { stopAt } = await import("./_train_helpers.ts");
  const out = await Deno.makeTempDir();
  try {
    const flags = [
      ...["--dataset", "mnist", "--class-cond", "--label-dropout", "0.5", "--batch", "2"],
      ...["--timesteps", "10", "--sample-steps", "1", "--workers", "1", "--backend", "cpu"],
      ...["--steps", "100", "--log-every", "1", "--checkpoint-every", "2", "--sample-every", "0"],
    ];
    const cfg = resolveTrainConfig(parseOptions(TRAIN_OPTIONS, ["--out", out, ...flags]).values);
    // The uninterrupted run also draws its class rows at step 2 (which must not change training).
    const withPictures = { ...cfg, sampleEvery: 2 };
    const whole = await runTraining(withPictures, stopAt(4));
    assert.equal(whole.step, 4);
    const png = await Deno.readFile(join(whole.dir, "samples", "step_00000002.png"));
    const ihdr = new DataView(png.buffer, png.byteOffset + 16, 8); // width, height
    assert.ok(Math.abs(ihdr.getUint32(4) / ihdr.getUint32(0) - 10 / 8) < 0.01); // 10 rows of 8
    const rec = JSON.parse(await Deno.readTextFile(join(whole.dir, "run.json")));
    assert.equal(rec.config.numClasses, 10);
    assert.equal(rec.paramCount, 1623458 + 11 * 128);
    const ckpt = JSON.parse(
      await Deno.readTextFile(join(whole.dir, "checkpoints", "step_00000004", "checkpoint.json")),
    );
    assert.equal(ckpt.model.numClasses, 10);

    const first = await runTraining(cfg, stopAt(2));
    assert.equal(first.step, 2);
    const second = await runTraining(cfg, { resume: first.id, ...stopAt(4) });
    assert.deepEqual([...first.losses, ...second.losses], whole.losses);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
