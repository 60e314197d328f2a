/**
 * The op `groupNormSilu`: GroupNorm, optionally followed by SiLU, as one op with a hand-written
 * gradient. On `wasm` and `cpu` its forward pass is one kernel (`DiffusionGroupNorm`: statistics,
 * normalisation and affine in two passes; the sigmoid stays in the backend's vectorised kernel,
 * or, with the compiled C kernels, `DiffusionGroupNormSiluC` does it all) and its backward pass
 * is one kernel that saves only `x`, the per-group mean and 1/std, and the activation's inputs.
 * The kernels live in `../kernels/`; on other backends the op is the plain composition of tfjs
 * ops.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import {
  GROUP_NORM,
  GROUP_NORM_GRAD,
  GROUP_NORM_SILU_C,
  GROUP_NORM_SILU_C_GRAD,
} from "../kernels/_group_norm.ts";

/** The parameters of a GroupNorm layer (`lib/model/params.ts`'s `GroupNormParams`). */
export interface GroupNormSiluParams {
  /** The per-channel scale `[C]`. */
  gamma: tf.Tensor;
  /** The per-channel shift `[C]`. */
  beta: tf.Tensor;
  /** Groups (C divisible by it). */
  groups: number;
}

function _checkGroups(x: tf.Tensor, p: GroupNormSiluParams): void {
  const c = x.shape[3];
  if (x.rank !== 4 || c === undefined || c % p.groups !== 0 || p.gamma.size !== c) {
    throw new TypeError(
      `Cannot apply GroupNorm: expected x [B, H, W, C] with C = ${p.gamma.size} divisible by ` +
        `${p.groups} groups, got [${x.shape}]`,
    );
  }
}

function _composite(x: tf.Tensor, p: GroupNormSiluParams, silu: boolean, eps: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const xr = tf.reshape(x, [b, h * w, p.groups, c / p.groups]);
  const mean = tf.mean(xr, [1, 3], true);
  const xc = tf.sub(xr, mean);
  const variance = tf.mean(tf.square(xc), [1, 3], true);
  const y = tf.reshape(tf.mul(xc, tf.rsqrt(tf.add(variance, eps))), [b, h, w, c]);
  const z = tf.add(tf.mul(y, p.gamma), p.beta) as tf.Tensor4D;
  return silu ? tf.mul(z, tf.sigmoid(z)) : z;
}

function _fusedC(silu: boolean, groups: number, eps: number) {
  return tf.customGrad(
    ((x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, save: tf.GradSaveFunc) => {
      const [y, stats] = tf.engine().runKernel(
        GROUP_NORM_SILU_C,
        { x, gamma, beta },
        { groups, eps, silu },
      ) as tf.Tensor[];
      save([x, gamma, beta, stats!]);
      return {
        value: y!,
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const [sx, sgamma, sbeta, sstats] = saved;
          return tf.engine().runKernel(
            GROUP_NORM_SILU_C_GRAD,
            { dy: dy as tf.Tensor, x: sx!, gamma: sgamma!, beta: sbeta!, stats: sstats! },
            { groups, silu },
          ) as tf.Tensor[];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
}

function _fused(silu: boolean, groups: number, eps: number) {
  return tf.customGrad(
    ((x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, save: tf.GradSaveFunc) => {
      const attrs = { groups, eps };
      const [z, stats] = tf.engine().runKernel(
        GROUP_NORM,
        { x, gamma, beta },
        attrs,
      ) as tf.Tensor[];
      let y = z!;
      if (silu) {
        const s = tf.sigmoid(z!);
        y = tf.mul(z!, s);
        save([x, gamma, stats!, z!, s]);
      } else {
        save([x, gamma, stats!]);
      }
      return {
        value: y,
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const [sx, sgamma, sstats, sz, ss] = saved;
          const inputs: tf.NamedTensorMap = {
            dy: dy as tf.Tensor,
            x: sx!,
            gamma: sgamma!,
            stats: sstats!,
          };
          if (sz !== undefined && ss !== undefined) {
            inputs.z = sz;
            inputs.s = ss;
          }
          return tf.engine().runKernel(GROUP_NORM_GRAD, inputs, { groups }) as tf.Tensor[];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
}

const _ops = new Map<string, ReturnType<typeof tf.customGrad>>();

/**
 * GroupNorm of NHWC `x` (statistics per sample and group over H, W and the group's channels,
 * biased variance), the learned per-channel scale and shift, then SiLU when `silu` is set:
 * numerically the composition of `lib/model/layers.ts`'s `groupNorm` and `silu`, with far fewer
 * kernels and saved tensors on `wasm` and `cpu` once `initBackend` has registered the kernels of
 * `../kernels/mod.ts` (the JavaScript pair, or the C pair with the native C kernels); elsewhere
 * it is that composition of tfjs ops.
 *
 * @example
 * ```ts
 * import { tf } from "../../tf.ts";
 * import { initBackend } from "../mod.ts";
 * import { groupNormSilu } from "./group_norm_silu.ts";
 * import assert from "node:assert/strict";
 * await initBackend("cpu", { native: false });
 * const p = { gamma: tf.variable(tf.ones([4])), beta: tf.variable(tf.zeros([4])), groups: 2 };
 * const x = tf.randomNormal([2, 3, 3, 4], 5, 3, "float32", 1);
 * const y = groupNormSilu(x, p, { silu: false });
 * assert.ok(Math.abs(tf.mean(y).dataSync()[0]!) < 1e-5);
 * assert.deepEqual(groupNormSilu(x, p).shape, [2, 3, 3, 4]);
 * ```
 *
 * @param x `[B, H, W, C]`.
 * @param p The layer (C divisible by `p.groups`).
 * @param options `silu` (default true) and `eps` (default 1e-5).
 * @returns Same shape as `x`.
 */
export function groupNormSilu(
  x: tf.Tensor,
  p: GroupNormSiluParams,
  options: { silu?: boolean; eps?: number } = {},
): tf.Tensor4D {
  _checkGroups(x, p);
  const silu = options.silu ?? true;
  const eps = options.eps ?? 1e-5;
  const backend = tf.getBackend();
  if (x.dtype !== "float32" || tf.getKernel(GROUP_NORM, backend) === undefined) {
    return _composite(x, p, silu, eps);
  }
  const native = x.shape[3]! <= 1024 && p.groups <= 256 &&
    tf.getKernel(GROUP_NORM_SILU_C, backend) !== undefined;
  const key = `${native}/${silu}/${p.groups}/${eps}`;
  let op = _ops.get(key);
  if (op === undefined) {
    _ops.set(key, op = (native ? _fusedC : _fused)(silu, p.groups, eps));
  }
  return op(x, p.gamma, p.beta) as tf.Tensor4D;
}
