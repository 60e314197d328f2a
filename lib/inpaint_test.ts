import assert from "node:assert/strict";
import { tf } from "./tf.ts";
import { createSchedule } from "./schedule.ts";
import { samplingSchedule } from "./respace.ts";
import { inpaint, inpaintLoopProgressive, inpaintPlan, repaintSchedule } from "./inpaint.ts";
import { type Gaussian2d, gaussian2dOracle } from "./_test_fixtures.ts";

/** A strongly correlated 2-D Gaussian: coordinate 1 tells much about coordinate 2. */
const DATA: Gaussian2d = { mu: [0.2, -0.1], cov: [[0.25, 0.22], [0.22, 0.25]] };
const X1 = 0.7;
/** The closed form of x2 | x1: mean mu2 + S21 / S11 (x1 - mu1), variance S22 - S21^2 / S11. */
const COND_MEAN = DATA.mu[1] + DATA.cov[1][0] / DATA.cov[0][0] * (X1 - DATA.mu[0]);
const COND_VAR = DATA.cov[1][1] - DATA.cov[1][0] ** 2 / DATA.cov[0][0];

function coordinate2(x: tf.Tensor): { mean: number; variance: number; x1: Set<number> } {
  const d = x.dataSync();
  const n = x.shape[0]!;
  let s = 0, ss = 0;
  const x1 = new Set<number>();
  for (let i = 0; i < n; i++) s += d[2 * i + 1]!;
  const mean = s / n;
  for (let i = 0; i < n; i++) {
    ss += (d[2 * i + 1]! - mean) ** 2;
    x1.add(d[2 * i]!);
  }
  return { mean, variance: ss / (n - 1), x1 };
}

