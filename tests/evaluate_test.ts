/**
 * `evaluate` on MNIST with a stand-in model whose every output is 0: eps predicted as 0 gives an
 * L_simple of E[eps^2] = 1, and the bound (full and Monte Carlo) must come out finite, with its
 * pieces where they belong.
 */
import assert from "node:assert/strict";
import { tf } from "../lib/tf.ts";
import { createSchedule } from "../lib/schedule.ts";
import type { DiffusionModel } from "../lib/model/mod.ts";
import { evaluate } from "../tasks/_evaluate.ts";

await tf.setBackend("cpu");

/** eps = 0 and v = 0 (learned-range halfway between the two variances) for every input. */
const zeroModel = {
  apply: (x: tf.Tensor) => tf.zeros([...x.shape.slice(0, 3), 2]),
} as unknown as DiffusionModel;

Deno.test("MNIST quick evaluation: L_simple of a zero predictor is 1, the MC bound has an error bar", async () => {
  const schedule = createSchedule("cosine", { numTimesteps: 1000 });
  const m = await evaluate(zeroModel, schedule, {
    dataset: "mnist",
    variance: "learned-range",
    seed: 0,
    quick: true,
    mcDigits: 128,
  });
  assert.ok(Math.abs(m.simple! - 1) < 0.02, `simple ${m.simple}`);
  assert.ok(Number.isFinite(m.bpdMc) && m.bpdMc! > 0, `bpdMc ${m.bpdMc}`);
  assert.ok(m.bpdMcStderr! > 0 && m.bpdMcStderr! < m.bpdMc!, `stderr ${m.bpdMcStderr}`);
  assert.ok(m.priorBpd! >= 0 && m.priorBpd! < 1e-3, `prior ${m.priorBpd}`);
});

Deno.test("MNIST full bound: clipped and unclipped from one pass, on the digits asked for", async () => {
  const schedule = createSchedule("cosine", { numTimesteps: 4 });
  const m = await evaluate(zeroModel, schedule, {
    dataset: "mnist",
    variance: "learned-range",
    seed: 0,
    mcDigits: 20,
    bpdDigits: 10,
  });
  assert.equal(m.digits, 10);
  for (const k of ["bpd", "bpdUnclipped", "decoderBpd", "decoderBpdUnclipped", "bpdMc"]) {
    assert.ok(Number.isFinite(m[k]) && m[k]! > 0, `${k} = ${m[k]}`);
  }
  // With x_0 predicted as x_t / sqrt(alphas_cumprod), far outside [-1, 1] at large t, clipping
  // changes the bound.
  assert.notEqual(m.bpd, m.bpdUnclipped);
});
