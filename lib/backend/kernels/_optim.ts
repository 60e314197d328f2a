/**
 * What the optimiser's kernels share (`global_norm*.ts`, `adam_update*.ts`, `ema_update*.ts`):
 * their names, how their lists of tensors are named among the inputs, and where an update
 * writes. Each kernel works on ALL the parameters in one call; the JavaScript and the C
 * versions give the same bits (the same arithmetic in the same order, see `../native/c/optim.c`).
 *
 * An update writes a tensor in place when its data is {@linkcode MemoryStore.writable}, else
 * into a new output: the op (`../ops/optimizer.ts`) decides which (attribute `fresh`, one flag
 * per updated tensor), and the kernel returns the new outputs, in order, for the op to assign.
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import type { MemoryStore } from "./_store.ts";

/** The global L2 norm of a list of tensors: inputs `x0..x{n-1}`, output a float32 scalar. */
export const GLOBAL_NORM = "DiffusionGlobalNorm";
/** One Adam update: inputs `w*`, `m*`, `v*`, `g*`; attributes {@linkcode AdamAttrs}. */
export const ADAM_UPDATE = "DiffusionAdamUpdate";
/** One EMA update: inputs `e*` (the averages) and `w*` (the weights); {@linkcode EmaAttrs}. */
export const EMA_UPDATE = "DiffusionEmaUpdate";

/** The attributes of {@linkcode ADAM_UPDATE} (the kernels round each to float32). */
export interface AdamAttrs {
  /** How many parameters. */
  count: number;
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
  /** `3 * count` flags (w, then m, then v): 1 writes the tensor to a new output. */
  fresh: number[];
}

/** The attributes of {@linkcode EMA_UPDATE}. */
export interface EmaAttrs {
  /** How many tensors. */
  count: number;
  /** The decay, and `1 - decay`. */
  decay: number;
  d1: number;
  /** `count` flags: 1 writes the average to a new output. */
  fresh: number[];
}

/**
 * The input tensors `${prefix}0` .. `${prefix}${count - 1}`.
 *
 * @example
 * ```ts
 * import { tf } from "../../tf.ts";
 * import { listInputs } from "./_optim.ts";
 * import assert from "node:assert/strict";
 * const a = tf.scalar(1), b = tf.scalar(2);
 * assert.deepEqual(listInputs({ x0: a, x1: b }, "x", 2), [a, b]);
 * assert.throws(() => listInputs({ x0: a }, "x", 2), TypeError);
 * ```
 */
export function listInputs(
  inputs: tf.NamedTensorInfoMap,
  prefix: string,
  count: number,
): tf.TensorInfo[] {
  const out: tf.TensorInfo[] = [];
  for (let i = 0; i < count; i++) {
    const t = inputs[`${prefix}${i}`];
    if (t === undefined) {
      throw new TypeError(`optimiser kernel: expected input '${prefix}${i}', got none`);
    }
    out.push(t);
  }
  return out;
}

/**
 * Where each of `srcs` is written: itself, or (flag `fresh[offset + i]` set) a new output of its
 * shape, which is appended to `outs`. Allocates: take views and addresses afterwards.
 */
export function updateTargets(
  store: MemoryStore,
  srcs: tf.TensorInfo[],
  fresh: readonly number[],
  offset: number,
  outs: tf.TensorInfo[],
): tf.TensorInfo[] {
  return srcs.map((t, i) => {
    if (fresh[offset + i] !== 1) return t;
    const o = store.alloc(t.shape);
    outs.push(o);
    return o;
  });
}

let _ptrs = new BigUint64Array(0);
let _sizes = new BigInt64Array(0);

/**
 * The addresses of `groups` of tensors, one group after another, in a reused array (for the C
 * kernels), and the element counts of the first group.
 */
export function addresses(
  store: MemoryStore,
  groups: tf.TensorInfo[][],
): { ptrs: BigUint64Array; sizes: BigInt64Array } {
  const n = groups[0]!.length;
  if (_ptrs.length < n * groups.length) _ptrs = new BigUint64Array(n * groups.length);
  if (_sizes.length < n) _sizes = new BigInt64Array(n);
  let k = 0;
  for (const g of groups) for (const t of g) _ptrs[k++] = store.address(t);
  for (let i = 0; i < n; i++) _sizes[i] = BigInt(_size(groups[0]![i]!.shape));
  return { ptrs: _ptrs, sizes: _sizes };
}

function _size(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/**
 * The total of 8 lanes of partial sums, added up as `c/optim.c` does: `((l0 + l1) + (l2 + l3))
 * + ((l4 + l5) + (l6 + l7))`.
 */
export function laneTotal(l: Float64Array): number {
  return ((l[0]! + l[1]!) + (l[2]! + l[3]!)) + ((l[4]! + l[5]!) + (l[6]! + l[7]!));
}
