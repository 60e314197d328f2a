/**
 * Inpainting with an unconditional prior: given a known image x_0 and a mask (1 = known), sample
 * the unknown part from the model. Two methods:
 *
 * - "replace": at each reverse step, the known region of x_{t-1} is replaced by a fresh sample of
 *   q(x_{t-1} | x_0) and the unknown region is the model's step. Simple, but biased: the unknown
 *   part never sees the known part's noise level in equilibrium, so it is not a sample of the
 *   conditional.
 * - "repaint" (Lugmayr et al. 2022, RePaint): the same replacement, and at every `jumpLength`-th
 *   step the chain goes back up `jumpLength` steps by the forward process q(x_t | x_{t-1}) and
 *   comes down again, `resampleCount - 1` times, so that the unknown part harmonises with the
 *   known one. The order of steps is {@linkcode repaintSchedule}'s, that of the authors' code.
 *
 * Both run on any schedule (respaced ones too: the jumps use the respaced betas, so one jump
 * spans one step of the respaced schedule) and any variance kind (through `pMeanVariance`).
 *
 * Memory: as the samplers of `sampler.ts`, the yielded tensors belong to the generator and stay
 * valid until the next call of `next()`; `tf.clone` what you keep.
 *
 * @module
 */
import { type ModelFn, tf } from "./tf.ts";
import { Rng } from "./random.ts";
import type { Schedule } from "./schedule.ts";
import { pMeanVariance, type VarianceKind } from "./diffusion.ts";

/**
 * The inpainting methods, the one list the CLI's choices and help come from.
 *
 * @example
 * ```ts
 * import { INPAINT_METHODS } from "./inpaint.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...INPAINT_METHODS], ["repaint", "replace"]);
 * ```
 */
export const INPAINT_METHODS = ["repaint", "replace"] as const;

/** An inpainting method. */
export type InpaintMethod = typeof INPAINT_METHODS[number];

/** Options of {@linkcode inpaintLoopProgressive}. */
export interface InpaintOptions {
  /**
   * "repaint" (resampling with jumps) or "replace" (no jumps; `jumpLength` and `resampleCount`
   * are ignored).
   *
   * @default {"repaint"}
   */
  method?: InpaintMethod;
  /**
   * RePaint's jump length j: how many steps the chain goes back up at a time.
   *
   * @default {10}
   */
  jumpLength?: number;
  /**
   * RePaint's resample count r: how many times each block of `jumpLength` steps is traversed
   * downwards (1 = no resampling, the replacement method).
   *
   * @default {10}
   */
  resampleCount?: number;
  /**
   * The seed of the noise.
   *
   * @default {0}
   */
  seed?: number;
  /**
   * Clip each predicted x_0 to [-1, 1] (for data in [-1, 1], e.g. images).
   *
   * @default {false}
   */
  clipDenoised?: boolean;
  /**
   * The reverse variance (for "learned-range" the model outputs twice the data's channels).
   *
   * @default {"fixed-small"}
   */
  variance?: VarianceKind;
  /** The initial noise of the unknown part, of the known image's shape (copied). Default: N(0, I). */
  noise?: tf.Tensor;
}

/** One move of an inpainting loop. */
export interface InpaintStep {
  /** "reverse": a model step down the chain; "jump": a forward step q(x_t | x_{t-1}) back up. */
  kind: "reverse" | "jump";
  /**
   * For "reverse", the schedule index i of the step taken (from noise level abar_i to
   * abar_{i-1}; the last move has index 0 and holds the result); for "jump", the index whose noise
   * level abar_i the sample now has.
   */
  index: number;
  /** The original timestep, `schedule.timestepMap[index]`. */
  t: number;
  /** The sample after the move. Owned by the generator. */
  sample: tf.Tensor;
  /** The model's x_0 prediction of a "reverse" move (null for a "jump"). Owned by the generator. */
  predXstart: tf.Tensor | null;
  /** The number of moves made so far, this one included (1-based). */
  move: number;
  /** The number of moves of the whole loop. */
  moves: number;
}

