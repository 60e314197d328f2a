import assert from "node:assert/strict";
import { tf } from "./tf.ts";
import { createSchedule } from "./schedule.ts";
import { respace } from "./respace.ts";
import {
  extract,
  fixedLargeVariance,
  mapTimesteps,
  modelOutputChannels,
  pMeanVariance,
  predictEpsFromXstart,
  predictXstartFromEps,
  qMeanVariance,
  qPosteriorMeanVariance,
  qSample,
  splitModelOutput,
} from "./diffusion.ts";
import { allClose, data, ints } from "./_test_fixtures.ts";

await tf.setBackend("cpu");

Deno.test("extract gathers per example and reshapes to [B, 1, ...]", () => {
  tf.tidy(() => {
    const arr = new Float64Array([0.5, 1.5, 2.5, 3.5]);
    const c = extract(arr, ints([3, 1, 1]), 4);
    assert.deepEqual(c.shape, [3, 1, 1, 1]);
    assert.equal(c.dtype, "float32");
    assert.deepEqual(data(c), [3.5, 1.5, 1.5]);
    assert.deepEqual(extract(arr, ints([0]), 2).shape, [1, 1]);
    assert.throws(() => extract(arr, tf.tensor1d([1]), 2), TypeError);
    assert.throws(
      () => extract(arr, tf.tensor2d([[1]], [1, 1], "int32") as unknown as tf.Tensor1D, 2),
      TypeError,
    );
  });
});

Deno.test("qSample and qMeanVariance follow the closed form, for 2-D and NHWC data", () => {
  tf.tidy(() => {
    const s = createSchedule("linear", { numTimesteps: 1000 });
    const t = ints([0, 500, 999]);
    const x0 = tf.tensor2d([[1, -1], [0.5, 0.25], [-0.3, 0.9]]);
    const eps = tf.tensor2d([[0.1, 0.2], [-1, 2], [0.5, -0.5]]);
    const want: number[] = [];
    [0, 500, 999].forEach((ti, b) => {
      for (let j = 0; j < 2; j++) {
        const a = s.alphasCumprod[ti]!;
        want.push(Math.sqrt(a) * data(x0)[b * 2 + j]! + Math.sqrt(1 - a) * data(eps)[b * 2 + j]!);
      }
    });
    allClose(data(qSample(s, x0, t, eps)), want, 1e-6);
    const q = qMeanVariance(s, x0, t);
    allClose(data(q.variance), [0, 500, 999].map((i) => 1 - s.alphasCumprod[i]!), 1e-6);
    allClose(
      data(q.logVariance),
      [0, 500, 999].map((i) => Math.log(1 - s.alphasCumprod[i]!)),
      1e-5,
    );
    const img = tf.ones([2, 28, 28, 1]);
    const xt = qSample(s, img, ints([10, 20]), tf.zerosLike(img));
    assert.deepEqual(xt.shape, [2, 28, 28, 1]);
    assert.ok(Math.abs(xt.dataSync()[28 * 28]! - s.sqrtAlphasCumprod[20]!) < 1e-6);
    assert.throws(() => qSample(s, x0, ints([1, 2]), eps), TypeError);
    assert.throws(() => qSample(s, x0, t, tf.zeros([3, 3])), TypeError);
  });
});

Deno.test("qPosteriorMeanVariance matches Bayes' rule computed by hand in float64", () => {
  tf.tidy(() => {
    const s = createSchedule("cosine", { numTimesteps: 100 });
    const ts = [1, 2, 37, 99];
    const x0 = [0.7, -0.2, 1.1, -0.9], xt = [-1.3, 0.4, 0.05, 2];
    const p = qPosteriorMeanVariance(
      s,
      tf.tensor2d(x0, [4, 1]),
      tf.tensor2d(xt, [4, 1]),
      ints(ts),
    );
    const means: number[] = [], vars: number[] = [];
    ts.forEach((t, b) => {
      const beta = s.betas[t]!, ap = s.alphasCumprod[t - 1]!;
      // N(x_t; sqrt(1 - beta) y, beta) N(y; sqrt(ap) x_0, 1 - ap) as a Gaussian in y.
      const prec = (1 - beta) / beta + 1 / (1 - ap);
      means.push((Math.sqrt(1 - beta) * xt[b]! / beta + Math.sqrt(ap) * x0[b]! / (1 - ap)) / prec);
      vars.push(1 / prec);
    });
    allClose(data(p.mean), means, 1e-5, 1e-5);
    allClose(data(p.variance), vars, 0, 1e-5);
    allClose(data(p.logVariance), vars.map(Math.log), 1e-4);
  });
});

