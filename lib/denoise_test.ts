import assert from "node:assert/strict";
import { tf } from "./tf.ts";
import { createSchedule } from "./schedule.ts";
import { denoise, denoiseLoopProgressive, denoisingSchedule, noiseLevels } from "./denoise.ts";
import { type Gaussian2d, gaussian2dOracle } from "./_test_fixtures.ts";

/** A strongly correlated prior, well inside [-1, 1]. */
const PRIOR: Gaussian2d = { mu: [0.2, -0.1], cov: [[0.25, 0.22], [0.22, 0.25]] };

/** The posterior of x ~ N(mu, S) given y = x + sigma n: N(P (S^-1 mu + y / s2), P), P = (S^-1 + I / s2)^-1. */
function posterior(g: Gaussian2d, y: [number, number], sigma: number) {
  const [[a, b], [, c]] = g.cov;
  const det = a * c - b * b;
  const s2 = sigma * sigma;
  // S^-1 + I / s2
  const p = c / det + 1 / s2, q = -b / det, r = a / det + 1 / s2;
  const pd = p * r - q * q;
  const cov = [[r / pd, -q / pd], [-q / pd, p / pd]];
  const h = [
    (c * g.mu[0] - b * g.mu[1]) / det + y[0] / s2,
    (-b * g.mu[0] + a * g.mu[1]) / det + y[1] / s2,
  ];
  return {
    mean: [cov[0]![0]! * h[0]! + cov[0]![1]! * h[1]!, cov[1]![0]! * h[0]! + cov[1]![1]! * h[1]!],
    cov,
  };
}

function moments(x: Float32Array | Int32Array | Uint8Array, n: number) {
  const m = [0, 0];
  for (let i = 0; i < n; i++) for (let d = 0; d < 2; d++) m[d]! += x[2 * i + d]! / n;
  const c = [[0, 0], [0, 0]];
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < 2; d++) {
      for (let e = 0; e < 2; e++) {
        c[d]![e]! += (x[2 * i + d]! - m[d]!) * (x[2 * i + e]! - m[e]!) / (n - 1);
      }
    }
  }
  return { mean: m, cov: c };
}

Deno.test("denoise: draws of the posterior of a Gaussian prior, mean and covariance", () => {
  const base = createSchedule("linear", { numTimesteps: 1000 });
  const model = gaussian2dOracle(base, PRIOR);
  const sigma = noiseLevels(base)[150]!; // about 0.4: a step of the schedule, matched exactly
  const y: [number, number] = [0.9, -0.6]; // far from the prior's mean, against its correlation
  const want = posterior(PRIOR, y, sigma);
  const n = 4000;
  const ys = tf.tidy(() => tf.tile(tf.tensor2d([y]), [n, 1]));
  const before = tf.memory().numTensors;
  const x = denoise(base, model, ys, sigma, { seed: 3 });
  const got = moments(x.dataSync() as Float32Array, n);
  x.dispose();
  assert.equal(tf.memory().numTensors, before);
  ys.dispose();
  const sd = [Math.sqrt(want.cov[0]![0]!), Math.sqrt(want.cov[1]![1]!)];
  // 4,000 draws: the mean's standard error is sd / 63; 0.1 sd is 6 of them.
  const tol = sd.map((s) => 0.1 * s);
  for (let d = 0; d < 2; d++) {
    assert.ok(
      Math.abs(got.mean[d]! - want.mean[d]!) < tol[d]!,
      `mean[${d}]: ${got.mean[d]} vs ${want.mean[d]}`,
    );
  }
  // The test can tell: the observation, the prior's mean and the unscaled start each miss by
  // more than three tolerances somewhere.
  const a = base.sqrtAlphasCumprod[150]!;
  for (const wrong of [y, PRIOR.mu, [y[0] * a, y[1] * a]]) {
    assert.ok([0, 1].some((d) => Math.abs(wrong[d]! - want.mean[d]!) > 3 * tol[d]!), `${wrong}`);
  }
  for (const [d, e] of [[0, 0], [1, 1], [0, 1]] as const) {
    const w = want.cov[d]![e]!, g = got.cov[d]![e]!;
    assert.ok(
      Math.abs(g - w) < 0.1 * Math.sqrt(want.cov[d]![d]! * want.cov[e]![e]!),
      `cov[${d}][${e}]: ${g} vs ${w}`,
    );
  }
});

Deno.test("denoise: on 50 of the schedule's steps, the posterior mean still", () => {
  const base = createSchedule("cosine", { numTimesteps: 1000 });
  const model = gaussian2dOracle(base, PRIOR);
  const sigma = 0.5;
  const start = denoisingSchedule(base, sigma, "50");
  assert.ok(Math.abs(start.sigma / sigma - 1) < 0.01, `matched ${start.sigma}`);
  const y: [number, number] = [0.9, -0.6];
  const want = posterior(PRIOR, y, start.sigma);
  const n = 2000;
  const ys = tf.tidy(() => tf.tile(tf.tensor2d([y]), [n, 1]));
  const x = denoise(base, model, ys, sigma, { steps: "50", seed: 4 });
  const got = moments(x.dataSync() as Float32Array, n);
  tf.dispose([x, ys]);
  for (let d = 0; d < 2; d++) {
    const sd = Math.sqrt(want.cov[d]![d]!);
    assert.ok(Math.abs(got.mean[d]! - want.mean[d]!) < 0.15 * sd, `mean[${d}]: ${got.mean[d]}`);
    const ratio = got.cov[d]![d]! / want.cov[d]![d]!;
    assert.ok(ratio > 0.75 && ratio < 1.25, `var[${d}]: ratio ${ratio}`);
  }
});

Deno.test("denoise: the steps below the matched one, a learned variance, no leak", () => {
  const base = createSchedule("cosine", { numTimesteps: 100 });
  const start = denoisingSchedule(base, noiseLevels(base)[37]!, "10");
  assert.deepEqual([...start.schedule.timestepMap], [0, 11, 22, 33, 37]);
  // "learned-range" with v = -1 everywhere: the model outputs twice the data's channels.
  const model = (x: tf.Tensor) => tf.concat([tf.zerosLike(x), tf.fill(x.shape, -1)], -1);
  const y = tf.ones([2, 3, 1]);
  const before = tf.memory().numTensors;
  const ts: number[] = [];
  for (
    const step of denoiseLoopProgressive(base, model, y, noiseLevels(base)[37]!, {
      steps: "10",
      variance: "learned-range",
    })
  ) {
    ts.push(step.t);
    assert.deepEqual(step.sample.shape, [2, 3, 1]);
  }
  assert.deepEqual(ts, [37, 33, 22, 11, 0]);
  assert.equal(tf.memory().numTensors, before);
  y.dispose();
});

Deno.test("denoise: sigma out of range and DDIM steps are RangeErrors", () => {
  const base = createSchedule("linear", { numTimesteps: 1000 });
  const y = tf.ones([1, 2]);
  const max = noiseLevels(base)[999]!;
  for (const sigma of [0, -1, NaN, max * 1.01]) {
    assert.throws(() => denoiseLoopProgressive(base, (x) => x, y, sigma), RangeError);
  }
  for (const steps of ["ddim50", "dpm++20"]) {
    assert.throws(() => denoisingSchedule(base, 0.5, steps), /ancestral/);
  }
  y.dispose();
});
