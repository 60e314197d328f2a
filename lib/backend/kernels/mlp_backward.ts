/**
 * `DiffusionMlpBackward` for `wasm` and `cpu` with the native BLAS: the whole 2-D MLP backward
 * pass (see `_mlp.ts`), the gradients of `x`, the embedding table and every weight and bias.
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import type { Blas } from "../native/blas.ts";
import {
  floatsAfter,
  FUSED_MLP_KERNELS,
  mlpInput,
  mlpScratch,
  reluMask,
  SMALL_BATCH,
} from "./_mlp.ts";
import type { KernelArgs, KernelContext, KernelSpec } from "./_spec.ts";
import { type MemoryStore, memoryStore } from "./_store.ts";

function _mlpBackward(
  args: KernelArgs,
  s: MemoryStore,
  blas: Blas,
  ctx: KernelContext,
): tf.TensorInfo[] {
  const inp = args.inputs;
  const dy = mlpInput(inp, "dy"),
    x = mlpInput(inp, "x"),
    t = mlpInput(inp, "t"),
    z = mlpInput(inp, "z");
  const w0 = mlpInput(inp, "w0"),
    w1 = mlpInput(inp, "w1"),
    w2 = mlpInput(inp, "w2"),
    wo = mlpInput(inp, "wo");
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
  const g = mlpScratch(3 * BH);
  const g1 = g.subarray(BH), g2 = g.subarray(2 * BH);
  const c = ctx.native!.c;
  const gp = c === null ? null : Deno.UnsafePointer.of(g);
  const zp = c === null ? null : s.pointer(z);
  const mask = (block: number) =>
    c === null
      ? reluMask(g, zv, block * BH, BH)
      : c.reluMask(floatsAfter(gp, block * BH), floatsAfter(zp, block * BH), BH);
  blas.withThreads(B <= SMALL_BATCH ? 1 : Infinity, () => {
    // Read-out.
    blas.sgemm(true, false, H, O, B, 1, z2, H, dyv, O, 0, dwo, O);
    dbo.fill(0);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < O; j++) dbo[j]! += dyv[b * O + j]!;
    }
    // Layers 2, 1, 0: g_l = (g_{l+1} W_{l+1}^T) masked by the ReLU; dW_l = h_{l-1}^T g_l.
    blas.sgemm(false, true, B, H, O, 1, dyv, O, s.f32(wo), O, 0, g2, H);
    mask(2);
    blas.sgemm(true, false, H, H, B, 1, z1, H, g2, H, 0, dw2, H);
    blas.sgemm(false, true, B, H, H, 1, g2, H, s.f32(w2), H, 0, g1, H);
    mask(1);
    blas.sgemm(true, false, H, H, B, 1, zv, H, g1, H, 0, dw1, H);
    blas.sgemm(false, true, B, H, H, 1, g1, H, s.f32(w1), H, 0, g, H);
    mask(0);
    blas.sgemm(true, false, D, H, B, 1, xv, D, g, H, 0, dw0, H);
    blas.sgemm(false, true, B, D, H, 1, g, H, s.f32(w0), H, 0, dx, D);
  });
  if (c !== null) {
    const p = (i: number) => s.pointer(outs[i]!);
    c.mlpEmbedGrad(p(1), p(3), p(5), p(7), gp, s.pointer(t), B, H, T);
    return outs;
  }
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

/**
 * The `DiffusionMlpBackward` kernel spec.
 *
 * @example
 * ```ts
 * import { mlpBackward } from "./mlp_backward.ts";
 * import assert from "node:assert/strict";
 * assert.equal(mlpBackward.needs, "native");
 * ```
 */
export const mlpBackward: KernelSpec = {
  kernelName: FUSED_MLP_KERNELS[1],
  backends: ["wasm", "cpu"],
  needs: "native",
  kernelFunc: (args, ctx) =>
    _mlpBackward(args, memoryStore(ctx.backendName, args.backend)!, ctx.native!.blas, ctx),
};
