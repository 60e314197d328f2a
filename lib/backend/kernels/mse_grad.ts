/**
 * `DiffusionMseGrad` for `wasm` and `cpu`: the gradients of `DiffusionMse` (`mse.ts`) with
 * respect to both inputs, `da = dy * 2 (a - b) / n` and `db = -da`, with `dy` the scalar (or,
 * with the attribute `rows`, the `[B]` row) gradient and `n` the count averaged over; each value
 * in double, rounded once.
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import type { KernelArgs, KernelContext, KernelSpec } from "./_spec.ts";
import { memoryStore } from "./_store.ts";

/** The kernel's name. */
export const MSE_GRAD = "DiffusionMseGrad";

function _mseGrad(args: KernelArgs, ctx: KernelContext): tf.TensorInfo[] {
  const store = memoryStore(ctx.backendName, args.backend)!;
  const { dy, a, b } = args.inputs as Record<string, tf.TensorInfo>;
  const rows = args.attrs?.rows === true;
  const n = a!.shape.reduce((x, y) => x * y, 1);
  const batch = rows ? a!.shape[0]! : 1;
  const da = store.alloc(a!.shape), db = store.alloc(a!.shape);
  const av = store.f32(a!), bv = store.f32(b!), dyv = store.f32(dy!);
  const dav = store.f32(da), dbv = store.f32(db);
  const per = batch === 0 ? 0 : n / batch;
  for (let r = 0; r < batch; r++) {
    const k = 2 * dyv[r]! / per;
    for (let i = r * per, end = i + per; i < end; i++) {
      const g = k * (av[i]! - bv[i]!);
      dav[i] = g;
      dbv[i] = -g;
    }
  }
  return [da, db];
}

/**
 * The `DiffusionMseGrad` kernel spec.
 *
 * @example
 * ```ts
 * import { mseGrad } from "./mse_grad.ts";
 * import assert from "node:assert/strict";
 * assert.equal(mseGrad.kernelName, "DiffusionMseGrad");
 * ```
 */
export const mseGrad: KernelSpec = {
  kernelName: MSE_GRAD,
  backends: ["wasm", "cpu"],
  needs: "none",
  kernelFunc: _mseGrad,
};
