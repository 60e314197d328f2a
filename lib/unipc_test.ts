import assert from "node:assert/strict";
import { type ModelFn, tf } from "./tf.ts";
import { createSchedule } from "./schedule.ts";
import { samplingSchedule } from "./respace.ts";
import { unipcSampleLoopProgressive } from "./unipc.ts";
import { dpmSolverSampleLoopProgressive } from "./dpm_solver.ts";
import { sample } from "./sampler.ts";
import { gaussianOracle, MU, SD } from "./_test_fixtures.ts";
import { flowError, lambdaGrid, observedOrders, STARTS } from "./_solver_fixtures.ts";

await tf.setBackend("cpu");

Deno.test("UniPC solves the Gaussian data's probability-flow ODE at order >= 2 (UniP-2 with UniC: 3)", () => {
  const grids = [20, 40, 80].map((n) => lambdaGrid(n, -4, 3));
  const errors = grids.map((s) => flowError("unipc", s));
  const orders = observedOrders(errors);
  for (const p of orders) assert.ok(p >= 2.5, `UniPC orders ${orders} (errors ${errors})`);
  // The corrector is what lifts it above DPM-Solver++(2M), whose predictor UniP-2 (bh2) is.
  grids.forEach((s, i) => {
    const dpm = flowError("dpm++", s);
    assert.ok(errors[i]! < (i === 0 ? dpm : dpm / 2), `${s.numTimesteps}: ${errors[i]} vs ${dpm}`);
  });
});

Deno.test("on the steps unipcN picks (cosine, T = 1000) UniPC is 3x closer than DDIM", () => {
  const base = createSchedule("cosine", { numTimesteps: 1000 });
  for (const n of [20, 40, 80]) {
    const { schedule, method } = samplingSchedule(base, `unipc${n}`);
    assert.equal(method, "unipc");
    const uni = flowError("unipc", schedule, base), ddim = flowError("ddim", schedule, base);
    assert.ok(uni * 3 < ddim, `${n} steps: UniPC ${uni}, DDIM ${ddim}`);
  }
});

Deno.test("UniPC's first step is DPM-Solver++'s (no correction yet); later steps differ by the corrector", () => {
  const base = createSchedule("linear", { numTimesteps: 1000 });
  const { schedule: s } = samplingSchedule(base, "unipc10");
  const m = gaussianOracle(base);
  tf.tidy(() => {
    const noise = tf.tensor2d([...STARTS], [STARTS.length, 1]);
    const shape = [STARTS.length, 1];
    const uni = [...unipcSampleLoopProgressive(s, m, shape, { noise })].length;
    assert.equal(uni, 10);
    const u = unipcSampleLoopProgressive(s, m, shape, { noise });
    const d = dpmSolverSampleLoopProgressive(s, m, shape, { noise });
    const next = () => [u.next().value!.sample.dataSync(), d.next().value!.sample.dataSync()];
    const [u1, d1] = next();
    assert.deepEqual(u1, d1);
    // The second step first corrects x with the model's output there: UniPC leaves DPM-Solver++.
    const [u2, d2] = next();
    assert.notDeepEqual(u2, d2);
    u.return(), d.return();
  });
});

Deno.test("UniPC follows its recursion, computed in float64 (bh2, UniP-2, UniC)", () => {
  const base = createSchedule("cosine", { numTimesteps: 1000 });
  const { schedule: s } = samplingSchedule(base, "unipc8");
  const n = s.numTimesteps;
  const abar = (j: number) => j < 0 ? 1 : s.alphasCumprod[j]!;
  const al = (j: number) => Math.sqrt(abar(j)), sg = (j: number) => Math.sqrt(1 - abar(j));
  const lam = (j: number) => Math.log(al(j) / sg(j));
  const data = (x: number, j: number) => {
    const eps = sg(j) * (x - al(j) * MU) / (abar(j) * SD * SD + 1 - abar(j));
    return (x - sg(j) * eps) / al(j);
  };
  const want = STARTS.map((xT) => {
    // ms[j]: data prediction at step j; xs[j]: the corrected sample at step j.
    const ms = new Map<number, number>(), xs = new Map<number, number>();
    let x = xT;
    for (let j = n - 1; j >= 0; j--) {
      ms.set(j, data(x, j));
      if (j < n - 1) {
        // UniC from step j + 1 to j, of order 1 after the first step, else 2.
        const h = lam(j) - lam(j + 1), B = Math.expm1(-h);
        const base1 = sg(j) / sg(j + 1) * xs.get(j + 1)! - al(j) * B * ms.get(j + 1)!;
        const dt = ms.get(j)! - ms.get(j + 1)!;
        if (j === n - 2) {
          x = base1 - al(j) * B * 0.5 * dt;
        } else {
          const r = (lam(j + 2) - lam(j + 1)) / h;
          const phi1 = B / -h - 1, phi2 = phi1 / -h - 0.5;
          const b1 = phi1 / B, b2 = 2 * phi2 / B;
          // rho_1 + rho_t = b1, r rho_1 + rho_t = b2
          const rho1 = (b1 - b2) / (1 - r), rhoT = b1 - rho1;
          const d1 = (ms.get(j + 2)! - ms.get(j + 1)!) / r;
          x = base1 - al(j) * B * (rho1 * d1 + rhoT * dt);
        }
      }
      xs.set(j, x);
      if (j === 0) return ms.get(0)!;
      const h = lam(j - 1) - lam(j), B = Math.expm1(-h);
      let d = ms.get(j)!;
      if (j < n - 1) d += 0.5 * (ms.get(j + 1)! - ms.get(j)!) / ((lam(j + 1) - lam(j)) / h);
      x = sg(j - 1) / sg(j) * x - al(j - 1) * B * d;
    }
    return NaN;
  });
  tf.tidy(() => {
    const noise = tf.tensor2d([...STARTS], [STARTS.length, 1]);
    const got = sample(s, gaussianOracle(base), [STARTS.length, 1], { method: "unipc", noise })
      .sample.dataSync();
    want.forEach((w, i) => assert.ok(Math.abs(got[i]! - w) < 2e-5, `${got[i]} vs ${w}`));
  });
});

