import assert from "node:assert/strict";
import { flattenEvalRecord, qualitySeries } from "./eval_series.ts";
import { groupColumns } from "./metric_groups.ts";
import { parseJsonlTable } from "./jsonl.ts";
import { alignSteps } from "./align_steps.ts";

const SHA = "1a2b3c4d5e6f";
const settings = (n: number, steps: string) => ({
  n,
  steps,
  sampler: steps.startsWith("ddim") ? "ddim" : "ancestral",
  seed: 0,
  classifier: SHA,
  weights: "ema",
});
const quality = (step: number, n: number, steps: string, frechet: number, source?: string) => ({
  step,
  time: "2026-11-30T00:00:00.000Z",
  ...(source ? { source } : {}),
  simple: 0.05,
  frechet,
  frechetFloor: n === 256 ? 2.1 : 0.27,
  kid: 0.01,
  kidStderr: 0.002,
  kidFloor: 0,
  kidFloorStderr: 0.001,
  classes: [1, 2, 3],
  quality: settings(n, steps),
  qualitySeconds: 90,
});

function table(records: unknown[]) {
  const bytes = new TextEncoder().encode(records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return alignSteps(parseJsonlTable(bytes, undefined, flattenEvalRecord).table);
}

Deno.test("records of different settings land in different series; floors beside them", () => {
  const t = table([
    quality(500, 256, "50", 40),
    quality(1000, 256, "50", 20),
    quality(1000, 1000, "50", 9, "eval-quality"),
    quality(1000, 256, "ddim50", 25, "eval-quality"),
  ]);
  const s256 = qualitySeries(settings(256, "50") as never);
  const s1000 = qualitySeries(settings(1000, "50") as never);
  const sDdim = qualitySeries(settings(256, "ddim50") as never);
  assert.deepEqual(t.steps, [500, 1000]);
  assert.deepEqual(t.columns[`frechet@${s256}`], [40, 20]);
  assert.deepEqual(t.columns[`frechet@${s1000}`], [null, 9]);
  assert.deepEqual(t.columns[`frechet@${sDdim}`], [null, 25]);
  assert.deepEqual(t.columns[`frechetFloor@${s256}`], [2.1, 2.1]);
  assert.deepEqual(t.columns[`frechetFloor@${s1000}`], [null, 0.27]);
  // The trainer's other metrics stay in the training series; durations are not metrics.
  assert.deepEqual(t.columns["simple@training"], [0.05, 0.05]);
  assert.ok(!Object.keys(t.columns).some((k) => k.includes("Seconds") || k.includes("classes")));

  const fid = groupColumns(Object.keys(t.columns), "eval")
    .find((g) => g.title.startsWith("Fréchet"))!;
  assert.deepEqual(fid.keys, [
    `frechet@${s256}`,
    `frechetFloor@${s256}`,
    `frechet@${s1000}`,
    `frechetFloor@${s1000}`,
    `frechet@${sDdim}`,
    `frechetFloor@${sDdim}`,
  ]);
  assert.equal(fid.labels![`frechetFloor@${s1000}`], `floor (${s1000})`);
  assert.deepEqual(fid.dashed, [
    `frechetFloor@${s256}`,
    `frechetFloor@${s1000}`,
    `frechetFloor@${sDdim}`,
  ]);
  // A measure and its floor share a colour; series differ.
  assert.equal(fid.colors![`frechet@${s1000}`], fid.colors![`frechetFloor@${s1000}`]);
  assert.notEqual(fid.colors![`frechet@${s256}`], fid.colors![`frechet@${s1000}`]);
  assert.ok(s256.includes("n=256") && s256.includes("50 steps") && s256.includes("ancestral"));
});

Deno.test("deno task eval beside training at one step: two series, one row, no seconds", () => {
  const t = table([
    { step: 0, time: "t", swd: 0.5, swdFloor: 0.02 },
    { step: 100, time: "t", swd: 0.1, swdFloor: 0.02 },
    { step: 100, time: "t", source: "eval", ema: true, swd: 0.09, swdFloor: 0.021, seconds: 4 },
    { step: 100, time: "t", source: "eval", ema: true, steps: "10", swd: 0.3, seconds: 1 },
    { step: 100, source: "eval", ema: false, steps: "all", n: 10000, seed: 4, swd: 0.2 },
  ]);
  assert.deepEqual(t.columns["swd@deno task eval · steps=all · n=10000 · raw weights"], [
    null,
    0.2,
  ]);
  assert.ok(!Object.keys(t.columns).some((k) => /^(seed|n|steps|seconds)@/.test(k)));
  assert.deepEqual(t.steps, [0, 100]);
  assert.deepEqual(t.columns["swd@training"], [0.5, 0.1]);
  assert.deepEqual(t.columns["swd@deno task eval"], [null, 0.09]);
  assert.deepEqual(t.columns["swd@deno task eval · steps=10"], [null, 0.3]);
  const groups = groupColumns(Object.keys(t.columns), "eval");
  assert.deepEqual(groups.map((g) => g.title), ["Sliced Wasserstein distance"]);
  assert.deepEqual(groups[0]!.keys, [
    "swd@training",
    "swdFloor@training",
    "swd@deno task eval",
    "swdFloor@deno task eval",
    "swd@deno task eval · steps=10",
    "swd@deno task eval · steps=all · n=10000 · raw weights",
  ]);
});

Deno.test("the first nested form of eval --quality records is read into the same columns", () => {
  const set = (frechet: number) => ({
    n: 1000,
    frechet,
    kid: 0.001,
    kidStderr: 0.001,
    precision: 0.8,
    recall: 0.7,
    classHistogram: [100, 100],
    classEntropyBits: 3.3,
    meanConfidence: 0.9,
  });
  const r = flattenEvalRecord({
    step: 1500,
    source: "eval-quality",
    ema: true,
    quality: { n: 1000, steps: "50", sampler: "ancestral", seed: 0, weights: "ema" },
    samples: set(3),
    floor: set(0.27),
    memorisation: { fractionCloser: 0, sampleMedian: 9, heldOutMedian: 9.5, heldOutP1: 3 },
    sampleSeconds: 600,
  }) as Record<string, number>;
  const s = "n=1000 · 50 steps · ancestral · EMA · classifier ?";
  assert.equal(r[`frechet@${s}`], 3);
  assert.equal(r[`frechetFloor@${s}`], 0.27);
  assert.equal(r[`memorised@${s}`], 0);
  assert.ok(!Object.keys(r).some((k) => k.startsWith("sampleSeconds")));
});

Deno.test("guidance and a sampling variance are settings: each weight is its own series", () => {
  const at = (guidance: number | undefined, variance: string | undefined, frechet: number) => {
    const r = quality(1500, 256, "50", frechet, "eval-quality");
    return {
      ...r,
      quality: {
        ...r.quality,
        ...(guidance === undefined ? {} : { guidance }),
        ...(variance === undefined ? {} : { variance }),
      },
    };
  };
  const t = table([at(0, undefined, 7), at(2, undefined, 5), at(undefined, "fixed-large", 9)]);
  const base = "n=256 · 50 steps · ancestral · EMA · classifier 1a2b3c4d";
  assert.deepEqual(t.steps, [1500]);
  assert.deepEqual(t.columns[`frechet@${base} · guidance 0`], [7]);
  assert.deepEqual(t.columns[`frechet@${base} · guidance 2`], [5]);
  assert.deepEqual(t.columns[`frechet@${base} · variance fixed-large`], [9]);
  assert.equal(t.columns[`frechet@${base}`], undefined);
  assert.deepEqual(
    flattenEvalRecord({ step: 3, source: "eval", bound: "full", variance: "fixed-large", bpd: 2 }),
    { step: 3, "bpd@deno task eval · bound=full · variance=fixed-large": 2 },
  );
});
