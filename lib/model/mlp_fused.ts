/**
 * The 2-D MLP with learned timestep embeddings as ONE tfjs op with a hand-written gradient:
 * the forward pass and the backward pass are each a single kernel that runs the matrix products
 * in the native BLAS (`../backend/native/`) and the bias, embedding, ReLU and scatter loops in
 * JavaScript over the tensors' memory. A training step of the MLP then costs two kernel calls
 * instead of about fifty tfjs ops.
 *
 * Available on the `wasm` and `cpu` backends when the native kernels are enabled
 * ({@linkcode fusedMlpAvailable}); `mlp.ts` falls back to the plain composition otherwise.
 *
 * Layout: the three hidden layers' activations live in one `[3, B, H]` buffer `z` (contiguous
 * blocks, so that the ReLU loops run over contiguous memory), each block initialised with the
 * rows `table[t, lH:(l+1)H] + b_l` (embedding and bias) so that each matrix product accumulates
 * onto it (`beta = 1`). The backward pass keeps the three layers' gradients in the same layout;
 * the embedding table's gradient is a scatter of rows and the biases' gradients are the table
 * gradient's column sums. Batches up to 1,024 run their products on one OpenBLAS thread (at
 * that size threads cost more than they bring, and much more on a busy machine).
 *
 * @module
 */
import { tf } from "../tf.ts";
import { isNativeEnabled, nativeBlas } from "../backend/native/mod.ts";
import type { Blas } from "../backend/native/blas.ts";
import { type MemoryStore, memoryStore } from "../backend/native/tensor_memory.ts";

/** The kernel names registered (for the current backend, on first use). */
export const FUSED_MLP_KERNELS = ["DiffusionMlpForward", "DiffusionMlpBackward"] as const;

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

const _registered = new Set<string>();

function _getBlas(): Blas | null {
  return nativeBlas(tf.getBackend());
}

/**
 * True when the fused MLP op can run on the current backend: `wasm` or `cpu` with the native
 * BLAS kernels enabled (`initBackend`'s default when the library loads and FFI is allowed).
 *
 * @returns Whether {@linkcode fusedMlp} may be called.
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { disableNative } from "../backend/native/mod.ts";
 * import { fusedMlpAvailable } from "./mlp_fused.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * disableNative("cpu");
 * assert.equal(fusedMlpAvailable(), false);
 * ```
 */
export function fusedMlpAvailable(): boolean {
  const name = tf.getBackend();
  if (name !== "wasm" && name !== "cpu") return false;
  if (!isNativeEnabled(name)) return false;
  if (_getBlas() === null) return false;
  if (!_registered.has(name)) _register(name);
  return true;
}

let _scratch = new Float32Array(0);
let _scratch2 = new Float32Array(0);

