/**
 * UniPC (Zhao et al. 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of
 * Diffusion Models"): the multistep predictor UniP-2 with the corrector UniC, B(h) = e^h - 1
 * ("bh2"), in the data-prediction form, for an epsilon-prediction model.
 *
 * @module
 */
import { type ModelFn, tf } from "./tf.ts";
import type { Schedule } from "./schedule.ts";
import { sampleLoop, type SampleLoopOptions, type SampleStep } from "./_sample_loop.ts";
import { dataPredictor, solverGrid } from "./_solver.ts";

/**
 * The weights of UniC of order p (1 or 2) for a step of size h in lambda: with hh = -h,
 * B(h) = e^{hh} - 1 and phi_k from phi_1 = (e^{hh} - 1) / hh - 1, phi_{k+1} = phi_k / hh - 1 / (k+1)!,
 * they solve sum_j rho_j r_j^(k-1) = k! phi_k / B(h) for k = 1..p, where r = (r_1, 1) holds the
 * previous step's distance in lambda relative to h (order 1: rho = 1/2, as the paper's
 * simplification and diffusers have it).
 */
function _correctorWeights(h: number, r1: number | null): number[] {
  if (r1 === null) return [0.5];
  const hh = -h, bh = Math.expm1(hh);
  const phi1 = Math.expm1(hh) / hh - 1;
  const phi2 = phi1 / hh - 0.5;
  const b1 = phi1 / bh, b2 = 2 * phi2 / bh;
  // [[1, 1], [r1, 1]] [rho_1, rho_t] = [b1, b2]
  const rho1 = (b1 - b2) / (1 - r1);
  return [rho1, b1 - rho1];
}

/** The history UniPC keeps between steps (owned by the loop's stepper). */
interface _History {
  /** The data predictions at the last one or two grid indices, newest last. */
  m: tf.Tensor[];
  /** Their grid indices (schedule index + 1). */
  k: number[];
  /** The (corrected) sample the last predictor started from. */
  lastSample: tf.Tensor | null;
  /** The order of the last predictor step, which its corrector uses. */
  lastOrder: number;
}

/**
 * UniPC (bh2), step by step: at schedule index i the model gives m_i = x_0(x_i) (clipped when
 * asked); UniC first corrects x_i, the previous predictor's result, using m_i without another
 * model call (not at the first step); then UniP-2 predicts x_{i-1} from the corrected x_i:
 *
 * x_{i-1} = (sigma_{i-1} / sigma_i) x_i - alpha_{i-1} (e^{-h} - 1) (m_i + (m_i - m_{i+1}) / (2 r)),
 *
 * h = lambda_{i-1} - lambda_i, r = (lambda_i - lambda_{i+1}) / h (first order at the first step).
 * UniC recomputes the previous step with the new m_i as one more point of the same kind of
 * expansion (weights from the paper's order conditions, with B(h) = e^{-h} - 1). The last step,
 * from index 0 to the data (sigma = 0), is first order (diffusers' `lower_order_final`) and gives
 * m_0. One model call a step; deterministic (the seed only draws x_T). The yielded `sample` at
 * index i is the predictor's x_{i-1}, before the next step corrects it. Scalars are float64 from
 * `schedule.alphasCumprod`; use a respaced schedule (`samplingSchedule(base, "unipc20")`) for few
 * steps. With "learned-range" only the noise half of the output is used.
 *
 * @param schedule The schedule (usually respaced).
 * @param model The epsilon-prediction model, called with original timesteps.
 * @param shape The shape of the batch to sample, `[B, ...]`.
 * @param options Seed, clipping, variance (the output's layout), initial noise, yield stride.
 * @returns A generator of {@linkcode SampleStep}; the last has index 0 and holds the samples.
 * @throws {TypeError} If the shape or the noise is wrong.
 * @throws {RangeError} If `trajectoryEvery` is not a positive integer.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { samplingSchedule } from "./respace.ts";
 * import { unipcSampleLoopProgressive } from "./unipc.ts";
 * import assert from "node:assert/strict";
 * const base = createSchedule("cosine", { numTimesteps: 100 });
 * const { schedule } = samplingSchedule(base, "unipc4");
 * const before = tf.memory().numTensors;
 * const indices: number[] = [];
 * for (const step of unipcSampleLoopProgressive(schedule, (x) => tf.mul(x, 0.5), [2, 1])) {
 *   indices.push(step.index);
 * }
 * assert.deepEqual(indices, [3, 2, 1, 0]);
 * assert.equal(tf.memory().numTensors, before);
 * ```
 */
