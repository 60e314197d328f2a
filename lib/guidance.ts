/**
 * Classifier-free guidance (Ho & Salimans 2022) as a model function: a class-conditional model
 * (one trained with label dropout, so that its null label gives the unconditional model) and
 * the labels to draw become a `(x_t, t) => output` function whose noise prediction is
 *
 *   eps = eps_uncond + w * (eps_cond - eps_uncond)
 *
 * with w = 0 the unconditional model, w = 1 the conditional one and w > 1 guided (sharper
 * classes, less diversity). Because the result is an ordinary model function, every sampler
 * (ancestral, respaced, DDIM, ...) and everything else that takes one works with it unchanged.
 *
 * @module
 */
import { type ModelFn, tf } from "./tf.ts";
import type { DiffusionModel } from "./model/types.ts";

/** Options of {@linkcode guidedModelFn}. */
export interface GuidanceOptions {
  /**
   * The classes to draw: one class for every example (a number in `0..numClasses-1`), or one per
   * example, `[B]` int32 (the caller keeps ownership).
   */
  labels: number | tf.Tensor1D;
  /**
   * The guidance weight w >= 0: 0 the unconditional model (the null label), 1 the conditional
   * model, above 1 guided.
   *
   * @default {1}
   */
  guidance?: number;
}

/**
 * Wraps a class-conditional model for classifier-free guidance (see the module doc). Each call
 * evaluates the conditional and the null-label outputs in one batched call of 2B examples and
 * combines their noise predictions; a model with a learned variance keeps the conditional
 * output's variance channels. At w = 0 and w = 1 it makes a single call of B examples, with the
 * null label and with the labels respectively, so those two are exactly the unconditional and
 * the conditional model (variance channels included).
 *
 * The result runs inside a `tf.tidy`; the caller owns its output.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { createModel } from "./model/create_model.ts";
 * import { guidedModelFn } from "./guidance.ts";
 * import assert from "node:assert/strict";
 * const model = createModel({ kind: "unet-s", numClasses: 10 });
 * // Hand `net` to any sampler in place of the model: `sample(schedule, net, [B, 28, 28, 1])`.
 * const net = guidedModelFn(model, { labels: 3, guidance: 2 });
 * const eps = net(tf.zeros([1, 28, 28, 1]), tf.tensor1d([5], "int32"));
 * assert.deepEqual(eps.shape, [1, 28, 28, 1]);
 * eps.dispose();
 * assert.throws(() => guidedModelFn(model, { labels: 10 }), RangeError); // 10 is the null label
 * model.dispose();
 * ```
 *
 * @param model A class-conditional model (`model.numClasses > 0`).
 * @param options The labels and the guidance weight.
 * @returns The guided model function, taking the model's own timesteps.
 * @throws {TypeError} For a model without labels, or labels that are not a `[B]` int32 tensor.
 * @throws {RangeError} For a class outside `0..numClasses-1` or a guidance that is negative or
 *   not finite.
 */
export function guidedModelFn(model: DiffusionModel, options: GuidanceOptions): ModelFn {
  const k = model.numClasses;
  if (!(k > 0)) {
    throw new TypeError(
      "Cannot guide a model trained without labels: classifier-free guidance needs a class-conditional model",
    );
  }
  const w = options.guidance ?? 1;
  if (!(Number.isFinite(w) && w >= 0)) {
    throw new RangeError(`Cannot guide: expected a guidance weight >= 0, got ${w}`);
  }
  const { labels } = options;
  if (typeof labels === "number") {
    if (!(Number.isInteger(labels) && labels >= 0 && labels < k)) {
      throw new RangeError(`Cannot guide: expected a class in 0..${k - 1}, got ${labels}`);
    }
  } else if (!(labels instanceof tf.Tensor) || labels.rank !== 1 || labels.dtype !== "int32") {
    throw new TypeError("Cannot guide: expected labels to be a class number or a [B] int32 tensor");
  }
  return (x, t) => {
    const b = x.shape[0]!;
    if (typeof labels !== "number" && labels.shape[0] !== b) {
      throw new TypeError(
        `Cannot guide: expected ${b} labels for a batch of ${b}, got [${labels.shape}]`,
      );
    }
    return tf.tidy(() => {
      const cond = typeof labels === "number"
        ? tf.fill([b], labels, "int32") as tf.Tensor1D
        : labels;
      const none = tf.fill([b], k, "int32") as tf.Tensor1D;
      if (w === 0) return model.apply(x, t, { labels: none });
      if (w === 1) return model.apply(x, t, { labels: cond });
      const out = model.apply(tf.concat([x, x]), tf.concat([t, t]), {
        labels: tf.concat([cond, none]),
      });
      const [oc, ou] = tf.split(out, 2, 0) as [tf.Tensor, tf.Tensor];
      const axis = out.rank - 1;
      const channels = x.shape[axis]!;
      const outChannels = out.shape[axis]!;
      const epsOf = (o: tf.Tensor) =>
        outChannels === channels ? o : tf.split(o, [channels, outChannels - channels], axis)[0]!;
      const [ec, eu] = [epsOf(oc), epsOf(ou)];
      const eps = tf.add(eu, tf.mul(tf.sub(ec, eu), w));
      if (outChannels === channels) return eps;
      const v = tf.split(oc, [channels, outChannels - channels], axis)[1]!;
      return tf.concat([eps, v], axis);
    });
  };
}
