/**
 * A training process stopped from outside: SIGTERM and SIGHUP act as Ctrl-C; kill -9 in the
 * final phase (after the last checkpoint) leaves a run that resume finishes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runTraining } from "../tasks/_train_loop.ts";
import { config, exists, quiet, record, SMALL } from "./_train_helpers.ts";

/** Starts `deno run tasks/train.ts`; resolves each stderr line to `onLine`. */
function spawnTrain(args: string[], onLine: (line: string) => void) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tasks/train.ts", ...args],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines = (async () => {
    let rest = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const l of parts) onLine(l);
    }
  })();
  return { child, done: async () => (await Promise.all([child.status, lines]))[0] };
}

/** A short run whose final phase (samples and evaluation at T = 30) lasts long enough to signal. */
const FINAL_PHASE_FLAGS = [
  ...SMALL,
  "--timesteps",
  "30",
  "--steps",
  "15",
  "--checkpoint-every",
  "0",
];

/**
 * Trains a {@linkcode FINAL_PHASE_FLAGS} run into `out`, handing each line of its output to
 * `react` (which signals the child), and returns its exit status, run directory and lines.
 */
async function finalPhaseRun(
  out: string,
  react: (line: string, child: Deno.ChildProcess) => void,
): Promise<{ status: Deno.CommandStatus; dir: string; seen: string[] }> {
  let dir = "";
  const seen: string[] = [];
  const { child, done } = spawnTrain(["--out", out, ...FINAL_PHASE_FLAGS], (line) => {
    seen.push(line);
    const m = /^run (\S+):/.exec(line);
    if (m) dir = join(out, m[1]!);
    react(line, child);
  });
  return { status: await done(), dir, seen };
}