/**
 * RePaint's order of steps (the authors' `get_schedule_jump`): the noise-level indices the chain
 * visits, from T - 1 down to -1 (the clean sample). At each index j = 0, jumpLength,
 * 2 jumpLength, ... below T - jumpLength, the chain goes back up `jumpLength` indices and down
 * again, `resampleCount - 1` times. A decrease is a reverse step (a model call), an increase a
 * forward jump. `resampleCount` 1 gives the plain chain.
 *
 * @param numTimesteps T of the schedule.
 * @param jumpLength How many steps a jump goes back up.
 * @param resampleCount How many times each block is traversed downwards.
 * @returns The indices visited, starting at T - 1 and ending at -1.
 * @throws {RangeError} If an argument is not a positive integer.
 *
 * @example
 * ```ts
 * import { repaintSchedule } from "./inpaint.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(repaintSchedule(4, 1, 1), [3, 2, 1, 0, -1]);
 * assert.deepEqual(repaintSchedule(4, 2, 2), [3, 2, 1, 0, 1, 2, 1, 0, -1]);
 * ```
 */
export function repaintSchedule(
  numTimesteps: number,
  jumpLength: number,
  resampleCount: number,
): number[] {
  for (
    const [name, v] of [["T", numTimesteps], ["jumpLength", jumpLength], [
      "resampleCount",
      resampleCount,
    ]] as const
  ) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`Cannot plan RePaint's steps: expected ${name} >= 1, got ${v}`);
    }
  }
  const jumps = new Map<number, number>();
  for (let j = 0; j < numTimesteps - jumpLength; j += jumpLength) jumps.set(j, resampleCount - 1);
  const ts: number[] = [numTimesteps - 1];
  let t = numTimesteps - 1;
  while (t >= 1) {
    t -= 1;
    ts.push(t);
    const left = jumps.get(t) ?? 0;
    if (left > 0) {
      jumps.set(t, left - 1);
      for (let k = 0; k < jumpLength; k++) ts.push(++t);
    }
  }
  ts.push(-1);
  return ts;
}

/**
 * The order of steps an inpainting method takes on a schedule of T steps (see
 * {@linkcode repaintSchedule}); "replace" is the plain chain.
 *
 * @param numTimesteps T of the schedule.
 * @param options The method, jump length and resample count.
 * @returns The noise-level indices visited, from T - 1 to -1.
 *
 * @example
 * ```ts
 * import { inpaintPlan } from "./inpaint.ts";
 * import assert from "node:assert/strict";
 * assert.equal(inpaintPlan(50, { method: "replace" }).length, 51);
 * const plan = inpaintPlan(50, { jumpLength: 10, resampleCount: 10 });
 * const modelCalls = plan.filter((t, k) => k > 0 && t < plan[k - 1]!).length;
 * assert.equal(modelCalls, 50 + 4 * 9 * 10);
 * ```
 */
export function inpaintPlan(
  numTimesteps: number,
  options: Pick<InpaintOptions, "method" | "jumpLength" | "resampleCount"> = {},
): number[] {
  const { method = "repaint", jumpLength = 10, resampleCount = 10 } = options;
  switch (method) {
    case "repaint":
      return repaintSchedule(numTimesteps, jumpLength, resampleCount);
    case "replace":
      return repaintSchedule(numTimesteps, 1, 1);
    default: {
      const never: never = method;
      throw new RangeError(
        `Unknown inpainting method "${never}": expected one of ${INPAINT_METHODS.join(", ")}`,
      );
    }
  }
}

