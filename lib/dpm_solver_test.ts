import assert from "node:assert/strict";
import { type ModelFn, tf } from "./tf.ts";
import { createSchedule } from "./schedule.ts";
import { samplingSchedule } from "./respace.ts";
import { dpmSolverSampleLoopProgressive } from "./dpm_solver.ts";
import { sample } from "./sampler.ts";
import { gaussianOracle, MU, SD } from "./_test_fixtures.ts";
import { flowError, lambdaGrid, observedOrders, STARTS } from "./_solver_fixtures.ts";

await tf.setBackend("cpu");

Deno.test("DPM-Solver++(2M) solves the Gaussian data's probability-flow ODE at order 2; DDIM at 1", () => {
  // The same smooth path in lambda at 20, 40 and 80 steps; the exact answer is closed-form.
  const grids = [20, 40, 80].map((n) => lambdaGrid(n, -4, 3));
  const dpm = observedOrders(grids.map((s) => flowError("dpm++", s)));
  const ddim = observedOrders(grids.map((s) => flowError("ddim", s)));
  for (const p of dpm) assert.ok(p >= 1.7, `DPM-Solver++ orders ${dpm}`);
  for (const p of ddim) assert.ok(p > 0.8 && p < 1.3, `DDIM orders ${ddim}`);
});

Deno.test("on the steps dpm++N picks (cosine, T = 1000) DPM-Solver++ is 3x closer than DDIM", () => {
  const base = createSchedule("cosine", { numTimesteps: 1000 });
  for (const n of [20, 40, 80]) {
    const { schedule, method } = samplingSchedule(base, `dpm++${n}`);
    assert.equal(method, "dpm++");
    const dpm = flowError("dpm++", schedule, base), ddim = flowError("ddim", schedule, base);
    assert.ok(dpm * 3 < ddim, `${n} steps: DPM-Solver++ ${dpm}, DDIM ${ddim}`);
  }
});

Deno.test("DPM-Solver++(2M) follows its recursion, computed in float64 from the paper's form", () => {
  const base = createSchedule("linear", { numTimesteps: 1000 });
  const { schedule: s } = samplingSchedule(base, "dpm++12");
  const n = s.numTimesteps;
  // Algorithm 2 of the paper, with t_i the kept steps and t_{-1} the data.
  const abar = (j: number) => j < 0 ? 1 : s.alphasCumprod[j]!;
  const lam = (j: number) => 0.5 * Math.log(abar(j) / (1 - abar(j)));
  const want = STARTS.map((xT) => {
    let x = xT, mPrev = 0;
    for (let j = n - 1; j >= 0; j--) {
      const a = abar(j);
      const eps = Math.sqrt(1 - a) * (x - Math.sqrt(a) * MU) / (a * SD * SD + 1 - a);
      const m = (x - Math.sqrt(1 - a) * eps) / Math.sqrt(a);
      if (j === 0) return m;
      const h = lam(j - 1) - lam(j);
      const d = j === n - 1 ? m : (1 + 1 / (2 * (lam(j) - lam(j + 1)) / h)) * m -
        1 / (2 * (lam(j) - lam(j + 1)) / h) * mPrev;
      x = Math.sqrt((1 - abar(j - 1)) / (1 - a)) * x -
        Math.sqrt(abar(j - 1)) * (Math.exp(-h) - 1) * d;
      mPrev = m;
    }
    return x;
  });
  tf.tidy(() => {
    const noise = tf.tensor2d([...STARTS], [STARTS.length, 1]);
    const got = sample(s, gaussianOracle(base), [STARTS.length, 1], { method: "dpm++", noise })
      .sample.dataSync();
    want.forEach((w, i) => assert.ok(Math.abs(got[i]! - w) < 2e-5, `${got[i]} vs ${w}`));
  });
});

