/**
 * `DiffusionGlobalNorm` for `wasm` and `cpu`: the global L2 norm `sqrt(sum_i |x_i|^2)` of a list
 * of float32 tensors (inputs `x0..x{n-1}`, attribute `count`) as a float32 scalar, in one pass
 * in JavaScript; the squares are summed in double, element j of each tensor into lane j % 8
 * (the order of the C kernel, `global_norm_c.ts`, which gives the same bits).
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import { GLOBAL_NORM, laneTotal, listInputs } from "./_optim.ts";
import type { KernelArgs, KernelContext, KernelSpec } from "./_spec.ts";
import { memoryStore } from "./_store.ts";

const _lanes = new Float64Array(8);

function _globalNorm(args: KernelArgs, ctx: KernelContext): tf.TensorInfo {
  const store = memoryStore(ctx.backendName, args.backend)!;
  const xs = listInputs(args.inputs, "x", args.attrs!.count as number);
  const out = store.alloc([]);
  const l = _lanes;
  l.fill(0);
  for (const t of xs) {
    const x = store.f32(t);
    const n = x.length;
    let s0 = l[0]!, s1 = l[1]!, s2 = l[2]!, s3 = l[3]!, s4 = l[4]!, s5 = l[5]!, s6 = l[6]!;
    let s7 = l[7]!;
    let i = 0;
    for (; i + 8 <= n; i += 8) {
      const a0 = x[i]!, a1 = x[i + 1]!, a2 = x[i + 2]!, a3 = x[i + 3]!;
      const a4 = x[i + 4]!, a5 = x[i + 5]!, a6 = x[i + 6]!, a7 = x[i + 7]!;
      s0 += a0 * a0;
      s1 += a1 * a1;
      s2 += a2 * a2;
      s3 += a3 * a3;
      s4 += a4 * a4;
      s5 += a5 * a5;
      s6 += a6 * a6;
      s7 += a7 * a7;
    }
    l[0] = s0;
    l[1] = s1;
    l[2] = s2;
    l[3] = s3;
    l[4] = s4;
    l[5] = s5;
    l[6] = s6;
    l[7] = s7;
    for (; i < n; i++) l[i & 7]! += x[i]! * x[i]!;
  }
  store.f32(out)[0] = Math.sqrt(laneTotal(l));
  return out;
}

/**
 * The `DiffusionGlobalNorm` kernel spec (JavaScript).
 *
 * @example
 * ```ts
 * import { globalNorm } from "./global_norm.ts";
 * import assert from "node:assert/strict";
 * assert.equal(globalNorm.kernelName, "DiffusionGlobalNorm");
 * ```
 */
export const globalNorm: KernelSpec = {
  kernelName: GLOBAL_NORM,
  backends: ["wasm", "cpu"],
  needs: "none",
  kernelFunc: _globalNorm,
};
