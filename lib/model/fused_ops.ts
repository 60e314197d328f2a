/**
 * Fused operations for the image model on the `wasm` and `cpu` backends, where every tfjs op is
 * a separate pass over memory and every tensor saved for the backward pass used to be a copy:
 *
 * - {@linkcode groupNormSilu}: GroupNorm, optionally followed by SiLU, as one op whose forward
 *   is one kernel (statistics, normalisation and affine in two passes; the sigmoid stays in the
 *   backend's vectorised kernel) and whose backward is one kernel that saves only `x`, the
 *   per-group mean and 1/std, and the activation's inputs.
 * - A zero-copy `Identity` for `wasm`: tfjs saves every tensor the backward pass needs through
 *   `Identity`, which the wasm backend implements as a full copy (doubling the activation
 *   memory of training). Tensors are immutable, so sharing the data, as the cpu backend does,
 *   is safe; in-place writers (the Adam update) check the data's reference count.
 *
 * The kernels are registered by {@linkcode registerFusedKernels} (called lazily by the ops on
 * first use); on other backends the ops fall back on the plain composition of tfjs ops.
 *
 * @module
 */
import { tf } from "../tf.ts";
import { memoryStore } from "../backend/native/tensor_memory.ts";
import { nativeCKernels } from "../backend/native/mod.ts";
import { openFenv } from "../backend/native/fenv.ts";
import type { GroupNormParams } from "./params.ts";

const _GN = "DiffusionGroupNorm";
const _GN_GRAD = "DiffusionGroupNormGrad";
const _GN_C = "DiffusionGroupNormSiluC";
const _GN_C_GRAD = "DiffusionGroupNormSiluCGrad";
const _BACKENDS = ["wasm", "cpu"] as const;
const _registered = new Set<string>();

type _Args = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** Per (sample, group) mean and 1/std of NHWC `x`, in float64 sums over one pass. */
function _stats(
  x: Float32Array,
  b: number,
  hw: number,
  c: number,
  groups: number,
  eps: number,
  out: Float32Array,
): void {
  const cg = c / groups;
  const n = hw * cg;
  const s1 = new Float64Array(groups), s2 = new Float64Array(groups);
  for (let i = 0; i < b; i++) {
    s1.fill(0);
    s2.fill(0);
    const base = i * hw * c;
    for (let s = 0; s < hw; s++) {
      const row = base + s * c;
      for (let g = 0; g < groups; g++) {
        let a = 0, q = 0;
        const start = row + g * cg;
        for (let j = 0; j < cg; j++) {
          const v = x[start + j]!;
          a += v;
          q += v * v;
        }
        s1[g]! += a;
        s2[g]! += q;
      }
    }
    for (let g = 0; g < groups; g++) {
      const mean = s1[g]! / n;
      const variance = Math.max(0, s2[g]! / n - mean * mean);
      out[2 * (i * groups + g)] = mean;
      out[2 * (i * groups + g) + 1] = 1 / Math.sqrt(variance + eps);
    }
  }
}

/** Copies sample `i`'s per-group mean and 1/std from `stats` to each channel of the group. */
function _channelStats(
  stats: Float32Array,
  i: number,
  groups: number,
  c: number,
  mean: Float32Array,
  rstd: Float32Array,
): void {
  const cg = c / groups;
  for (let k = 0; k < c; k++) {
    const at = 2 * (i * groups + ((k / cg) | 0));
    mean[k] = stats[at]!;
    rstd[k] = stats[at + 1]!;
  }
}

function _gnForward(args: _Args, backendName: string): tf.TensorInfo[] {
  const store = memoryStore(backendName, args.backend)!;
  const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
  const groups = args.attrs!.groups as number;
  const eps = args.attrs!.eps as number;
  const [b, h, w, c] = x!.shape as [number, number, number, number];
  const hw = h * w;
  const z = store.alloc(x!.shape);
  const stats = store.alloc([b, groups, 2]);
  const xv = store.f32(x!), zv = store.f32(z), sv = store.f32(stats);
  const gv = store.f32(gamma!), bv = store.f32(beta!);
  _stats(xv, b, hw, c, groups, eps, sv);
  // Per sample: z = x * (rstd * gamma) + (beta - mean * rstd * gamma), per channel.
  const mean = new Float32Array(c), rstd = new Float32Array(c);
  const scale = new Float32Array(c), shift = new Float32Array(c);
  for (let i = 0; i < b; i++) {
    _channelStats(sv, i, groups, c, mean, rstd);
    for (let k = 0; k < c; k++) {
      scale[k] = rstd[k]! * gv[k]!;
      shift[k] = bv[k]! - mean[k]! * rstd[k]! * gv[k]!;
    }
    const base = i * hw * c;
    for (let s = 0; s < hw; s++) {
      const row = base + s * c;
      for (let k = 0; k < c; k++) zv[row + k] = xv[row + k]! * scale[k]! + shift[k]!;
    }
  }
  return [z, stats];
}

