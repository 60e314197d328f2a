/**
 * Seed 000's sampling bug, shown. The seed demo's ancestral sampler computed
 * x_{t-1} = (x_t - beta_t / sqrt(1 - abar_t) eps) / (1 - sqrt(beta_t)) + sigma_t z, where DDPM's
 * mean has 1 / sqrt(alpha_t) = 1 / sqrt(1 - beta_t). This script trains the default S-curve
 * model (the project's default recipe, 40,000 steps unless `--steps` says otherwise), then
 * samples it twice from the same x_T and the same step noises, once with each coefficient, and
 * prints as JSON the sliced Wasserstein distance of each against fresh data beside the noise
 * floor (two fresh data sets), and writes the two side by side (`--out`; a third panel shows the
 * buggy samples zoomed out).
 *
 * Not a task: a demonstration kept beside the benchmarks.
 *
 * @example
 * ```sh
 * deno run -A bench/seed000_sampler.ts --out docs/seed000_sampler.png
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type ModelFn, tf } from "../lib/tf.ts";
import { Rng } from "../lib/random.ts";
import type { Schedule } from "../lib/schedule.ts";
import { fixedLargeVariance, modelOnSchedule } from "../lib/diffusion.ts";
import { sample } from "../lib/sampler.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { createDiffusionTrainer } from "../lib/train/diffusion_trainer.ts";
import { defaultRecipe } from "../lib/train/recipe.ts";
import { slicedWasserstein } from "../lib/metrics/swd.ts";
import { encodePng, montage, scatterPlot } from "../lib/image/mod.ts";
import { makeSCurve } from "../workers/s_curve.ts";

/** The reciprocal in the mean: DDPM's 1 / sqrt(alpha_t), or seed 000's 1 / (1 - sqrt(beta_t)). */
export type MeanCoefficient = "1/sqrt(alpha_t)" | "1/(1-sqrt(beta_t))";

/**
 * Ancestral sampling with fixed-large variance (the S-curve run's), written with the mean's
 * coefficient in the open: x_{t-1} = c_t (x_t - beta_t / sqrt(1 - abar_t) eps) + sigma_t z. The
 * noise is drawn as `pSampleLoopProgressive` draws it (x_T, then z for t > 0, from
 * `new Rng(seed)`), so with c_t = 1 / sqrt(alpha_t) the result is the library's.
 *
 * @param schedule The schedule (not respaced).
 * @param model The noise-prediction model.
 * @param n The number of 2-D points.
 * @param options The coefficient and the seed.
 * @returns The samples, `[n, 2]` row-major.
 *
 * @example
 * ```ts
 * import { tf } from "../lib/tf.ts";
 * import { createSchedule } from "../lib/schedule.ts";
 * import { ancestralSample } from "./seed000_sampler.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("sigmoid", { numTimesteps: 20 });
 * const zero = (x: tf.Tensor) => tf.zerosLike(x);
 * const good = ancestralSample(s, zero, 50, { coefficient: "1/sqrt(alpha_t)", seed: 1 });
 * const bad = ancestralSample(s, zero, 50, { coefficient: "1/(1-sqrt(beta_t))", seed: 1 });
 * assert.ok(Math.abs(bad[0]!) > Math.abs(good[0]!)); // the buggy one inflates every step
 * ```
 */
export function ancestralSample(
  schedule: Schedule,
  model: ModelFn,
  n: number,
  options: { coefficient: MeanCoefficient; seed: number },
): Float32Array {
  const rng = new Rng(options.seed);
  const draw = () => tf.tensor2d(rng.fillNormal(new Float32Array(n * 2)), [n, 2]);
  const net = modelOnSchedule(schedule, model);
  const variance = fixedLargeVariance(schedule);
  let x: tf.Tensor = draw();
  for (let i = schedule.numTimesteps - 1; i >= 0; i--) {
    const next = tf.tidy(() => {
      const beta = schedule.betas[i]!;
      const c = options.coefficient === "1/sqrt(alpha_t)"
        ? 1 / Math.sqrt(1 - beta)
        : 1 / (1 - Math.sqrt(beta));
      const eps = net.at(x, tf.fill([n], i, "int32") as tf.Tensor1D);
      const mean = tf.mul(
        tf.sub(x, tf.mul(eps, beta / Math.sqrt(1 - schedule.alphasCumprod[i]!))),
        c,
      );
      return i > 0 ? tf.add(mean, tf.mul(draw(), Math.sqrt(variance[i]!))) : mean;
    });
    x.dispose();
    x = next;
  }
  const out = x.dataSync() as Float32Array;
  x.dispose();
  return out;
}

