import assert from "node:assert/strict";
import { initBackend } from "../backend/mod.ts";
import { Rng } from "../random.ts";
import { accuracy } from "./classifier.ts";
import { measureQuality, realDigits } from "./measures.ts";
import { loadClassifier, SHIPPED_WEIGHTS } from "./weights.ts";
import { loadMnist } from "../../workers/mnist.ts";

await initBackend("wasm");
const { train, test } = loadMnist();
const { classifier, manifest } = await loadClassifier();
const ref = { train: train.images, test: test.images };
const N = 300;

Deno.test("the shipped classifier: checksum verified, 991 of the 999 test digits right", () => {
  const acc = accuracy(classifier, test.images, test.labels);
  assert.equal(Math.round(acc * 999), 991, `accuracy ${acc}`);
  assert.equal(acc.toFixed(4), manifest.testAccuracy.toFixed(4));
});

Deno.test("a damaged weights file is refused in one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.copyFile(`${SHIPPED_WEIGHTS.pathname}.json`, `${dir}/w.json`);
    const bytes = await Deno.readFile(`${SHIPPED_WEIGHTS.pathname}.bin`);
    bytes[100] = bytes[100]! ^ 1;
    await Deno.writeFile(`${dir}/w.bin`, bytes);
    await assert.rejects(() => loadClassifier(`${dir}/w`), /damaged \(SHA-256/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("real digits against the test digits land at the floor", () => {
  const other = realDigits(train.images, N, 99); // a different draw than the floor's
  const r = measureQuality(classifier, other, ref);
  const s = r.samples, f = r.floor;
  assert.ok(Math.abs(s.frechet - f.frechet) < 0.5 * f.frechet + 1, `${s.frechet} vs ${f.frechet}`);
  assert.ok(
    Math.abs(s.kid - f.kid) < 4 * (s.kidStderr + f.kidStderr) + 0.5,
    `${s.kid} vs ${f.kid}`,
  );
  assert.ok(s.precision > 0.6 && s.recall > 0.6, JSON.stringify(s));
  assert.ok(s.classEntropyBits > 3.2, `${s.classEntropyBits}`);
  assert.ok(s.meanConfidence > 0.85); // label smoothing keeps confidences below 1
  // Training digits are their own nearest training digits: all "memorised", by construction.
  assert.equal(r.memorisation.fractionCloser, 1);
});

Deno.test("noise and blurred digits land far above the floor; held-out digits are not memorised", () => {
  const rng = new Rng(1);
  const noise = rng.fillUniform(new Float32Array(N * 784)).map((u) => 2 * u - 1);
  const real = realDigits(train.images, N, 7);
  const blurred = new Float32Array(real.length);
  for (let i = 0; i < N; i++) {
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        let s = 0, c = 0;
        for (let dy = -2; dy <= 2; dy++) {
          for (let dx = -2; dx <= 2; dx++) {
            const yy = y + dy, xx = x + dx;
            if (yy < 0 || yy >= 28 || xx < 0 || xx >= 28) continue;
            s += real[i * 784 + yy * 28 + xx]!;
            c++;
          }
        }
        blurred[i * 784 + y * 28 + x] = s / c;
      }
    }
  }
  const rn = measureQuality(classifier, noise, ref);
  const rb = measureQuality(classifier, blurred, ref);
  const floor = rn.floor.frechet;
  assert.ok(rn.samples.frechet > 20 * floor, `noise ${rn.samples.frechet} vs floor ${floor}`);
  assert.ok(rb.samples.frechet > 3 * floor, `blur ${rb.samples.frechet} vs floor ${floor}`);
  assert.ok(rn.samples.kid > rn.floor.kid + 10 * rn.samples.kidStderr);
  assert.ok(rb.samples.kid > rb.floor.kid + 3 * rb.samples.kidStderr);
  assert.ok(rn.samples.precision < 0.05, `noise precision ${rn.samples.precision}`);
  // Held-out test digits, measured as samples: none closer to training than held-out digits are.
  const heldOut = test.images.subarray(0, N * 784);
  assert.ok(measureQuality(classifier, heldOut, ref).memorisation.fractionCloser <= 0.05);
});
