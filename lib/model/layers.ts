/**
 * The functional building blocks of the models, written with few, large tfjs ops: dense,
 * convolution, GroupNorm, SiLU, seeded dropout, nearest-neighbour upsampling, the sinusoidal
 * timestep embedding and an embedding lookup whose gradient avoids `UnsortedSegmentSum`.
 *
 * @module
 */
import { tf } from "../tf.ts";
import type { Rng } from "../random.ts";
import type { ConvParams, DenseParams, GroupNormParams } from "./params.ts";

/**
 * `x @ w + b` (optionally followed by a ReLU) for a 2-D `x`.
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { dense } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const p = { w: tf.variable(tf.tensor2d([[1], [2]])), b: tf.variable(tf.tensor1d([0.5])) };
 * assert.deepEqual(Array.from(dense(tf.tensor2d([[1, 1]]), p).dataSync()), [3.5]);
 * ```
 *
 * @param x `[N, in]`.
 * @param p The layer.
 * @param activation `"linear"` or `"relu"`. @default {"linear"}
 * @returns `[N, out]`.
 */
export function dense(
  x: tf.Tensor,
  p: DenseParams,
  activation: "linear" | "relu" = "linear",
): tf.Tensor2D {
  return tf.fused.matMul({
    a: x as tf.Tensor2D,
    b: p.w as tf.Tensor2D,
    bias: p.b,
    activation,
  }) as tf.Tensor2D;
}

/**
 * A 1x1 convolution of NHWC `x`, computed as one matrix product.
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { conv1x1 } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const p = { w: tf.variable(tf.ones([3, 2])), b: tf.variable(tf.zeros([2])) };
 * assert.deepEqual(conv1x1(tf.ones([1, 4, 4, 3]), p).shape, [1, 4, 4, 2]);
 * ```
 *
 * @param x `[B, H, W, in]`.
 * @param p The layer (`w` is `[in, out]`).
 * @returns `[B, H, W, out]`.
 */
export function conv1x1(x: tf.Tensor, p: DenseParams): tf.Tensor4D {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const y = dense(tf.reshape(x, [b * h * w, c]), p);
  return tf.reshape(y, [b, h, w, p.w.shape[1]!]);
}

/**
 * A k x k convolution with bias, stride and symmetric padding as in PyTorch (`padding = k // 2`;
 * with stride 2 a 28x28 input gives 14x14 and 14x14 gives 7x7).
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { conv2d } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const p = { w: tf.variable(tf.ones([3, 3, 1, 4])), b: tf.variable(tf.zeros([4])), stride: 2, pad: 1 };
 * assert.deepEqual(conv2d(tf.ones([2, 28, 28, 1]), p).shape, [2, 14, 14, 4]);
 * ```
 *
 * @param x `[B, H, W, in]`.
 * @param p The layer.
 * @returns `[B, H', W', out]`.
 */
export function conv2d(x: tf.Tensor, p: ConvParams): tf.Tensor4D {
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [p.pad, p.pad],
    [p.pad, p.pad],
    [0, 0],
  ];
  return tf.fused.conv2d({
    x: x as tf.Tensor4D,
    filter: p.w as tf.Tensor4D,
    strides: p.stride,
    pad,
    bias: p.b,
  });
}

/**
 * GroupNorm over NHWC `x`: statistics per sample and group of channels over H, W and the
 * group's channels (biased variance, eps 1e-5), then the learned per-channel scale and shift.
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { groupNorm } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const p = { gamma: tf.variable(tf.ones([4])), beta: tf.variable(tf.zeros([4])), groups: 2 };
 * const y = groupNorm(tf.randomNormal([2, 3, 3, 4], 5, 3, "float32", 1), p);
 * assert.ok(Math.abs(tf.mean(y).dataSync()[0]!) < 1e-5);
 * ```
 *
 * @param x `[B, H, W, C]`.
 * @param p The layer.
 * @param eps Added to the variance. @default {1e-5}
 * @returns The normalised tensor, same shape.
 */
export function groupNorm(x: tf.Tensor, p: GroupNormParams, eps = 1e-5): tf.Tensor4D {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const g = p.groups;
  const xr = tf.reshape(x, [b, h * w, g, c / g]);
  const mean = tf.mean(xr, [1, 3], true);
  const xc = tf.sub(xr, mean);
  const variance = tf.mean(tf.square(xc), [1, 3], true);
  const y = tf.reshape(tf.mul(xc, tf.rsqrt(tf.add(variance, eps))), [b, h, w, c]);
  return tf.add(tf.mul(y, p.gamma), p.beta);
}

/**
 * SiLU (swish): `x * sigmoid(x)`.
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { silu } from "./layers.ts";
 * import assert from "node:assert/strict";
 * assert.equal(silu(tf.scalar(0)).dataSync()[0], 0);
 * ```
 *
 * @param x Any tensor.
 * @returns Same shape.
 */
export function silu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x));
}

