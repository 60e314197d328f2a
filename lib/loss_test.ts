import assert from "node:assert/strict";
import { tf } from "./tf.ts";
import { createSchedule } from "./schedule.ts";
import { pMeanVariance, qPosteriorMeanVariance, qSample } from "./diffusion.ts";
import { normalKl } from "./gaussian.ts";
import {
  type LossKind,
  meanFlat,
  priorBpd,
  stopGradient,
  trainingLosses,
  vbTermsBpd,
} from "./loss.ts";
import { allClose, data, ints } from "./_test_fixtures.ts";

await tf.setBackend("cpu");

/** A model ignoring its input that outputs `[eps, v]` (learned-range) or `eps`. */
const constant = (eps: tf.Tensor, v?: tf.Tensor) => () =>
  v ? tf.concat([eps, v], -1) : tf.clone(eps);

Deno.test("simple: the noise MSE per example, mean over the non-batch axes", () => {
  tf.tidy(() => {
    const s = createSchedule("linear", { numTimesteps: 100 });
    const x0 = tf.zeros([2, 3, 3, 1]);
    const noise = tf.concat([tf.fill([1, 3, 3, 1], 2), tf.fill([1, 3, 3, 1], -1)]);
    const out = trainingLosses(s, (x) => tf.zerosLike(x), x0, ints([5, 60]), { noise });
    assert.deepEqual(data(out.loss), [4, 1]);
    assert.deepEqual(data(out.mse), [4, 1]);
    assert.deepEqual(data(out.vlb), [0, 0]);
    // The oracle for a point mass at 0 predicts the noise exactly: eps = x_t / sqrt(1 - abar_t).
    const oracle = (x: tf.Tensor, t: tf.Tensor1D) =>
      tf.div(
        x,
        tf.reshape(tf.gather(tf.tensor1d(Float32Array.from(s.sqrtOneMinusAlphasCumprod)), t), [
          -1,
          1,
          1,
          1,
        ]),
      );
    allClose(data(trainingLosses(s, oracle, x0, ints([5, 60]), { noise }).loss), [0, 0], 1e-9);
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => trainingLosses(s, (x) => x, x0, ints([1, 2]), {} as any),
      /expected options.noise/,
    );
  });
});

Deno.test("vbTermsBpd: KL of the posteriors for t > 0, decoder NLL at t = 0, in bits", () => {
  tf.tidy(() => {
    const s = createSchedule("cosine", { numTimesteps: 50 });
    const x0 = tf.tensor2d([[0.2, -0.4], [0.6, 0.1], [-1, 1]]);
    const noise = tf.tensor2d([[0.5, -1], [1.5, 0.3], [0.2, 0.2]]);
    const t = ints([0, 7, 49]);
    const xt = qSample(s, x0, t, noise);
    const model = constant(tf.tensor2d([[0.1, 0.2], [0.3, -0.2], [1, -1]]));
    const { output } = vbTermsBpd(s, model, x0, xt, t, { data: "continuous" });
    const truth = qPosteriorMeanVariance(s, x0, xt, t);
    const p = pMeanVariance(s, model, xt, t);
    const kl = data(meanFlat(normalKl(truth.mean, truth.logVariance, p.mean, p.logVariance)));
    const got = data(output);
    allClose(got.slice(1), kl.slice(1).map((v) => v / Math.LN2), 1e-6, 1e-5);
    // t = 0: -log N(x0; mean, var) by hand, mean over the 2 dims, in bits.
    const m = data(p.mean).slice(0, 2), lv = data(p.logVariance)[0]!, x = [0.2, -0.4];
    const nll = x.reduce(
      (acc, xi, j) => acc + 0.5 * (Math.log(2 * Math.PI) + lv + (xi - m[j]!) ** 2 / Math.exp(lv)),
      0,
    ) / 2 / Math.LN2;
    assert.ok(Math.abs(got[0]! - nll) < 1e-4 * Math.abs(nll), `${got[0]} vs ${nll}`);
    // Images: at t = 0 the decoder is N(x_0, beta tilde_1) for the exact model; with a tiny
    // beta tilde_1 (sigma = 7e-4, well inside the bin of half-width 1/255) P(x_0) is ~1: 0 bits.
    const tiny = createSchedule([1e-6, 1e-6, 0.5]);
    const img = tf.fill([1, 2, 2, 1], 1 - 2 / 255);
    const exact = (xx: tf.Tensor) =>
      tf.div(
        tf.sub(xx, tf.mul(tiny.sqrtAlphasCumprod[0]!, img)),
        tiny.sqrtOneMinusAlphasCumprod[0]!,
      );
    const eps0 = tf.fill([1, 2, 2, 1], 0.7);
    const xt0 = qSample(tiny, img, ints([0]), eps0);
    const bits = vbTermsBpd(tiny, exact, img, xt0, ints([0]), { data: "image" }).output
      .dataSync()[0]!;
    assert.ok(bits >= 0 && bits < 1e-3, `${bits}`);
    // A wider decoder (cosine T = 50): -log2 of the bin's mass with the same CDF, by hand.
    const xt1 = qSample(s, img, ints([0]), eps0);
    const exact1 = (xx: tf.Tensor) =>
      tf.div(tf.sub(xx, tf.mul(s.sqrtAlphasCumprod[0]!, img)), s.sqrtOneMinusAlphasCumprod[0]!);
    const wide = vbTermsBpd(s, exact1, img, xt1, ints([0]), { data: "image" }).output
      .dataSync()[0]!;
    const sigma = Math.sqrt(s.posteriorVariance[1]!);
    const phi = (z: number) =>
      0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3)));
    const want = -Math.log2(phi(1 / 255 / sigma) - phi(-1 / 255 / sigma));
    assert.ok(Math.abs(wide - want) < 1e-3 * want, `${wide} vs ${want}`);
  });
});

