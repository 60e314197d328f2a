/**
 * Resume without losing or corrupting a run: the saved target stands, the metrics and
 * evaluation files continue as an uninterrupted run's, a corrupt checkpoint is passed over, a
 * second trainer of the same run is refused, old checkpoints are pruned.
 */
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { join } from "node:path";
import { runTraining } from "../tasks/_train_loop.ts";
import { UsageError } from "../tasks/_cli.ts";
import {
  checkpointNames,
  config,
  exists,
  masked,
  quiet,
  record,
  SMALL,
  stopAt,
} from "./_train_helpers.ts";

Deno.test("resume without --steps keeps the run's saved target", async () => {
  const out = await Deno.makeTempDir();
  try {
    const flags = [...SMALL, "--steps", "12", "--checkpoint-every", "0"];
    const first = await runTraining(config(out, flags), stopAt(5));
    assert.equal(first.status, "interrupted");
    // No --steps: the config resolved from the flags says 40,000 (the default); 12 stands.
    const bare = config(out, [...SMALL]);
    assert.equal(bare.steps, 40000);
    const second = await runTraining(bare, { resume: first.id, ...stopAt(6) });
    assert.equal(second.status, "interrupted");
    const saved = await record(first.dir);
    assert.equal(saved.steps, 12);
    assert.equal((saved.config as { steps: number }).steps, 12);
    const third = await runTraining(bare, { resume: first.id, write: quiet, plain: true });
    assert.equal(third.status, "completed");
    assert.equal(third.step, 12);
    assert.equal((await record(first.dir)).steps, 12);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("after resume metrics.jsonl and eval.jsonl equal an uninterrupted run's", async () => {
  const out = await Deno.makeTempDir();
  try {
    // A metrics line every 5 steps, checkpoints every 8: interrupts fall inside intervals.
    const flags = [
      ...SMALL,
      ...["--steps", "24", "--log-every", "5", "--checkpoint-every", "8", "--eval-every", "8"],
    ];
    const whole = await runTraining(config(out, flags), { write: quiet, plain: true });
    const files = (dir: string) =>
      Promise.all(["metrics.jsonl", "eval.jsonl"].map((f) => masked(join(dir, f))));
    const expected = await files(whole.dir);
    assert.equal(expected[0]!.trim().split("\n").length, 5); // 5, 10, 15, 20, 24
    assert.equal(expected[1]!.trim().split("\n").length, 3); // 8, 16, 24

    // Ctrl-C at step 13: its checkpoint holds the sums of steps 11..13 of the next line.
    const a = await runTraining(config(out, flags), stopAt(13));
    assert.equal(a.step, 13);
    const a2 = await runTraining(config(out, flags), { resume: a.id, write: quiet, plain: true });
    assert.equal(a2.status, "completed");
    assert.deepEqual(await files(a.dir), expected);

    // Killed at step 13 before any interrupt checkpoint (kill -9): the files hold lines past
    // the newest checkpoint (step 8), which resume cuts and writes again.
    const b = await runTraining(config(out, flags), stopAt(13));
    await Deno.remove(join(b.dir, "checkpoints", "step_00000013"), { recursive: true });
    const b2 = await runTraining(config(out, flags), { resume: b.id, write: quiet, plain: true });
    assert.deepEqual([...b.losses.slice(0, 8), ...b2.losses], whole.losses);
    assert.deepEqual(await files(b.dir), expected);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("a corrupt or non-finite newest checkpoint: resume falls back and says so", async () => {
  const out = await Deno.makeTempDir();
  try {
    const flags = [...SMALL, "--steps", "20", "--checkpoint-every", "5"];
    const whole = await runTraining(config(out, flags), { write: quiet, plain: true });
    const run = await runTraining(config(out, flags), stopAt(12));
    assert.deepEqual(await checkpointNames(run.dir), [
      "step_00000005",
      "step_00000010",
      "step_00000012",
    ]);
    // NaN weights of the right size.
    const bin = join(run.dir, "checkpoints", "step_00000012", "weights.bin");
    const bytes = await Deno.readFile(bin);
    new DataView(bytes.buffer).setFloat32(0, NaN, true);
    await Deno.writeFile(bin, bytes);
    const lines: string[] = [];
    const resumed = await runTraining(config(out, flags), {
      resume: run.id,
      write: (l) => lines.push(l),
      plain: true,
    });
    const said = lines.filter((l) => /newest good checkpoint/.test(l));
    assert.equal(said.length, 1, lines.join("\n"));
    assert.match(said[0]!, /from step_00000010.*passed over step_00000012 \(.*NaN/);
    assert.equal(resumed.status, "completed");
    assert.deepEqual(resumed.losses, whole.losses.slice(10));
    assert.ok(await exists(join(run.dir, "checkpoints", "step_00000012.corrupt")));

    // A truncated newest checkpoint likewise (its run completed: --steps trains it on).
    const bin20 = join(run.dir, "checkpoints", "step_00000020", "weights.bin");
    await Deno.writeFile(bin20, (await Deno.readFile(bin20)).subarray(0, 100));
    lines.length = 0;
    const more = await runTraining(config(out, [...flags, "--steps", "22"]), {
      resume: run.id,
      resumeSteps: true,
      write: (l) => lines.push(l),
      plain: true,
    });
    assert.equal(more.step, 22);
    assert.ok(lines.some((l) => /from step_00000015.*passed over step_00000020 \(.*bytes/.test(l)));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("a second trainer of a run is refused; a stale lock is taken over", async () => {
  const out = await Deno.makeTempDir();
  try {
    const flags = [...SMALL, "--steps", "100000", "--checkpoint-every", "0"];
    const stop = new AbortController();
    let id = "";
    let second: Promise<unknown> | undefined;
    const first = await runTraining(config(out, flags), {
      plain: true,
      progressEvery: 0,
      signal: stop.signal,
      write: (line) => {
        id ||= /^run (\S+):/.exec(line)?.[1] ?? "";
        if (/^step \d+/.test(line) && !second) {
          second = runTraining(config(out, flags), { resume: id, write: quiet })
            .then(() => null, (e) => e).finally(() => stop.abort());
        }
      },
    });
    const refusal = await second;
    assert.ok(refusal instanceof UsageError, String(refusal));
    assert.match(refusal.message, /being trained by process \d+/);
    assert.equal(first.status, "interrupted");
    const lock = join(first.dir, "lock");
    assert.equal(await exists(lock), false, "the lock outlived its run");

    // The lock of a process that no longer exists is taken over.
    await Deno.writeTextFile(lock, JSON.stringify({ pid: 2 ** 30, host: hostname(), since: "" }));
    const again = await runTraining(config(out, flags), { resume: first.id, ...stopAt(3) });
    assert.equal(again.status, "interrupted");
    assert.equal(await exists(lock), false);

    // On the command line: one line, exit code 2, nothing changed.
    await Deno.writeTextFile(lock, JSON.stringify({ pid: Deno.pid, host: hostname(), since: "" }));
    const before = await Deno.readTextFile(join(first.dir, "run.json"));
    const child = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "tasks/train.ts", "--resume", first.id, "--out", out],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(child.stderr).trim();
    assert.equal(child.code, 2, stderr);
    assert.match(stderr, /^error: run .* is being trained by process \d+ .*delete .*lock$/);
    assert.equal(await Deno.readTextFile(join(first.dir, "run.json")), before);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("--keep-checkpoints keeps the newest N; MNIST keeps 3 by default", async () => {
  const out = await Deno.makeTempDir();
  try {
    const flags = [...SMALL, "--steps", "20", "--checkpoint-every", "5", "--keep-checkpoints", "2"];
    const r = await runTraining(config(out, flags), { write: quiet, plain: true });
    assert.deepEqual(await checkpointNames(r.dir), ["step_00000015", "step_00000020"]);
    assert.equal(config(out, ["--dataset", "mnist"]).keepCheckpoints, 3);
    assert.equal(config(out, []).keepCheckpoints, 0);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