function _std(x: Float32Array): number {
  let m = 0, v = 0;
  for (const a of x) m += a;
  m /= x.length;
  for (const a of x) v += (a - m) ** 2;
  return Math.sqrt(v / x.length);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      steps: { type: "string", default: "40000" },
      n: { type: "string", default: "10000" },
      seed: { type: "string", default: "0" },
      out: { type: "string", default: "docs/seed000_sampler.png" },
    },
  });
  const steps = Number(values.steps), n = Number(values.n), seed = Number(values.seed);
  if (![steps, n].every((v) => Number.isInteger(v) && v > 0) || !Number.isInteger(seed)) {
    console.error(
      `usage: deno run -A bench/seed000_sampler.ts [--steps N] [--n N] [--seed S] [--out F.png]; ` +
        `got --steps ${values.steps} --n ${values.n} --seed ${values.seed}`,
    );
    Deno.exit(2);
  }
  const backend = await initBackend("auto");
  const recipe = defaultRecipe("s-curve", { seed });
  const trainer = createDiffusionTrainer({ recipe, backendName: backend.name });
  const data = makeSCurve(10000, { noise: 0.1, seed });
  const rng = new Rng(seed + 17);
  const batch = new Float32Array(recipe.batch * 2);
  const t0 = performance.now();
  for (let s = 1; s <= steps; s++) {
    for (let j = 0; j < recipe.batch; j++) {
      const k = rng.int(10000);
      batch[2 * j] = data[2 * k]!;
      batch[2 * j + 1] = data[2 * k + 1]!;
    }
    const r = await trainer.step(batch, [recipe.batch, 2]);
    if (s % 2000 === 0) console.error(`step ${s}/${steps}: loss ${r.loss.toFixed(4)}`);
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  const model: ModelFn = (x, t) => trainer.ema.apply(x, t, { training: false });
  const sch = trainer.schedule;
  const t1 = performance.now();
  const correct = ancestralSample(sch, model, n, {
    coefficient: "1/sqrt(alpha_t)",
    seed: seed + 1,
  });
  const buggy = ancestralSample(sch, model, n, {
    coefficient: "1/(1-sqrt(beta_t))",
    seed: seed + 1,
  });
  const sampleSeconds = (performance.now() - t1) / 1000;
  // The library's sampler on the same seed: the correct formula must be it.
  const lib = sample(sch, model, [n, 2], { seed: seed + 1, variance: recipe.variance });
  const libData = lib.sample.dataSync();
  lib.sample.dispose();
  let libraryMaxDiff = 0;
  correct.forEach((v, i) => libraryMaxDiff = Math.max(libraryMaxDiff, Math.abs(v - libData[i]!)));
  const reference = makeSCurve(n, { noise: 0.1, seed: seed + 0x5eed });
  const other = makeSCurve(n, { noise: 0.1, seed: seed + 0x5eed + 1 });
  let amplification = 1;
  for (const beta of sch.betas) amplification *= Math.sqrt(1 - beta) / (1 - Math.sqrt(beta));
  const wide = Math.max(...Array.from(buggy, Math.abs)) * 1.05;
  const picture = montage([
    scatterPlot(correct, { size: 360, range: 0.25, reference, alpha: 0.3 }),
    scatterPlot(buggy, { size: 360, range: 0.25, reference, alpha: 0.3 }),
    scatterPlot(buggy, { size: 360, range: wide, reference, alpha: 0.3 }),
  ]);
  await Deno.writeFile(values.out!, encodePng(picture));
  console.log(JSON.stringify(
    {
      backend: backend.name,
      recipe: { schedule: recipe.schedule, timesteps: recipe.timesteps, variance: recipe.variance },
      trainSteps: steps,
      trainSeconds: Math.round(trainSeconds),
      n,
      sampleSeconds: Math.round(sampleSeconds * 10) / 10,
      swd: {
        "1/sqrt(alpha_t)": slicedWasserstein(correct, reference),
        "1/(1-sqrt(beta_t))": slicedWasserstein(buggy, reference),
        noiseFloor: slicedWasserstein(other, reference),
      },
      std: {
        "1/sqrt(alpha_t)": _std(correct),
        "1/(1-sqrt(beta_t))": _std(buggy),
        data: _std(reference),
      },
      coefficientRatioProduct: amplification,
      libraryMaxDiff,
      picture: values.out,
      zoomedOutRange: wide,
    },
    null,
    2,
  ));
  trainer.dispose();
}
