import assert from "node:assert/strict";
import { tf } from "../tf.ts";
import {
  createDiffusionTrainer,
  type DiffusionTrainer,
  type DiffusionTrainerState,
} from "./diffusion_trainer.ts";
import { type MetricsSums, type TrainingBatch, type TrainingSink, trainLoop } from "./loop.ts";
import type { DiffusionRecipe } from "./recipe.ts";
import type { MetricsLine } from "../run/layout.ts";

const RECIPE: DiffusionRecipe = {
  dataset: "s-curve",
  model: "mlp",
  schedule: "linear",
  timesteps: 40,
  loss: "hybrid",
  variance: "learned-range",
  tSampler: "importance",
  batch: 8,
  lr: 1e-3,
  warmup: 0,
  ema: 0.99,
  clip: 1,
  dropout: 0,
  timeEmbedding: "learned",
  seed: 5,
  microBatch: 0,
};

/** Deterministic batches from `start` on (batch i depends on i only). */
async function* batches(start = 0, poisonAt = -1, failAt = -1): AsyncGenerator<TrainingBatch> {
  for (let i = start;; i++) {
    if (i === failAt) throw new Error(`data source failed at batch ${i}`);
    const x = new Float32Array(16);
    for (let k = 0; k < x.length; k++) x[k] = Math.sin(i * 16 + k);
    if (i === poisonAt) x[0] = NaN;
    yield { x, shape: [8, 2], waitMs: 0 };
  }
}

/** A sink that keeps everything in memory, with checkpoints as trainer states. */
function memorySink(trainer: DiffusionTrainer) {
  const events: string[] = [];
  const lines: Omit<MetricsLine, "time" | "stepMs" | "dataWaitMs" | "itemsPerSec">[] = [];
  const checkpoints = new Map<number, { state: DiffusionTrainerState; sums: MetricsSums }>();
  const sink: TrainingSink = {
    start: () => void events.push("start"),
    metrics: ({ time: _t, stepMs: _s, dataWaitMs: _d, itemsPerSec: _i, ...line }) =>
      void lines.push(line),
    checkpoint: (step, sums) => {
      events.push(`checkpoint ${step}`);
      checkpoints.set(step, { state: trainer.getState(), sums: { ...sums, ms: 0, wait: 0 } });
    },
    samples: (step, final) => void events.push(`samples ${step}${final ? " final" : ""}`),
    evaluate: (step, final) => void events.push(`evaluate ${step}${final ? " final" : ""}`),
    final: (step) => void events.push(`final ${step}`),
  };
  return { sink, events, lines, checkpoints };
}

const EVERY = { log: 2, checkpoint: 4, samples: 4, evaluate: 8 };

Deno.test("the loop hands metrics, checkpoints, samples and evaluations to its sink on schedule", async () => {
  const trainer = createDiffusionTrainer({ recipe: RECIPE });
  const mem = memorySink(trainer);
  const r = await trainLoop({
    trainer,
    batches: batches(),
    target: 10,
    sink: mem.sink,
    every: EVERY,
  });
  assert.equal(r.status, "completed");
  assert.equal(r.step, 10);
  assert.equal(r.losses.length, 10);
  assert.deepEqual(mem.events, [
    "start",
    "checkpoint 4",
    "samples 4",
    "checkpoint 8",
    "samples 8",
    "evaluate 8",
    "checkpoint 10",
    "final 10",
    "samples 10 final",
    "evaluate 10 final",
  ]);
  assert.deepEqual(mem.lines.map((l) => l.step), [2, 4, 6, 8, 10]);
  assert.ok(mem.lines.every((l) => Number.isFinite(l.loss) && l.vlb !== 0));
  // lossStd is the sample standard deviation of the line's per-step losses.
  mem.lines.forEach((line, i) => {
    const [a, b] = [r.losses[2 * i]!, r.losses[2 * i + 1]!];
    assert.ok(Math.abs(line.lossStd! - Math.abs(a - b) / Math.SQRT2) < 1e-9 * (1 + line.loss));
  });
  trainer.dispose();
});

