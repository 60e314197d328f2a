/**
 * The project's named ops, whose kernels live in `./kernels/` (registered by `initBackend`):
 * the models and the optimiser call these and import nothing of `./native/` or `./kernels/`.
 *
 * - {@linkcode groupNormSilu}: GroupNorm (+ SiLU) as one op with a hand-written gradient.
 * - {@linkcode fusedMlp}: the 2-D MLP as one op ({@linkcode fusedMlpAvailable} says when).
 * - {@linkcode meanSquaredError}: the mean of `(a - b)^2`, over everything or per example.
 * - {@linkcode fusedGlobalNorm}, {@linkcode fusedAdamUpdate}, {@linkcode fusedEmaUpdate}: the
 *   optimiser's updates over all parameters in one kernel call each; {@linkcode hostScalar}
 *   reads a scalar without a synchronisation where the backend allows.
 *
 * @example
 * ```ts
 * import { groupNormSilu } from "./ops.ts";
 * import { initBackend } from "./mod.ts";
 * import { tf } from "../tf.ts";
 * import assert from "node:assert/strict";
 * await initBackend("cpu", { native: false });
 * const p = { gamma: tf.ones([2]), beta: tf.zeros([2]), groups: 1 };
 * assert.deepEqual(groupNormSilu(tf.ones([1, 2, 2, 2]), p).shape, [1, 2, 2, 2]);
 * ```
 *
 * @module
 */
export { groupNormSilu, type GroupNormSiluParams } from "./ops/group_norm_silu.ts";
export { fusedMlp, fusedMlpAvailable, type FusedMlpParams } from "./ops/fused_mlp.ts";
export { meanSquaredError, type MseReduction } from "./ops/mse.ts";
export {
  type AdamUpdateParams,
  fusedAdamUpdate,
  fusedEmaUpdate,
  fusedGlobalNorm,
  hostScalar,
} from "./ops/optimizer.ts";
