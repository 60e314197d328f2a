import assert from "node:assert/strict";
import {
  cosineBetas,
  createSchedule,
  linearBetas,
  namedBetas,
  type Schedule,
  sigmoidBetas,
} from "./schedule.ts";

function close(a: number, b: number, rtol = 1e-12, msg = "") {
  assert.ok(
    Math.abs(a - b) <= rtol * Math.max(Math.abs(a), Math.abs(b), 1e-300),
    `${msg} ${a} vs ${b}`,
  );
}

Deno.test("linear betas: DDPM's endpoints at T = 1000, scaled by 1000/T otherwise", () => {
  const b = linearBetas(1000);
  assert.equal(b.length, 1000);
  close(b[0]!, 1e-4);
  close(b[999]!, 0.02);
  const b100 = linearBetas(100);
  close(b100[0]!, 1e-3);
  close(b100[99]!, 0.2);
  assert.throws(() => linearBetas(20), RangeError);
});

Deno.test("linear schedule: alphasCumprod at the end is near 0 (4.0358e-5 at T = 1000)", () => {
  const s = createSchedule("linear", { numTimesteps: 1000 });
  close(s.alphasCumprod[999]!, 4.0358297653756754e-5, 1e-9);
  const s4000 = createSchedule("linear", { numTimesteps: 4000 });
  assert.ok(s4000.alphasCumprod[3999]! < 1e-4);
});

Deno.test("cosine schedule: closed-form alphasCumprod, clipped last beta, end near 0", () => {
  const T = 1000, sOff = 0.008;
  const f = (u: number) => Math.cos(((u + sOff) / (1 + sOff)) * Math.PI / 2) ** 2;
  const s = createSchedule("cosine", { numTimesteps: T });
  for (const i of [0, 1, 10, 500, 900, 990]) {
    close(s.alphasCumprod[i]!, f((i + 1) / T) / f(0), 1e-9);
  }
  assert.equal(s.betas[T - 1], 0.999);
  assert.ok(s.alphasCumprod[T - 1]! < 1e-7);
  assert.ok(cosineBetas(1000).every((b) => b > 0 && b <= 0.999));
});

Deno.test("sigmoid schedule: the seed demo's, which ends far from noise (abar = 0.7780 at T = 100)", () => {
  const b = sigmoidBetas(100);
  close(b[0]!, (1 / (1 + Math.exp(6))) * (5e-3 - 1e-5) + 1e-5);
  const s = createSchedule("sigmoid", { numTimesteps: 100 });
  close(s.alphasCumprod[99]!, 0.7780034315676705, 1e-9);
  close(createSchedule("sigmoid").alphasCumprod[999]!, 0.0812491943039999, 1e-9);
});

Deno.test("user betas are validated", () => {
  for (const bad of [[0.1, 0], [0.1, 1], [-0.1], [0.5, NaN], []]) {
    assert.throws(() => createSchedule(bad), RangeError, `betas ${bad}`);
  }
  assert.throws(() => createSchedule([0.1, 0.2], { numTimesteps: 3 }), RangeError);
  assert.throws(() => createSchedule([0.1, 0.2], { timestepMap: [0] }), RangeError);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => createSchedule(42 as any), TypeError);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => namedBetas("quadratic" as any, 10), RangeError);
  const s = createSchedule([0.1, 0.2, 0.3]);
  close(s.alphasCumprod[2]!, 0.9 * 0.8 * 0.7);
});

function checkDerived(s: Schedule) {
  const n = s.numTimesteps;
  assert.ok(Object.isFrozen(s));
  assert.equal(s.alphasCumprodPrev[0], 1);
  assert.equal(s.alphasCumprodNext[n - 1], 0);
  close(s.posteriorLogVarianceClipped[0]!, Math.log(s.posteriorVariance[1]!));
  assert.equal(s.posteriorVariance[0], 0);
  for (let t = 0; t < n; t++) {
    const a = s.alphasCumprod[t]!, ap = s.alphasCumprodPrev[t]!, b = s.betas[t]!;
    close(s.alphas[t]!, 1 - b);
    if (t > 0) close(s.alphasCumprodPrev[t]!, s.alphasCumprod[t - 1]!);
    close(s.sqrtAlphasCumprod[t]! ** 2, a, 1e-12);
    close(s.sqrtOneMinusAlphasCumprod[t]! ** 2, 1 - a, 1e-12);
    close(Math.exp(s.logOneMinusAlphasCumprod[t]!), 1 - a, 1e-12);
    close(s.sqrtRecipAlphasCumprod[t]! * s.sqrtAlphasCumprod[t]!, 1, 1e-12);
    close(s.sqrtRecipm1AlphasCumprod[t]! ** 2, 1 / a - 1, 1e-10);
    if (t > 0) {
      close(s.posteriorLogVarianceClipped[t]!, Math.log(s.posteriorVariance[t]!));
      // Bayes' rule on scalars: q(x_{t-1} | x_t, x_0) ∝ N(x_t; sqrt(alpha_t) x_{t-1}, beta_t)
      // N(x_{t-1}; sqrt(abar_{t-1}) x_0, 1 - abar_{t-1}), a product of Gaussians in x_{t-1}.
      const x0 = 0.7, xt = -1.3;
      const precision = (1 - b) / b + 1 / (1 - ap);
      const mean = (Math.sqrt(1 - b) * xt / b + Math.sqrt(ap) * x0 / (1 - ap)) / precision;
      close(s.posteriorVariance[t]!, 1 / precision, 1e-10, `t=${t}`);
      close(s.posteriorMeanCoef1[t]! * x0 + s.posteriorMeanCoef2[t]! * xt, mean, 1e-9, `t=${t}`);
    }
  }
}

Deno.test("derived arrays match their definitions and Bayes' rule (linear, cosine, sigmoid)", () => {
  checkDerived(createSchedule("linear", { numTimesteps: 1000 }));
  checkDerived(createSchedule("cosine", { numTimesteps: 200 }));
  checkDerived(createSchedule("sigmoid", { numTimesteps: 100 }));
});

Deno.test("the timestep map is the identity unless given", () => {
  const s = createSchedule("cosine", { numTimesteps: 5 });
  assert.deepEqual(Array.from(s.timestepMap), [0, 1, 2, 3, 4]);
  assert.ok(s.timestepMap instanceof Int32Array);
  assert.ok(s.betas instanceof Float64Array);
  const m = createSchedule([0.1, 0.2], { timestepMap: [3, 7] });
  assert.deepEqual(Array.from(m.timestepMap), [3, 7]);
});

Deno.test("a single-step schedule is valid", () => {
  const s = createSchedule([0.5]);
  assert.equal(s.numTimesteps, 1);
  close(s.posteriorLogVarianceClipped[0]!, Math.log(0.5));
});
