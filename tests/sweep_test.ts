/** `deno task sweep` end to end on a tiny S-curve plan: runs, resumes, and refuses bad plans. */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  armState,
  readSweepResults,
  SWEEP_EXPORT_FILES,
  SWEEP_RESULTS_FILE,
} from "../tasks/sweep.ts";
import { runTask } from "./_cli_helpers.ts";

const sweep = (args: string[]) => runTask("sweep", args);

const TINY = ["--steps", "30", "--batch", "64", "--timesteps", "20", "--sample-every", "0"];

Deno.test("sweep: trains each arm, evaluates it, and a second call runs nothing again", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const plan = join(dir, "plan.json");
    await Deno.writeTextFile(
      plan,
      JSON.stringify({
        name: "tiny",
        eval: [["--n", "200", "--sample-steps", "5"]],
        arms: [
          { name: "cosine", train: [...TINY, "--schedule", "cosine"] },
          { name: "sigmoid", train: [...TINY, "--schedule", "sigmoid"] },
        ],
      }),
    );
    const out = join(dir, "sweeps");
    const first = await sweep(["--plan", plan, "--out", out]);
    assert.equal(first.code, 0, first.stderr);
    const path = join(out, "tiny", SWEEP_RESULTS_FILE);
    const results = await readSweepResults(path);
    assert.deepEqual(results.map((r) => [r.arm, r.eval]), [
      ["cosine", "--n 200 --sample-steps 5"],
      ["sigmoid", "--n 200 --sample-steps 5"],
    ]);
    assert.ok(results.every((r) => typeof r.result.swd === "number" && r.result.step === 30));
    assert.match(first.stdout, /## eval --n 200 --sample-steps 5/);
    assert.match(await Deno.readTextFile(join(out, "tiny", "results.md")), /\| sigmoid +\| 30 +\|/);
    // Every arm's run in the sweep's one folder, named after its arm: the viewer lists them all.
    const runs: string[] = [];
    for await (const e of Deno.readDir(join(out, "tiny"))) if (e.isDirectory) runs.push(e.name);
    assert.deepEqual(runs.map((r) => r.replace(/^\d{8}-\d{6}-/, "")).sort(), ["cosine", "sigmoid"]);
    assert.deepEqual((await armState(join(out, "tiny"), "cosine")).status, "completed");
    assert.ok(runs.includes((await armState(join(out, "tiny"), "sigmoid")).run!));

    // Nothing left to do; then one result lost: only that evaluation runs again.
    const dry = await sweep(["--plan", plan, "--out", out, "--dry-run"]);
    assert.match(dry.stdout, /cosine: trained \(.*\); 0 of 1 evaluations to run/);
    const lines = (await Deno.readTextFile(path)).trim().split("\n");
    await Deno.writeTextFile(path, lines[0] + "\n");
    const again = await sweep(["--plan", plan, "--out", out]);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /deno task train/);
    assert.match(again.stderr, /arm 2\/2 sigmoid: deno task eval --n 200 --sample-steps 5/);
    assert.equal((await readSweepResults(path)).length, 2);

    // --arm: only the named arms; an unknown one is a usage error.
    const one = await sweep(["--plan", plan, "--out", out, "--dry-run", "--arm", "sigmoid"]);
    assert.equal(one.code, 0, one.stderr);
    assert.doesNotMatch(one.stdout, /cosine/);
    assert.match(one.stdout, /arm 1\/1 sigmoid: trained/);
    const bad = await sweep(["--plan", plan, "--out", out, "--arm", "linear"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim(), "error: unknown arm linear; the plan's arms: cosine, sigmoid");

    // --export: the records without the checkpoints, read back as the sweep itself is.
    const kept = join(dir, "kept");
    const exported = await sweep(["--plan", plan, "--out", out, "--export", kept]);
    assert.equal(exported.code, 0, exported.stderr);
    const copy = join(kept, "tiny");
    assert.deepEqual(
      await readSweepResults(join(copy, SWEEP_RESULTS_FILE)),
      await readSweepResults(path),
    );
    for (const arm of ["cosine", "sigmoid"]) {
      const { run } = await armState(copy, arm);
      assert.equal(run, (await armState(join(out, "tiny"), arm)).run);
      const files = [...Deno.readDirSync(join(copy, run!))].map((e) => e.name).sort();
      assert.deepEqual(files, [...SWEEP_EXPORT_FILES].sort());
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sweep: a bad plan is one line and exit 2, before anything runs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [unknown, RegExp][] = [
      [
        { name: "x", arms: [{ name: "a", train: ["--stpes", "3"] }] },
        /arm 1 \(a\) train: unknown flag --stpes; did you mean --steps\?/,
      ],
      [{ name: "x", arms: [{ name: "a", train: ["--out", "y"] }] }, /--out is set by the sweep/],
      [
        { name: "x", arms: [{ name: "a", train: [] }, { name: "a", train: [] }] },
        /the name a is taken/,
      ],
      [
        { name: "x", eval: [["--n", "5"]], arms: [{ name: "a", train: [] }] },
        /eval 1: --n must be at least 20/,
      ],
      [{ name: "../up", arms: [{ name: "a", train: [] }] }, /name must be letters/],
      ["not json", /the plan is not JSON/],
    ];
    for (const [content, pattern] of cases) {
      const plan = join(dir, "plan.json");
      await Deno.writeTextFile(
        plan,
        typeof content === "string" ? content : JSON.stringify(content),
      );
      const r = await sweep(["--plan", plan, "--out", join(dir, "out")]);
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, pattern);
    }
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["plan.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
