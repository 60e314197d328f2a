import assert from "node:assert/strict";
import type { SweepResult } from "../tasks/sweep.ts";
import {
  metricsSeries,
  parseJsonLines,
  qualitySeries,
  rollingMean,
  rollingStd,
  stepsCount,
} from "./_sweep_series.ts";

/** A quality result line as the sweep writes it (`deno task eval --quality --json`). */
function quality(
  arm: string,
  steps: string,
  frechet: number,
  extra: { n?: number; variance?: string; kid?: number; time?: string } = {},
): SweepResult {
  const n = extra.n ?? 256;
  const flags = ["--quality", "--n", String(n), "--sample-steps", steps];
  if (extra.variance) flags.push("--variance", extra.variance);
  const sampler = steps.startsWith("ddim") ? "ddim" : "ancestral";
  return {
    arm,
    eval: flags.join(" "),
    run: `run-${arm}`,
    time: extra.time ?? "2026-12-01T00:00:00.000Z",
    result: {
      step: 1500,
      frechet,
      frechetFloor: n === 256 ? 0.93 : 0.27,
      kid: extra.kid ?? frechet / 100,
      kidStderr: 0.005,
      kidFloor: -0.0003,
      quality: {
        n,
        steps,
        sampler,
        seed: 0,
        classifier: "abc",
        weights: "ema",
        ...(extra.variance ? { variance: extra.variance } : {}),
      },
    },
  };
}

const VARIANCES = { "cosine-hybrid": "learned-range", "cosine-simple": "fixed-large" };

Deno.test("stepsCount: plain, all, sampler prefixes, and what is not a step count", () => {
  assert.equal(stepsCount("10"), 10);
  assert.equal(stepsCount("250"), 250);
  assert.equal(stepsCount("all"), 1000);
  assert.equal(stepsCount("all", 100), 100);
  assert.equal(stepsCount("ddim100"), 100);
  assert.equal(stepsCount("unipc10"), 10);
  assert.equal(stepsCount("dpm++5"), 5);
  assert.equal(stepsCount("0"), undefined);
  assert.equal(stepsCount("ddim"), undefined);
  assert.equal(stepsCount("-5"), undefined);
  assert.equal(stepsCount(""), undefined);
});

Deno.test("qualitySeries: the plan's evaluations become figure 8's lines, ordered by steps", () => {
  const results: SweepResult[] = [
    // A bound result and an n = 1,000 result are not points of the n = 256 lines.
    {
      arm: "cosine-hybrid",
      eval: "--bound full --digits 64",
      run: "r",
      time: "",
      result: { bpd: 1.8 },
    },
    quality("cosine-hybrid", "50", 3.25, { n: 1000 }),
    quality("cosine-hybrid", "250", 3.87),
    quality("cosine-hybrid", "10", 5.72),
    quality("cosine-hybrid", "all", 3.28),
    quality("cosine-hybrid", "ddim50", 6.0),
    quality("cosine-hybrid", "ddim25", 7.05),
    quality("cosine-simple", "25", 4.5),
    quality("cosine-simple", "10", 9.1),
    quality("cosine-simple", "10", 5.5, { variance: "fixed-small" }),
    quality("cosine-simple", "all", 3.9, { variance: "fixed-small" }),
    quality("cosine-simple", "ddim10", 11),
  ];
  const { series, floor } = qualitySeries(results, { variances: VARIANCES });
  assert.equal(floor, 0.93);
  assert.deepEqual(
    series.map((s) => [s.label, s.arm, s.sampler, s.variance]),
    [
      ["learned-range (cosine-hybrid)", "cosine-hybrid", "ancestral", "learned-range"],
      ["fixed-large (cosine-simple)", "cosine-simple", "ancestral", "fixed-large"],
      ["fixed-small (cosine-simple)", "cosine-simple", "ancestral", "fixed-small"],
      ["DDIM (cosine-hybrid)", "cosine-hybrid", "ddim", undefined],
      ["DDIM (cosine-simple)", "cosine-simple", "ddim", undefined],
    ],
  );
  const xy = (i: number) => series[i]!.points.map((p) => [p.steps, p.value]);
  assert.deepEqual(xy(0), [[10, 5.72], [250, 3.87], [1000, 3.28]]);
  assert.deepEqual(xy(1), [[10, 9.1], [25, 4.5]]);
  assert.deepEqual(xy(2), [[10, 5.5], [1000, 3.9]]);
  assert.deepEqual(xy(3), [[25, 7.05], [50, 6.0]]);
  assert.deepEqual(xy(4), [[10, 11]]);
  // Fréchet has no standard error in the records; KID has.
  assert.equal(series[0]!.points[0]!.stderr, undefined);
});