Deno.test("UniPC recovers a point mass exactly, and its samples of N(mu, s^2) have its moments", () => {
  const base = createSchedule("cosine", { numTimesteps: 1000 });
  const { schedule: s } = samplingSchedule(base, "unipc10");
  tf.tidy(() => {
    const x0 = tf.tensor2d([[0.5, -0.25], [0.9, 0.1]]);
    const point: ModelFn = (x, t) => {
      const g = (arr: Float64Array) =>
        tf.reshape(tf.gather(tf.tensor1d(Float32Array.from(arr)), t), [-1, 1]);
      return tf.div(
        tf.sub(x, tf.mul(g(base.sqrtAlphasCumprod), x0)),
        g(base.sqrtOneMinusAlphasCumprod),
      );
    };
    const got = sample(s, point, [2, 2], { method: "unipc", seed: 3 }).sample.dataSync();
    Array.from(x0.dataSync()).forEach((w, i) => assert.ok(Math.abs(got[i]! - w) < 1e-4, `${got}`));
    const s20 = samplingSchedule(base, "unipc20").schedule;
    const many = sample(s20, gaussianOracle(base), [4000, 1], { method: "unipc", seed: 4 }).sample;
    const [m, v] = [tf.mean(many).dataSync()[0]!, tf.moments(many).variance.dataSync()[0]!];
    assert.ok(Math.abs(m - MU) < 0.02, `mean ${m}`);
    assert.ok(Math.abs(Math.sqrt(v) / SD - 1) < 0.06, `std ${Math.sqrt(v)}`);
  });
});

Deno.test("UniPC uses only the noise half of a learned-range output, calls the model with original timesteps, clips", () => {
  const base = createSchedule("cosine", { numTimesteps: 100 });
  const { schedule: s } = samplingSchedule(base, "unipc4");
  const oracle = gaussianOracle(base);
  const seen: number[] = [];
  const learned: ModelFn = (x, t) => {
    seen.push(t.dataSync()[0]!);
    return tf.tidy(() => tf.concat([oracle(x, t), tf.fill(x.shape, -5)], -1));
  };
  tf.tidy(() => {
    const noise = tf.tensor2d([...STARTS], [STARTS.length, 1]);
    const shape = [STARTS.length, 1];
    const a = sample(s, oracle, shape, { method: "unipc", noise }).sample.dataSync();
    const b = sample(s, learned, shape, { method: "unipc", noise, variance: "learned-range" })
      .sample.dataSync();
    assert.deepEqual(Array.from(b), Array.from(a));
    assert.deepEqual(seen, [99, 74, 49, 24]);
    for (
      const step of unipcSampleLoopProgressive(s, (x) => tf.mul(x, -3), shape, {
        noise,
        clipDenoised: true,
      })
    ) {
      assert.ok(step.predXstart.max().dataSync()[0]! <= 1, `step ${step.index}`);
      assert.ok(step.predXstart.min().dataSync()[0]! >= -1, `step ${step.index}`);
    }
  });
});

Deno.test("UniPC leaves no tensor behind, drained or left early", () => {
  const base = createSchedule("cosine", { numTimesteps: 100 });
  const { schedule: s } = samplingSchedule(base, "unipc8");
  const m = gaussianOracle(base);
  const before = tf.memory().numTensors;
  for (const _ of unipcSampleLoopProgressive(s, m, [3, 1], { seed: 1 })) { /* drain */ }
  for (const step of unipcSampleLoopProgressive(s, m, [3, 1], { trajectoryEvery: 3 })) {
    if (step.index < 4) break;
  }
  unipcSampleLoopProgressive(s, m, [3, 1]); // never started: holds nothing
  sample(s, m, [3, 1], { method: "unipc", trajectoryEvery: 2 }).sample.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("bad unipc step counts are RangeErrors, bad forms TypeErrors", () => {
  const base = createSchedule("cosine", { numTimesteps: 100 });
  assert.throws(() => samplingSchedule(base, "unipc0"), RangeError);
  assert.throws(() => samplingSchedule(base, "unipc500"), /expected at most 100 steps, got 500/);
  assert.throws(() => samplingSchedule(base, "unipc"), TypeError);
  assert.throws(() => samplingSchedule(base, "unipc1.5"), TypeError);
  assert.throws(
    () => unipcSampleLoopProgressive(base, (x) => x, [0, 1]),
    TypeError,
  );
});
