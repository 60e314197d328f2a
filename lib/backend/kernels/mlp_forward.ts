/**
 * `DiffusionMlpForward` for `wasm` and `cpu` with the native BLAS: the whole 2-D MLP forward pass
 * (see `_mlp.ts`), outputs `y` `[B, O]` and the hidden activations `z` `[3, B, H]`.
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import type { Blas } from "../native/blas.ts";
import {
  checkTimesteps,
  floatsAfter,
  FUSED_MLP_KERNELS,
  mlpInput,
  reluInPlace,
  SMALL_BATCH,
} from "./_mlp.ts";
import type { KernelArgs, KernelContext, KernelSpec } from "./_spec.ts";
import { type MemoryStore, memoryStore } from "./_store.ts";

function _mlpForward(
  args: KernelArgs,
  s: MemoryStore,
  blas: Blas,
  ctx: KernelContext,
): tf.TensorInfo[] {
  const inp = args.inputs;
  const x = mlpInput(inp, "x"), t = mlpInput(inp, "t"), table = mlpInput(inp, "table");
  const w0 = mlpInput(inp, "w0"),
    b0 = mlpInput(inp, "b0"),
    w1 = mlpInput(inp, "w1"),
    b1 = mlpInput(inp, "b1");
  const w2 = mlpInput(inp, "w2"),
    b2 = mlpInput(inp, "b2"),
    wo = mlpInput(inp, "wo"),
    bo = mlpInput(inp, "bo");
  const B = x.shape[0]!, D = x.shape[1]!, H = w1.shape[0]!, O = wo.shape[1]!;
  const T = table.shape[0]!, H3 = 3 * H, BH = B * H;
  const yInfo = s.alloc([B, O]);
  const zInfo = s.alloc([3, B, H]);
  // Views only after the allocations: a growing wasm heap detaches older ones.
  const y = s.f32(yInfo), z = s.f32(zInfo), tv = s.i32(t), xv = s.f32(x);
  checkTimesteps(tv, T);
  const c = ctx.native!.c;
  const zp = c === null ? null : s.pointer(zInfo);
  // Block l of z starts as the rows table[t, lH:(l+1)H] + b_l; the products accumulate onto it.
  if (c !== null) {
    c.mlpEmbed(
      zp,
      s.pointer(table),
      s.pointer(t),
      s.pointer(b0),
      s.pointer(b1),
      s.pointer(b2),
      B,
      H,
    );
  } else {
    const tab = s.f32(table), bias = [s.f32(b0), s.f32(b1), s.f32(b2)];
    for (let l = 0; l < 3; l++) {
      const bl = bias[l]!;
      for (let b = 0; b < B; b++) {
        const src = tv[b]! * H3 + l * H, dst = l * BH + b * H;
        for (let j = 0; j < H; j++) z[dst + j] = tab[src + j]! + bl[j]!;
      }
    }
  }
  const relu = (block: number) =>
    c === null ? reluInPlace(z, block * BH, BH) : c.relu(floatsAfter(zp, block * BH), BH);
  const z1 = z.subarray(BH), z2 = z.subarray(2 * BH);
  blas.withThreads(B <= SMALL_BATCH ? 1 : Infinity, () => {
    blas.sgemm(false, false, B, H, D, 1, xv, D, s.f32(w0), H, 1, z, H);
    relu(0);
    blas.sgemm(false, false, B, H, H, 1, z, H, s.f32(w1), H, 1, z1, H);
    relu(1);
    blas.sgemm(false, false, B, H, H, 1, z1, H, s.f32(w2), H, 1, z2, H);
    relu(2);
    const bov = s.f32(bo);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < O; j++) y[b * O + j] = bov[j]!;
    }
    blas.sgemm(false, false, B, O, H, 1, z2, H, s.f32(wo), O, 1, y, O);
  });
  return [yInfo, zInfo];
}

/**
 * The `DiffusionMlpForward` kernel spec.
 *
 * @example
 * ```ts
 * import { mlpForward } from "./mlp_forward.ts";
 * import assert from "node:assert/strict";
 * assert.equal(mlpForward.needs, "native");
 * ```
 */
export const mlpForward: KernelSpec = {
  kernelName: FUSED_MLP_KERNELS[0],
  backends: ["wasm", "cpu"],
  needs: "native",
  kernelFunc: (args, ctx) =>
    _mlpForward(args, memoryStore(ctx.backendName, args.backend)!, ctx.native!.blas, ctx),
};
