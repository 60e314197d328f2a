// Every function that runs a model on a schedule calls it with the ORIGINAL timesteps
// (`schedule.timestepMap[t]`), through the one doorway `modelOnSchedule`. On a respaced schedule
// the indices and the timesteps differ, so a caller that forgets the map shows here.
import assert from "node:assert/strict";
import { type ModelFn, tf } from "./tf.ts";
import { createSchedule } from "./schedule.ts";
import { respace } from "./respace.ts";
import { modelOnSchedule, pMeanVariance } from "./diffusion.ts";
import { trainingLosses, vbTermsBpd } from "./loss.ts";
import { calcBpdLoop } from "./bpd.ts";
import { ddimSampleLoopProgressive, pSampleLoopProgressive, sample } from "./sampler.ts";

await tf.setBackend("cpu");

// Kept steps 3, 11 and 19 of 20: the indices 0, 1, 2 are none of the original timesteps.
const base = createSchedule("cosine", { numTimesteps: 20 });
const spaced = respace(base, [3, 11, 19]);
const ORIGINAL = new Set([3, 11, 19]);

/** A model that records every timestep it is called with; its output is `scale * x`. */
function recorder(channels = 1): { model: ModelFn; seen: number[] } {
  const seen: number[] = [];
  const model: ModelFn = (x, t) => {
    seen.push(...t.dataSync());
    return channels === 1 ? tf.mul(x, 0.5) : tf.concat([tf.mul(x, 0.5), tf.zerosLike(x)], -1);
  };
  return { model, seen };
}

function assertOriginal(seen: number[], what: string): void {
  assert.ok(seen.length > 0, `${what}: the model was never called`);
  const wrong = seen.filter((t) => !ORIGINAL.has(t));
  assert.deepEqual(wrong, [], `${what}: called with schedule indices [${wrong}], not timesteps`);
}

const x0 = () => tf.tensor4d([-0.5, 0.25, 0.75, -1], [2, 2, 1, 1]);
const ts = () => tf.tensor1d([0, 2], "int32");

Deno.test("modelOnSchedule: maps indices to timesteps and checks the batch", () => {
  const { model, seen } = recorder();
  const net = modelOnSchedule(spaced, model);
  assert.equal(net.schedule, spaced);
  const before = tf.memory().numTensors;
  net.at(x0(), tf.tensor1d([1, 2], "int32")).dispose();
  assert.deepEqual(seen, [11, 19]);
  assert.equal(tf.memory().numTensors, before + 2, "only the two inputs made here remain");
  assert.throws(() => net.at(x0(), tf.tensor1d([1], "int32")), TypeError);
});

Deno.test("pMeanVariance and vbTermsBpd call the model with original timesteps", () => {
  const a = recorder();
  pMeanVariance(spaced, a.model, x0(), ts());
  assertOriginal(a.seen, "pMeanVariance");
  const b = recorder();
  vbTermsBpd(spaced, b.model, x0(), x0(), ts());
  assertOriginal(b.seen, "vbTermsBpd");
});

Deno.test("trainingLosses calls the model with original timesteps, for every loss", () => {
  for (const loss of ["simple", "hybrid", "vlb"] as const) {
    const { model, seen } = recorder(2);
    trainingLosses(spaced, model, x0(), ts(), {
      loss,
      variance: "learned-range",
      noise: tf.onesLike(x0()),
    });
    assertOriginal(seen, `trainingLosses ${loss}`);
  }
});

Deno.test("calcBpdLoop calls the model with original timesteps, with and without unclippedToo", () => {
  for (const unclippedToo of [false, true]) {
    const { model, seen } = recorder();
    const r = calcBpdLoop(spaced, model, x0(), { unclippedToo });
    assertOriginal(seen, `calcBpdLoop unclippedToo ${unclippedToo}`);
    assert.equal(r.vbTerms.length, 3);
    assert.equal(r.unclipped !== undefined, unclippedToo);
  }
});

Deno.test("calcBpdLoop: with unclippedToo, the clipped bound equals the bound computed alone", () => {
  // One pass gives both bounds; the clipped one must be the same numbers as a pass without
  // unclippedToo (same seed, same model outputs), on a respaced schedule too.
  const model: ModelFn = (x, t) =>
    tf.tidy(() => tf.mul(x, tf.reshape(tf.cast(t, "float32"), [-1, 1, 1, 1])));
  const both = calcBpdLoop(spaced, model, x0(), { unclippedToo: true, seed: 4 });
  const alone = calcBpdLoop(spaced, model, x0(), { seed: 4 });
  for (let i = 0; i < 3; i++) {
    assert.ok(
      Math.abs(both.vbTerms[i]! - alone.vbTerms[i]!) < 1e-6,
      `term ${i}: ${both.vbTerms[i]} vs ${alone.vbTerms[i]}`,
    );
  }
  const unclipped = calcBpdLoop(spaced, model, x0(), { clipDenoised: false, seed: 4 });
  for (let i = 0; i < 3; i++) {
    assert.ok(Math.abs(both.unclipped!.vbTerms[i]! - unclipped.vbTerms[i]!) < 1e-6);
  }
});

Deno.test("the samplers call the model with original timesteps", () => {
  const a = recorder();
  for (const _ of pSampleLoopProgressive(spaced, a.model, [2, 2, 1, 1])) { /* drain */ }
  assertOriginal(a.seen, "pSampleLoopProgressive");
  const b = recorder();
  for (const _ of ddimSampleLoopProgressive(spaced, b.model, [2, 2, 1, 1], { eta: 0.5 })) {
    /* drain */
  }
  assertOriginal(b.seen, "ddimSampleLoopProgressive");
  for (const method of ["ancestral", "ddim"] as const) {
    const c = recorder();
    sample(spaced, c.model, [2, 2, 1, 1], { method }).sample.dispose();
    assertOriginal(c.seen, `sample ${method}`);
  }
});

Deno.test("no module of lib/ calls a model but through modelOnSchedule", async () => {
  // The maths take the model as `model: ModelFn`; a direct `model(...)` is a caller that could
  // forget the timestep map (as calcBpdLoop's unclippedToo once did).
  const calls: string[] = [];
  for await (const e of Deno.readDir(new URL(".", import.meta.url))) {
    if (!e.isFile || !e.name.endsWith(".ts") || e.name.endsWith("_test.ts")) continue;
    const code = (await Deno.readTextFile(new URL(e.name, import.meta.url)))
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/\/\/.*$/gm, "");
    for (const line of code.split("\n")) {
      if (/\bmodel\s*\(/.test(line)) calls.push(`${e.name}: ${line.trim()}`);
    }
  }
  assert.deepEqual(calls, [
    "diffusion.ts: return tf.tidy(() => model(xt, mapTimesteps(schedule, t)));",
  ]);
});
