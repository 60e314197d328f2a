import assert from "node:assert/strict";
import { tf } from "../lib/tf.ts";
import { createUnetS } from "../lib/model/unet_s.ts";
import { createSchedule } from "../lib/schedule.ts";
import { enableNative } from "../lib/backend/native/mod.ts";
import { classGridPicture, generateClassSamples } from "./_class_samples.ts";
import { generateSamples } from "./_evaluate.ts";

await tf.setBackend("cpu");
await enableNative("cpu");

Deno.test("class samples: class by class from the same noise, labelled; the grid has a row per class", async () => {
  const m = createUnetS({ kind: "unet-s", outChannels: 2, numClasses: 10, dropout: 0, seed: 1 });
  tf.tidy(() => {
    m.names.forEach((n, i) => {
      if (/conv2\.w$|proj\.w$|out\.conv\.w$/.test(n)) {
        const v = m.variables[i]!;
        v.assign(tf.randomNormal(v.shape, 0, 0.05, "float32", i));
      }
    });
  });
  const schedule = createSchedule("cosine", { numTimesteps: 10 });
  const options = { dataset: "mnist", steps: "2", variance: "learned-range", seed: 4 } as const;
  const r = await generateClassSamples(m, schedule, {
    ...options,
    classes: [2, 7],
    perClass: 3,
    guidance: 0,
  });
  assert.deepEqual(r.shape, [6, 28, 28, 1]);
  assert.deepEqual(r.labels, [2, 2, 2, 7, 7, 7]);
  // Guidance 0 is the unconditional model: both rows are its samples from the same noise.
  const uncond = await generateSamples(m, schedule, { ...options, n: 3 });
  assert.deepEqual(r.x.subarray(0, 3 * 784), uncond.x);
  assert.deepEqual(r.x.subarray(3 * 784), uncond.x);
  const guided = await generateClassSamples(m, schedule, {
    ...options,
    classes: [2, 7],
    perClass: 3,
    guidance: 1,
  });
  assert.notDeepEqual(guided.x.subarray(0, 3 * 784), guided.x.subarray(3 * 784));
  const img = classGridPicture(new Float32Array(10 * 8 * 784), 8);
  assert.ok(Math.abs(img.height / img.width - 10 / 8) < 0.01); // 10 rows of 8 (with padding)
  m.dispose();
});