Deno.test("a run resumed from an in-memory checkpoint logs what the uninterrupted run logs", async () => {
  const whole = createDiffusionTrainer({ recipe: RECIPE });
  const a = memorySink(whole);
  const rw = await trainLoop({
    trainer: whole,
    batches: batches(),
    target: 12,
    sink: a.sink,
    every: EVERY,
  });

  // Stopped after step 5 (an odd step: the next metrics line spans the interruption).
  const first = createDiffusionTrainer({ recipe: RECIPE });
  const b = memorySink(first);
  const stop = new AbortController();
  const r1 = await trainLoop({
    trainer: first,
    batches: batches(),
    target: 12,
    sink: { ...b.sink, step: (s) => s.step === 5 && stop.abort() },
    every: EVERY,
    signal: stop.signal,
  });
  assert.equal(r1.status, "interrupted");
  assert.equal(r1.step, 5);
  const saved = b.checkpoints.get(5)!;
  first.dispose();

  const second = createDiffusionTrainer({ recipe: RECIPE });
  second.restore(saved.state);
  const c = memorySink(second);
  const r2 = await trainLoop({
    trainer: second,
    batches: batches(5),
    target: 12,
    sink: c.sink,
    every: EVERY,
    sums: saved.sums,
  });
  assert.equal(r2.status, "completed");
  assert.deepEqual([...b.lines, ...c.lines], a.lines);
  assert.deepEqual([...r1.losses, ...r2.losses], rw.losses);
  whole.dispose();
  second.dispose();
});

Deno.test("a non-finite loss fails the run without a checkpoint of the bad step", async () => {
  const trainer = createDiffusionTrainer({ recipe: RECIPE });
  const mem = memorySink(trainer);
  const r = await trainLoop({
    trainer,
    batches: batches(0, 6),
    target: 10,
    sink: mem.sink,
    every: EVERY,
  });
  assert.equal(r.status, "failed");
  assert.equal(r.step, 6);
  assert.match(r.error!, /loss became NaN at step 7/);
  assert.deepEqual([...mem.checkpoints.keys()], [4]);
  assert.ok(!mem.events.some((e) => e.startsWith("final")));
  trainer.dispose();
});

Deno.test("a failing data source saves the last good step, then propagates", async () => {
  const trainer = createDiffusionTrainer({ recipe: RECIPE });
  const mem = memorySink(trainer);
  await assert.rejects(
    () =>
      trainLoop({ trainer, batches: batches(0, -1, 6), target: 10, sink: mem.sink, every: EVERY }),
    /data source failed at batch 6/,
  );
  assert.deepEqual([...mem.checkpoints.keys()], [4, 6]);
  trainer.dispose();
});

Deno.test("a deadline ends the run as complete; finalOnly only runs the final phase", async () => {
  const trainer = createDiffusionTrainer({ recipe: RECIPE });
  const mem = memorySink(trainer);
  const r = await trainLoop({
    trainer,
    batches: batches(),
    target: 10,
    sink: mem.sink,
    every: EVERY,
    deadline: performance.now() - 1,
  });
  assert.equal(r.status, "completed");
  assert.equal(r.step, 0);
  assert.equal(r.deadlineReached, true);

  const events: string[] = [];
  let pulled = 0;
  const never = {
    next: () => (pulled++, Promise.resolve({ done: true as const, value: undefined })),
  };
  const done = await trainLoop({
    trainer: { stepCount: 10, step: () => Promise.reject(new Error("no step expected")) },
    batches: never,
    target: 10,
    finalOnly: true,
    sink: {
      checkpoint: () => void events.push("checkpoint"),
      samples: (_s, final) => void events.push(`samples ${final}`),
      evaluate: (_s, final) => void events.push(`evaluate ${final}`),
    },
    every: EVERY,
  });
  assert.equal(done.status, "completed");
  assert.equal(pulled, 0);
  assert.deepEqual(events, ["samples true", "evaluate true"]);
  trainer.dispose();
});

Deno.test("the loop and the diffusion trainer leak no tensors", async () => {
  const trainer = createDiffusionTrainer({ recipe: RECIPE });
  await trainLoop({ trainer, batches: batches(), target: 2 });
  const before = tf.memory().numTensors;
  await trainLoop({ trainer, batches: batches(2), target: 6 });
  assert.equal(tf.memory().numTensors, before);
  trainer.dispose();
});
