/**
 * Every kernel this project adds to tfjs, in ONE list ({@linkcode KERNELS}), one kernel per file
 * as tfjs's own backends have them. Each file exports a {@linkcode KernelSpec}: the kernel name,
 * the backends (`wasm`, `cpu`), what it needs (nothing, the native libraries, or the compiled C
 * kernels as well) and the implementation, which may return null to hand the call to the
 * kernel registered before it.
 *
 * - For `wasm`, the training kernels the package lacks or runs slowly: `Conv2DBackpropFilter`,
 *   `Conv2DBackpropInput`, `BatchMatMul` with `transposeA`, `UnsortedSegmentSum`, a row
 *   `GatherV2` and a zero-copy `Identity`.
 * - For `cpu`, a correct `ResizeNearestNeighborGrad` (4.22.0's is wrong for batches > 1).
 * - For both, the project's own kernels behind the ops of `../ops.ts`: GroupNorm (+ SiLU) and its
 *   gradient, the mean squared error and its gradient, and the optimiser's updates over all
 *   parameters at once (global norm, Adam, EMA), in JavaScript.
 * - For `wasm`, in front of tfjs's matrix products and convolutions, the marking of the weights
 *   that XNNPACK keeps packed (so that the optimiser never writes those in place).
 * - With the native libraries (`../native/mod.ts`): `BatchMatMul`, `_FusedMatMul`, `Conv2D`,
 *   `FusedConv2D`, `Conv2DBackpropInput`, `Conv2DBackpropFilter`, `Sum`, `Mean` and `SplitV` in
 *   oneDNN or OpenBLAS, the fused MLP's forward and backward passes, and (with the C kernels)
 *   GroupNorm + SiLU and the optimiser's updates in C.
 *
 * `initBackend` registers them once the backend is up ({@linkcode registerKernels}); the native
 * ones come and go with `enableNative` / `disableNative` ({@linkcode registerNativeKernels},
 * {@linkcode unregisterNativeKernels}), which put back exactly the kernels they replaced.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import {
  installKernel,
  type KernelBackendName,
  type KernelSpec,
  type NativeLibs,
} from "./_spec.ts";
import { adamUpdate } from "./adam_update.ts";
import { adamUpdateC } from "./adam_update_c.ts";
import { batchMatMulNative } from "./batch_mat_mul_native.ts";
import { batchMatMulWasm } from "./batch_mat_mul_wasm.ts";
import { conv2dBackpropFilterNative } from "./conv2d_backprop_filter_native.ts";
import { conv2dBackpropFilterWasm } from "./conv2d_backprop_filter_wasm.ts";
import { conv2dBackpropInputNative } from "./conv2d_backprop_input_native.ts";
import { conv2dBackpropInputWasm } from "./conv2d_backprop_input_wasm.ts";
import { conv2dNative } from "./conv2d_native.ts";
import { fusedConv2dNative } from "./fused_conv2d_native.ts";
import { emaUpdate } from "./ema_update.ts";
import { emaUpdateC } from "./ema_update_c.ts";
import { fusedMatMulNative } from "./fused_mat_mul_native.ts";
import { gatherV2Wasm } from "./gather_v2_wasm.ts";
import { globalNorm } from "./global_norm.ts";
import { globalNormC } from "./global_norm_c.ts";
import { groupNorm } from "./group_norm.ts";
import { groupNormGrad } from "./group_norm_grad.ts";
import { groupNormSiluC } from "./group_norm_silu_c.ts";
import { groupNormSiluCGrad } from "./group_norm_silu_c_grad.ts";
import { identityWasm } from "./identity_wasm.ts";
import { meanNative } from "./mean_native.ts";
import { mse } from "./mse.ts";
import { mseGrad } from "./mse_grad.ts";
import { mlpBackward } from "./mlp_backward.ts";
import { mlpForward } from "./mlp_forward.ts";
import { resizeNearestNeighborGradCpu } from "./resize_nearest_neighbor_grad_cpu.ts";
import { splitVNative } from "./split_v_native.ts";
import { sumNative } from "./sum_native.ts";
import { unsortedSegmentSumWasm } from "./unsorted_segment_sum_wasm.ts";
import { xnnpackPackedWasm } from "./xnnpack_packed_wasm.ts";

export type {
  KernelArgs,
  KernelBackendName,
  KernelContext,
  KernelSpec,
  NativeLibs,
} from "./_spec.ts";

/**
 * Every kernel of the project, in registration order. Those that need nothing are registered
 * first; the native ones are registered over them (and fall back on them).
 *
 * @example
 * ```ts
 * import { KERNELS } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.ok(KERNELS.some((k) => k.kernelName === "Conv2DBackpropFilter" && k.needs === "none"));
 * ```
 */
