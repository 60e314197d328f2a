/**
 * `evaluate` with `quality` on an MNIST model: the record carries every quality measure beside
 * its floor at the same n, and says what it measured (n, sampling steps and sampler, seed,
 * classifier SHA-256, weights); floors depend on n alone. A stand-in model whose every output
 * is 0 keeps it quick: its digits are far from real ones.
 */
import assert from "node:assert/strict";
import { initBackend } from "../lib/backend/mod.ts";
import { createSchedule } from "../lib/schedule.ts";
import { tf } from "../lib/tf.ts";
import type { DiffusionModel } from "../lib/model/mod.ts";
import { evaluate } from "../tasks/_evaluate.ts";
import { QUALITY_MEASURES } from "../lib/quality/record.ts";
import { loadClassifier } from "../lib/quality/weights.ts";

await initBackend("wasm");

/** eps = 0 and v = 0 for every input. */
const zeroModel = {
  apply: (x: tf.Tensor) => tf.zeros([...x.shape.slice(0, 3), 2]),
} as unknown as DiffusionModel;

const schedule = createSchedule("cosine", { numTimesteps: 100 });
const base = {
  dataset: "mnist" as const,
  variance: "learned-range" as const,
  seed: 3,
  quick: true,
  mcDigits: 20,
  sampleSteps: "2",
};

Deno.test("evaluate with quality: every measure beside its floor, and what was measured", async () => {
  const r = await evaluate(zeroModel, schedule, { ...base, quality: { n: 24 } });
  const { manifest } = await loadClassifier();
  assert.deepEqual(r.quality, {
    n: 24,
    steps: "2",
    sampler: "ancestral",
    seed: 3,
    classifier: manifest.sha256,
    weights: "ema",
  });
  for (const { key, floor } of QUALITY_MEASURES) {
    assert.ok(Number.isFinite(r[key]) && Number.isFinite(r[floor]), `${key} ${r[key]} ${r[floor]}`);
  }
  // The quick metrics are still there, and the stand-in's digits are far above the floor.
  assert.ok(Math.abs(r.simple! - 1) < 0.05, `simple ${r.simple}`);
  assert.ok(r.frechet > 5 * r.frechetFloor, `${r.frechet} vs ${r.frechetFloor}`);
  assert.equal(r.classes.reduce((a, b) => a + b, 0), 24);
  assert.ok(r.qualitySeconds >= 0);
  // A record must be one JSON line.
  assert.deepEqual(JSON.parse(JSON.stringify(r)).quality, r.quality);

  // Another seed and sampler: the floor at the same n is the same (cached, deterministic), and
  // no tensor is left behind once the classifier is loaded.
  const tensors = tf.memory().numTensors;
  const d = await evaluate(zeroModel, schedule, {
    ...base,
    quality: { n: 24, steps: "ddim2", seed: 9 },
  });
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(d.quality.sampler, "ddim");
  assert.equal(d.quality.seed, 9);
  for (const { floor } of QUALITY_MEASURES) assert.equal(d[floor], r[floor], floor);
});

Deno.test("evaluate without quality returns no quality fields; on the S-curve it is refused", async () => {
  const m = await evaluate(zeroModel, schedule, base);
  assert.equal("frechet" in m || "quality" in m, false);
  await assert.rejects(
    () =>
      evaluate(zeroModel, schedule, {
        dataset: "s-curve",
        variance: "fixed-small",
        seed: 0,
        quality: {},
      }),
    RangeError,
  );
});
