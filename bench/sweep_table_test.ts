import assert from "node:assert/strict";
import { type ArmInput, objectiveNoise, stepsTable, sweepTable } from "./sweep_table.ts";
import type { SweepResult } from "../tasks/sweep.ts";

const metrics = (f: (step: number) => Record<string, number>) =>
  Array.from({ length: 1500 }, (_, i) => ({ step: i + 1, ...f(i + 1) }));

Deno.test("objective noise: L_vlb's loss, L_hybrid's vlb, the last third only, resumed steps once", () => {
  // Before step 1001 the values are wild; after it they alternate 1, 3 (sd 1.0005, median 2).
  const alt = (s: number) => (s < 1001 ? 1000 * s : s % 2 ? 1 : 3);
  const vlbArm: ArmInput = {
    arm: "v",
    config: { loss: "vlb" },
    metrics: [...metrics((s) => ({ loss: alt(s), vlb: 99 * s })), { step: 1001, loss: 1 }],
  };
  const r = objectiveNoise(vlbArm)!;
  assert.equal(r.steps, 500);
  assert.equal(r.median, 2);
  assert.ok(Math.abs(r.std - Math.sqrt(500 / 499)) < 1e-12, String(r.std));
  const hybrid: ArmInput = {
    arm: "h",
    config: { loss: "hybrid" },
    metrics: metrics(() => ({ vlb: 4, loss: 9 })),
  };
  assert.deepEqual(objectiveNoise(hybrid), { std: 0, median: 4, steps: 500 });
  assert.equal(objectiveNoise({ arm: "s", config: { loss: "simple" }, metrics: [] }), undefined);
  assert.equal(objectiveNoise({ arm: "e", config: { loss: "vlb" }, metrics: [] }), undefined);
});

Deno.test("sweep table: a row per arm and per other sampling variance, … where not in yet", () => {
  const simple: ArmInput = {
    arm: "cosine-simple",
    config: { schedule: "cosine", loss: "simple", tSampler: "uniform", variance: "fixed-large" },
    metrics: [],
  };
  const linear: ArmInput = {
    arm: "linear-hybrid",
    config: { schedule: "linear", loss: "hybrid", variance: "learned-range" },
    metrics: [],
  };
  const res = (arm: string, key: string, result: Record<string, unknown>): SweepResult => ({
    arm,
    eval: key,
    run: "r",
    time: "",
    result,
  });
  const q = {
    frechet: 4,
    frechetFloor: 0.27,
    kid: 0.02,
    kidStderr: 0.004,
    precision: 0.6,
    precisionFloor: 0.85,
    recall: 0.8,
    recallFloor: 0.82,
  };
  const md = sweepTable([linear, simple], [
    res("cosine-simple", "--bound full --digits 64", { bpd: 5, bpdUnclipped: 6, simple: 0.04 }),
    res("cosine-simple", "--bound full --digits 64 --variance fixed-small", {
      bpd: 7,
      bpdUnclipped: 8,
      simple: 0.04,
    }),
    res("cosine-simple", "--quality --n 1000 --sample-steps 50 --variance fixed-small", q),
    res("cosine-simple", "--quality --n 256 --sample-steps 10 --variance fixed-small", {
      frechet: 99,
    }),
  ]);
  const rows = md.split("\n").slice(2).map((l) => l.split("|").map((c) => c.trim()).slice(1, -1));
  assert.equal(rows.length, 3);
  assert.deepEqual(rows[0]!.slice(0, 6), [
    "linear-hybrid",
    "linear",
    "L_hybrid",
    "uniform",
    "learned-range",
    "…",
  ]);
  assert.deepEqual(rows[1]!.slice(4, 9), ["fixed-large", "5.00", "6.00", "0.0400", "…"]);
  assert.deepEqual(rows[2]!.slice(4, 13), [
    "fixed-small (trained fixed-large)",
    "7.00",
    "8.00",
    "0.0400",
    "4.00 (0.27)",
    "20.0 ± 4.0",
    "0.60 (0.85)",
    "0.80 (0.82)",
    "—",
  ]);
});

Deno.test("steps table: a row per sampler and variance, empty cells where not measured, KID with its error", () => {
  const q = (steps: string, kid: number, variance?: string): SweepResult => ({
    arm: "cosine-simple",
    eval: `--quality --n 256 --sample-steps ${steps}${variance ? ` --variance ${variance}` : ""}`,
    run: "r",
    time: "",
    result: {
      kid,
      kidStderr: 0.004,
      kidFloor: -0.0003,
      quality: {
        n: 256,
        steps,
        sampler: steps.startsWith("ddim") ? "ddim" : "ancestral",
        variance,
      },
    },
  });
  const other = {
    ...q("10", 0.5),
    eval: "--quality --n 1000 --sample-steps 10",
    result: { kid: 0.5, quality: { n: 1000, steps: "10" } },
  };
  const md = stepsTable(
    [q("10", 0.05), q("all", 0.02), q("10", 0.09, "fixed-small"), q("ddim25", 0.03), other],
    { measure: "kid", variances: { "cosine-simple": "fixed-large" } },
  );
  const rows = md.split("\n").map((l) => l.split("|").slice(1, -1).map((c) => c.trim()));
  assert.deepEqual(rows[0], ["KID x 1000, 256 digits: sampler (arm) \\ steps", "10", "25", "1000"]);
  assert.deepEqual(rows.slice(2), [
    ["fixed-large (cosine-simple)", "50.0 ± 4.0", "", "20.0 ± 4.0"],
    ["fixed-small (cosine-simple)", "90.0 ± 4.0", "", ""],
    ["DDIM (cosine-simple)", "", "30.0 ± 4.0", ""],
    ["floor (256 real digits)", "-0.3", "-0.3", "-0.3"],
  ]);
});
