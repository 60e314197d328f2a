import assert from "node:assert/strict";
import { initBackend } from "../backend/mod.ts";
import { createQualityEvaluator } from "./evaluator.ts";
import { measureQuality, realDigits } from "./measures.ts";
import { loadClassifier } from "./weights.ts";
import { loadMnist } from "../../workers/mnist.ts";

await initBackend("wasm");
const { train, test } = loadMnist();
const ref = { train: train.images, test: test.images };

Deno.test("the evaluator's floor is measureQuality's at seed 0, computed once per n", async () => {
  const { classifier } = await loadClassifier();
  try {
    const q = createQualityEvaluator(classifier, ref);
    const samples = realDigits(ref.train, 40, 7);
    const a = q.measure(samples, 0);
    const b = measureQuality(classifier, samples, ref, 0);
    assert.deepEqual(a, b);
    assert.equal(q.measure(samples, 5).floor, a.floor); // the same object: cached
    assert.notEqual(q.floor(41), a.floor);
    assert.throws(() => q.measure(samples.subarray(0, 19 * 784)), RangeError);
  } finally {
    classifier.dispose();
  }
});