function hybridParts(T: number) {
  return tf.tidy(() => {
    const s = createSchedule("linear", { numTimesteps: T });
    const x0 = tf.tensor2d([[0.3, -0.8], [0.5, 0.5], [-0.2, 0.9]]);
    const noise = tf.tensor2d([[1, -0.5], [0.2, 0.7], [-1.2, 0.4]]);
    const t = ints([Math.floor(T / 3), T - 1, 1]);
    const model = constant(
      tf.tensor2d([[0.8, -0.3], [0.1, 0.9], [-1, 0.2]]),
      tf.tensor2d([[0.2, -0.6], [0.9, 0], [-0.4, 0.4]]),
    );
    const opts = { variance: "learned-range", data: "continuous", noise } as const;
    const hybrid = trainingLosses(s, model, x0, t, { ...opts, loss: "hybrid" });
    const vlbOnly = trainingLosses(s, model, x0, t, { ...opts, loss: "vlb" });
    const xt = qSample(s, x0, t, noise);
    const perT = vbTermsBpd(s, model, x0, xt, t, opts).output;
    return {
      loss: data(hybrid.loss),
      mse: data(hybrid.mse),
      vlb: data(hybrid.vlb),
      vlbLoss: data(vlbOnly.loss),
      perT: data(perT),
    };
  });
}

Deno.test("hybrid scale: lambda * T * L_t, i.e. weight 1 on the per-t term at T = 1000", () => {
  const h = hybridParts(1000);
  assert.ok(h.perT.every((v) => v > 1e-4), `L_t should be non-trivial: ${h.perT}`);
  // loss - mse = 0.001 * 1000 * L_t = L_t (NOT 0.001 * L_t, which would be 1000x too small).
  allClose(h.loss.map((l, i) => l - h.mse[i]!), h.perT, 1e-6, 1e-3, "hybrid term at T=1000");
  allClose(h.vlb, h.perT.map((v) => 1000 * v), 1e-3, 1e-5, "vlb = T L_t");
  allClose(h.vlbLoss, h.vlb, 1e-6, 1e-6, "loss 'vlb' = T L_t");
  const h100 = hybridParts(100);
  allClose(
    h100.loss.map((l, i) => l - h100.mse[i]!),
    h100.perT.map((v) => 0.1 * v),
    1e-5,
    1e-4,
    "T=100",
  );
});

