import assert from "node:assert/strict";
import { join } from "node:path";
import { cachedBatchName, classAccuracies, generateSamples } from "./_evaluate.ts";
import { accuracy, createClassifier } from "../lib/quality/classifier.ts";
import { Rng } from "../lib/random.ts";
import { createModel } from "../lib/model/create_model.ts";
import { createSchedule } from "../lib/schedule.ts";

Deno.test("generateSamples with cacheDir: a stopped job resumes and gives the same samples", async () => {
  const dir = await Deno.makeTempDir();
  const model = createModel({ kind: "mlp", timesteps: 20, outDim: 2, seed: 1 });
  const schedule = createSchedule("cosine", { numTimesteps: 20 });
  const options = {
    dataset: "s-curve" as const,
    n: 25,
    steps: "5",
    variance: "fixed-small" as const,
    seed: 3,
    batch: 10,
    cacheDir: join(dir, "kept"),
  };
  try {
    const first = await generateSamples(model, schedule, options);
    const names = [...Deno.readDirSync(options.cacheDir)].map((e) => e.name).sort();
    assert.deepEqual(names, [0, 1, 2].map(cachedBatchName));
    // A batch lost, one cut short by a kill, one of another shape: each is sampled again.
    await Deno.remove(join(options.cacheDir, cachedBatchName(1)));
    const two = join(options.cacheDir, cachedBatchName(2));
    await Deno.writeFile(two, (await Deno.readFile(two)).subarray(0, 100));
    let calls = 0;
    const again = await generateSamples(model, schedule, {
      ...options,
      onProgress: () => calls++,
    });
    assert.deepEqual(again.x, first.x);
    // Batch 0 came from its file (one progress call for its 5 steps); 1 and 2 were sampled.
    assert.equal(calls, 1 + 5 + 5);
    // A shorter job with the same settings reads the kept first batch.
    const kept = await generateSamples(model, schedule, { ...options, n: 10 });
    assert.deepEqual(kept.x, first.x.subarray(0, 20));
  } finally {
    model.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("classAccuracies: sample i is of class i mod 10, counted class by class", () => {
  const c = createClassifier(7);
  try {
    const n = 40;
    const rng = new Rng(3);
    const x = rng.fillNormal(new Float32Array(n * 784)).map((v) => Math.tanh(v));
    const r = classAccuracies(c, x);
    for (let k = 0; k < 10; k++) {
      const idx = Array.from({ length: n / 10 }, (_, j) => 10 * j + k);
      const xk = new Float32Array(idx.length * 784);
      idx.forEach((i, j) => xk.set(x.subarray(i * 784, (i + 1) * 784), j * 784));
      assert.equal(r.classAccuracies[k], accuracy(c, xk, idx.map(() => k)));
    }
    assert.equal(r.classAccuracy, r.classAccuracies.reduce((a, b) => a + b, 0) / 10);
  } finally {
    c.dispose();
  }
});