Deno.test("inpaint: RePaint draws x2 | x1 of a Gaussian to tolerance; replacement is biased", () => {
  // The exact noise predictor, sampled on 100 of a cosine schedule's 1,000 steps.
  const base = createSchedule("cosine", { numTimesteps: 1000 });
  const { schedule } = samplingSchedule(base, "100");
  const model = gaussian2dOracle(base, DATA);
  const n = 3000;
  const known = tf.tidy(() => tf.tile(tf.tensor2d([[X1, 0]]), [n, 1]));
  const mask = tf.tensor2d([[1, 0]]);
  const before = tf.memory().numTensors;
  const sd = Math.sqrt(COND_VAR);
  const rp = inpaint(schedule, model, known, mask, { jumpLength: 10, resampleCount: 10, seed: 1 });
  const repaint = coordinate2(rp);
  const rs = inpaint(schedule, model, known, mask, { method: "replace", seed: 1 });
  const replace = coordinate2(rs);
  tf.dispose([rp, rs]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([known, mask]);
  console.log(
    `x2 | x1 = ${X1}: closed form ${COND_MEAN.toFixed(4)} ± ${sd.toFixed(4)}; ` +
      `RePaint ${repaint.mean.toFixed(4)} (error ${
        ((repaint.mean - COND_MEAN) / sd).toFixed(3)
      } sd), variance ratio ${(repaint.variance / COND_VAR).toFixed(3)}; ` +
      `replacement ${replace.mean.toFixed(4)} (error ${
        ((replace.mean - COND_MEAN) / sd).toFixed(3)
      } sd), variance ratio ${(replace.variance / COND_VAR).toFixed(3)}`,
  );
  // The known coordinate is kept exactly.
  assert.deepEqual([...repaint.x1], [Math.fround(X1)]);
  // RePaint is not exact either (its resampling mixes the unknown part only partly, about 0.1 sd
  // of bias here, and 100 steps with the fixed-small variance shrink the variance a little); the
  // standard error of the mean is sd / 55.
  assert.ok(Math.abs(repaint.mean - COND_MEAN) < 0.2 * sd, `RePaint mean ${repaint.mean}`);
  const ratio = repaint.variance / COND_VAR;
  assert.ok(ratio > 0.8 && ratio < 1.25, `RePaint variance ratio ${ratio}`);
  // The replacement method misses by far more (about 0.65 sd, and 40% too much variance).
  assert.ok(Math.abs(replace.mean - COND_MEAN) > 0.4 * sd, `replacement mean ${replace.mean}`);
  assert.ok(replace.variance / COND_VAR > 1.25, `replacement variance ${replace.variance}`);
});

Deno.test("inpaint: with nothing known, RePaint's jumps keep the prior", () => {
  const base = createSchedule("cosine", { numTimesteps: 1000 });
  const { schedule } = samplingSchedule(base, "50");
  const n = 2000;
  const known = tf.zeros([n, 2]), mask = tf.zeros([1, 2]);
  const x = inpaint(schedule, gaussian2dOracle(base, DATA), known, mask, {
    jumpLength: 10,
    resampleCount: 5,
  });
  const c2 = coordinate2(x);
  tf.dispose([x, known, mask]);
  assert.ok(Math.abs(c2.mean - DATA.mu[1]) < 0.1 * 0.5, `mean ${c2.mean}`);
  const ratio = c2.variance / DATA.cov[1][1];
  assert.ok(ratio > 0.75 && ratio < 1.1, `variance ratio ${ratio}`);
});

Deno.test("inpaint: the moves follow the plan; a learned variance and images; no leak", () => {
  const base = createSchedule("cosine", { numTimesteps: 100 });
  const { schedule } = samplingSchedule(base, "10");
  const plan = inpaintPlan(10, { jumpLength: 3, resampleCount: 2 });
  assert.deepEqual(plan, repaintSchedule(10, 3, 2));
  const model = (x: tf.Tensor) => tf.concat([tf.mul(x, 0.1), tf.fill(x.shape, 0.5)], -1);
  const known = tf.ones([2, 4, 4, 1]);
  const mask = tf.tidy(() => tf.concat([tf.ones([1, 2, 4, 1]), tf.zeros([1, 2, 4, 1])], 1));
  const before = tf.memory().numTensors;
  const seen: number[] = [];
  let last: Float32Array | null = null;
  for (
    const step of inpaintLoopProgressive(schedule, model, known, mask, {
      jumpLength: 3,
      resampleCount: 2,
      variance: "learned-range",
      clipDenoised: true,
      seed: 5,
    })
  ) {
    seen.push(step.kind === "reverse" ? step.index - 1 : step.index);
    assert.equal(step.kind === "reverse", step.predXstart !== null);
    assert.equal(step.t, schedule.timestepMap[step.index]);
    assert.equal(step.moves, plan.length - 1);
    last = step.sample.dataSync() as Float32Array;
  }
  assert.deepEqual(seen, plan.slice(1));
  // The top two rows are known (1), the bottom two sampled.
  assert.deepEqual([...last!.subarray(0, 8)], new Array(8).fill(1));
  assert.notDeepEqual([...last!.subarray(8)], new Array(8).fill(1));
  assert.equal(tf.memory().numTensors, before);
  // Leaving the loop early frees its tensors too.
  for (
    const _ of inpaintLoopProgressive(schedule, model, known, mask, { variance: "learned-range" })
  ) break;
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([known, mask]);
});

Deno.test("inpaint: the same seed, the same result; a mask or noise of another shape is a TypeError", () => {
  const s = createSchedule("cosine", { numTimesteps: 20 });
  const model = (x: tf.Tensor) => tf.mul(x, 0.5);
  const known = tf.ones([3, 2]), mask = tf.tensor2d([[1, 0]]);
  const a = inpaint(s, model, known, mask, { seed: 9, jumpLength: 4, resampleCount: 3 });
  const b = inpaint(s, model, known, mask, { seed: 9, jumpLength: 4, resampleCount: 3 });
  assert.deepEqual(a.dataSync(), b.dataSync());
  tf.dispose([a, b]);
  const wrong = tf.ones([3, 3]);
  assert.throws(() => inpaintLoopProgressive(s, model, known, wrong), /broadcastable to \[3,2\]/);
  assert.throws(
    () => inpaintLoopProgressive(s, model, known, mask, { noise: wrong }),
    /noise of shape \[3,2\]/,
  );
  assert.throws(() => inpaintLoopProgressive(s, model, known, mask, { jumpLength: 0 }), RangeError);
  assert.throws(
    () => inpaintLoopProgressive(s, model, known, mask, { resampleCount: 1.5 }),
    RangeError,
  );
  tf.dispose([known, mask, wrong]);
});