function _checkInputs(xKnown: tf.Tensor, mask: tf.Tensor, noise?: tf.Tensor): void {
  if (xKnown.rank < 1 || xKnown.shape.some((d) => d < 1)) {
    throw new TypeError(
      `Cannot inpaint: expected a known batch [B, ...] with B >= 1, got shape [${xKnown.shape}]`,
    );
  }
  if (mask.rank !== xKnown.rank || mask.shape.some((d, i) => d !== 1 && d !== xKnown.shape[i])) {
    throw new TypeError(
      `Cannot inpaint: expected a mask broadcastable to [${xKnown.shape}] (same rank, each axis equal or 1), got [${mask.shape}]`,
    );
  }
  if (noise && (noise.rank !== xKnown.rank || noise.shape.some((d, i) => d !== xKnown.shape[i]))) {
    throw new TypeError(
      `Cannot inpaint: expected noise of shape [${xKnown.shape}], got [${noise.shape}]`,
    );
  }
}

/**
 * Inpaints step by step: starts from noise in the unknown region (and q(x_{T-1} | x_0) in the
 * known one), then follows {@linkcode inpaintPlan}: each reverse step at index i draws the unknown
 * region from the model's p(x_{i-1} | x_i) and the known region from q(x_{i-1} | x_0) (exactly
 * x_0 at the last step); each jump draws x_{i+1} ~ q(x_{i+1} | x_i) =
 * N(sqrt(alpha_{i+1}) x_i, beta_{i+1} I). All noise comes from `new Rng(seed)` in a fixed order.
 *
 * @param schedule The schedule (possibly respaced).
 * @param model The model, called with original timesteps.
 * @param xKnown The known image `[B, ...]` (its unknown region is ignored). The caller keeps it.
 * @param mask 1 where known, 0 where to sample; broadcastable to `xKnown` (same rank, each axis
 *   equal or 1). The caller keeps it.
 * @param options Method, jump length, resample count, seed, clipping, variance, initial noise.
 * @returns A generator of {@linkcode InpaintStep}; the last is a reverse step at index 0 whose
 *   sample is the result.
 * @throws {TypeError} If the mask or the noise does not fit the known image.
 * @throws {RangeError} If the jump length or resample count is not a positive integer.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { inpaintLoopProgressive } from "./inpaint.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("cosine", { numTimesteps: 20 });
 * const known = tf.tensor2d([[0.5, 0]]), mask = tf.tensor2d([[1, 0]]);
 * const before = tf.memory().numTensors;
 * let last: number[] = [];
 * for (const step of inpaintLoopProgressive(s, (x) => tf.zerosLike(x), known, mask, {
 *   jumpLength: 5,
 *   resampleCount: 3,
 * })) last = Array.from(step.sample.dataSync());
 * assert.equal(last[0], 0.5); // the known coordinate is kept exactly
 * assert.equal(tf.memory().numTensors, before);
 * ```
 */
export function inpaintLoopProgressive(
  schedule: Schedule,
  model: ModelFn,
  xKnown: tf.Tensor,
  mask: tf.Tensor,
  options: InpaintOptions = {},
): Generator<InpaintStep, void, undefined> {
  _checkInputs(xKnown, mask, options.noise);
  const plan = inpaintPlan(schedule.numTimesteps, options);
  return _loop(schedule, model, xKnown, mask, plan, options);
}