function _gnBackward(args: _Args, backendName: string): tf.TensorInfo[] {
  const store = memoryStore(backendName, args.backend)!;
  const { dy, x, gamma, stats, z, s } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const groups = args.attrs!.groups as number;
  const [b, h, w, c] = x!.shape as [number, number, number, number];
  const hw = h * w;
  const cg = c / groups;
  const n = hw * cg;
  const dx = store.alloc(x!.shape);
  const dgamma = store.alloc([c]);
  const dbeta = store.alloc([c]);
  const dyv = store.f32(dy!), xv = store.f32(x!), gv = store.f32(gamma!), sv = store.f32(stats!);
  const zv = z !== undefined ? store.f32(z) : null;
  const sg = s !== undefined ? store.f32(s) : null;
  const dxv = store.f32(dx);
  const dg = new Float64Array(c), db = new Float64Array(c);
  const sumA = new Float64Array(groups), sumB = new Float64Array(groups);
  // Per channel of the current sample: xhat = x * r + m; dx = r * dxhat + x * u + v.
  const r = new Float32Array(c), m = new Float32Array(c);
  const u = new Float32Array(c), v = new Float32Array(c);
  for (let i = 0; i < b; i++) {
    _channelStats(sv, i, groups, c, m, r);
    for (let k = 0; k < c; k++) m[k] = -m[k]! * r[k]!;
    sumA.fill(0);
    sumB.fill(0);
    const base = i * hw * c;
    // Pass 1: dz (through SiLU when present), dxhat = dz * gamma into dx, and the sums.
    for (let p = 0; p < hw; p++) {
      const row = base + p * c;
      for (let g = 0; g < groups; g++) {
        let a = 0, q = 0;
        const k0 = g * cg;
        for (let k = k0; k < k0 + cg; k++) {
          const idx = row + k;
          const d = sg === null ? dyv[idx]! : _siluGrad(dyv[idx]!, zv![idx]!, sg[idx]!);
          const xhat = xv[idx]! * r[k]! + m[k]!;
          dg[k]! += d * xhat;
          db[k]! += d;
          const dxh = d * gv[k]!;
          dxv[idx] = dxh;
          a += dxh;
          q += dxh * xhat;
        }
        sumA[g]! += a;
        sumB[g]! += q;
      }
    }
    // Pass 2: dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), as an affine map.
    for (let k = 0; k < c; k++) {
      const g = (k / cg) | 0;
      const ma = sumA[g]! / n, mb = sumB[g]! / n;
      u[k] = -r[k]! * r[k]! * mb;
      v[k] = -r[k]! * (ma + m[k]! * mb);
    }
    for (let p = 0; p < hw; p++) {
      const row = base + p * c;
      for (let k = 0; k < c; k++) {
        const idx = row + k;
        dxv[idx] = r[k]! * dxv[idx]! + xv[idx]! * u[k]! + v[k]!;
      }
    }
  }
  const dgv = store.f32(dgamma), dbv = store.f32(dbeta);
  for (let k = 0; k < c; k++) {
    dgv[k] = dg[k]!;
    dbv[k] = db[k]!;
  }
  return [dx, dgamma, dbeta];
}

/** `dy · d silu(z) / dz`, with `sig` the sigmoid of `z`. */
function _siluGrad(dy: number, z: number, sig: number): number {
  return dy * sig * (1 + z * (1 - sig));
}

/** GroupNorm (+ SiLU) in the compiled C kernels: y and the statistics, nothing else saved. */
function _gnForwardC(args: _Args, backendName: string): tf.TensorInfo[] {
  const store = memoryStore(backendName, args.backend)!;
  const c = nativeCKernels(backendName)!;
  const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
  const { groups, eps, silu } = args.attrs as { groups: number; eps: number; silu: boolean };
  const [b, h, w, ch] = x!.shape as [number, number, number, number];
  const y = store.alloc(x!.shape);
  const stats = store.alloc([b, groups, 2]);
  const p = store.pointer;
  const fenv = openFenv();
  fenv?.enter();
  const status = c.gnForward(
    p(x!),
    p(gamma!),
    p(beta!),
    p(y),
    p(stats),
    b,
    h * w,
    ch,
    groups,
    eps,
    silu,
  );
  fenv?.leave();
  if (status !== 0) throw new Error(`GroupNorm C kernel: unsupported shape [${x!.shape}]`);
  return [y, stats];
}

let _partial = new Float64Array(0);