Deno.test("predictXstartFromEps and predictEpsFromXstart invert qSample", () => {
  tf.tidy(() => {
    const s = createSchedule("linear", { numTimesteps: 1000 });
    const t = ints([0, 1, 300, 900]);
    const x0 = tf.tensor2d([[0.1, -0.5], [0.9, 0.3], [-0.7, 0.2], [0.4, 0.4]]);
    const eps = tf.tensor2d([[1, -1], [0.5, 2], [-0.3, 0.1], [1.2, -0.8]]);
    const xt = qSample(s, x0, t, eps);
    allClose(data(predictXstartFromEps(s, xt, t, eps)), data(x0), 2e-4);
    // At t = 0 the noise is scaled by sqrt(1e-4) = 0.01; recovering it divides float32 error by it.
    allClose(data(predictEpsFromXstart(s, xt, t, x0)).slice(2), data(eps).slice(2), 1e-3);
  });
});

Deno.test("the posterior mean from eps is 1/sqrt(alpha_t) (x - beta_t / sqrt(1 - abar_t) eps) at every t", () => {
  // The seed demo divided by (1 - sqrt(beta_t)) instead of sqrt(alpha_t); this catches that class.
  for (const kind of ["linear", "cosine", "sigmoid"] as const) {
    const s = createSchedule(kind, { numTimesteps: 1000 });
    for (let t = 0; t < 1000; t++) {
      // mean = coef1 x0_hat + coef2 x, x0_hat = sqrtRecip x - sqrtRecipm1 eps.
      const cx = s.posteriorMeanCoef1[t]! * s.sqrtRecipAlphasCumprod[t]! + s.posteriorMeanCoef2[t]!;
      const ce = -s.posteriorMeanCoef1[t]! * s.sqrtRecipm1AlphasCumprod[t]!;
      const wantX = 1 / Math.sqrt(s.alphas[t]!);
      const wantE = -s.betas[t]! / (Math.sqrt(s.alphas[t]!) * Math.sqrt(1 - s.alphasCumprod[t]!));
      assert.ok(Math.abs(cx - wantX) < 1e-9 * wantX, `${kind} t=${t}: x coef ${cx} vs ${wantX}`);
      assert.ok(Math.abs(ce - wantE) < 1e-9 * Math.abs(wantE), `${kind} t=${t}: eps coef ${ce}`);
    }
  }
  // And through the tensors: pMeanVariance with a constant-eps model, every t of a T = 200 schedule.
  tf.tidy(() => {
    const s = createSchedule("linear", { numTimesteps: 200 });
    const T = 200;
    const t = ints(Array.from({ length: T }, (_, i) => i));
    const x = tf.fill([T, 1], 0.8), e = 0.3;
    const out = pMeanVariance(s, (xx) => tf.fill(xx.shape, e), x, t);
    const want = Array.from({ length: T }, (_, i) =>
      (1 / Math.sqrt(s.alphas[i]!)) *
      (0.8 - (s.betas[i]! / Math.sqrt(1 - s.alphasCumprod[i]!)) * e));
    allClose(data(out.mean), want, 1e-4, 1e-4);
  });
});

