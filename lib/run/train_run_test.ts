import assert from "node:assert/strict";
import { join } from "node:path";
import { trainRun, type TrainRunHooks } from "./train_run.ts";
import type { RunConfig } from "./train_run.ts";
import { listCheckpointDirs } from "./checkpoints.ts";
import { readRunRecord } from "./record.ts";
import { runPaths } from "./layout.ts";
import type { TrainingBatch } from "../train/loop.ts";
import { loadModel } from "../train/checkpoint.ts";
import { loadNewestCheckpoint } from "./load.ts";

const CONFIG: RunConfig = {
  dataset: "s-curve",
  model: "mlp",
  schedule: "linear",
  timesteps: 40,
  loss: "simple",
  variance: "fixed-large",
  tSampler: "uniform",
  batch: 8,
  lr: 1e-3,
  warmup: 0,
  ema: 0.99,
  clip: 1,
  dropout: 0,
  timeEmbedding: "learned",
  seed: 1,
  microBatch: 0,
  steps: 20,
  name: "lib",
  logEvery: 2,
  checkpointEvery: 5,
  keepCheckpoints: 0,
  sampleEvery: 0,
  evalEvery: 0,
};

/** Batch i depends on i only; NaN at `poisonAt`, a throw at `failAt`. */
function hooks(poisonAt = -1, failAt = -1): TrainRunHooks & { closed: number } {
  const h = {
    closed: 0,
    async *batches(start: number): AsyncGenerator<TrainingBatch> {
      for (let i = start;; i++) {
        if (i === failAt) throw new Error(`data source failed at batch ${i}`);
        const x = new Float32Array(16);
        for (let k = 0; k < x.length; k++) x[k] = Math.cos(i * 16 + k);
        if (i === poisonAt) x[3] = NaN;
        yield { x, shape: [8, 2] };
      }
    },
    closeBatches() {
      h.closed++;
    },
  };
  return h;
}

Deno.test("a non-finite loss fails the run and keeps the last good checkpoint", async () => {
  const runs = await Deno.makeTempDir();
  try {
    const r = await trainRun({ runs, config: CONFIG, hooks: hooks(11) });
    assert.equal(r.status, "failed");
    assert.match(r.error!, /loss became NaN at step 12; the last good checkpoint is step_00000010/);
    const record = await readRunRecord(r.dir);
    assert.equal(record.status, "failed");
    assert.match(record.error!, /NaN/);
    const names = (await listCheckpointDirs(r.dir)).map((c) => c.name);
    assert.deepEqual(names.sort(), ["step_00000005", "step_00000010"]);
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});

Deno.test("a data source that dies fails the run with its error and saves a checkpoint", async () => {
  const runs = await Deno.makeTempDir();
  try {
    const h = hooks(-1, 7);
    await assert.rejects(
      () => trainRun({ runs, config: { ...CONFIG, checkpointEvery: 0 }, hooks: h }),
      /data source failed at batch 7/,
    );
    assert.equal(h.closed, 1);
    const [entry] = await Array.fromAsync(Deno.readDir(runs));
    const dir = join(runs, entry!.name);
    const record = await readRunRecord(dir);
    assert.equal(record.status, "failed");
    assert.match(record.error!, /saved checkpoint step_00000007/);
    assert.deepEqual((await listCheckpointDirs(dir)).map((c) => c.name), ["step_00000007"]);
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});

Deno.test("a run written through the library resumes to the uninterrupted run's files", async () => {
  const runs = await Deno.makeTempDir();
  try {
    const whole = await trainRun({ runs, config: { ...CONFIG, name: "whole" }, hooks: hooks() });
    const stop = new AbortController();
    const parts = { ...CONFIG, name: "parts" };
    const h = hooks();
    const first = await trainRun({
      runs,
      config: parts,
      hooks: { ...h, step: (s) => s.step === 7 && stop.abort() },
      signal: stop.signal,
    });
    assert.equal(first.status, "interrupted");
    assert.equal(first.step, 7);
    const second = await trainRun({ runs, resume: first.dir, hooks: hooks() });
    assert.equal(second.status, "completed");
    assert.deepEqual([...first.losses, ...second.losses], whole.losses);
    const strip = (text: string) =>
      text.replace(/"(time|stepMs|dataWaitMs|itemsPerSec)":[^,}]*/g, "");
    assert.equal(
      strip(await Deno.readTextFile(runPaths(second.dir).metrics)),
      strip(await Deno.readTextFile(runPaths(whole.dir).metrics)),
    );
    // The run records its recipe: its newest checkpoint rebuilds the model.
    const record = await readRunRecord(second.dir);
    assert.equal(record.config.schedule, "linear");
    assert.deepEqual(record.resumedFrom, [7]);
    const { found } = await loadNewestCheckpoint(second.dir);
    assert.equal(found!.checkpoint.step, 20);
    const model = await loadModel(found!.checkpoint, { weights: "ema" });
    assert.equal(model.kind, "mlp");
    model.dispose();
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});
