import assert from "node:assert/strict";
import { Rng } from "../random.ts";
import { featureStats, frechetDistance } from "./frechet.ts";
import { matmul, sqrtPsd, symmetricEigen } from "./linalg.ts";

/** The closed-form square root of a 2x2 PSD matrix: (M + sqrt(det) I) / sqrt(tr + 2 sqrt(det)). */
function sqrt2(m: number[]): number[] {
  const det = m[0]! * m[3]! - m[1]! * m[2]!;
  const s = Math.sqrt(det);
  const t = Math.sqrt(m[0]! + m[3]! + 2 * s);
  return [(m[0]! + s) / t, m[1]! / t, m[2]! / t, (m[3]! + s) / t];
}

Deno.test("Fréchet distance of two 2-D Gaussians with non-commuting covariances = closed form", () => {
  const s1 = [2, 0.8, 0.8, 1], s2 = [1, -0.5, -0.5, 3];
  // Tr((S1^1/2 S2 S1^1/2)^1/2) by the 2x2 formula, independent of the eigen-solver.
  const r1 = sqrt2(s1);
  const mid = matmul(
    matmul(new Float64Array(r1), new Float64Array(s2), 2),
    new Float64Array(r1),
    2,
  );
  const root = sqrt2(Array.from(mid));
  const want = (1 - 0) ** 2 + (2 - 3) ** 2 + (s1[0]! + s1[3]! + s2[0]! + s2[3]!) -
    2 * (root[0]! + root[3]!);
  const a = { d: 2, n: 100, mean: new Float64Array([1, 2]), cov: new Float64Array(s1) };
  const b = { d: 2, n: 100, mean: new Float64Array([0, 3]), cov: new Float64Array(s2) };
  const got = frechetDistance(a, b);
  assert.ok(Math.abs(got - want) < 1e-12, `${got} vs ${want}`);
  // Symmetric in its arguments, zero against itself.
  assert.ok(Math.abs(frechetDistance(b, a) - want) < 1e-12);
  assert.ok(frechetDistance(a, a) < 1e-12);
});

Deno.test("Fréchet distance of diagonal Gaussians = |dmu|^2 + sum (sigma1 - sigma2)^2 (d = 64)", () => {
  const d = 64;
  const rng = new Rng(3);
  const m1 = new Float64Array(d), m2 = new Float64Array(d);
  const c1 = new Float64Array(d * d), c2 = new Float64Array(d * d);
  let want = 0;
  for (let i = 0; i < d; i++) {
    m1[i] = rng.normal();
    m2[i] = rng.normal();
    const v1 = 0.1 + rng.uniform() * 3, v2 = 0.1 + rng.uniform() * 3;
    c1[i * d + i] = v1;
    c2[i * d + i] = v2;
    want += (m1[i]! - m2[i]!) ** 2 + (Math.sqrt(v1) - Math.sqrt(v2)) ** 2;
  }
  // Rotate both by the same orthogonal matrix: the distance is unchanged.
  const { vectors: q } = symmetricEigen(
    Float64Array.from({ length: d * d }, (_, k) => {
      const i = Math.floor(k / d), j = k % d;
      return Math.cos(i * 7 + j * 7) + (i === j ? 2 : 0);
    }),
    d,
  );
  const qt = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) qt[i * d + j] = q[j * d + i]!;
  const rot = (c: Float64Array) => matmul(matmul(q, c, d), qt, d);
  const rotMean = (m: Float64Array) => {
    const out = new Float64Array(d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[i]! += q[i * d + j]! * m[j]!;
    return out;
  };
  const got = frechetDistance(
    { d, n: 1000, mean: rotMean(m1), cov: rot(c1) },
    { d, n: 1000, mean: rotMean(m2), cov: rot(c2) },
  );
  assert.ok(Math.abs(got - want) < 1e-8 * want, `${got} vs ${want}`);
});

Deno.test("sqrtPsd squares back to the matrix; featureStats of samples find their Gaussian", () => {
  const d = 16;
  const rng = new Rng(5);
  const a = Float64Array.from({ length: d * d }, () => rng.normal());
  const m = matmul(
    a,
    Float64Array.from({ length: d * d }, (_, k) => a[(k % d) * d + Math.floor(k / d)]!),
    d,
  );
  const s = sqrtPsd(m, d);
  const back = matmul(s, s, d);
  for (let i = 0; i < d * d; i++) {
    assert.ok(Math.abs(back[i]! - m[i]!) < 1e-9 * (1 + Math.abs(m[i]!)));
  }
  // 20,000 draws of N(mu, I): the fitted Gaussian is close, so the distance to the truth is small.
  const rows = new Float32Array(20_000 * 2);
  for (let i = 0; i < 20_000; i++) {
    rows[2 * i] = 1 + rng.normal();
    rows[2 * i + 1] = -2 + rng.normal();
  }
  const fitted = featureStats(rows, 2);
  const truth = {
    d: 2,
    n: 0,
    mean: new Float64Array([1, -2]),
    cov: new Float64Array([1, 0, 0, 1]),
  };
  assert.ok(frechetDistance(fitted, truth) < 1e-3);
});
