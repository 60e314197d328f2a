/**
 * `deno task pack-run`: a run packed for shipping (EMA weights alone, float16) samples as the
 * run does, is a quarter of the float32 weights' size, and cannot be resumed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { defaultRunConfig, loadNewestCheckpoint, runPaths, trainRun } from "../lib/run/mod.ts";
import type { TrainingBatch } from "../lib/train/mod.ts";

async function cli(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("a packed run samples like the run it came from and refuses to resume", async () => {
  const runs = await Deno.makeTempDir();
  try {
    const config = defaultRunConfig("s-curve", { steps: 30, timesteps: 10, batch: 16 });
    const run = await trainRun({
      runs,
      config,
      hooks: {
        async *batches(): AsyncGenerator<TrainingBatch> {
          for (let i = 0;; i++) {
            yield { x: new Float32Array(32).map((_, k) => Math.sin(i + k)), shape: [16, 2] };
          }
        },
      },
    });
    const packed = join(runs, "packed");
    const p = await cli(["tasks/pack_run.ts", "--run", run.dir, "--out", packed]);
    assert.equal(p.code, 0, p.stderr);
    const full = (await loadNewestCheckpoint(run.dir)).found!.checkpoint;
    const small = (await loadNewestCheckpoint(packed)).found!.checkpoint;
    assert.equal(small.emaOnly, true);
    assert.equal(small.step, 30);
    const bytes = (await Deno.stat(join(runPaths(packed).checkpoint(30), "weights.bin"))).size;
    assert.equal(bytes, 2 * full.ema.reduce((n, a) => n + a.length, 0));
    full.ema.forEach((a, i) =>
      a.forEach((x, j) =>
        assert.ok(Math.abs(x - small.ema[i]![j]!) <= 1e-3 * Math.max(1, Math.abs(x)), `${x}`)
      )
    );

    // The same samples (to float16's precision) from the packed run as from the run.
    const samples = async (dir: string) => {
      const file = join(runs, `${crypto.randomUUID()}.json`);
      const r = await cli(["tasks/sample.ts", "--run", dir, "--n", "64", "--out", file]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(await Deno.readTextFile(file)).data as number[];
    };
    const [a, b] = [await samples(run.dir), await samples(packed)];
    const worst = Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
    assert.ok(worst < 0.05, `samples differ by ${worst}`);

    // Shipped weights sample; they do not train further.
    const resume = await cli(["tasks/train.ts", "--resume", packed, "--steps", "40"]);
    assert.equal(resume.code, 2, resume.stderr);
    assert.match(resume.stderr, /holds only EMA weights/);
    const again = await cli(["tasks/pack_run.ts", "--run", run.dir, "--out", packed]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /exists/);
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});