function _gnBackwardC(args: _Args, backendName: string): tf.TensorInfo[] {
  const store = memoryStore(backendName, args.backend)!;
  const c = nativeCKernels(backendName)!;
  const { dy, x, gamma, beta, stats } = args.inputs as Record<string, tf.TensorInfo>;
  const { groups, silu } = args.attrs as { groups: number; silu: boolean };
  const [b, h, w, ch] = x!.shape as [number, number, number, number];
  const dx = store.alloc(x!.shape);
  const dgamma = store.alloc([ch]);
  const dbeta = store.alloc([ch]);
  if (_partial.length < 2 * b * ch) _partial = new Float64Array(2 * b * ch);
  const p = store.pointer;
  const fenv = openFenv();
  fenv?.enter();
  const status = c.gnBackward(
    p(dy!),
    p(x!),
    p(gamma!),
    p(beta!),
    p(stats!),
    p(dx),
    p(dgamma),
    p(dbeta),
    Deno.UnsafePointer.of(_partial),
    b,
    h * w,
    ch,
    groups,
    silu,
  );
  fenv?.leave();
  if (status !== 0) throw new Error(`GroupNorm C kernel: unsupported shape [${x!.shape}]`);
  return [dx, dgamma, dbeta];
}

function _identity(args: _Args): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  (args.backend as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * Registers the fused kernels (and, on `wasm`, the zero-copy `Identity`) for the current
 * backend when it is `wasm` or `cpu`; idempotent. Call it after the backend is loaded; the
 * ops of this module call it themselves.
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { registerFusedKernels } from "./fused_ops.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * assert.equal(registerFusedKernels(), true);
 * assert.ok(tf.getKernel("DiffusionGroupNorm", "cpu") !== undefined);
 * ```
 *
 * @returns True when the current backend has the fused kernels.
 */
export function registerFusedKernels(): boolean {
  const name = tf.getBackend();
  if (!(_BACKENDS as readonly string[]).includes(name)) return false;
  if (_registered.has(name)) return true;
  _registered.add(name);
  tf.registerKernel({
    kernelName: _GN,
    backendName: name,
    kernelFunc: ((a: _Args) => _gnForward(a, name)) as unknown as tf.KernelFunc,
  });
  tf.registerKernel({
    kernelName: _GN_GRAD,
    backendName: name,
    kernelFunc: ((a: _Args) => _gnBackward(a, name)) as unknown as tf.KernelFunc,
  });
  tf.registerKernel({
    kernelName: _GN_C,
    backendName: name,
    kernelFunc: ((a: _Args) => _gnForwardC(a, name)) as unknown as tf.KernelFunc,
  });
  tf.registerKernel({
    kernelName: _GN_C_GRAD,
    backendName: name,
    kernelFunc: ((a: _Args) => _gnBackwardC(a, name)) as unknown as tf.KernelFunc,
  });
  if (name === "wasm") {
    const prev = tf.getKernel("Identity", "wasm");
    if (prev !== undefined) tf.unregisterKernel("Identity", "wasm");
    tf.registerKernel({
      kernelName: "Identity",
      backendName: "wasm",
      kernelFunc: _identity as unknown as tf.KernelFunc,
    });
  }
  return true;
}

function _checkGroups(x: tf.Tensor, p: GroupNormParams): void {
  const c = x.shape[3];
  if (x.rank !== 4 || c === undefined || c % p.groups !== 0 || p.gamma.size !== c) {
    throw new TypeError(
      `Cannot apply GroupNorm: expected x [B, H, W, C] with C = ${p.gamma.size} divisible by ` +
        `${p.groups} groups, got [${x.shape}]`,
    );
  }
}

function _composite(x: tf.Tensor, p: GroupNormParams, silu: boolean, eps: number): tf.Tensor4D {
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
        _GN_C,
        { x, gamma, beta },
        { groups, eps, silu },
      ) as tf.Tensor[];
      save([x, gamma, beta, stats!]);
      return {
        value: y!,
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const [sx, sgamma, sbeta, sstats] = saved;
          return tf.engine().runKernel(
            _GN_C_GRAD,
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
      const [z, stats] = tf.engine().runKernel(_GN, { x, gamma, beta }, attrs) as tf.Tensor[];
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
          return tf.engine().runKernel(_GN_GRAD, inputs, { groups }) as tf.Tensor[];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
}

const _ops = new Map<string, ReturnType<typeof tf.customGrad>>();

/**
 * GroupNorm of NHWC `x` (statistics per sample and group over H, W and the group's channels,
 * biased variance), the learned per-channel scale and shift, then SiLU when `silu` is set:
 * numerically the composition of `layers.ts`'s `groupNorm` and `silu`, with far fewer kernels
 * and saved tensors on `wasm` and `cpu`.
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { groupNormSilu } from "./fused_ops.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
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
  p: GroupNormParams,
  options: { silu?: boolean; eps?: number } = {},
): tf.Tensor4D {
  _checkGroups(x, p);
  const silu = options.silu ?? true;
  const eps = options.eps ?? 1e-5;
  if (!registerFusedKernels() || x.dtype !== "float32") return _composite(x, p, silu, eps);
  const native = nativeCKernels(tf.getBackend()) !== null && x.shape[3]! <= 1024 &&
    p.groups <= 256;
  const key = `${native}/${silu}/${p.groups}/${eps}`;
  let op = _ops.get(key);
  if (op === undefined) {
    _ops.set(key, op = (native ? _fusedC : _fused)(silu, p.groups, eps));
  }
  return op(x, p.gamma, p.beta) as tf.Tensor4D;
}
