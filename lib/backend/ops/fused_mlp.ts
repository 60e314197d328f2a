/**
 * The op `fusedMlp`: the 2-D MLP with learned timestep embeddings as ONE tfjs op with a
 * hand-written gradient, whose forward and backward passes are each one kernel
 * (`DiffusionMlpForward`, `DiffusionMlpBackward` of `../kernels/`, registered with the native
 * kernels). A training step of the MLP then costs two kernel calls instead of about fifty tfjs
 * ops. Available on `wasm` and `cpu` with the native kernels on ({@linkcode fusedMlpAvailable});
 * `lib/model/mlp.ts` falls back to the plain composition otherwise.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import { FUSED_MLP_KERNELS } from "../kernels/_mlp.ts";

/** The parameters of the fused MLP, in the order of `mlp.ts`. */
export interface FusedMlpParams {
  /** The embedding table `[T, 3H]` (layer i uses columns `[iH, (i+1)H)`). */
  table: tf.Tensor;
  /** Layer 0: `w` `[2, H]` (or `[in, H]`), `b` `[H]`. */
  w0: tf.Tensor;
  b0: tf.Tensor;
  /** Layer 1: `w` `[H, H]`, `b` `[H]`. */
  w1: tf.Tensor;
  b1: tf.Tensor;
  /** Layer 2: `w` `[H, H]`, `b` `[H]`. */
  w2: tf.Tensor;
  b2: tf.Tensor;
  /** Read-out: `w` `[H, O]`, `b` `[O]`. */
  wo: tf.Tensor;
  bo: tf.Tensor;
}

/**
 * True when the fused MLP op can run on the current backend: `wasm` or `cpu` with the native
 * kernels registered (`initBackend`'s default when the library loads and FFI is allowed).
 *
 * @returns Whether {@linkcode fusedMlp} may be called.
 *
 * @example
 * ```ts
 * import { initBackend } from "../mod.ts";
 * import { fusedMlpAvailable } from "./fused_mlp.ts";
 * import assert from "node:assert/strict";
 * await initBackend("cpu", { native: false });
 * assert.equal(fusedMlpAvailable(), false);
 * ```
 */
export function fusedMlpAvailable(): boolean {
  return tf.getKernel(FUSED_MLP_KERNELS[0], tf.getBackend()) !== undefined;
}

const _op = tf.customGrad(
  ((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, t, table, w0, b0, w1, b1, w2, b2, wo, bo] = args as tf.Tensor[] as [
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
    ];
    const save = args[11] as tf.GradSaveFunc;
    const [y, z] = tf.engine().runKernel(
      FUSED_MLP_KERNELS[0],
      { x, t, table, w0, b0, w1, b1, w2, b2, wo, bo } as unknown as tf.NamedTensorMap,
    ) as tf.Tensor[];
    // Variables outlive the step, so the backward pass reads them as they are; anything else
    // is saved (a tensor made inside a tidy would be gone by then).
    const ws = [w0, w1, w2, wo];
    save([x, t, z!, ...ws.filter((w) => !(w instanceof tf.Variable))]);
    const timesteps = table.shape[0]!;
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, st, sz, ...other] = saved;
        let k = 0;
        const [sw0, sw1, sw2, swo] = ws.map((w) => w instanceof tf.Variable ? w : other[k++]!);
        const g = tf.engine().runKernel(
          FUSED_MLP_KERNELS[1],
          { dy, x: sx, t: st, z: sz, w0: sw0, w1: sw1, w2: sw2, wo: swo } as tf.NamedTensorMap,
          { timesteps },
        ) as tf.Tensor[];
        const [dx, dtable, ...rest] = g;
        return [dx!, tf.zerosLike(st!), dtable!, ...rest];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
);

/**
 * The MLP `relu(relu(relu(x W0 + b0 + E0[t]) W1 + b1 + E1[t]) W2 + b2 + E2[t]) Wo + bo` as one
 * differentiable op (see the module doc). Call only when {@linkcode fusedMlpAvailable} is true.
 *
 * @param x `[B, D]` float32 inputs.
 * @param t `[B]` int32 timesteps in `[0, T)`.
 * @param p The parameters.
 * @returns `[B, O]`.
 * @throws {RangeError} When a timestep is outside `[0, T)`.
 *
 * @example
 * ```ts
 * import { tf } from "../../tf.ts";
 * import { initBackend } from "../mod.ts";
 * import { fusedMlp, fusedMlpAvailable } from "./fused_mlp.ts";
 * import assert from "node:assert/strict";
 * await initBackend("cpu", { native: true });
 * assert.ok(fusedMlpAvailable());
 * const H = 4, ones = (s: number[]) => tf.ones(s), zeros = (s: number[]) => tf.zeros(s);
 * const y = fusedMlp(tf.ones([1, 2]), tf.tensor1d([0], "int32"), {
 *   table: zeros([3, 3 * H]),
 *   w0: ones([2, H]), b0: zeros([H]), w1: ones([H, H]), b1: zeros([H]),
 *   w2: ones([H, H]), b2: zeros([H]), wo: ones([H, 1]), bo: tf.tensor1d([0.5]),
 * });
 * assert.deepEqual(Array.from(y.dataSync()), [2 * 4 * 4 * 4 + 0.5]);
 * ```
 */
export function fusedMlp(x: tf.Tensor, t: tf.Tensor, p: FusedMlpParams): tf.Tensor2D {
  if (x.rank !== 2 || x.dtype !== "float32") {
    throw new TypeError(`Cannot apply the fused MLP: expected float32 x [B, D], got [${x.shape}]`);
  }
  const ti = t.dtype === "int32" ? t : tf.cast(t, "int32");
  try {
    return _op(x, ti, p.table, p.w0, p.b0, p.w1, p.b1, p.w2, p.b2, p.wo, p.bo) as tf.Tensor2D;
  } finally {
    if (ti !== t) ti.dispose();
  }
}
