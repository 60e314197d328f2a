/** A run written through the library (`trainRun`) is a run that `deno task sample` reads. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { defaultRunConfig, trainRun } from "../lib/run/mod.ts";
import type { TrainingBatch } from "../lib/train/mod.ts";

Deno.test("deno task sample reads a run that the library trained", async () => {
  const runs = await Deno.makeTempDir();
  try {
    const config = defaultRunConfig("s-curve", { steps: 4, timesteps: 10, batch: 16 });
    const run = await trainRun({
      runs,
      config,
      hooks: {
        async *batches(): AsyncGenerator<TrainingBatch> {
          while (true) yield { x: new Float32Array(32).map((_, i) => Math.sin(i)), shape: [16, 2] };
        },
      },
    });
    assert.equal(run.status, "completed");
    const png = join(runs, "samples.png");
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "tasks/sample.ts", "--run", run.dir, "--n", "32", "--out", png],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    // A sign of life while it samples, ending at every model call done.
    assert.match(stderr, /sampling: 100% \(10\/10 model calls, \d+ s\)/);
    const bytes = await Deno.readFile(png);
    assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});
