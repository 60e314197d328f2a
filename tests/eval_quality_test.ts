/**
 * `deno task eval --quality`: an MNIST checkpoint (an untrained UNet-S: its digits are noise)
 * sampled and measured end to end, the record it appends, and the usage errors.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadClassifier } from "../lib/quality/weights.ts";
import { runTask, untrainedCheckpoint } from "./_cli_helpers.ts";

const run = (args: string[]) => runTask("eval", args);
const checkpoint = (dir: string, flags: string[]) => untrainedCheckpoint(join(dir, "ckpt"), flags);

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
      "--sample-steps",
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
