import assert from "node:assert/strict";
import { tf } from "./tf.ts";
import { Rng } from "./random.ts";
import { createSchedule } from "./schedule.ts";
import { calcBpdLoop } from "./bpd.ts";
import { priorBpd } from "./loss.ts";
import { gaussianOracle, MU, SD } from "./_test_fixtures.ts";

await tf.setBackend("cpu");

const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;

Deno.test("calcBpdLoop: the bound of N(mu, s^2) under its exact model sits just above its NLL", () => {
  const s = createSchedule("linear", { numTimesteps: 100 });
  const rng = new Rng(3);
  const xs = Float32Array.from({ length: 2000 }, () => MU + SD * rng.normal());
  const x0 = tf.tensor2d(xs, [2000, 1]);
  // The exact NLL of these samples in bits (its expectation is the entropy, 0.310 bits).
  const nll = mean(
    Array.from(
      xs,
      (x) => (0.5 * Math.log(2 * Math.PI * SD * SD) + (x - MU) ** 2 / (2 * SD * SD)) / Math.LN2,
    ),
  );
  const before = tf.memory().numTensors;
  let calls = 0;
  const large = calcBpdLoop(s, gaussianOracle(s), x0, {
    data: "continuous",
    variance: "fixed-large",
    onStep: () => calls++,
  });
  assert.equal(calls, 100);
  assert.equal(tf.memory().numTensors, before, "no tensors leaked");
  const total = mean(large.totalBpd);
  // A bound: above the NLL in expectation (by about 0.07 bits here: the exact means with beta_t
  // variances), up to Monte Carlo error (one x_t per example and t: a standard error of 0.045).
  assert.ok(total > nll - 0.1 && total < nll + 0.2, `bound ${total} vs NLL ${nll}`);
  // The parts add up; the prior is priorBpd's.
  const sum = large.vbTerms.reduce((a, b) => a + b, 0) + mean(large.priorBpd);
  assert.ok(Math.abs(sum - total) < 1e-9);
  const prior = priorBpd(s, x0);
  assert.deepEqual(large.priorBpd, Float64Array.from(prior.dataSync()));
  prior.dispose();
  assert.ok(large.mse.every((m) => m > 0 && m < 2));
  assert.equal(large.xstartMse.length, 100);
  // The small variances give a looser bound for the same means (Improved DDPM's observation).
  const small = calcBpdLoop(s, gaussianOracle(s), x0, {
    data: "continuous",
    variance: "fixed-small",
  });
  assert.ok(mean(small.totalBpd) > total + 0.5, `${mean(small.totalBpd)} vs ${total}`);
  x0.dispose();
});

Deno.test("calcBpdLoop on images: finite, non-negative terms with the discretized decoder", () => {
  const s = createSchedule("cosine", { numTimesteps: 20 });
  tf.tidy(() => {
    const x0 = tf.tensor4d(
      Float32Array.from({ length: 32 }, (_, i) => (2 * ((i * 37) % 256)) / 255 - 1),
      [2, 4, 4, 1],
    );
    const r = calcBpdLoop(s, (x) => tf.mul(x, 0.5), x0, { seed: 2 });
    assert.ok(r.totalBpd.every((v) => Number.isFinite(v) && v > 0));
    assert.ok(r.vbTerms.every((v) => v >= -1e-6));
    const again = calcBpdLoop(s, (x) => tf.mul(x, 0.5), x0, { seed: 2 });
    assert.deepEqual(again.totalBpd, r.totalBpd);
  });
});