Deno.test("qualitySeries: another measure, its stderr and floor; n = 1,000 on request", () => {
  const results = [
    quality("cosine-hybrid", "50", 3.25, { n: 1000, kid: 0.0221 }),
    quality("cosine-hybrid", "10", 5.72, { kid: 0.0456 }),
  ];
  const kid = qualitySeries(results, { measure: "kid", variances: VARIANCES });
  assert.equal(kid.floor, -0.0003);
  assert.deepEqual(kid.series[0]!.points, [{ steps: 10, value: 0.0456, stderr: 0.005 }]);
  const big = qualitySeries(results, { n: 1000, variances: VARIANCES });
  assert.equal(big.floor, 0.27);
  assert.deepEqual(big.series[0]!.points, [{ steps: 50, value: 3.25 }]);
});

Deno.test("qualitySeries: partial and empty results, the newest result of an evaluation wins", () => {
  assert.deepEqual(qualitySeries([]), { series: [] });
  const rerun = [
    quality("cosine-simple", "50", 9, { time: "a" }),
    quality("cosine-simple", "50", 4, { time: "b" }),
  ];
  const { series } = qualitySeries(rerun, { variances: VARIANCES });
  assert.equal(series.length, 1);
  assert.deepEqual(series[0]!.points, [{ steps: 50, value: 4 }]);
  // Without the arm's variance an ancestral result is labelled by its sampler.
  assert.equal(qualitySeries(rerun).series[0]!.label, "ancestral (cosine-simple)");
  // A result without the measure (an evaluation that failed half way) is no point.
  const broken = quality("cosine-simple", "10", 1);
  delete broken.result.frechet;
  assert.deepEqual(qualitySeries([broken]).series, []);
  // "all" follows the arm's T.
  const t100 = qualitySeries([quality("cosine-simple", "all", 4)], {
    timesteps: { "cosine-simple": 100 },
  });
  assert.equal(t100.series[0]!.points[0]!.steps, 100);
});

Deno.test("rollingMean and rollingStd of known sequences", () => {
  const xs = [2, 4, 4, 4, 5, 5, 7, 9];
  // The whole sequence as one window: mean 5, sample variance 32 / 7.
  assert.equal(rollingMean(xs, { window: 8 }).at(-1), 5);
  assert.ok(Math.abs(rollingStd(xs, { window: 8 }).at(-1)! - Math.sqrt(32 / 7)) < 1e-12);
  assert.deepEqual(rollingMean(xs, { window: 8 }).slice(0, 7), Array(7).fill(null));
  // A constant has no spread, however large; an alternating +-1 has spread sqrt(4/3) over 4.
  assert.deepEqual(rollingStd([1e9, 1e9, 1e9], { window: 2 }), [null, 0, 0]);
  const alt = rollingStd([1, -1, 1, -1, 1], { window: 4 });
  assert.deepEqual(alt.slice(0, 3), [null, null, null]);
  assert.ok(
    Math.abs(alt[3]! - Math.sqrt(4 / 3)) < 1e-12 && Math.abs(alt[4]! - Math.sqrt(4 / 3)) < 1e-12,
  );
  // Partial windows at the start.
  assert.deepEqual(rollingStd([1, 3, 5], { window: 3, partial: true }), [null, Math.SQRT2, 2]);
  assert.deepEqual(rollingMean([1, 3, 5], { window: 3, partial: true }), [1, 2, 3]);
  // A window of 1 is the sequence itself; no spread from one value.
  assert.deepEqual(rollingMean([1, 3], { window: 1 }), [1, 3]);
  assert.throws(() => rollingStd([1, 3], { window: 1 }), RangeError);
  assert.throws(() => rollingMean([1], { window: 0 }), RangeError);
  assert.throws(() => rollingMean([1], { window: 2.5 }), /window of 1 or more values, got 2.5/);
  assert.deepEqual(rollingStd([], { window: 3 }), []);
});

Deno.test("metricsSeries: resumed runs, missing fields, and the rolling statistics", () => {
  const text = [
    ...[1, 2, 3, 4].map((step) => JSON.stringify({ step, vlb: step * 2, loss: 1 })),
    JSON.stringify({ step: 3, vlb: 100, loss: 1 }), // written again after a resume: this wins
    JSON.stringify({ step: 5, loss: 1 }), // no vlb: left out
    JSON.stringify({ step: 6, vlb: 12, loss: 1 }),
    '{"step": 7, "vl', // cut short by a kill
  ].join("\n");
  const lines = parseJsonLines(text);
  assert.equal(lines.length, 7);
  const s = metricsSeries(lines, { window: 3 });
  assert.deepEqual(s.steps, [1, 2, 3, 4, 6]);
  assert.deepEqual(s.values, [2, 4, 100, 8, 12]);
  assert.deepEqual(s.mean, [null, null, 106 / 3, 112 / 3, 40]);
  assert.equal(s.std[0], null);
  assert.ok(Math.abs(s.std[4]! - Math.sqrt(((100 - 40) ** 2 + 32 ** 2 + 28 ** 2) / 2)) < 1e-9);
  const loss = metricsSeries(lines, { field: "loss", window: 2 });
  assert.deepEqual(loss.steps, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(loss.std, [null, 0, 0, 0, 0, 0]);
  assert.deepEqual(metricsSeries([]), { steps: [], values: [], mean: [], std: [] });
});