function _buffer(which: 1 | 2, n: number): Float32Array {
  if (which === 1) {
    if (_scratch.length < n) _scratch = new Float32Array(n);
    return _scratch;
  }
  if (_scratch2.length < n) _scratch2 = new Float32Array(n);
  return _scratch2;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

function _in(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
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
function _relu(z: Float32Array, start: number, n: number): void {
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
function _mask(d: Float32Array, z: Float32Array, start: number, n: number): void {
  const di = _bits(d, start, n), zi = _bits(z, start, n);
  for (let j = 0; j < n; j++) di[j] = di[j]! & ((-zi[j]!) >> 31);
}

function _checkT(tv: Int32Array, timesteps: number): void {
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
const SMALL_BATCH = 1024;

function _forward(args: KernelArgs, s: MemoryStore, blas: Blas): tf.TensorInfo[] {
  const inp = args.inputs;
  const x = _in(inp, "x"), t = _in(inp, "t"), table = _in(inp, "table");
  const w0 = _in(inp, "w0"), b0 = _in(inp, "b0"), w1 = _in(inp, "w1"), b1 = _in(inp, "b1");
  const w2 = _in(inp, "w2"), b2 = _in(inp, "b2"), wo = _in(inp, "wo"), bo = _in(inp, "bo");
  const B = x.shape[0]!, D = x.shape[1]!, H = w1.shape[0]!, O = wo.shape[1]!;
  const T = table.shape[0]!, H3 = 3 * H, BH = B * H;
  const yInfo = s.alloc([B, O]);
  const zInfo = s.alloc([3, B, H]);
  // Views only after the allocations: a growing wasm heap detaches older ones.
  const y = s.f32(yInfo), z = s.f32(zInfo), tv = s.i32(t), xv = s.f32(x);
  _checkT(tv, T);
  // Block l of z starts as the rows table[t, lH:(l+1)H] + b_l; the products accumulate onto it.
  const tab = s.f32(table), tb = _buffer(1, T * H3);
  const bias = [s.f32(b0), s.f32(b1), s.f32(b2)];
  for (let l = 0; l < 3; l++) {
    const bl = bias[l]!;
    for (let r = 0; r < T; r++) {
      const src = r * H3 + l * H, dst = (l * T + r) * H;
      for (let j = 0; j < H; j++) tb[dst + j] = tab[src + j]! + bl[j]!;
    }
    for (let b = 0; b < B; b++) {
      const src = (l * T + tv[b]!) * H, dst = l * BH + b * H;
      for (let j = 0; j < H; j++) z[dst + j] = tb[src + j]!;
    }
  }
  const z1 = z.subarray(BH), z2 = z.subarray(2 * BH);
  blas.withThreads(B <= SMALL_BATCH ? 1 : Infinity, () => {
    blas.sgemm(false, false, B, H, D, 1, xv, D, s.f32(w0), H, 1, z, H);
    _relu(z, 0, BH);
    blas.sgemm(false, false, B, H, H, 1, z, H, s.f32(w1), H, 1, z1, H);
    _relu(z, BH, BH);
    blas.sgemm(false, false, B, H, H, 1, z1, H, s.f32(w2), H, 1, z2, H);
    _relu(z, 2 * BH, BH);
    const bov = s.f32(bo);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < O; j++) y[b * O + j] = bov[j]!;
    }
    blas.sgemm(false, false, B, O, H, 1, z2, H, s.f32(wo), O, 1, y, O);
  });
  return [yInfo, zInfo];
}

function _backward(args: KernelArgs, s: MemoryStore, blas: Blas): tf.TensorInfo[] {
  const inp = args.inputs;
  const dy = _in(inp, "dy"), x = _in(inp, "x"), t = _in(inp, "t"), z = _in(inp, "z");
  const w0 = _in(inp, "w0"), w1 = _in(inp, "w1"), w2 = _in(inp, "w2"), wo = _in(inp, "wo");
  const T = args.attrs?.timesteps as number;
  const B = x.shape[0]!, D = x.shape[1]!, H = w1.shape[0]!, O = wo.shape[1]!;
  const H3 = 3 * H, BH = B * H;
  const outs = [
    s.alloc([B, D]), // dx
    s.alloc([T, H3]), // dtable
    s.alloc([D, H]), // dw0
    s.alloc([H]), // db0
    s.alloc([H, H]), // dw1
    s.alloc([H]), // db1
    s.alloc([H, H]), // dw2
    s.alloc([H]), // db2
    s.alloc([H, O]), // dwo
    s.alloc([O]), // dbo
  ];
  const [dx, dtable, dw0, db0, dw1, db1, dw2, db2, dwo, dbo] = outs.map((o) => s.f32(o)) as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  const dyv = s.f32(dy), xv = s.f32(x), tv = s.i32(t), zv = s.f32(z);
  const z1 = zv.subarray(BH), z2 = zv.subarray(2 * BH);
  // g holds the three layers' pre-activation gradients, block-major like z.
  const g = _buffer(2, 3 * BH);
  const g1 = g.subarray(BH), g2 = g.subarray(2 * BH);
  blas.withThreads(B <= SMALL_BATCH ? 1 : Infinity, () => {
    // Read-out.
    blas.sgemm(true, false, H, O, B, 1, z2, H, dyv, O, 0, dwo, O);
    dbo.fill(0);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < O; j++) dbo[j]! += dyv[b * O + j]!;
    }
    // Layers 2, 1, 0: g_l = (g_{l+1} W_{l+1}^T) masked by the ReLU; dW_l = h_{l-1}^T g_l.
    blas.sgemm(false, true, B, H, O, 1, dyv, O, s.f32(wo), O, 0, g2, H);
    _mask(g, zv, 2 * BH, BH);
    blas.sgemm(true, false, H, H, B, 1, z1, H, g2, H, 0, dw2, H);
    blas.sgemm(false, true, B, H, H, 1, g2, H, s.f32(w2), H, 0, g1, H);
    _mask(g, zv, BH, BH);
    blas.sgemm(true, false, H, H, B, 1, zv, H, g1, H, 0, dw1, H);
    blas.sgemm(false, true, B, H, H, 1, g1, H, s.f32(w1), H, 0, g, H);
    _mask(g, zv, 0, BH);
    blas.sgemm(true, false, D, H, B, 1, xv, D, g, H, 0, dw0, H);
    blas.sgemm(false, true, B, D, H, 1, g, H, s.f32(w0), H, 0, dx, D);
  });
  // The table's gradient: each example's rows added to its timestep's row.
  dtable.fill(0);
  for (let l = 0; l < 3; l++) {
    for (let b = 0; b < B; b++) {
      const dst = tv[b]! * H3 + l * H, src = l * BH + b * H;
      for (let j = 0; j < H; j++) dtable[dst + j]! += g[src + j]!;
    }
  }
  // The biases' gradients: column sums of the table's gradient.
  const dbs = [db0, db1, db2];
  for (let l = 0; l < 3; l++) {
    const db = dbs[l]!;
    db.fill(0);
    for (let r = 0; r < T; r++) {
      const base = r * H3 + l * H;
      for (let j = 0; j < H; j++) db[j]! += dtable[base + j]!;
    }
  }
  return outs;
}

function _register(backendName: "wasm" | "cpu"): void {
  const wrap = (fn: typeof _forward) => (args: KernelArgs) => {
    const s = memoryStore(backendName, args.backend);
    const blas = nativeBlas(backendName);
    if (s === null || blas === null) {
      throw new Error(`fused MLP kernel: not available on backend '${backendName}'`);
    }
    return fn(args, s, blas);
  };
  tf.registerKernel({
    kernelName: FUSED_MLP_KERNELS[0],
    backendName,
    kernelFunc: wrap(_forward) as unknown as tf.KernelFunc,
  });
  tf.registerKernel({
    kernelName: FUSED_MLP_KERNELS[1],
    backendName,
    kernelFunc: wrap(_backward) as unknown as tf.KernelFunc,
  });
  _registered.add(backendName);
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
    save([x, t, z!, w0, w1, w2, wo]);
    const timesteps = table.shape[0]!;
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, st, sz, sw0, sw1, sw2, swo] = saved;
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
 * import { tf } from "../tf.ts";
 * import { enableNative } from "../backend/native/mod.ts";
 * import { fusedMlp, fusedMlpAvailable } from "./mlp_fused.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * await enableNative("cpu");
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
