/**
 * The optimiser's ops on `wasm` and `cpu`: the global gradient norm, Adam and the EMA of the
 * weights, each over ALL the tensors in ONE kernel call (`DiffusionGlobalNorm`,
 * `DiffusionAdamUpdate`, `DiffusionEmaUpdate` of `../kernels/`, in C when the C kernels are
 * compiled, else in JavaScript: the same bits either way). A small model's step then costs three
 * calls where a loop over the tensors, or a chain of tfjs ops per tensor, cost most of it.
 *
 * Variables are written in place when their data is theirs alone and no kernel keeps anything
 * derived from it (XNNPACK's packed weights on wasm; on cpu, only private state such as Adam's
 * moments, since `tf.tensor(a)` shares the caller's array `a`); otherwise they get new data.
 *
 * Each op returns null or false where it cannot run (another backend, a tensor that lives
 * elsewhere, another dtype); the caller then composes tfjs ops.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import {
  ADAM_UPDATE,
  type AdamAttrs,
  EMA_UPDATE,
  type EmaAttrs,
  GLOBAL_NORM,
} from "../kernels/_optim.ts";
import { currentStore, type MemoryStore } from "../kernels/_store.ts";

/** The hyper-parameters of one Adam update (see {@linkcode fusedAdamUpdate}); each is rounded to float32. */
export interface AdamUpdateParams {
  /** Moment decays. */
  beta1: number;
  beta2: number;
  /** `(1 - beta1) * scale` and `(1 - beta2) * scale^2` (scale: the clipping factor). */
  c1: number;
  c2: number;
  /** `lr * sqrt(1 - beta2^t) / (1 - beta1^t)`. */
  stepSize: number;
  /** `eps * sqrt(1 - beta2^t)`. */
  epsHat: number;
}

/** The store of the current backend when its kernel `name` is registered and every tensor fits. */
function _store(name: string, tensors: readonly tf.Tensor[]): MemoryStore | null {
  if (tf.getKernel(name, tf.getBackend()) === undefined) return null;
  if (!tensors.every((t) => t.dtype === "float32")) return null;
  return currentStore(tensors);
}

function _sameSizes(a: readonly tf.Tensor[], b: readonly tf.Tensor[]): boolean {
  return a.length === b.length && a.every((t, i) => t.size === b[i]!.size);
}

function _named(prefix: string, ts: readonly tf.Tensor[], into: tf.NamedTensorMap): void {
  ts.forEach((t, i) => into[`${prefix}${i}`] = t);
}

/** Assigns the kernel's new outputs to the variables whose flag is set, in order. */
function _assignFresh(vars: readonly tf.Variable[], fresh: number[], outs: tf.Tensor[]): void {
  let k = 0;
  vars.forEach((v, i) => {
    if (fresh[i] !== 1) return;
    const t = outs[k++]!;
    v.assign(t);
    t.dispose();
  });
}

/**
 * The global L2 norm `sqrt(sum_i |x_i|^2)` of float32 tensors as one kernel call (squares
 * summed in double), or null where the kernel cannot run.
 *
 * @param xs The tensors (at least one).
 * @returns A float32 scalar, or null.
 *
 * @example
 * ```ts
 * import { tf } from "../../tf.ts";
 * import { initBackend } from "../mod.ts";
 * import { fusedGlobalNorm } from "./optimizer.ts";
 * import assert from "node:assert/strict";
 * await initBackend("cpu", { native: false });
 * const n = fusedGlobalNorm([tf.tensor1d([3]), tf.tensor2d([[4]])])!;
 * assert.equal(n.dataSync()[0], 5);
 * ```
 */
export function fusedGlobalNorm(xs: readonly tf.Tensor[]): tf.Scalar | null {
  if (xs.length === 0 || _store(GLOBAL_NORM, xs) === null) return null;
  const inputs: tf.NamedTensorMap = {};
  _named("x", xs, inputs);
  return tf.engine().runKernel(GLOBAL_NORM, inputs, { count: xs.length }) as tf.Scalar;
}