export const KERNELS: readonly KernelSpec[] = [
  // wasm: first, in front of tfjs's kernels that keep packed weights, what marks those weights.
  ...xnnpackPackedWasm,
  // wasm: what training needs and the package lacks or runs slowly.
  conv2dBackpropFilterWasm,
  conv2dBackpropInputWasm,
  batchMatMulWasm,
  unsortedSegmentSumWasm,
  gatherV2Wasm,
  identityWasm,
  // cpu: a correction.
  resizeNearestNeighborGradCpu,
  // The project's own, in JavaScript.
  groupNorm,
  groupNormGrad,
  globalNorm,
  adamUpdate,
  emaUpdate,
  mse,
  mseGrad,
  // With the native libraries.
  batchMatMulNative,
  fusedMatMulNative,
  conv2dNative,
  fusedConv2dNative,
  conv2dBackpropInputNative,
  conv2dBackpropFilterNative,
  sumNative,
  meanNative,
  splitVNative,
  mlpForward,
  mlpBackward,
  // With the compiled C kernels.
  groupNormSiluC,
  groupNormSiluCGrad,
  globalNormC,
  adamUpdateC,
  emaUpdateC,
];

/**
 * The tfjs kernels the native libraries replace (the project's own native kernels aside).
 *
 * @example
 * ```ts
 * import { NATIVE_KERNELS } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.ok(NATIVE_KERNELS.includes("Conv2D"));
 * ```
 */
export const NATIVE_KERNELS: readonly string[] = KERNELS
  .filter((k) => k.needs === "native" && !k.kernelName.startsWith("Diffusion"))
  .map((k) => k.kernelName);

const _base = new Set<KernelBackendName>();
const _native = new Map<KernelBackendName, (() => void)[]>();

function _isKernelBackend(name: string): name is KernelBackendName {
  return name === "wasm" || name === "cpu";
}

/**
 * Registers the kernels of {@linkcode KERNELS} that need nothing for `backendName`, once (a
 * later call is a no-op). Nothing happens for backends other than `wasm` and `cpu`, nor before
 * the backend's package is loaded (its kernels must be there to be replaced).
 *
 * @param backendName The backend.
 * @returns The names of the kernels this call registered.
 *
 * @example
 * ```ts
 * import { tf } from "../../tf.ts";
 * import { registerKernels } from "./mod.ts";
 * import assert from "node:assert/strict";
 * registerKernels("cpu");
 * assert.ok(tf.getKernel("DiffusionGroupNorm", "cpu") !== undefined);
 * assert.deepEqual(registerKernels("cpu"), []);
 * assert.deepEqual(registerKernels("webgpu"), []);
 * ```
 */
export function registerKernels(backendName: string): string[] {
  if (!_isKernelBackend(backendName) || _base.has(backendName)) return [];
  if (tf.findBackendFactory(backendName) === null) return [];
  _base.add(backendName);
  const added: string[] = [];
  for (const spec of KERNELS) {
    if (spec.needs !== "none" || !spec.backends.includes(backendName)) continue;
    installKernel(spec, backendName, null);
    added.push(spec.kernelName);
  }
  return added;
}

/**
 * Registers the kernels of {@linkcode KERNELS} that need the native libraries (and, when
 * `libs.c` is set, the C kernels) for `backendName`, over those of {@linkcode registerKernels}
 * (registered first when they are not yet). A no-op while they are registered.
 *
 * @param backendName `wasm` or `cpu`.
 * @param libs The libraries the kernels call.
 * @returns The names of the kernels this call registered.
 *
 * @example
 * ```ts
 * import { tf } from "../../tf.ts";
 * import { openBlas } from "../native/blas.ts";
 * import { Scratch } from "../native/conv.ts";
 * import { registerNativeKernels, unregisterNativeKernels } from "./mod.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const libs = { blas: openBlas({ threads: 1 }), dnnl: null, c: null, scratch: new Scratch() };
 * assert.ok(registerNativeKernels("cpu", libs).includes("BatchMatMul"));
 * const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
 * assert.deepEqual(Array.from(y.dataSync()), [11]);
 * assert.equal(unregisterNativeKernels("cpu"), true);
 * ```
 */
export function registerNativeKernels(backendName: KernelBackendName, libs: NativeLibs): string[] {
  registerKernels(backendName);
  if (_native.has(backendName)) return [];
  const restores: (() => void)[] = [];
  const added: string[] = [];
  for (const spec of KERNELS) {
    if (spec.needs === "none" || !spec.backends.includes(backendName)) continue;
    if (spec.needs === "c" && libs.c === null) continue;
    restores.push(installKernel(spec, backendName, libs));
    added.push(spec.kernelName);
  }
  _native.set(backendName, restores);
  return added;
}

/**
 * Takes out the kernels {@linkcode registerNativeKernels} registered for `backendName`, putting
 * back those they replaced.
 *
 * @param backendName The backend.
 * @returns False when none were registered.
 *
 * @example
 * ```ts
 * import { unregisterNativeKernels } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(unregisterNativeKernels("webgpu"), false);
 * ```
 */
export function unregisterNativeKernels(backendName: string): boolean {
  if (!_isKernelBackend(backendName)) return false;
  const restores = _native.get(backendName);
  if (restores === undefined) return false;
  for (let i = restores.length - 1; i >= 0; i--) restores[i]!();
  _native.delete(backendName);
  return true;
}
