/** `deno task train` end to end: the run directory, resume, interruption, failure. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseOptions } from "../tasks/_cli.ts";
import { resolveTrainConfig, TRAIN_OPTIONS, type TrainConfig } from "../tasks/_train_options.ts";
import { runTraining } from "../tasks/_train_loop.ts";

function config(out: string, flags: string[]): TrainConfig {
  return resolveTrainConfig(parseOptions(TRAIN_OPTIONS, ["--out", out, ...flags]).values);
}

const SMALL = [
  "--batch",
  "32",
  "--workers",
  "0",
  "--backend",
  "wasm",
  "--log-every",
  "1",
  "--sample-every",
  "0",
  "--eval-every",
  "0",
];

const quiet = () => {};

async function readJsonl(path: string): Promise<Record<string, number>[]> {
  const text = await Deno.readTextFile(path);
  return text.trim().split("\n").map((l) => JSON.parse(l));
}

Deno.test("a short S-curve run writes the whole run directory", async () => {
  const out = await Deno.makeTempDir();
  try {
    const r = await runTraining(
      config(out, [...SMALL, "--steps", "30", "--checkpoint-every", "10", "--name", "smoke"]),
      { write: quiet, plain: true },
    );
    assert.equal(r.status, "completed");
    assert.equal(r.step, 30);
    const run = JSON.parse(await Deno.readTextFile(join(r.dir, "run.json")));
    assert.equal(run.status, "completed");
    assert.equal(run.step, 30);
    assert.equal(run.paramCount, 72066);
    assert.equal(run.config.schedule, resolveTrainConfig({} as never).schedule);
    assert.match(run.backend, /wasm/);
    const metrics = await readJsonl(join(r.dir, "metrics.jsonl"));
    assert.equal(metrics.length, 30);
    for (const key of ["loss", "simple", "vlb", "gradNorm", "lr", "stepMs", "dataWaitMs"]) {
      assert.ok(Number.isFinite(metrics[0]![key]), key);
    }
    const evals = await readJsonl(join(r.dir, "eval.jsonl"));
    assert.equal(evals.length, 1);
    assert.ok(evals[0]!.swd! > evals[0]!.swdFloor!);
    for (const f of ["forward.png", "trajectory.png", "samples/step_00000030.png"]) {
      const bytes = await Deno.readFile(join(r.dir, f));
      assert.equal(new TextDecoder().decode(bytes.subarray(1, 4)), "PNG", f);
    }
    const ckpts = [];
    for await (const e of Deno.readDir(join(r.dir, "checkpoints"))) ckpts.push(e.name);
    assert.deepEqual(ckpts.sort(), ["step_00000010", "step_00000020", "step_00000030"]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("an interrupted run resumed gives the losses of an uninterrupted one", async () => {
  const out = await Deno.makeTempDir();
  try {
    // Learned variance and importance sampling: the resumed state includes the sampler's history.
    const flags = [
      ...SMALL,
      ...["--steps", "24", "--checkpoint-every", "0", "--loss", "hybrid"],
      ...["--t-sampler", "importance"],
    ];
    const whole = await runTraining(config(out, [...flags, "--name", "whole"]), {
      write: quiet,
      plain: true,
    });
    const stop = new AbortController();
    let seen = 0;
    const first = await runTraining(config(out, [...flags, "--name", "parts"]), {
      write: (line) => {
        // Abort after the first progress line past step 10 (plain lines come every step here).
        if (/^step (\d+)/.test(line) && ++seen >= 11) stop.abort();
      },
      plain: true,
      progressEvery: 0,
      signal: stop.signal,
    });
    assert.equal(first.status, "interrupted");
    assert.ok(first.step > 0 && first.step < 24, `stopped at ${first.step}`);
    const run = JSON.parse(await Deno.readTextFile(join(first.dir, "run.json")));
    assert.equal(run.status, "interrupted");
    const second = await runTraining(config(out, flags), {
      resume: first.id,
      write: quiet,
      plain: true,
    });
    assert.equal(second.status, "completed");
    assert.equal(second.step, 24);
    assert.deepEqual([...first.losses, ...second.losses], whole.losses);

    // A completed run trains on to a new target given with --steps, and not below its step.
    await assert.rejects(
      runTraining(config(out, [...flags, "--steps", "20"]), {
        resume: first.id,
        resumeSteps: true,
        write: quiet,
      }),
      /already at step 24; pass --steps larger/,
    );
    const third = await runTraining(config(out, [...flags, "--steps", "27"]), {
      resume: first.id,
      resumeSteps: true,
      write: quiet,
      plain: true,
    });
    assert.equal(third.step, 27);
    assert.equal(third.losses.length, 3);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("Ctrl-C checkpoints, marks the run interrupted and exits 130", async () => {
  const out = await Deno.makeTempDir();
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "tasks/train.ts", "--out", out, ...SMALL, "--steps", "100000"],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Wait until training is under way (metrics are being written), then interrupt.
    let metricsPath = "";
    for (let i = 0; i < 600 && !metricsPath; i++) {
      await new Promise((r) => setTimeout(r, 100));
      for await (const e of Deno.readDir(out)) {
        try {
          if ((await Deno.stat(join(out, e.name, "metrics.jsonl"))).size > 0) {
            metricsPath = join(out, e.name);
          }
        } catch { /* not yet */ }
      }
    }
    assert.ok(metricsPath, "training never started");
    child.kill("SIGINT");
    const { code, stdout } = await child.output();
    assert.equal(code, 130);
    const run = JSON.parse(await Deno.readTextFile(join(metricsPath, "run.json")));
    assert.equal(run.status, "interrupted");
    assert.ok(run.step > 0);
    const ckpts = await Array.fromAsync(Deno.readDir(join(metricsPath, "checkpoints")));
    assert.equal(ckpts.length, 1);
    assert.match(new TextDecoder().decode(stdout), /run: /);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
