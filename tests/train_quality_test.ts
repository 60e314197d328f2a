/**
 * An MNIST run with `--eval-every` measures the quality of its samples at each evaluation and
 * at the end, each measure beside its floor, and says what it measured.
 */
import assert from "node:assert/strict";
import { runTraining } from "../tasks/_train_loop.ts";
import { QUICK_QUALITY_N } from "../tasks/_evaluate.ts";
import { runPaths } from "../lib/run/mod.ts";
import { config } from "./_train_helpers.ts";

Deno.test("training evaluates sample quality every --eval-every steps and at the end", async () => {
  const out = await Deno.makeTempDir();
  try {
    const lines: string[] = [];
    const r = await runTraining(
      config(out, [
        ...["--dataset", "mnist", "--steps", "2", "--batch", "4", "--workers", "0"],
        ...["--backend", "wasm", "--sample-steps", "2", "--eval-every", "1"],
        ...["--sample-every", "0", "--checkpoint-every", "0"],
      ]),
      { write: (line) => lines.push(line), plain: true },
    );
    assert.equal(r.status, "completed");
    const records = (await Deno.readTextFile(runPaths(r.dir).eval)).trim().split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(records.map((e) => e.step), [1, 2]);
    for (const e of records) {
      assert.equal(e.quality.n, QUICK_QUALITY_N);
      assert.equal(e.quality.steps, "2");
      assert.equal(e.quality.weights, "ema");
      for (const k of ["frechet", "kid", "precision", "recall", "classEntropy"]) {
        assert.equal(typeof e[k], "number", k);
        assert.equal(typeof e[`${k}Floor`], "number", `${k}Floor`);
      }
      // An untrained model's digits are noise: far above the floor.
      assert.ok(e.frechet > 10 * e.frechetFloor, `${e.frechet} vs ${e.frechetFloor}`);
    }
    const evalLines = lines.filter((l) => l.startsWith("eval @"));
    assert.equal(evalLines.length, 2);
    assert.match(evalLines[1]!, /frechet \S+ \(floor \S+\)/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