for (const [signal, code] of [["SIGTERM", 143], ["SIGHUP", 129]] as const) {
  Deno.test(`${signal} checkpoints, marks the run interrupted and exits ${code}`, async () => {
    const out = await Deno.makeTempDir();
    try {
      let dir = "";
      const { child, done } = spawnTrain(
        ["--out", out, ...SMALL, "--steps", "100000"],
        (line) => {
          const m = /^run (\S+):/.exec(line);
          if (m) {
            dir = join(out, m[1]!);
            // Signal once training is under way: metrics are being written.
            (async () => {
              for (let i = 0; i < 600; i++) {
                const size = await Deno.stat(join(dir, "metrics.jsonl")).then(
                  (s) => s.size,
                  () => 0,
                );
                if (size > 0) break;
                await new Promise((r) => setTimeout(r, 50));
              }
              child.kill(signal);
            })();
          }
        },
      );
      const status = await done();
      assert.equal(status.code, code);
      const run = await record(dir);
      assert.equal(run.status, "interrupted");
      assert.ok((run.step as number) > 0);
      const ckpts = await Array.fromAsync(Deno.readDir(join(dir, "checkpoints")));
      assert.equal(ckpts.length, 1);
      assert.equal(await exists(join(dir, "lock")), false);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  });
}

Deno.test("kill -9 in the final phase, then resume: the run completes", async () => {
  const out = await Deno.makeTempDir();
  try {
    // T = 30: the final samples and evaluation take a few seconds, time enough to kill there.
    const flags = FINAL_PHASE_FLAGS;
    let dir = "";
    let killed = false;
    const { child, done } = spawnTrain(["--out", out, ...flags], (line) => {
      const m = /^run (\S+):/.exec(line);
      if (!m) return;
      dir = join(out, m[1]!);
      // The final checkpoint written: the final phase has begun.
      (async () => {
        const last = join(dir, "checkpoints", "step_00000015", "checkpoint.json");
        for (let i = 0; i < 3000 && !(await exists(last)); i++) {
          await new Promise((r) => setTimeout(r, 10));
        }
        child.kill("SIGKILL");
        killed = true;
      })();
    });
    await done();
    assert.ok(killed, "never reached the final phase");
    const before = await record(dir);
    assert.equal(before.status, "running");
    assert.equal(await exists(join(dir, "lock")), true);
    assert.equal(await exists(join(dir, "trajectory.png")), false);

    const lines: string[] = [];
    const r = await runTraining(config(out, flags), {
      resume: dir,
      write: (l) => lines.push(l),
      plain: true,
    });
    assert.equal(r.status, "completed");
    assert.equal(r.step, 15);
    assert.deepEqual(r.losses, []);
    assert.ok(lines.some((l) => /final samples and evaluation/.test(l)));
    const evals = (await Deno.readTextFile(join(dir, "eval.jsonl"))).trim().split("\n");
    assert.equal(evals.length, 1);
    assert.equal(JSON.parse(evals[0]!).step, 15);
    for (const f of ["trajectory.png", "samples/step_00000015.png"]) {
      assert.ok(await exists(join(dir, f)), f);
    }
    assert.equal((await record(dir)).status, "completed");
    assert.equal(await exists(join(dir, "lock")), false);
    // Completed: resuming again is refused, as before.
    await assert.rejects(
      runTraining(config(out, flags), { resume: dir, write: quiet }),
      /already at step 15/,
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("a second signal quits at once: the run is marked interrupted, unlocked, resumable", async () => {
  const out = await Deno.makeTempDir();
  try {
    // The first signal comes in the final phase, which runs on (seconds at T = 30); the second
    // one quits in the middle of it.
    const { status, dir } = await finalPhaseRun(out, (line, child) => {
      if (/^final samples and evaluation/.test(line)) child.kill("SIGTERM");
      if (/^SIGTERM: finishing/.test(line)) child.kill("SIGINT");
    });
    assert.equal(status.code, 143);
    const run = await record(dir);
    assert.equal(run.status, "interrupted");
    assert.match(run.error as string, /quit at once on a second signal \(SIGINT\)/);
    assert.equal(await exists(join(dir, "lock")), false);
    const r = await runTraining(config(out, FINAL_PHASE_FLAGS), {
      resume: dir,
      write: quiet,
      plain: true,
    });
    assert.equal(r.status, "completed");
    assert.ok(await exists(join(dir, "trajectory.png")));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

/** Whether util-linux's `script` (a pseudo-terminal for a command) is installed. */
async function hasScript(): Promise<boolean> {
  try {
    return (await new Deno.Command("script", { args: ["--version"], stdout: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "a closed terminal (SIGHUP, the progress bar's terminal gone) checkpoints the run",
  ignore: !(await hasScript()),
  fn: async () => {
    const out = await Deno.makeTempDir();
    try {
      const cmd = [Deno.execPath(), "run", "-A", "tasks/train.ts", "--out", out, ...SMALL]
        .concat(["--steps", "100000"]).join(" ");
      // The trainer runs on a pseudo-terminal (so it draws a progress bar); killing `script`
      // closes the terminal, and the kernel hangs the trainer up.
      const term = new Deno.Command("script", {
        args: ["-qefc", cmd, "/dev/null"],
        stdin: "piped",
        stdout: "null",
        stderr: "null",
      }).spawn();
      let dir = "";
      for (let i = 0; i < 600 && !dir; i++) {
        await new Promise((r) => setTimeout(r, 50));
        for await (const e of Deno.readDir(out)) {
          const size = await Deno.stat(join(out, e.name, "metrics.jsonl")).then(
            (s) => s.size,
            () => 0,
          );
          if (size > 0) dir = join(out, e.name);
        }
      }
      assert.ok(dir, "training never started");
      term.kill("SIGKILL");
      await term.status;
      let run = await record(dir);
      for (
        let i = 0;
        i < 300 && (run.status === "running" || await exists(join(dir, "lock")));
        i++
      ) {
        await new Promise((r) => setTimeout(r, 50));
        run = await record(dir);
      }
      assert.equal(run.status, "interrupted");
      assert.ok((run.step as number) > 0);
      assert.equal((await Array.fromAsync(Deno.readDir(join(dir, "checkpoints")))).length, 1);
      assert.equal(await exists(join(dir, "lock")), false);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

// Known defect (2026-12-01, open): about one such run in 20-40 aborts at its end with a corrupted
// heap (glibc: "corrupted size vs. prev_size while consolidating"; exit 134, or 139); without the
// hang-ups, 30 runs in a row exited cleanly. Until it is found, a crash (not a quit: that would be
// 129) is tried once more, and said, so that the test still fails on a trainer that quits at once
// or loses the run, and on a crash that repeats.
Deno.test("a second SIGHUP (a hang-up comes twice) does not quit at once", async () => {
  for (let attempt = 1;; attempt++) {
    const out = await Deno.makeTempDir();
    try {
      const { status, dir, seen } = await finalPhaseRun(out, (line, child) => {
        if (/^final samples and evaluation/.test(line)) {
          child.kill("SIGHUP");
          setTimeout(() => child.kill("SIGHUP"), 100);
        }
      });
      const crashed = status.code === 134 || status.code === 139;
      if (crashed && attempt === 1) {
        console.warn(`known crash at exit after a double hang-up (exit ${status.code}); again`);
        continue;
      }
      assert.equal(
        status.code,
        0,
        `exit ${status.code}; its last lines:\n${seen.slice(-15).join("\n")}`,
      );
      assert.equal((await record(dir)).status, "completed");
      assert.ok(await exists(join(dir, "trajectory.png")));
      return;
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  }
});