Deno.test("DPM-Solver++ recovers a point mass exactly, and its samples of N(mu, s^2) have its moments", () => {
  const base = createSchedule("cosine", { numTimesteps: 1000 });
  const { schedule: s } = samplingSchedule(base, "dpm++10");
  tf.tidy(() => {
    const x0 = tf.tensor2d([[0.5, -0.25], [0.9, 0.1]]);
    // eps of a point mass at x0: (x_t - sqrt(abar) x0) / sqrt(1 - abar), at original timesteps.
    const point: ModelFn = (x, t) => {
      const g = (arr: Float64Array) =>
        tf.reshape(tf.gather(tf.tensor1d(Float32Array.from(arr)), t), [-1, 1]);
      return tf.div(
        tf.sub(x, tf.mul(g(base.sqrtAlphasCumprod), x0)),
        g(base.sqrtOneMinusAlphasCumprod),
      );
    };
    const got = sample(s, point, [2, 2], { method: "dpm++", seed: 3 }).sample.dataSync();
    Array.from(x0.dataSync()).forEach((w, i) => assert.ok(Math.abs(got[i]! - w) < 1e-4, `${got}`));
    // At 20 steps the spread is within 4% (DDIM's is 11% short there).
    const s20 = samplingSchedule(base, "dpm++20").schedule;
    const many = sample(s20, gaussianOracle(base), [4000, 1], { method: "dpm++", seed: 4 }).sample;
    const [m, v] = [tf.mean(many).dataSync()[0]!, tf.moments(many).variance.dataSync()[0]!];
    assert.ok(Math.abs(m - MU) < 0.02, `mean ${m}`);
    assert.ok(Math.abs(Math.sqrt(v) / SD - 1) < 0.06, `std ${Math.sqrt(v)}`);
  });
});

Deno.test("DPM-Solver++ uses only the noise half of a learned-range output, calls the model with original timesteps, clips", () => {
  const base = createSchedule("cosine", { numTimesteps: 100 });
  const { schedule: s } = samplingSchedule(base, "dpm++4");
  const oracle = gaussianOracle(base);
  const seen: number[] = [];
  const learned: ModelFn = (x, t) => {
    seen.push(t.dataSync()[0]!);
    return tf.tidy(() => tf.concat([oracle(x, t), tf.fill(x.shape, 7)], -1));
  };
  tf.tidy(() => {
    const noise = tf.tensor2d([...STARTS], [STARTS.length, 1]);
    const shape = [STARTS.length, 1];
    const a = sample(s, oracle, shape, { method: "dpm++", noise }).sample.dataSync();
    const b = sample(s, learned, shape, { method: "dpm++", noise, variance: "learned-range" })
      .sample.dataSync();
    assert.deepEqual(Array.from(b), Array.from(a));
    assert.deepEqual(seen, [99, 74, 49, 24]);
    for (
      const step of dpmSolverSampleLoopProgressive(s, (x) => tf.mul(x, -3), shape, {
        noise,
        clipDenoised: true,
      })
    ) {
      assert.ok(step.predXstart.max().dataSync()[0]! <= 1, `step ${step.index}`);
      assert.ok(step.predXstart.min().dataSync()[0]! >= -1, `step ${step.index}`);
    }
  });
});

Deno.test("DPM-Solver++ leaves no tensor behind, drained or left early", () => {
  const base = createSchedule("cosine", { numTimesteps: 100 });
  const { schedule: s } = samplingSchedule(base, "dpm++8");
  const m = gaussianOracle(base);
  const before = tf.memory().numTensors;
  for (const _ of dpmSolverSampleLoopProgressive(s, m, [3, 1], { seed: 1 })) { /* drain */ }
  for (const step of dpmSolverSampleLoopProgressive(s, m, [3, 1], { trajectoryEvery: 3 })) {
    if (step.index < 5) break;
  }
  dpmSolverSampleLoopProgressive(s, m, [3, 1]); // never started: holds nothing
  sample(s, m, [3, 1], { method: "dpm++", trajectoryEvery: 2 }).sample.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("bad dpm++ step counts are RangeErrors, bad forms TypeErrors", () => {
  const base = createSchedule("cosine", { numTimesteps: 100 });
  assert.throws(() => samplingSchedule(base, "dpm++0"), RangeError);
  assert.throws(() => samplingSchedule(base, "dpm++101"), /expected at most 100 steps, got 101/);
  assert.throws(() => samplingSchedule(base, "dpm++"), TypeError);
  assert.throws(() => samplingSchedule(base, "dpm++-3"), TypeError);
  assert.equal(samplingSchedule(base, "dpm++100").schedule, base);
  assert.throws(
    () => dpmSolverSampleLoopProgressive(base, (x) => x, [1, 1], { trajectoryEvery: 0 }),
    RangeError,
  );
});