/**
 * One Adam update of every parameter as one kernel call: per value, in float32 arithmetic
 * rounded after each operation (as the composition of tfjs ops `m * beta1 + g * c1`,
 * `v * beta2 + square(g) * c2`, `w - (m * stepSize) / (sqrt(v) + epsHat)` computes it, and gives
 * the same bits), with the hyper-parameters rounded to float32. The moments are private state (updated in place when nothing else
 * holds them); the parameters are written in place only where that is safe (module doc).
 *
 * @param params The parameters.
 * @param m The first moments, parallel to `params`.
 * @param v The second moments.
 * @param grads The gradients.
 * @param p The step's hyper-parameters.
 * @returns False (nothing done) where the kernel cannot run.
 *
 * @example
 * ```ts
 * import { tf } from "../../tf.ts";
 * import { initBackend } from "../mod.ts";
 * import { fusedAdamUpdate } from "./optimizer.ts";
 * import assert from "node:assert/strict";
 * await initBackend("cpu", { native: false });
 * const w = tf.variable(tf.tensor1d([1])), m = tf.variable(tf.zeros([1]));
 * const v = tf.variable(tf.zeros([1]));
 * const p = { beta1: 0.9, beta2: 0.999, c1: 0.1, c2: 0.001, stepSize: 0.1, epsHat: 0 };
 * assert.ok(fusedAdamUpdate([w], [m], [v], [tf.tensor1d([1])], p));
 * // m' = 0.1, v' = 0.001: w' = 1 - 0.1 * 0.1 / sqrt(0.001)
 * assert.ok(Math.abs(w.dataSync()[0]! - (1 - 0.01 / Math.sqrt(0.001))) < 1e-6);
 * ```
 */
export function fusedAdamUpdate(
  params: readonly tf.Variable[],
  m: readonly tf.Variable[],
  v: readonly tf.Variable[],
  grads: readonly tf.Tensor[],
  p: AdamUpdateParams,
): boolean {
  if (
    params.length === 0 || !_sameSizes(params, m) || !_sameSizes(params, v) ||
    !_sameSizes(params, grads)
  ) {
    return false;
  }
  const store = _store(ADAM_UPDATE, [...params, ...m, ...v, ...grads]);
  if (store === null) return false;
  const fresh = [
    ...params.map((t) => store.writable(t, false) ? 0 : 1),
    ...m.map((t) => store.writable(t, true) ? 0 : 1),
    ...v.map((t) => store.writable(t, true) ? 0 : 1),
  ];
  const inputs: tf.NamedTensorMap = {};
  _named("w", params, inputs);
  _named("m", m, inputs);
  _named("v", v, inputs);
  _named("g", grads, inputs);
  const attrs: AdamAttrs = { count: params.length, ...p, fresh };
  const outs = tf.engine().runKernel(
    ADAM_UPDATE,
    inputs,
    attrs as unknown as tf.NamedAttrMap,
  ) as tf.Tensor[];
  _assignFresh([...params, ...m, ...v], fresh, outs);
  return true;
}

/**
 * One update of an exponential moving average as one kernel call: per value, in double
 * precision, `e' = decay e + (1 - decay) w`, stored as float32; the averages are written in
 * place only where that is safe (module doc).
 *
 * @param ema The averages.
 * @param values The weights, parallel to `ema`.
 * @param decay The decay.
 * @returns False (nothing done) where the kernel cannot run.
 *
 * @example
 * ```ts
 * import { tf } from "../../tf.ts";
 * import { initBackend } from "../mod.ts";
 * import { fusedEmaUpdate } from "./optimizer.ts";
 * import assert from "node:assert/strict";
 * await initBackend("cpu", { native: false });
 * const e = tf.variable(tf.tensor1d([0]));
 * assert.ok(fusedEmaUpdate([e], [tf.tensor1d([10])], 0.9));
 * assert.ok(Math.abs(e.dataSync()[0]! - 1) < 1e-6);
 * ```
 */
export function fusedEmaUpdate(
  ema: readonly tf.Variable[],
  values: readonly tf.Tensor[],
  decay: number,
): boolean {
  if (ema.length === 0 || !_sameSizes(ema, values)) return false;
  const store = _store(EMA_UPDATE, [...ema, ...values]);
  if (store === null) return false;
  const fresh = ema.map((t) => store.writable(t, false) ? 0 : 1);
  const inputs: tf.NamedTensorMap = {};
  _named("e", ema, inputs);
  _named("w", values, inputs);
  const attrs: EmaAttrs = { count: ema.length, decay, d1: 1 - decay, fresh };
  const outs = tf.engine().runKernel(
    EMA_UPDATE,
    inputs,
    attrs as unknown as tf.NamedAttrMap,
  ) as tf.Tensor[];
  _assignFresh(ema, fresh, outs);
  return true;
}

/**
 * The value of a scalar whose memory the current backend keeps at hand (`wasm`, `cpu`): read
 * without a synchronisation; null elsewhere (read it with `data()` there).
 *
 * @param t A float32 scalar (or any tensor: its first value).
 * @returns The value, or null.
 *
 * @example
 * ```ts
 * import { tf } from "../../tf.ts";
 * import { hostScalar } from "./optimizer.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * assert.equal(hostScalar(tf.scalar(2.5)), 2.5);
 * ```
 */
export function hostScalar(t: tf.Tensor): number | null {
  if (t.dtype !== "float32" || t.size < 1) return null;
  const store = currentStore([t]);
  return store === null ? null : store.f32(t)[0]!;
}