function* _loop(
  schedule: Schedule,
  model: ModelFn,
  xKnown: tf.Tensor,
  mask: tf.Tensor,
  plan: number[],
  options: InpaintOptions,
): Generator<InpaintStep, void, undefined> {
  const { variance = "fixed-small", clipDenoised = false } = options;
  const shape = xKnown.shape;
  const size = xKnown.size;
  const batch = shape[0]!;
  const rng = new Rng(options.seed ?? 0);
  const draw = () => tf.tensor(rng.fillNormal(new Float32Array(size)), shape, "float32");
  const m = tf.cast(mask, "float32");
  const x0 = tf.cast(xKnown, "float32");
  /** m * (sqrt(abar) x_0 + sqrt(1 - abar) z) + (1 - m) * unknown, for the noise level abar. */
  const combine = (abar: number, unknown: tf.Tensor) => {
    const known = abar >= 1
      ? x0
      : tf.add(tf.mul(x0, Math.sqrt(abar)), tf.mul(draw(), Math.sqrt(1 - abar)));
    return tf.add(tf.mul(m, known), tf.mul(tf.sub(1, m), unknown));
  };
  const T = schedule.numTimesteps;
  let x: tf.Tensor = tf.tidy(() =>
    combine(
      schedule.alphasCumprod[T - 1]!,
      options.noise ? tf.cast(options.noise, "float32") : draw(),
    )
  );
  let pred: tf.Tensor | null = null;
  try {
    for (let k = 1; k < plan.length; k++) {
      const from = plan[k - 1]!, to = plan[k]!;
      let next: tf.Tensor, nextPred: tf.Tensor | null = null;
      if (to < from) {
        const i = from;
        const r = tf.tidy(() => {
          const t = tf.fill([batch], i, "int32") as tf.Tensor1D;
          const out = pMeanVariance(schedule, model, x, t, { variance, clipDenoised });
          const unknown = i > 0
            ? tf.add(out.mean, tf.mul(tf.exp(tf.mul(0.5, out.logVariance)), draw()))
            : out.mean;
          return { sample: combine(schedule.alphasCumprodPrev[i]!, unknown), pred: out.predXstart };
        });
        next = r.sample;
        nextPred = r.pred;
      } else {
        const a = schedule.alphas[to]!, b = schedule.betas[to]!;
        next = tf.tidy(() => tf.add(tf.mul(x, Math.sqrt(a)), tf.mul(draw(), Math.sqrt(b))));
      }
      x.dispose();
      pred?.dispose();
      x = next;
      pred = nextPred;
      const index = to < from ? from : to;
      yield {
        kind: to < from ? "reverse" : "jump",
        index,
        t: schedule.timestepMap[index]!,
        sample: x,
        predXstart: pred,
        move: k,
        moves: plan.length - 1,
      };
    }
  } finally {
    x.dispose();
    pred?.dispose();
    m.dispose();
    x0.dispose();
  }
}

/** Options of {@linkcode inpaint}. */
export interface InpaintDrainOptions extends InpaintOptions {
  /** Called with each move (e.g. for progress); its tensors are valid only during the call. */
  onStep?: (step: InpaintStep) => void;
}

/**
 * Drains {@linkcode inpaintLoopProgressive} and returns the result, owned by the caller: the
 * known region equals `xKnown` where the mask is 1.
 *
 * @param schedule The schedule (possibly respaced).
 * @param model The model, called with original timesteps.
 * @param xKnown The known image `[B, ...]`.
 * @param mask 1 where known, broadcastable to `xKnown`.
 * @param options See {@linkcode InpaintOptions}, and `onStep`.
 * @returns The inpainted batch, of `xKnown`'s shape.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createSchedule } from "./schedule.ts";
 * import { inpaint } from "./inpaint.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("cosine", { numTimesteps: 10 });
 * const out = inpaint(s, (x) => tf.zerosLike(x), tf.tensor2d([[0.3, 0.9]]), tf.tensor2d([[0, 1]]), {
 *   method: "replace",
 * });
 * assert.equal(out.dataSync()[1], Math.fround(0.9)); // the known value, kept
 * out.dispose();
 * ```
 */
export function inpaint(
  schedule: Schedule,
  model: ModelFn,
  xKnown: tf.Tensor,
  mask: tf.Tensor,
  options: InpaintDrainOptions = {},
): tf.Tensor {
  let result: tf.Tensor | null = null;
  for (const step of inpaintLoopProgressive(schedule, model, xKnown, mask, options)) {
    options.onStep?.(step);
    if (step.move === step.moves) result = tf.clone(step.sample);
  }
  return result!;
}