Deno.test("pMeanVariance: the three variance kinds", () => {
  tf.tidy(() => {
    const s = createSchedule("linear", { numTimesteps: 100 });
    const t = ints([0, 1, 50, 99]);
    const x = tf.zeros([4, 3]);
    const zero = (xx: tf.Tensor) => tf.zerosLike(xx);
    const small = pMeanVariance(s, zero, x, t, { variance: "fixed-small" });
    assert.deepEqual(small.variance.shape, [4, 1]);
    allClose(data(small.variance), [0, 1, 50, 99].map((i) => s.posteriorVariance[i]!), 1e-9, 1e-5);
    allClose(
      data(small.logVariance),
      [0, 1, 50, 99].map((i) => s.posteriorLogVarianceClipped[i]!),
      1e-4,
    );
    const large = pMeanVariance(s, zero, x, t, { variance: "fixed-large" });
    const fl = fixedLargeVariance(s);
    assert.equal(fl[0], s.posteriorVariance[1]);
    allClose(
      data(large.variance),
      [s.posteriorVariance[1]!, s.betas[1]!, s.betas[50]!, s.betas[99]!],
      0,
      1e-5,
    );
    // learned-range: v = 1 gives log beta, v = -1 the clipped posterior log-variance.
    const v = tf.tensor2d([[1, -1, 0], [1, -1, 0], [1, -1, 0], [1, -1, 0]]);
    const learned = pMeanVariance(s, (xx) => tf.concat([tf.zerosLike(xx), v], -1), x, t, {
      variance: "learned-range",
    });
    assert.deepEqual(learned.logVariance.shape, [4, 3]);
    const lv = data(learned.logVariance);
    [0, 1, 50, 99].forEach((ti, b) => {
      const hi = Math.log(s.betas[ti]!), lo = s.posteriorLogVarianceClipped[ti]!;
      allClose(lv.slice(b * 3, b * 3 + 3), [hi, lo, (hi + lo) / 2], 1e-4, 0, `t=${ti}`);
    });
    assert.deepEqual(learned.eps.shape, [4, 3]);
    assert.throws(
      () => pMeanVariance(s, zero, x, t, { variance: "learned-range" }),
      /Expected a model output of shape \[4,6\]/,
    );
    assert.equal(modelOutputChannels("learned-range", 3), 6);
    assert.throws(() => splitModelOutput(tf.zeros([4, 6]), [4, 3], "fixed-small"), TypeError);
  });
});

Deno.test("pMeanVariance calls the model with original timesteps, and clips x0 when asked", () => {
  tf.tidy(() => {
    const base = createSchedule("linear", { numTimesteps: 1000 });
    const s = respace(base, [0, 250, 500, 999]);
    let seen: number[] = [];
    const model = (x: tf.Tensor, t: tf.Tensor1D) => {
      assert.equal(t.dtype, "int32");
      seen = data(t);
      return tf.fill(x.shape, -5);
    };
    const x = tf.fill([3, 2], 0.5);
    const t = ints([3, 1, 0]);
    const out = pMeanVariance(s, model, x, t, { clipDenoised: true });
    assert.deepEqual(seen, [999, 250, 0]);
    // At t = 999 and 250 the eps of -5 pushes x0 far above 1; at t = 0 it stays at 0.55.
    allClose(data(out.predXstart), [1, 1, 1, 1, 0.55, 0.55], 1e-4);
    assert.deepEqual(data(mapTimesteps(s, t)), [999, 250, 0]);
    // modelOutput skips the model.
    seen = [];
    pMeanVariance(s, model, x, t, { modelOutput: tf.zeros([3, 2]) });
    assert.deepEqual(seen, []);
  });
});

Deno.test("the diffusion functions leak no tensors", () => {
  const s = createSchedule("cosine", { numTimesteps: 50 });
  const x = tf.ones([2, 4, 4, 1]);
  const t = ints([3, 40]);
  const before = tf.memory().numTensors;
  const outs = [
    qSample(s, x, t, x),
    ...Object.values(qMeanVariance(s, x, t)),
    ...Object.values(qPosteriorMeanVariance(s, x, x, t)),
    ...Object.values(
      pMeanVariance(s, (xx) => tf.concat([xx, xx], -1), x, t, { variance: "learned-range" }),
    ),
  ];
  assert.equal(tf.memory().numTensors, before + outs.length);
  tf.dispose(outs);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, t]);
});
