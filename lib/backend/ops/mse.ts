/**
 * The op `meanSquaredError`: the mean of `(a - b)^2` over everything, or per example, as one
 * op with a hand-written gradient. On `wasm` and `cpu` its forward and backward passes are one
 * kernel each (`DiffusionMse`, `DiffusionMseGrad` of `../kernels/`) where the plain composition
 * (`squaredDifference`, `mean`, and their gradients) is some ten tfjs ops; elsewhere it is that
 * composition. The kernels sum in double, so the two agree to float32 rounding.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import { MSE } from "../kernels/mse.ts";
import { MSE_GRAD } from "../kernels/mse_grad.ts";

/** Over what {@linkcode meanSquaredError} averages. */
export type MseReduction = "all" | "rows";

function _fused(rows: boolean) {
  return tf.customGrad(
    ((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
      save([a, b]);
      return {
        value: tf.engine().runKernel(MSE, { a, b }, { rows }) as tf.Tensor,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.engine().runKernel(
            MSE_GRAD,
            { dy, a: saved[0]!, b: saved[1]! },
            { rows },
          ) as tf.Tensor[],
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
}

const _all = _fused(false);
const _rows = _fused(true);

/**
 * The mean squared difference of `a` and `b` (same shape, float32): over every value (`"all"`,
 * a scalar) or over all axes but the first (`"rows"`, `[B]`).
 *
 * @param a The first tensor.
 * @param b The second, of `a`'s shape.
 * @param reduction `"all"` or `"rows"`.
 * @returns A scalar or `[B]`.
 *
 * @example
 * ```ts
 * import { tf } from "../../tf.ts";
 * import { meanSquaredError } from "./mse.ts";
 * import assert from "node:assert/strict";
 * const a = tf.tensor2d([[1, 2], [3, 4]]), b = tf.tensor2d([[1, 0], [0, 4]]);
 * assert.deepEqual(Array.from(meanSquaredError(a, b, "rows").dataSync()), [2, 4.5]);
 * assert.equal(meanSquaredError(a, b, "all").dataSync()[0], 3.25);
 * ```
 */
export function meanSquaredError(a: tf.Tensor, b: tf.Tensor, reduction: MseReduction): tf.Tensor {
  if (!tf.util.arraysEqual(a.shape, b.shape) || (reduction === "rows" && a.rank < 1)) {
    throw new TypeError(
      `Cannot compute a mean squared error: expected two tensors of one shape` +
        `${reduction === "rows" ? " with a batch axis" : ""}, got [${a.shape}] and [${b.shape}]`,
    );
  }
  const fused = a.dtype === "float32" && b.dtype === "float32" &&
    tf.getKernel(MSE, tf.getBackend()) !== undefined;
  if (!fused) {
    return tf.tidy(() => {
      const sq = tf.squaredDifference(a, b);
      if (reduction === "all") return tf.mean(sq);
      return a.rank === 1 ? sq : tf.mean(sq, Array.from({ length: a.rank - 1 }, (_, i) => i + 1));
    });
  }
  return (reduction === "all" ? _all : _rows)(a, b);
}
