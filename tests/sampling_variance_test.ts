/**
 * `--variance` of `sample` and `eval`: a model trained with a fixed variance samples (and is
 * bounded) with either fixed variance, and says so in its records; a learned-range model refuses
 * the flag with one line and exit 2.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { oneLineError, runTask, untrainedCheckpoint } from "./_cli_helpers.ts";

const FIXED_SMALL = ["--loss", "simple", "--variance", "fixed-small"];

Deno.test("sample --variance: a fixed-variance model samples with the variance asked for", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ckpt = await untrainedCheckpoint(join(dir, "ckpt"), FIXED_SMALL);
    const draw = async (name: string, flags: string[]) => {
      const out = join(dir, `${name}.npy`);
      const r = await runTask("sample", [
        "--run",
        ckpt,
        "--n",
        "64",
        "--sample-steps",
        "20",
        "--out",
        out,
        "--backend",
        "cpu",
        ...flags,
      ]);
      assert.equal(r.code, 0, r.stderr);
      return { bytes: await Deno.readFile(out), stderr: r.stderr };
    };
    const own = await draw("own", []);
    const small = await draw("small", ["--variance", "fixed-small"]);
    const large = await draw("large", ["--variance", "fixed-large"]);
    // Its own variance is fixed-small: asking for it changes nothing; the other one does.
    assert.deepEqual(small.bytes, own.bytes);
    assert.notDeepEqual(large.bytes, own.bytes);
    assert.match(large.stderr, /variance fixed-large/);
    assert.doesNotMatch(small.stderr, /variance fixed-small/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("eval --variance: the bound uses it and the record says so", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ckpt = await untrainedCheckpoint(join(dir, "ckpt"), FIXED_SMALL);
    const bound = async (flags: string[]) => {
      const r = await runTask("eval", [
        "--run",
        ckpt,
        "--n",
        "100",
        "--sample-steps",
        "10",
        "--json",
        "--backend",
        "cpu",
        ...flags,
      ]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    };
    const own = await bound([]);
    const large = await bound(["--variance", "fixed-large"]);
    assert.equal(own.variance, undefined);
    assert.equal(large.variance, "fixed-large");
    assert.ok(Number.isFinite(own.bpd) && Number.isFinite(large.bpd));
    assert.notEqual(large.bpd, own.bpd);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("eval --quality --variance records the variance in the quality settings", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ckpt = await untrainedCheckpoint(join(dir, "ckpt"), [
      "--dataset",
      "mnist",
      ...FIXED_SMALL,
    ]);
    const r = await runTask("eval", [
      "--run",
      ckpt,
      "--quality",
      "--n",
      "20",
      "--sample-steps",
      "2",
      "--variance",
      "fixed-large",
      "--json",
      "--backend",
      "wasm",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    assert.equal(out.quality.variance, "fixed-large");
    assert.match(r.stderr, /variance fixed-large/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--variance on a learned-range model: one line, exit 2, nothing written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ckpt = await untrainedCheckpoint(join(dir, "ckpt"), [
      "--loss",
      "hybrid",
      "--variance",
      "learned-range",
    ]);
    const out = join(dir, "x.npy");
    const s = await runTask("sample", [
      "--run",
      ckpt,
      "--variance",
      "fixed-large",
      "--out",
      out,
      "--backend",
      "cpu",
    ]);
    oneLineError(
      s,
      /--variance fixed-large needs a model trained with a fixed variance; .* learned its variance \(learned-range\)/,
    );
    await assert.rejects(Deno.stat(out));
    const e = await runTask("eval", [
      "--run",
      ckpt,
      "--variance",
      "fixed-small",
      "--backend",
      "cpu",
    ]);
    oneLineError(e, /learned its variance/);
    const bad = await runTask("eval", ["--run", ckpt, "--variance", "learned", "--backend", "cpu"]);
    oneLineError(bad, /--variance/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
