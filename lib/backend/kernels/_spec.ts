/**
 * What a kernel of this folder is: a small spec (kernel name, backends, what it needs, the
 * implementation), and how one is put in place over the kernel registered before it, so that
 * it can fall back on that kernel and be taken out again.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import type { Blas } from "../native/blas.ts";
import type { CKernels } from "../native/cc.ts";
import type { Scratch } from "../native/conv.ts";
import type { Dnnl } from "../native/dnnl.ts";

/** The backends the kernels of this folder are written for (their memory is reachable). */
export type KernelBackendName = "wasm" | "cpu";

/** The arguments tfjs passes to a kernel function. */
export type KernelArgs = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
};

/** The native libraries opened by `../native/mod.ts`, handed to the kernels that need them. */
export interface NativeLibs {
  /** The matrix product: oneDNN's sgemm when oneDNN loaded, else OpenBLAS. */
  blas: Blas;
  /** oneDNN, for the convolutions; null runs them as im2col + sgemm on `blas`. */
  dnnl: Dnnl | null;
  /** The project's compiled C kernels, or null (not wanted, or no compiler). */
  c: CKernels | null;
  /** Work memory shared by the convolution kernels of one registration. */
  scratch: Scratch;
}

/** What a kernel function sees besides its arguments (fixed when it is registered). */
export interface KernelContext {
  /** The backend the kernel is registered for. */
  readonly backendName: KernelBackendName;
  /** The kernel registered under the same name before this one, if any (its fallback). */
  readonly prev: tf.KernelFunc | undefined;
  /** The native libraries, for kernels that need them (null for the others). */
  readonly native: NativeLibs | null;
}

/**
 * Which kernels a spec needs: nothing (registered as soon as the backend is up), the native
 * libraries (`"native"`: registered by `enableNative`, taken out by `disableNative`), or the
 * compiled C kernels as well (`"c"`).
 */
export type KernelNeeds = "none" | "native" | "c";

/** One kernel: what `./mod.ts` registers. */
export interface KernelSpec {
  /** The tfjs kernel name (a tfjs one such as `Conv2D`, or one of this project's). */
  readonly kernelName: string;
  /** The backends it is registered for. */
  readonly backends: readonly KernelBackendName[];
  /** What it needs to be registered. */
  readonly needs: KernelNeeds;
  /**
   * The implementation: the outputs, or null to hand the call to the kernel registered before
   * (an unsupported case: other dtypes, `NCHW`, ...).
   */
  readonly kernelFunc: (
    args: KernelArgs,
    ctx: KernelContext,
  ) => tf.TensorInfo | tf.TensorInfo[] | null;
}

/**
 * Registers `spec` for `backendName` in place of the kernel registered under its name (kept as
 * the fallback and in the returned function, which puts it back).
 *
 * @param spec The kernel.
 * @param backendName The backend.
 * @param native The native libraries (for kernels that need them), or null.
 * @returns A function that restores the previous kernel (or removes this one when there was none).
 *
 * @example
 * ```ts
 * import { tf } from "../../tf.ts";
 * import { installKernel, type KernelSpec } from "./_spec.ts";
 * import assert from "node:assert/strict";
 * const spec: KernelSpec = {
 *   kernelName: "DiffusionExampleKernel",
 *   backends: ["cpu"],
 *   needs: "none",
 *   kernelFunc: () => null,
 * };
 * const restore = installKernel(spec, "cpu", null);
 * assert.ok(tf.getKernel("DiffusionExampleKernel", "cpu") !== undefined);
 * restore();
 * assert.equal(tf.getKernel("DiffusionExampleKernel", "cpu"), undefined);
 * ```
 */
export function installKernel(
  spec: KernelSpec,
  backendName: KernelBackendName,
  native: NativeLibs | null,
): () => void {
  const name = spec.kernelName;
  const prev = tf.getKernel(name, backendName);
  const ctx: KernelContext = { backendName, prev: prev?.kernelFunc, native };
  const impl = spec.kernelFunc;
  const kernelFunc = (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const out = impl(args, ctx);
    if (out !== null) return out;
    if (prev === undefined) {
      throw new TypeError(`${name}: case not supported by the kernel and no fallback`);
    }
    return prev.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
  };
  if (prev !== undefined) tf.unregisterKernel(name, backendName);
  tf.registerKernel({
    kernelName: name,
    backendName,
    kernelFunc: kernelFunc as tf.KernelFunc,
    setupFunc: prev?.setupFunc,
    disposeFunc: prev?.disposeFunc,
  });
  return () => {
    if (tf.getKernel(name, backendName) !== undefined) tf.unregisterKernel(name, backendName);
    if (prev !== undefined) tf.registerKernel(prev);
  };
}
