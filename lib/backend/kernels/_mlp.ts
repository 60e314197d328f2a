/**
 * What the fused MLP kernels (`mlp_forward.ts`, `mlp_backward.ts`) share. The 2-D MLP with
 * learned timestep embeddings is ONE tfjs op with a hand-written gradient: the forward pass and
 * the backward pass are each a single kernel that runs the matrix products
 * in the native BLAS (`../native/`) and the bias, embedding, ReLU and scatter loops in
 * JavaScript over the tensors' memory. A training step of the MLP then costs two kernel calls
 * instead of about fifty tfjs ops.
 *
 * Available on the `wasm` and `cpu` backends when the native kernels are enabled
 * (`fusedMlpAvailable` of `../ops/fused_mlp.ts`); `lib/model/mlp.ts` falls back to the plain composition otherwise.
 *
 * Layout: the three hidden layers' activations live in one `[3, B, H]` buffer `z` (contiguous
 * blocks, so that the ReLU loops run over contiguous memory), each block initialised with the
 * rows `table[t, lH:(l+1)H] + b_l` (embedding and bias) so that each matrix product accumulates
 * onto it (`beta = 1`). With the compiled C kernels (`../native/c/mlp.c`) the element-wise loops
 * run in C, bit for bit as in JavaScript. The backward pass keeps the three layers' gradients in the same layout;
 * the embedding table's gradient is a scatter of rows and the biases' gradients are the table
 * gradient's column sums. Batches up to 1,024 run their products on one OpenBLAS thread (at
 * that size threads cost more than they bring, and much more on a busy machine).
 *
 * @module
 */
import type { tf } from "../../tf.ts";

/** The kernel names: the forward pass (`[y, z]`) and the backward pass (ten gradients). */
export const FUSED_MLP_KERNELS = ["DiffusionMlpForward", "DiffusionMlpBackward"] as const;

let _scratch = new Float32Array(0);

/** A work buffer of at least `n` floats, reused across calls (the backward pass's gradients). */
export function mlpScratch(n: number): Float32Array {
  if (_scratch.length < n) _scratch = new Float32Array(n);
  return _scratch;
}

/** The address `n` floats after `p`, for the C kernels. */
export function floatsAfter(p: Deno.PointerValue, n: number): Deno.PointerValue {
  return n === 0 ? p : Deno.UnsafePointer.offset(p!, 4 * n);
}

export function mlpInput(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new TypeError(`fused MLP kernel: expected input '${name}', got none`);
  return t;
}

/** An int32 view of `f[start, start + n)` (same memory). */
function _bits(f: Float32Array, start: number, n: number): Int32Array {
  return new Int32Array(f.buffer, f.byteOffset + 4 * start, n);
}

/**
 * The ReLU in place on `z[start, start + n)`, branch-free on the float bits: a set sign bit
 * (negative values, -0) gives +0. Branch-free matters: with unpredictable signs a compare and
 * branch per element is four times slower.
 */
export function reluInPlace(z: Float32Array, start: number, n: number): void {
  const zi = _bits(z, start, n);
  for (let j = 0; j < n; j++) {
    const v = zi[j]!;
    zi[j] = v & ~(v >> 31);
  }
}

/**
 * The ReLU's derivative: zeroes `d[i]` where `z[i]` (a ReLU output, so +0, positive or NaN) is
 * not positive, for `i` in `[start, start + n)`; branch-free on the bits (`-bits >> 31` is all
 * ones exactly when the bits, a non-negative int32, are non-zero).
 */
export function reluMask(d: Float32Array, z: Float32Array, start: number, n: number): void {
  const di = _bits(d, start, n), zi = _bits(z, start, n);
  for (let j = 0; j < n; j++) di[j] = di[j]! & ((-zi[j]!) >> 31);
}

export function checkTimesteps(tv: Int32Array, timesteps: number): void {
  for (let b = 0; b < tv.length; b++) {
    const r = tv[b]!;
    if (!(r >= 0 && r < timesteps)) {
      throw new RangeError(
        `Cannot apply the MLP: expected timesteps in [0, ${timesteps}), got ${r}`,
      );
    }
  }
}

/** Batches up to this size run their matrix products on one BLAS thread. */
export const SMALL_BATCH = 1024;
