/**
 * `DiffusionMse` for `wasm` and `cpu`: the mean squared difference of two float32 tensors of one
 * shape, over everything (a scalar) or, with the attribute `rows`, over all axes but the first
 * (`[B]`), in one pass; the squares are summed in double. The op is `meanSquaredError` of
 * `../ops/mse.ts`; its gradient is `DiffusionMseGrad` (`mse_grad.ts`).
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import type { KernelArgs, KernelContext, KernelSpec } from "./_spec.ts";
import { memoryStore } from "./_store.ts";

/** The kernel's name. */
export const MSE = "DiffusionMse";

function _mse(args: KernelArgs, ctx: KernelContext): tf.TensorInfo {
  const store = memoryStore(ctx.backendName, args.backend)!;
  const { a, b } = args.inputs as Record<string, tf.TensorInfo>;
  const rows = args.attrs?.rows === true;
  const n = a!.shape.reduce((x, y) => x * y, 1);
  const batch = rows ? a!.shape[0]! : 1;
  const out = store.alloc(rows ? [batch] : []);
  const av = store.f32(a!), bv = store.f32(b!), ov = store.f32(out);
  const per = batch === 0 ? 0 : n / batch;
  for (let r = 0; r < batch; r++) {
    let s = 0;
    for (let i = r * per, end = i + per; i < end; i++) {
      const d = av[i]! - bv[i]!;
      s += d * d;
    }
    ov[r] = s / per;
  }
  return out;
}

/**
 * The `DiffusionMse` kernel spec.
 *
 * @example
 * ```ts
 * import { mse } from "./mse.ts";
 * import assert from "node:assert/strict";
 * assert.equal(mse.kernelName, "DiffusionMse");
 * ```
 */
export const mse: KernelSpec = {
  kernelName: MSE,
  backends: ["wasm", "cpu"],
  needs: "none",
  kernelFunc: _mse,
};
