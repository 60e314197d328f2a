import assert from "node:assert/strict";
import { tf } from "../lib/tf.ts";
import { benchModels } from "./models.ts";

Deno.test("benchModels: records of the MLP shape on cpu, with consistent statistics", async () => {
  const before = tf.memory().numTensors;
  const seen: string[] = [];
  const recs = await benchModels({
    backends: ["cpu"],
    shapes: ["MLP T=100 batch 128 Adam step"],
    runs: 5,
    native: false,
    onRecord: (r) => seen.push(r.shape),
  });
  assert.equal(recs.length, 1);
  const r = recs[0]!;
  assert.equal(r.backend, "cpu");
  assert.equal(r.runs, 5);
  assert.equal(r.skipped, undefined);
  assert.equal(r.microBatch, undefined);
  assert.ok(r.msMin <= r.msMedian && r.msMedian <= r.msMax);
  assert.ok(Math.abs(r.itemsPerSec - 128 / (r.msMedian / 1000)) < 1e-6);
  assert.deepEqual(seen, [r.shape]);
  // Steps leak nothing: twice the runs leave the same count (model/optimizer setup aside).
  const afterFive = tf.memory().numTensors - before;
  await benchModels({
    backends: ["cpu"],
    shapes: ["MLP T=100 batch 128 Adam step"],
    runs: 10,
    native: false,
  });
  assert.equal(tf.memory().numTensors - before, 2 * afterFive);
});

Deno.test("benchModels: a backend that does not load is reported as skipped, with the reason", async () => {
  const recs = await benchModels({
    backends: ["tensorflow"],
    shapes: ["MLP batch 10,000 Adam step"],
    runs: 5,
  });
  assert.equal(recs.length, 1);
  // Not installed here: skipped with the install advice; installed elsewhere: measured.
  if (recs[0]!.skipped !== undefined) assert.match(recs[0]!.skipped, /tensorflow/);
});

Deno.test("benchModels: runs must be a positive integer", async () => {
  await assert.rejects(benchModels({ runs: 0 }), RangeError);
});