export function unipcSampleLoopProgressive(
  schedule: Schedule,
  model: ModelFn,
  shape: readonly number[],
  options: SampleLoopOptions = {},
): Generator<SampleStep, void, undefined> {
  const { alpha, sigma, lambda } = solverGrid(schedule);
  const predict = dataPredictor(schedule, model, options);
  const hist: _History = { m: [], k: [], lastSample: null, lastOrder: 0 };
  const free = () => {
    for (const m of hist.m) m.dispose();
    hist.lastSample?.dispose();
    hist.m = [];
    hist.k = [];
    hist.lastSample = null;
  };
  return sampleLoop(schedule, shape, options, {
    step(xIn, t, i) {
      const k = i + 1; // grid index of x; k - 1 is the target
      const mt = predict(xIn, t, i);
      let x = xIn;
      if (hist.lastSample !== null) {
        // UniC: redo the step from the last sample (grid index k + 1) to k with mt as well.
        const n = hist.m.length;
        const m0 = hist.m[n - 1]!, s0 = hist.k[n - 1]!;
        const h = lambda[k]! - lambda[s0]!;
        let r1: number | null = null, d1: tf.Tensor | null = null;
        if (hist.lastOrder >= 2 && n >= 2) {
          r1 = (lambda[hist.k[n - 2]!]! - lambda[s0]!) / h;
          d1 = tf.div(tf.sub(hist.m[n - 2]!, m0), r1);
        }
        const rho = _correctorWeights(h, r1);
        const bh = Math.expm1(-h);
        let res = tf.mul(tf.sub(mt, m0), rho[rho.length - 1]!);
        if (d1 !== null) res = tf.add(res, tf.mul(d1, rho[0]!));
        x = tf.sub(
          tf.sub(
            tf.mul(hist.lastSample, sigma[k]! / sigma[s0]!),
            tf.mul(m0, alpha[k]! * Math.expm1(-h)),
          ),
          tf.mul(res, alpha[k]! * bh),
        );
      }
      // Keep mt (and the one before it) for the next step's corrector and predictor.
      hist.m.push(tf.keep(tf.clone(mt)));
      hist.k.push(k);
      if (hist.m.length > 2) {
        hist.m.shift()!.dispose();
        hist.k.shift();
      }
      // UniP: order 2 from the second step on; first order at the last step (to sigma = 0).
      const order = i === 0 || hist.m.length < 2 ? 1 : 2;
      hist.lastSample?.dispose();
      hist.lastSample = tf.keep(tf.clone(x));
      hist.lastOrder = order;
      let sample: tf.Tensor;
      if (i === 0) {
        sample = tf.clone(mt); // sigma = 0: x_0 = m_0
      } else {
        const h = lambda[k - 1]! - lambda[k]!;
        const hPhi1 = Math.expm1(-h); // also B(h) for bh2
        let d = mt;
        if (order === 2) {
          const r1 = (lambda[hist.k[0]!]! - lambda[k]!) / h;
          // rho_p = 1/2 for UniP-2: D = mt + (m_prev - mt) / (2 r1).
          d = tf.add(mt, tf.mul(tf.sub(hist.m[0]!, mt), 0.5 / r1));
        }
        sample = tf.sub(tf.mul(x, sigma[k - 1]! / sigma[k]!), tf.mul(d, alpha[k - 1]! * hPhi1));
      }
      return { sample, predXstart: mt };
    },
    dispose: free,
  });
}
