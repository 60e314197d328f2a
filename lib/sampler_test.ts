import assert from "node:assert/strict";
import { type ModelFn, tf } from "./tf.ts";
import { createSchedule, type Schedule } from "./schedule.ts";
import { respace, spaceTimesteps } from "./respace.ts";
import { qSample } from "./diffusion.ts";
import { ddimSampleLoopProgressive, pSampleLoopProgressive, sample } from "./sampler.ts";
import { gaussianOracle, MU, SD } from "./_test_fixtures.ts";

await tf.setBackend("cpu");

/** The exact noise predictor for a point mass at `x0`: eps = (x_t - sqrt(abar) x0) / sqrt(1 - abar). */
function pointOracle(base: Schedule, x0: tf.Tensor): ModelFn {
  return (x, t) =>
    tf.tidy(() => {
      const shape = [-1, ...new Array(x.rank - 1).fill(1)];
      const g = (arr: Float64Array) =>
        tf.reshape(tf.gather(tf.tensor1d(Float32Array.from(arr)), t), shape);
      return tf.div(
        tf.sub(x, tf.mul(g(base.sqrtAlphasCumprod), x0)),
        g(base.sqrtOneMinusAlphasCumprod),
      );
    });
}

function moments(x: tf.Tensor): [number, number] {
  const d = x.dataSync();
  let m = 0;
  for (const v of d) m += v;
  m /= d.length;
  let v2 = 0;
  for (const v of d) v2 += (v - m) ** 2;
  return [m, Math.sqrt(v2 / d.length)];
}