/**
 * Inverted dropout with a mask drawn from `rng` (16-bit resolution per element): each
 * element is zeroed with probability `rate`, the rest scaled by `1 / (1 - rate)`.
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { Rng } from "../random.ts";
 * import { dropout } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const y = dropout(tf.ones([1000]), 0.5, new Rng(1)).dataSync();
 * const kept = y.filter((v) => v === 2).length;
 * assert.ok(kept > 400 && kept < 600);
 * ```
 *
 * @param x Any tensor.
 * @param rate The drop probability in [0, 1).
 * @param rng The stream the mask comes from.
 * @returns Same shape.
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, rng: Rng): T {
  if (!(rate >= 0 && rate < 1)) {
    throw new RangeError(`Cannot apply dropout: expected a rate in [0, 1), got ${rate}`);
  }
  if (rate === 0) return x;
  const n = x.size;
  const mask = new Float32Array(n);
  const threshold = Math.round(rate * 65536);
  const scale = 1 / (1 - rate);
  for (let i = 0; i < n; i += 2) {
    const u = rng.nextUint32();
    mask[i] = (u & 0xffff) >= threshold ? scale : 0;
    if (i + 1 < n) mask[i + 1] = (u >>> 16) >= threshold ? scale : 0;
  }
  return tf.mul(x, tf.tensor(mask, x.shape, "float32"));
}

/**
 * Nearest-neighbour upsampling by 2 of NHWC `x`, built from broadcasting adds (no resize
 * kernel needed, so the gradient is a plain sum).
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { upsample2x } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const y = upsample2x(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]));
 * assert.deepEqual(Array.from(y.dataSync()), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
 * ```
 *
 * @param x `[B, H, W, C]`.
 * @returns `[B, 2H, 2W, C]`.
 */
export function upsample2x(x: tf.Tensor): tf.Tensor4D {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const cols = tf.add(tf.reshape(x, [b * h, w, 1, c]), tf.zeros([1, 1, 2, 1]));
  const rows = tf.add(tf.reshape(cols, [b * h, 1, 2 * w * c]), tf.zeros([1, 2, 1]));
  return tf.reshape(rows, [b, 2 * h, 2 * w, c]);
}

/**
 * The sinusoidal timestep embedding of improved-diffusion: for `half = dim / 2`,
 * `freq_i = exp(-ln(maxPeriod) * i / half)` and `[cos(t * freq), sin(t * freq)]` (cos first).
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { timestepEmbedding } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const e = timestepEmbedding(tf.tensor1d([0], "int32"), 4).dataSync();
 * assert.deepEqual(Array.from(e), [1, 1, 0, 0]);
 * ```
 *
 * @param t `[B]` timesteps (any numeric dtype).
 * @param dim An even embedding size.
 * @param maxPeriod The longest period. @default {10000}
 * @returns `[B, dim]`.
 */
export function timestepEmbedding(t: tf.Tensor1D, dim: number, maxPeriod = 10000): tf.Tensor2D {
  if (dim % 2 !== 0) {
    throw new RangeError(`Cannot embed timesteps: expected an even dimension, got ${dim}`);
  }
  const half = dim / 2;
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++) freqs[i] = Math.exp(-Math.log(maxPeriod) * i / half);
  const args = tf.mul(
    tf.reshape(tf.cast(t, "float32"), [-1, 1]),
    tf.tensor2d(freqs, [1, half]),
  );
  return tf.concat([tf.cos(args), tf.sin(args)], 1) as tf.Tensor2D;
}

const _lookup = tf.customGrad(
  ((table: tf.Tensor, t: tf.Tensor, save: tf.GradSaveFunc) => {
    save([t]);
    const rows = table.shape[0]!;
    return {
      value: tf.gather(table, t),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const ts = saved[0]!;
        const oneHot = tf.cast(tf.oneHot(ts as tf.Tensor1D, rows), "float32");
        return [tf.matMul(oneHot, dy as tf.Tensor2D, true, false), tf.zerosLike(ts)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
);

/**
 * Embedding lookup `table[t]`; its gradient is `oneHot(t)^T @ dy` (one matrix product),
 * which is fast on every backend and needs no `UnsortedSegmentSum` kernel.
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { embeddingLookup } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const table = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
 * const t = tf.tensor1d([2, 0, 2], "int32");
 * assert.deepEqual(Array.from(embeddingLookup(table, t).dataSync()), [5, 6, 1, 2, 5, 6]);
 * const g = tf.grad((tab: tf.Tensor) => tf.sum(embeddingLookup(tab as tf.Tensor2D, t)))(table);
 * assert.deepEqual(Array.from(g.dataSync()), [1, 1, 0, 0, 2, 2]);
 * ```
 *
 * @param table `[N, D]`.
 * @param t `[B]` int32 indices in [0, N).
 * @returns `[B, D]`.
 */
export function embeddingLookup(table: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
  return _lookup(table, t) as tf.Tensor2D;
}
