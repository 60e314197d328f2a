import assert from "node:assert/strict";
import { tf } from "./tf.ts";
import {
  approxStandardNormalCdf,
  continuousGaussianLogLikelihood,
  discretizedGaussianLogLikelihood,
  normalKl,
} from "./gaussian.ts";

await tf.setBackend("cpu");

const data = (x: tf.Tensor) => Array.from(x.dataSync());

Deno.test("normalKl: zero for equal Gaussians, hand-computed otherwise", () => {
  tf.tidy(() => {
    const m = tf.tensor1d([-2, 0, 3.5]), lv = tf.tensor1d([-3, 0, 1.2]);
    for (const v of data(normalKl(m, lv, m, lv))) assert.ok(Math.abs(v) < 1e-6);
    // KL(N(m1, s1^2) || N(m2, s2^2)) = log(s2 / s1) + (s1^2 + (m1 - m2)^2) / (2 s2^2) - 1/2.
    const cases = [[1, 0.5, -1, -0.3], [0, -4, 0.2, -3], [2, 1, 2, 0]] as const;
    for (const [m1, lv1, m2, lv2] of cases) {
      const s1 = Math.exp(lv1 / 2), s2 = Math.exp(lv2 / 2);
      const want = Math.log(s2 / s1) + (s1 * s1 + (m1 - m2) ** 2) / (2 * s2 * s2) - 0.5;
      const got = normalKl(tf.scalar(m1), tf.scalar(lv1), tf.scalar(m2), tf.scalar(lv2));
      assert.ok(
        Math.abs(got.dataSync()[0]! - want) < 1e-5 * Math.max(1, want),
        `${got} vs ${want}`,
      );
    }
    // Broadcasting: [2, 3] against [2, 1].
    const kl = normalKl(tf.zeros([2, 3]), tf.zeros([2, 3]), tf.zeros([2, 1]), tf.zeros([2, 1]));
    assert.deepEqual(kl.shape, [2, 3]);
  });
});

Deno.test("approxStandardNormalCdf: symmetric, monotone, close to Phi", () => {
  tf.tidy(() => {
    const x = tf.linspace(-5, 5, 101);
    const p = data(approxStandardNormalCdf(x)), q = data(approxStandardNormalCdf(tf.neg(x)));
    p.forEach((v, i) => assert.ok(Math.abs(v + q[i]! - 1) < 1e-6));
    for (let i = 1; i < p.length; i++) assert.ok(p[i]! >= p[i - 1]!);
    const known: [number, number][] = [[1, 0.8413447], [1.96, 0.9750021], [-2.5, 0.0062097]];
    for (const [z, phi] of known) {
      const v = approxStandardNormalCdf(tf.scalar(z)).dataSync()[0]!;
      assert.ok(Math.abs(v - phi) < 1e-3, `Phi(${z}) = ${v}, expected ${phi}`);
    }
  });
});

Deno.test("discretizedGaussianLogLikelihood sums to 1 over the 256 bins", () => {
  tf.tidy(() => {
    const bins = tf.tensor1d(Float32Array.from({ length: 256 }, (_, k) => (2 * k) / 255 - 1));
    const grid = tf.reshape(bins, [1, 256]);
    for (const [mean, scale] of [[0, 0.5], [0.3, 0.01], [-0.99, 0.2], [1.5, 1], [0.1, 1e-3]]) {
      const ll = discretizedGaussianLogLikelihood(
        grid,
        tf.fill([1, 256], mean!),
        tf.fill([1, 256], Math.log(scale!)),
      );
      const total = tf.sum(tf.exp(ll)).dataSync()[0]!;
      assert.ok(Math.abs(total - 1) < 2e-4, `mean ${mean}, scale ${scale}: total ${total}`);
    }
  });
});

Deno.test("discretizedGaussianLogLikelihood: edge bins reach to infinity; gradients are finite", () => {
  tf.tidy(() => {
    // A Gaussian centred far below -1 puts all its mass in the lowest bin.
    const ll = discretizedGaussianLogLikelihood(tf.tensor1d([-1]), tf.scalar(-5), tf.scalar(0));
    assert.ok(Math.abs(ll.dataSync()[0]!) < 1e-4);
    const [gm, gs] = tf.grads((m: tf.Tensor, s: tf.Tensor) =>
      tf.sum(discretizedGaussianLogLikelihood(tf.tensor1d([-1, 0, 1]), m, s))
    )([tf.tensor1d([0.1, 0.2, 0.3]), tf.tensor1d([-1, -2, -3])]);
    for (const v of [...data(gm!), ...data(gs!)]) assert.ok(Number.isFinite(v));
  });
});

Deno.test("continuousGaussianLogLikelihood: the normal density, integrating to 1", () => {
  tf.tidy(() => {
    const ll = continuousGaussianLogLikelihood(
      tf.scalar(1.5),
      tf.scalar(0.5),
      tf.scalar(Math.log(2)),
    );
    const want = -0.5 * Math.log(2 * Math.PI) - Math.log(2) - 0.5 * (1 / 2) ** 2;
    assert.ok(Math.abs(ll.dataSync()[0]! - want) < 1e-6);
    const n = 4001, lo = -10, hi = 10, dx = (hi - lo) / (n - 1);
    const xs = tf.linspace(lo, hi, n);
    const p = tf.exp(continuousGaussianLogLikelihood(xs, tf.scalar(0.3), tf.scalar(Math.log(0.7))));
    const integral = tf.sum(p).dataSync()[0]! * dx;
    assert.ok(Math.abs(integral - 1) < 1e-4, `${integral}`);
  });
});
