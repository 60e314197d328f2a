/**
 * A zero-copy `Identity` for `wasm`: tfjs saves every tensor the backward pass needs through
 * `Identity`, which the wasm backend implements as a full copy (doubling the activation memory
 * of training). Tensors are immutable, so sharing the data, as the cpu backend does, is safe;
 * in-place writers (`../ops/optimizer.ts`) check the data's reference count.
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import type { KernelArgs, KernelSpec } from "./_spec.ts";

function _identity(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  (args.backend as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * The `Identity` kernel spec for `wasm`.
 *
 * @example
 * ```ts
 * import { identityWasm } from "./identity_wasm.ts";
 * import assert from "node:assert/strict";
 * assert.equal(identityWasm.kernelName, "Identity");
 * ```
 */
export const identityWasm: KernelSpec = {
  kernelName: "Identity",
  backends: ["wasm"],
  needs: "none",
  kernelFunc: _identity,
};