Deno.test("stop-gradient: the hybrid bound term sends exactly zero gradient to the eps output", () => {
  const s = createSchedule("cosine", { numTimesteps: 100 });
  const x0 = tf.tensor2d([[0.3, -0.8], [0.5, 0.5], [-0.2, 0.9], [0.1, 0.1]]);
  const noise = tf.tensor2d([[1, -0.5], [0.2, 0.7], [-1.2, 0.4], [0.3, -0.3]]);
  const t = ints([0, 10, 50, 99]);
  const e0 = tf.tensor2d([[0.8, -0.3], [0.1, 0.9], [-1, 0.2], [0.5, 0.5]]);
  const v0 = tf.tensor2d([[0.2, -0.6], [0.9, 0], [-0.4, 0.4], [0.1, 0.7]]);
  const opts = { variance: "learned-range", data: "continuous", noise } as const;
  const field = (loss: LossKind, key: "loss" | "mse" | "vlb") => (e: tf.Tensor, v: tf.Tensor) =>
    tf.sum(trainingLosses(s, constant(e, v), x0, t, { ...opts, loss })[key]);
  const [ge, gv] = tf.grads(field("hybrid", "vlb"))([e0, v0]);
  assert.ok(data(ge!).every((g) => g === 0), `d vlb / d eps = ${data(ge!)}`);
  assert.ok(data(gv!).some((g) => Math.abs(g) > 1e-3), `d vlb / d v = ${data(gv!)}`);
  // The whole hybrid loss: eps learns from the MSE only.
  const [gh] = tf.grads(field("hybrid", "loss"))([e0, v0]);
  const [gm] = tf.grads(field("hybrid", "mse"))([e0, v0]);
  assert.deepEqual(data(gh!), data(gm!));
  // With loss "vlb" the mean is trainable through the bound.
  const [gve] = tf.grads(field("vlb", "loss"))([e0, v0]);
  assert.ok(data(gve!).some((g) => Math.abs(g) > 1e-3));
  // stopGradient itself.
  const [g] = tf.grads((x: tf.Tensor) => tf.sum(tf.mul(stopGradient(x), x)))([tf.tensor1d([2, 3])]);
  assert.deepEqual(data(g!), [2, 3]);
  tf.dispose([x0, noise, t, e0, v0, ge!, gv!, gh!, gm!, gve!, g!]);
});

Deno.test("every loss trains a model's variables through tf.variableGrads", () => {
  const s = createSchedule("linear", { numTimesteps: 100 });
  const w = tf.variable(tf.scalar(0.5)),
    b = tf.variable(tf.scalar(0.1)),
    u = tf.variable(tf.scalar(0.3));
  const fixed = (x: tf.Tensor) => tf.add(tf.mul(x, w), b);
  const learned = (x: tf.Tensor) => tf.concat([tf.add(tf.mul(x, w), b), tf.tanh(tf.mul(x, u))], -1);
  const x0 = tf.tensor2d([[0.3, -0.8], [0.5, 0.5], [-0.2, 0.9], [0.1, 0.1]]);
  const noise = tf.tensor2d([[1, -0.5], [0.2, 0.7], [-1.2, 0.4], [0.3, -0.3]]);
  const t = ints([0, 10, 50, 99]);
  const before = tf.memory().numTensors;
  for (const loss of ["simple", "hybrid", "vlb"] as const) {
    for (
      const [variance, model] of [["fixed-small", fixed], ["fixed-large", fixed], [
        "learned-range",
        learned,
      ]] as const
    ) {
      const { value, grads } = tf.variableGrads(() =>
        tf.mean(
          trainingLosses(s, model, x0, t, { loss, variance, data: "continuous", noise }).loss,
        ) as tf.Scalar
      );
      const gw = grads[w.name]!.dataSync()[0]!;
      assert.ok(Number.isFinite(value.dataSync()[0]!), `${loss} ${variance}`);
      assert.ok(Number.isFinite(gw) && gw !== 0, `${loss} ${variance}: dL/dw = ${gw}`);
      if (variance === "learned-range" && loss !== "simple") {
        const gu = grads[u.name]!.dataSync()[0]!;
        assert.ok(Number.isFinite(gu) && gu !== 0, `${loss}: dL/du = ${gu}`);
      }
      tf.dispose([value, ...Object.values(grads)]);
    }
  }
  assert.equal(tf.memory().numTensors, before, "no tensors leaked");
  tf.dispose([w, b, u, x0, noise, t]);
});

Deno.test("priorBpd is KL(q(x_T | x_0) || N(0, I)) in bits per dim", () => {
  tf.tidy(() => {
    const s = createSchedule("sigmoid", { numTimesteps: 100 });
    const x = [0.5, -1, 0.25, 0];
    const got = data(priorBpd(s, tf.tensor2d(x, [2, 2])));
    const a = s.alphasCumprod[99]!;
    const kl = (x0: number) => 0.5 * (-1 - Math.log(1 - a) + (1 - a) + a * x0 * x0) / Math.LN2;
    allClose(got, [(kl(0.5) + kl(-1)) / 2, (kl(0.25) + kl(0)) / 2], 1e-5, 1e-4);
    // The sigmoid schedule's end is far from noise: a large prior term.
    assert.ok(got[0]! > 0.1);
    assert.ok(
      data(priorBpd(createSchedule("cosine"), tf.tensor2d(x, [2, 2]))).every((v) => v < 1e-5),
    );
  });
});