Deno.test("ancestral sampling with the exact eps of N(mu, s^2) recovers its mean and variance", () => {
  const base = createSchedule("linear", { numTimesteps: 1000 });
  const before = tf.memory().numTensors;
  const { sample: x } = sample(base, gaussianOracle(base), [2000, 1], { seed: 1 });
  const [m, s] = moments(x);
  // Standard error of the mean: 0.3 / sqrt(2000) = 0.0067.
  assert.ok(Math.abs(m - MU) < 0.03, `mean ${m}, expected ${MU}`);
  assert.ok(Math.abs(s / SD - 1) < 0.06, `std ${s}, expected ${SD}`);
  x.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("strided ancestral sampling (50 of 1000 steps) stays near the data", () => {
  const base = createSchedule("cosine", { numTimesteps: 1000 });
  const s50 = respace(base, spaceTimesteps(1000, "50"));
  for (const variance of ["fixed-small", "fixed-large"] as const) {
    const { sample: x } = sample(s50, gaussianOracle(base), [2000, 1], { seed: 2, variance });
    const [m, s] = moments(x);
    assert.ok(Math.abs(m - MU) < 0.03, `${variance}: mean ${m}`);
    // With fixed variances striding is biased (small too low, large too high); learned ones fix it.
    assert.ok(s > 0.8 * SD && s < 1.2 * SD, `${variance}: std ${s}`);
    x.dispose();
  }
});

Deno.test("DDIM with eta = 0 and an exact eps oracle recovers x_0 from x_T", () => {
  const base = createSchedule("linear", { numTimesteps: 1000 });
  tf.tidy(() => {
    const x0 = tf.tensor2d([[0.5, -0.25], [0.9, 0.1], [-0.7, 0.3]]);
    const xT = qSample(
      base,
      x0,
      tf.tensor1d([999, 999, 999], "int32"),
      tf.tensor2d([[1, -1], [0.3, 2], [-0.5, 0.5]]),
    );
    for (const s of [base, respace(base, spaceTimesteps(1000, "ddim20"))]) {
      const { sample: x } = sample(s, pointOracle(base, x0), [3, 2], { method: "ddim", noise: xT });
      const got = x.dataSync(), want = x0.dataSync();
      for (let i = 0; i < 6; i++) {
        assert.ok(Math.abs(got[i]! - want[i]!) < 1e-4, `${got} vs ${want}`);
      }
    }
  });
});

Deno.test("DDIM (eta = 0) follows its closed-form recursion, computed in float64", () => {
  const base = createSchedule("cosine", { numTimesteps: 1000 });
  const s = respace(base, spaceTimesteps(1000, "ddim25"));
  const starts = [-2, -0.5, 0, 0.7, 1.9];
  const want = starts.map((x) => {
    for (let i = s.numTimesteps - 1; i >= 0; i--) {
      const a = s.alphasCumprod[i]!, ap = s.alphasCumprodPrev[i]!;
      const eps = Math.sqrt(1 - a) * (x - Math.sqrt(a) * MU) / (a * SD * SD + 1 - a);
      const x0 = (x - Math.sqrt(1 - a) * eps) / Math.sqrt(a);
      x = Math.sqrt(ap) * x0 + Math.sqrt(1 - ap) * eps;
    }
    return x;
  });
  tf.tidy(() => {
    const noise = tf.tensor2d(starts, [5, 1]);
    const { sample: x } = sample(s, gaussianOracle(base), [5, 1], {
      method: "ddim",
      noise,
      seed: 9,
    });
    const got = x.dataSync();
    want.forEach((w, i) => assert.ok(Math.abs(got[i]! - w) < 1e-4, `${got[i]} vs ${w}`));
    // DDIM's deterministic map of N(0, 1) lands near N(mu, s^2) too.
    const many = sample(s, gaussianOracle(base), [2000, 1], { method: "ddim", seed: 4 }).sample;
    const [m, sd] = moments(many);
    assert.ok(Math.abs(m - MU) < 0.03 && Math.abs(sd / SD - 1) < 0.15, `${m} ${sd}`);
  });
});

Deno.test("DDIM with eta > 0 is stochastic and seeded", () => {
  const base = createSchedule("cosine", { numTimesteps: 100 });
  const s = respace(base, spaceTimesteps(100, "10"));
  tf.tidy(() => {
    const run = (seed: number, eta: number) =>
      Array.from(
        sample(s, gaussianOracle(base), [4, 1], {
          method: "ddim",
          eta,
          seed,
          noise: tf.zeros([4, 1]),
        }).sample.dataSync(),
      );
    assert.deepEqual(run(1, 1), run(1, 1));
    assert.notDeepEqual(run(1, 1), run(2, 1));
    assert.deepEqual(run(1, 0), run(2, 0));
  });
  assert.throws(() => ddimSampleLoopProgressive(s, (x) => x, [1, 1], { eta: -1 }), RangeError);
});

Deno.test("the seed reproduces samples exactly; the injected x_T is used", () => {
  const s = createSchedule("cosine", { numTimesteps: 30 });
  const m = gaussianOracle(s);
  tf.tidy(() => {
    const a = sample(s, m, [8, 1], { seed: 5 }).sample.dataSync();
    const b = sample(s, m, [8, 1], { seed: 5 }).sample.dataSync();
    const c = sample(s, m, [8, 1], { seed: 6 }).sample.dataSync();
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    // The first yielded step depends on x_T: a huge x_T shows through.
    const gen = pSampleLoopProgressive(s, (x) => tf.zerosLike(x), [2, 1], {
      noise: tf.fill([2, 1], 100),
    });
    const first = gen.next().value!;
    assert.ok(first.sample.dataSync()[0]! > 10);
    gen.return();
    assert.throws(() => sample(s, m, [2, 1], { noise: tf.zeros([3, 1]) }), TypeError);
    assert.throws(() => sample(s, m, [0, 1]), TypeError);
  });
});

Deno.test("steps carry index and original t; trajectoryEvery strides the yields", () => {
  const base = createSchedule("linear", { numTimesteps: 100 });
  const s = respace(base, [0, 10, 20, 30, 40, 50, 99]);
  const m = gaussianOracle(base);
  const seen = [...pSampleLoopProgressive(s, m, [2, 1])].map((st) => [st.index, st.t]);
  assert.deepEqual(seen, [[6, 99], [5, 50], [4, 40], [3, 30], [2, 20], [1, 10], [0, 0]]);
  const r = sample(s, m, [2, 1], { trajectoryEvery: 3, seed: 1 });
  assert.deepEqual(r.trajectory.map((f) => [f.index, f.t]), [[6, 99], [3, 30], [0, 0]]);
  assert.ok(r.trajectory.every((f) => f.data instanceof Float32Array && f.data.length === 2));
  assert.deepEqual(r.trajectory[2]!.data, r.sample.dataSync());
  const plain = sample(s, m, [2, 1], { seed: 1 });
  assert.deepEqual(plain.trajectory, []);
  assert.deepEqual(plain.sample.dataSync(), r.sample.dataSync());
  tf.dispose([r.sample, plain.sample]);
  assert.throws(() => sample(s, m, [2, 1], { trajectoryEvery: 0 }), RangeError);
});

Deno.test("learned-range models sample (2x channels on the last axis), NHWC shapes work", () => {
  const s = createSchedule("cosine", { numTimesteps: 10 });
  const model = (x: tf.Tensor) => tf.concat([tf.mul(x, 0.1), tf.fill(x.shape, 0.5)], -1);
  const { sample: x } = sample(s, model, [2, 4, 4, 1], {
    variance: "learned-range",
    clipDenoised: true,
  });
  assert.deepEqual(x.shape, [2, 4, 4, 1]);
  assert.ok(Array.from(x.dataSync()).every(Number.isFinite));
  x.dispose();
});

Deno.test("the loops leak no tensors: drained, broken early, or via sample()", () => {
  const s = createSchedule("cosine", { numTimesteps: 20 });
  const m = gaussianOracle(s);
  const noise = tf.ones([3, 1]);
  const before = tf.memory().numTensors;
  for (
    const gen of [
      pSampleLoopProgressive(s, m, [3, 1], { seed: 1 }),
      ddimSampleLoopProgressive(s, m, [3, 1], { eta: 0.5, noise }),
      pSampleLoopProgressive(s, m, [3, 1], { variance: "fixed-large", trajectoryEvery: 4 }),
    ]
  ) {
    for (const step of gen) {
      // During the loop the generator holds exactly the yielded sample and predXstart.
      assert.equal(tf.memory().numTensors, before + 2);
      step.sample.dataSync();
    }
    assert.equal(tf.memory().numTensors, before);
  }
  for (const step of ddimSampleLoopProgressive(s, m, [3, 1])) {
    if (step.index < 15) break;
  }
  assert.equal(tf.memory().numTensors, before);
  const { sample: x } = sample(s, m, [3, 1], { method: "ddim", trajectoryEvery: 2 });
  assert.equal(tf.memory().numTensors, before + 1);
  x.dispose();
  assert.equal(tf.memory().numTensors, before);
  noise.dispose();
});

Deno.test("sample: onStep sees every step when a trajectory is kept every k steps", () => {
  const s = createSchedule("cosine", { numTimesteps: 10 });
  const seen: number[] = [];
  const out = sample(s, (x) => tf.zerosLike(x), [2, 2], {
    seed: 1,
    trajectoryEvery: 4,
    onStep: (step) => void seen.push(step.index),
  });
  assert.deepEqual(seen, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  assert.deepEqual(out.trajectory.map((f) => f.index), [9, 5, 1, 0]);
  out.sample.dispose();
  assert.throws(
    () => sample(s, (x) => tf.zerosLike(x), [2, 2], { trajectoryEvery: 0 }),
    RangeError,
  );
});
