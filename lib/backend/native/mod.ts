/**
 * Native acceleration for the `wasm` and `cpu` backends: matrix products and convolutions
 * (forward and both gradients) run in the system's OpenBLAS through Deno FFI, reading and writing
 * the backend's tensor memory in place.
 *
 * {@linkcode enableNative} never throws: when the library or the `--allow-ffi` permission is
 * missing it reports why, and the backend keeps its own kernels.
 *
 * @module
 */
import { type Blas, DEFAULT_BLAS_LIBRARIES, openBlas } from "./blas.ts";
import {
  NATIVE_KERNELS,
  type NativeBackendName,
  registerNativeKernels,
  type Registration,
} from "./kernels.ts";

export { DEFAULT_BLAS_LIBRARIES, NATIVE_KERNELS };
export type { NativeBackendName };

/** Options of {@linkcode enableNative}. */
export interface EnableNativeOptions {
  /**
   * Library names or paths tried in order.
   * @default {DEFAULT_BLAS_LIBRARIES}
   */
  libraries?: readonly string[];
  /**
   * OpenBLAS threads; 0 keeps the library's default.
   * @default 0 when `OPENBLAS_NUM_THREADS` is set (the library honours it), else navigator.hardwareConcurrency
   */
  threads?: number;
}

/** The outcome of {@linkcode enableNative}. */
export interface NativeStatus {
  /** True when the native kernels are registered. */
  enabled: boolean;
  /** One line: the library and threads used, or why the native path is off. */
  detail: string;
}

let _blas: Blas | null = null;
const _registrations = new Map<NativeBackendName, Registration>();

/**
 * Registers BLAS-backed `BatchMatMul`, `_FusedMatMul`, `Conv2D`, `FusedConv2D`,
 * `Conv2DBackpropInput` and `Conv2DBackpropFilter` kernels for `backendName`.
 *
 * Call it once the backend is set up (after any other kernel registration for it). Calling it
 * again for the same backend is a no-op that reports the current state.
 *
 * @param backendName The backend whose kernels are replaced.
 * @param options Library list and thread count.
 * @returns Whether the native kernels are on, with a one-line detail; never throws.
 *
 * @example
 * ```ts
 * import { disableNative, enableNative } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const off = await enableNative("cpu", { libraries: ["/nonexistent/libblas.so"] });
 * assert.equal(off.enabled, false);
 * assert.match(off.detail, /no CBLAS library/);
 * const on = await enableNative("cpu");
 * assert.equal(on.enabled, true);
 * disableNative("cpu");
 * ```
 */
// deno-lint-ignore require-await
export async function enableNative(
  backendName: NativeBackendName,
  options: EnableNativeOptions = {},
): Promise<NativeStatus> {
  try {
    if (backendName !== "wasm" && backendName !== "cpu") {
      return { enabled: false, detail: `native: unsupported backend '${backendName}'` };
    }
    if (typeof Deno === "undefined" || typeof Deno.dlopen !== "function") {
      return { enabled: false, detail: "native: Deno FFI is not available in this runtime" };
    }
    const existing = _registrations.get(backendName);
    if (existing !== undefined && _blas !== null) {
      return { enabled: true, detail: _describe(_blas, backendName) };
    }
    let blas = _blas;
    if (blas === null || options.libraries !== undefined) {
      // An explicit library list is always tried, so that a bad one is reported; the first
      // library opened in the process stays the one the kernels use.
      const opened = openBlas(options);
      if (blas === null) blas = _blas = opened;
      else opened.close();
    }
    _registrations.set(backendName, registerNativeKernels(backendName, blas));
    return { enabled: true, detail: _describe(blas, backendName) };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { enabled: false, detail: `native: ${msg.split("\n")[0]}` };
  }
}

function _describe(blas: Blas, backendName: string): string {
  const threads = blas.threads > 0 ? `${blas.threads} threads` : "default threads";
  return `native ${NATIVE_KERNELS.length} kernels on ${backendName} via ${blas.library} (${threads})`;
}

/**
 * Puts back the kernels {@linkcode enableNative} replaced on `backendName` (for comparisons and
 * tests). Returns false when nothing was enabled.
 *
 * @example
 * ```ts
 * import { disableNative } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(disableNative("wasm"), false);
 * ```
 */
export function disableNative(backendName: NativeBackendName): boolean {
  const reg = _registrations.get(backendName);
  if (reg === undefined) return false;
  reg.restore();
  _registrations.delete(backendName);
  return true;
}

/** True when {@linkcode enableNative} has registered kernels for `backendName`. */
export function isNativeEnabled(backendName: NativeBackendName): boolean {
  return _registrations.has(backendName);
}
