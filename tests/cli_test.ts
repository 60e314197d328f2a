/** The CLI's contract for bad input: one line on stderr, exit code 2, no stack trace. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseOptions } from "../tasks/_cli.ts";
import { resolveTrainConfig, TRAIN_OPTIONS } from "../tasks/_train_options.ts";
import { modelConfigOf } from "../lib/train/recipe.ts";
import { createModel } from "../lib/model/mod.ts";
import { createTrainer, saveCheckpoint } from "../lib/train/mod.ts";
import { toyLoss } from "../lib/train/_testing.ts";
import { Rng } from "../lib/random.ts";
import { exists } from "./_train_helpers.ts";
import { oneLineError, runTask, untrainedCheckpoint } from "./_cli_helpers.ts";

const run = runTask;

const cases: [string, string[], RegExp][] = [
  ["train", ["--nope"], /unknown flag --nope \(see --help\)/],
  ["train", ["--stpes", "10"], /unknown flag --stpes; did you mean --steps\?/],
  ["train", ["--steps", "abc"], /--steps must be a number/],
  ["train", ["--steps", "0"], /--steps must be at least 1/],
  ["train", ["--batch", "1.5"], /--batch must be a whole number/],
  ["train", ["--schedule", "quadratic"], /--schedule must be one of linear, cosine, sigmoid/],
  ["train", ["--dataset", "mnist", "--model", "mlp"], /--model mlp works on 2-D points only/],
  ["train", ["--loss", "hybrid", "--variance", "fixed-small"], /needs --variance learned-range/],
  ["train", ["--sample-steps", "fast"], /--sample-steps must be/],
  ["train", ["--rotate", "10"], /--rotate applies only to mnist runs \(this run is s-curve\)/],
  ["train", ["--dataset", "mnist", "--jitter", "0.1"], /--jitter applies only to s-curve runs/],
  ["train", ["--resume", "no-such-run", "--out", "/nonexistent-runs"], /No run "no-such-run"/],
  ["sample", [], /--run is required/],
  ["sample", ["--run", "x", "--out", "a.gif"], /extension must be one of/],
  ["sample", ["--run", "x", "--out", "/no/such/dir/a.png"], /does not exist/],
  [
    "sample",
    ["--run", "no-such-run", "--runs", "/nonexistent-runs", "--out", "/tmp/x.png"],
    /No run "no-such-run"/,
  ],
  ["eval", ["--run"], /--run needs a value/],
  ["train", ["--seed", "99999999999999999999"], /--seed must be at most 4294967295/],
  ["train", ["--steps", "-5"], /--steps must be at least 1; got -5/],
  ["train", ["--steps", "0x10"], /--steps must be a number; got "0x10"/],
  ["train", ["--steps", "Infinity"], /--steps must be a number/],
  ["train", ["--workers", "64"], /--workers must be at most 16/],
  ["train", ["--sample-steps", "500"], /--sample-steps 500 does not fit a model of 100 timesteps/],
  ["train", ["--keep-checkpoints", "-1"], /--keep-checkpoints must be at least 0/],
  [
    "sample",
    ["--run", "x", "--sample-steps", "fast", "--out", "/tmp/x.png"],
    /--sample-steps must be all/,
  ],
  [
    "sample",
    ["--run", "x", "--steps", "50"],
    /unknown flag --steps; did you mean --sample-steps\?/,
  ],
  ["eval", ["--run", "x", "--sample-steps", "foo"], /--sample-steps must be all/],
];

for (const [task, args, pattern] of cases) {
  Deno.test(`${task} ${args.join(" ") || "(no flags)"}: one-line error`, async () => {
    const r = await run(task, args);
    assert.notEqual(r.code, 0);
    const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("backend:"));
    assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
    assert.match(lines[0]!, /^error: /);
    assert.match(lines[0]!, pattern);
    assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/);
  });
}

Deno.test("usage errors exit with code 2 and write nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const runs = join(dir, "runs");
    for (
      const args of [
        ["--nope"],
        ["--seed", "99999999999999999999"],
        ["--steps", "-5"],
        ["--steps", "0x10"],
        ["--workers", "64"],
        ["--sample-steps", "ddim99"],
      ]
    ) {
      const r = await run("train", [...args, "--out", runs]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(await exists(runs), false, `${args.join(" ")} wrote ${runs}`);
    }
    assert.equal((await run("sample", [])).code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("negative values are taken where they are valid", () => {
  const { values } = parseOptions(TRAIN_OPTIONS, ["--seed", "-7", "--lr", "1e-3"]);
  assert.equal(values.seed, -7);
  assert.equal(values.lr, 1e-3);
  assert.throws(() => parseOptions(TRAIN_OPTIONS, ["--seed", "-2147483649"]), /at least/);
});

Deno.test("sample and eval: sampling steps that do not fit the model exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A checkpoint of a T = 1000 model, made directly (no training).
    await untrainedCheckpoint(join(dir, "ckpt"), ["--timesteps", "1000"]);
    const png = join(dir, "s.png");
    for (
      const [task, args] of [
        ["sample", ["--sample-steps", "5000", "--out", png]],
        ["sample", ["--sample-steps", "ddim999", "--out", png]],
        ["eval", ["--sample-steps", "5000", "--no-record"]],
      ] as const
    ) {
      const r = await run(task, ["--run", join(dir, "ckpt"), "--backend", "cpu", ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^error: --sample-steps \S+ does not fit a model of 1000 timesteps/m);
    }
    assert.equal(await exists(png), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sample --eta with a sampler other than DDIM exits 2: it would be ignored", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await untrainedCheckpoint(join(dir, "ckpt"), ["--timesteps", "100"]);
    const png = join(dir, "s.png");
    for (const steps of ["10", "dpm++10", "unipc10"]) {
      const r = await run("sample", [
        "--run",
        join(dir, "ckpt"),
        "--backend",
        "cpu",
        "--sample-steps",
        steps,
        "--eta",
        "0.5",
        "--out",
        png,
      ]);
      oneLineError(r, new RegExp(`--eta applies only to DDIM .*; ${steps.replaceAll("+", "\\+")}`));
    }
    assert.equal(await exists(png), false);
    const ok = await run("sample", [
      "--run",
      join(dir, "ckpt"),
      "--backend",
      "cpu",
      "--sample-steps",
      "ddim10",
      "--eta",
      "0.5",
      "--n",
      "16",
      "--out",
      png,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const task of ["train", "sample", "eval", "bench", "web"]) {
  Deno.test(`${task} -h prints the help`, async () => {
    const r = await run(task, ["-h"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: deno task /);
  });
}

Deno.test("train --help names --keep-checkpoints and its defaults", async () => {
  const r = await run("train", ["--help"]);
  assert.match(
    r.stdout,
    /--keep-checkpoints\s+keep only the newest N .*s-curve: 0 \(all.*mnist: 3/,
  );
});

Deno.test("relative --out and --runs resolve against the caller's directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // `deno task` from another directory, as a user types it (the environment without an
    // INIT_CWD of an enclosing `deno task`).
    const env = Deno.env.toObject();
    delete env.INIT_CWD;
    const task = async (args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "task",
          "-q",
          "--config",
          new URL("../deno.json", import.meta.url).pathname,
          ...args,
        ],
        cwd: dir,
        env,
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      return text;
    };
    const stdout = await task([
      "train",
      ...["--out", "my-runs", "--steps", "2", "--timesteps", "10", "--batch", "8"],
      ...["--workers", "0", "--backend", "wasm", "--sample-every", "0", "--eval-every", "0"],
    ]);
    const [id] = (await Array.fromAsync(Deno.readDir(join(dir, "my-runs")))).map((e) => e.name);
    assert.ok(id, "no run under the caller's my-runs/");
    assert.match(stdout, /deno task web --runs my-runs/);
    assert.match(stdout, new RegExp(`deno task sample --run ${id} --runs my-runs --out`));
    await task(["sample", "--run", id!, "--runs", "my-runs", "--out", "s.json", "--n", "4"]);
    assert.ok(await exists(join(dir, "s.json")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--help lists every flag with its default", async () => {
  const r = await run("train", ["--help"]);
  assert.equal(r.code, 0);
  for (const flag of ["--dataset", "--schedule", "--t-sampler", "--checkpoint-every", "--resume"]) {
    assert.match(r.stdout, new RegExp(flag));
  }
  assert.match(r.stdout, /--clip\s+.*\(default: 1\)/);
});

Deno.test("sample passes over a non-finite newest checkpoint and says so", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cfg = resolveTrainConfig(parseOptions(TRAIN_OPTIONS, ["--timesteps", "10"]).values);
    const model = createModel(modelConfigOf(cfg));
    const trainer = createTrainer({ model, loss: toyLoss(new Rng(1), 10) });
    for (const name of ["step_00000001", "step_00000002"]) {
      await saveCheckpoint(join(dir, "checkpoints", name), trainer, { config: cfg });
    }
    trainer.dispose();
    model.dispose();
    await Deno.writeTextFile(join(dir, "run.json"), "{}");
    const bin = join(dir, "checkpoints", "step_00000002", "weights.bin");
    const bytes = await Deno.readFile(bin);
    new DataView(bytes.buffer).setFloat32(4, NaN, true);
    await Deno.writeFile(bin, bytes);
    const json = join(dir, "s.json");
    const r = await run("sample", ["--run", dir, "--out", json, "--n", "4", "--backend", "cpu"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /using step_00000001, the newest good checkpoint; passed over step_00000002 \(.*NaN/,
    );
    const data = JSON.parse(await Deno.readTextFile(json)).data as number[];
    assert.ok(data.length === 8 && data.every(Number.isFinite));
    await Deno.remove(join(dir, "checkpoints", "step_00000001"), { recursive: true });
    const none = await run("sample", ["--run", dir, "--out", json, "--backend", "cpu"]);
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      /^error: Run .* has no checkpoint that loads: step_00000002 \(.*NaN/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("export and sample: a missing run, raw weights of a packed run, a wrong --out: exit 2, nothing written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "model.safetensors");
    const packed = ["--runs", "pretrained", "--run", "mnist-unet-s"];
    for (
      const [task, args, pattern] of [
        ["export", ["--run", "no-such-run", "--runs", dir, "--out", out], /No run "no-such-run"/],
        ["export", [...packed, "--weights", "raw", "--out", out], /holds only its EMA weights/],
        ["export", [...packed, "--out", join(dir, "model.txt")], /must name a \.safetensors file/],
        ["sample", [...packed, "--no-ema", "--out", join(dir, "a.png")], /only its EMA weights/],
      ] as [string, string[], RegExp][]
    ) {
      const r = await run(task, args);
      assert.equal(r.code, 2, `${task} ${args.join(" ")}:\n${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.deepEqual([...Deno.readDirSync(dir)], [], `${task} wrote something`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
