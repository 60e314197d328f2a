import assert from "node:assert/strict";
import { Rng } from "./random.ts";
import { createTimestepSampler, stratifiedTimesteps } from "./timestep_sampler.ts";

Deno.test("uniform: every t in range, weights 1, reproducible from the seed", () => {
  const s = createTimestepSampler("uniform", 10);
  const a = s.sample(5000, new Rng(7)), b = s.sample(5000, new Rng(7));
  assert.deepEqual(a.t, b.t);
  const counts = new Array(10).fill(0);
  for (const t of a.t) counts[t]++;
  assert.ok(counts.every((c) => c > 400 && c < 600), `${counts}`);
  assert.ok(a.weights.every((w) => w === 1));
  s.update(a.t, new Float64Array(5000)); // a no-op
  assert.deepEqual(s.getState(), { kind: "uniform", numTimesteps: 10 });
});

Deno.test("antithetic: the second half mirrors the first; an odd batch's extra is uniform", () => {
  const s = createTimestepSampler("antithetic", 1000);
  const { t } = s.sample(7, new Rng(3));
  for (let i = 0; i < 3; i++) assert.equal(t[i]! + t[i + 3]!, 999);
  assert.ok(t[6]! >= 0 && t[6]! < 1000);
  assert.equal(s.sample(1, new Rng(1)).t.length, 1);
});

Deno.test("batch size 0 and bad arguments are RangeErrors", () => {
  for (const kind of ["uniform", "antithetic", "importance"] as const) {
    const s = createTimestepSampler(kind, 10);
    assert.throws(() => s.sample(0, new Rng(1)), {
      name: "RangeError",
      message: "Cannot sample timesteps: batch size is 0",
    });
    assert.throws(() => s.sample(2.5, new Rng(1)), RangeError);
  }
  assert.throws(() => createTimestepSampler("uniform", 0), RangeError);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => createTimestepSampler("cosine" as any, 10), RangeError);
});

function warmedUp(losses: number[], history = 10) {
  const s = createTimestepSampler("importance", losses.length, { historyPerTerm: history });
  const all = Int32Array.from({ length: losses.length }, (_, i) => i);
  for (let k = 0; k < history; k++) s.update(all, losses);
  return s;
}

Deno.test("importance: uniform until every t has 10 losses, then p ∝ sqrt(E[L^2]) mixed with uniform", () => {
  const T = 5;
  const s = createTimestepSampler("importance", T);
  const all = Int32Array.from({ length: T }, (_, i) => i);
  for (let k = 0; k < 9; k++) s.update(all, [1, 2, 3, 4, 5]);
  s.update(Int32Array.from([0, 1, 2, 3]), [1, 2, 3, 4]); // t = 4 still has only 9
  assert.ok(s.probabilities().every((p) => p === 1 / T));
  assert.ok(s.sample(8, new Rng(1)).weights.every((w) => w === 1));
  s.update(Int32Array.from([4]), [5]);
  const p = s.probabilities();
  const rms = [1, 2, 3, 4, 5], sum = 15;
  rms.forEach((r, i) => {
    const want = (r / sum) * (1 - 0.001) + 0.001 / T;
    assert.ok(Math.abs(p[i]! - want) < 1e-12, `p[${i}] = ${p[i]}, expected ${want}`);
  });
  const { t, weights } = s.sample(1000, new Rng(2));
  t.forEach((ti, i) => assert.ok(Math.abs(weights[i]! - 1 / (T * p[ti]!)) < 1e-12));
});

Deno.test("importance: the history keeps the last 10 losses per t", () => {
  const s = warmedUp([1, 1]);
  for (let k = 0; k < 10; k++) s.update(Int32Array.from([0]), [3]);
  const p = s.probabilities();
  // t = 0's history is now all 3s: p ∝ (3, 1).
  assert.ok(Math.abs(p[0]! - (0.75 * 0.999 + 0.0005)) < 1e-12);
  assert.equal(s.getState().history![0]!.length, 10);
  assert.throws(() => s.update(Int32Array.from([0]), [NaN]), RangeError);
  assert.throws(() => s.update(Int32Array.from([2]), [1]), RangeError);
  assert.throws(() => s.update(Int32Array.from([0, 1]), [1]), TypeError);
});

Deno.test("importance: the reweighted estimate is unbiased, E_p[w_t L_t] = mean_t L_t", () => {
  const T = 50;
  const L = Array.from({ length: T }, (_, t) => 0.01 + Math.exp(-t / 5) * 3 + (t % 7) * 0.05);
  const s = warmedUp(L);
  const p = s.probabilities();
  const target = L.reduce((a, b) => a + b) / T;
  // Exactly, over the sampler's distribution...
  const exact = L.reduce((acc, l, t) => acc + p[t]! * (1 / (T * p[t]!)) * l, 0);
  assert.ok(Math.abs(exact - target) < 1e-12);
  // ...and by Monte Carlo through sample(), with a smaller variance than uniform sampling.
  const n = 200_000;
  const { t, weights } = s.sample(n, new Rng(11));
  let m = 0, m2 = 0;
  for (let i = 0; i < n; i++) {
    const v = weights[i]! * L[t[i]!]!;
    m += v;
    m2 += v * v;
  }
  m /= n;
  const variance = m2 / n - m * m;
  const se = Math.sqrt(variance / n);
  assert.ok(Math.abs(m - target) < 4 * se, `estimate ${m} vs ${target} (se ${se})`);
  const uniformVariance = L.reduce((a, l) => a + l * l, 0) / T - target * target;
  assert.ok(variance < uniformVariance, `${variance} vs uniform ${uniformVariance}`);
});

Deno.test("importance: getState/setState round-trips through JSON and continues identically", () => {
  const a = warmedUp([1, 5, 2, 0.5]);
  a.update(Int32Array.from([1, 2]), [7, 0.1]);
  const saved = JSON.parse(JSON.stringify(a.getState()));
  const b = createTimestepSampler("importance", 4);
  b.setState(saved);
  assert.deepEqual(b.probabilities(), a.probabilities());
  assert.deepEqual(b.sample(64, new Rng(5)), a.sample(64, new Rng(5)));
  assert.throws(() => createTimestepSampler("importance", 5).setState(saved), TypeError);
  assert.throws(() => createTimestepSampler("uniform", 4).setState(saved), TypeError);
});

Deno.test("stratified timesteps: uniform for each item, even together", () => {
  const T = 10, n = 4, seeds = 20000;
  const counts = Array.from({ length: n }, () => new Float64Array(T));
  for (let s = 0; s < seeds; s++) {
    const t = stratifiedTimesteps(n, T, new Rng(s));
    // Together: one t in each quarter of [0, T) (the strata), up to the floor at the edges.
    const strata = [...t].map((v) => Math.floor((v * n) / T)).sort();
    assert.ok(strata.every((q, i) => Math.abs(q - i) <= 1), `${[...t]}`);
    t.forEach((v, i) => counts[i]![v]!++);
  }
  // Alone: each item's t is uniform on [0, T) (chi-square, 9 dof, p ~ 1e-4 at 33).
  for (const c of counts) {
    const chi2 = c.reduce((a, k) => a + (k - seeds / T) ** 2 / (seeds / T), 0);
    assert.ok(chi2 < 33, `chi2 ${chi2}: ${[...c]}`);
  }
});
