/**
 * Native acceleration for the `wasm` and `cpu` backends: this module opens the libraries
 * (oneDNN, or without it OpenBLAS, through Deno FFI, and the project's compiled C kernels) and
 * registers the kernels of `../kernels/mod.ts` that need them (matrix products and convolutions,
 * forward and both gradients, and the fused ops' kernels), which read and write the backend's
 * tensor memory in place.
 *
 * {@linkcode enableNative} never throws: when the library or the `--allow-ffi` permission is
 * missing it reports why, and the backend keeps its own kernels.
 *
 * @module
 */
import { type Blas, DEFAULT_BLAS_LIBRARIES, openBlas } from "./blas.ts";
import { DEFAULT_DNNL_LIBRARIES, type Dnnl, openDnnl } from "./dnnl.ts";
import { type CKernels, loadCKernels } from "./cc.ts";
import { Scratch } from "./conv.ts";
import {
  type KernelBackendName,
  NATIVE_KERNELS,
  registerNativeKernels,
  unregisterNativeKernels,
} from "../kernels/mod.ts";

export { DEFAULT_BLAS_LIBRARIES, DEFAULT_DNNL_LIBRARIES, NATIVE_KERNELS };

/** The backends the native kernels know how to read and write. */
export type NativeBackendName = KernelBackendName;

/** Options of {@linkcode enableNative}. */
export interface EnableNativeOptions {
  /**
   * OpenBLAS library names or paths tried in order (used when oneDNN is off or missing; an
   * explicit list is always tried, so that a bad one is reported).
   * @default {DEFAULT_BLAS_LIBRARIES}
   */
  libraries?: readonly string[];
  /**
   * Threads of the native library; 0 keeps the library's default.
   * @default 0 when `OPENBLAS_NUM_THREADS` (OpenBLAS) or `OMP_NUM_THREADS` (oneDNN) is set, else navigator.hardwareConcurrency
   */
  threads?: number;
  /**
   * Run the products and convolutions in oneDNN when it loads; false keeps everything on
   * OpenBLAS (im2col + sgemm).
   * @default {true} unless the environment has DIFFUSION_ONEDNN=0
   */
  oneDnn?: boolean;
  /**
   * Compile (once, cached) and use the project's C kernels (GroupNorm with SiLU, parallel).
   * @default {true} unless the environment has DIFFUSION_C_KERNELS=0
   */
  cKernels?: boolean;
}

/** The outcome of {@linkcode enableNative}. */
export interface NativeStatus {
  /** True when the native kernels are registered. */
  enabled: boolean;
  /** One line: the library and threads used, or why the native path is off. */
  detail: string;
}

/** The libraries of the process, each opened at most once (undefined: not tried yet). */
let _openblas: Blas | undefined;
let _dnnl: Dnnl | null | undefined;
let _dnnlWhy = "";
let _c: CKernels | null | undefined;
let _cWhy = "";
const _registrations = new Map<NativeBackendName, { blas: Blas; c: CKernels | null }>();

async function _cOnce(): Promise<CKernels | null> {
  if (_c !== undefined) return _c;
  try {
    _c = await loadCKernels();
  } catch (e) {
    _c = null;
    _cWhy = `${_firstLine(e)}; GroupNorm in JavaScript`;
  }
  return _c;
}

function _dnnlOnce(threads: number | undefined): Dnnl | null {
  if (_dnnl !== undefined) return _dnnl;
  try {
    _dnnl = openDnnl({ threads: threads ?? (_envValue("OMP_NUM_THREADS") ? 0 : _cores()) });
  } catch (e) {
    _dnnl = null;
    _dnnlWhy = `${_firstLine(e)}; convolutions on OpenBLAS (apt-get install libdnnl2: about ` +
      `2x faster UNet-S steps)`;
  }
  return _dnnl;
}

/**
 * Opens the native libraries and registers the kernels of `../kernels/mod.ts` that need them
 * for `backendName` (native `BatchMatMul`, `_FusedMatMul`, `Conv2D`, `FusedConv2D`,
 * `Conv2DBackpropInput`, `Conv2DBackpropFilter`, `Sum`, `Mean` and `SplitV`, the fused MLP, and
 * GroupNorm + SiLU in C): convolutions and products in oneDNN (Debian's `libdnnl2`) when it
 * loads, else im2col + sgemm in OpenBLAS. `initBackend` calls it.
 *
 * Call it once the backend is set up. Calling it again for the same backend is a no-op that
 * reports the current state.
 *
 * @param backendName The backend whose kernels are replaced.
 * @param options Libraries, threads, oneDNN on or off.
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
    if (existing !== undefined) {
      return { enabled: true, detail: _describe(existing.blas, backendName) };
    }
    if (options.libraries !== undefined) {
      const opened = openBlas(options);
      if (_openblas === undefined) _openblas = opened;
      else opened.close();
    }
    const wantDnnl = options.oneDnn ?? _envValue("DIFFUSION_ONEDNN") !== "0";
    const dnnl = wantDnnl ? _dnnlOnce(options.threads) : null;
    // With oneDNN, its sgemm serves the products too: one OpenMP pool does all the work.
    const blas = dnnl ?? (_openblas ??= openBlas(options));
    const wantC = options.cKernels ?? _envValue("DIFFUSION_C_KERNELS") !== "0";
    const c = wantC ? await _cOnce() : null;
    registerNativeKernels(backendName, { blas, dnnl, c, scratch: new Scratch() });
    _registrations.set(backendName, { blas, c });
    return { enabled: true, detail: _describe(blas, backendName) };
  } catch (e) {
    return { enabled: false, detail: `native: ${_firstLine(e)}` };
  }
}

/**
 * The matrix product of the native kernels registered for `backendName` (oneDNN's sgemm when
 * oneDNN loaded, else OpenBLAS), or null when {@linkcode enableNative} has not registered them.
 *
 * @param backendName The backend.
 * @returns The native matrix product.
 *
 * @example
 * ```ts
 * import { enableNative, nativeBlas } from "./mod.ts";
 * import assert from "node:assert/strict";
 * await enableNative("cpu");
 * const c = new Float32Array(1);
 * const [a, b] = [new Float32Array([2]), new Float32Array([3])];
 * nativeBlas("cpu")!.sgemm(false, false, 1, 1, 1, 1, a, 1, b, 1, 0, c, 1);
 * assert.equal(c[0], 6);
 * ```
 */
export function nativeBlas(backendName: string): Blas | null {
  return _registrations.get(backendName as NativeBackendName)?.blas ?? null;
}

/**
 * The project's compiled C kernels when {@linkcode enableNative} loaded them for
 * `backendName`, else null.
 *
 * @param backendName The backend.
 * @returns The kernels, or null.
 *
 * @example
 * ```ts
 * import { enableNative, nativeCKernels } from "./mod.ts";
 * import assert from "node:assert/strict";
 * await enableNative("cpu", { cKernels: true });
 * assert.ok(nativeCKernels("cpu") !== null);
 * assert.equal(nativeCKernels("webgpu"), null);
 * ```
 */
export function nativeCKernels(backendName: string): CKernels | null {
  return _registrations.get(backendName as NativeBackendName)?.c ?? null;
}

function _describe(blas: Blas, backendName: string): string {
  const threads = blas.threads > 0 ? `${blas.threads} threads` : "default threads";
  const notes: string[] = [];
  if (blas !== _dnnl && _dnnlWhy !== "") notes.push(_dnnlWhy);
  const c = _registrations.get(backendName as NativeBackendName)?.c;
  if (c === null && _cWhy !== "") notes.push(_cWhy);
  const cText = c ? " + C kernels" : "";
  return `native ${NATIVE_KERNELS.length} kernels on ${backendName} via ${blas.library} ` +
    `(${threads})${cText}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`;
}

function _cores(): number {
  const n = typeof navigator !== "undefined" ? navigator.hardwareConcurrency : 0;
  return Number.isInteger(n) && n > 0 ? n : 0;
}

function _firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n")[0] ?? msg;
}

function _envValue(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/**
 * Puts back the kernels {@linkcode enableNative} replaced on `backendName` (for comparisons and
 * tests, and `initBackend` with `native: false`). Returns false when nothing was enabled.
 *
 * @example
 * ```ts
 * import { disableNative } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(disableNative("wasm"), false);
 * ```
 */
export function disableNative(backendName: NativeBackendName): boolean {
  const entry = _registrations.get(backendName);
  if (entry === undefined) return false;
  unregisterNativeKernels(backendName);
  _registrations.delete(backendName);
  return true;
}

/**
 * True when {@linkcode enableNative} has registered kernels for `backendName`.
 *
 * @example
 * ```ts
 * import { disableNative, isNativeEnabled } from "./mod.ts";
 * import assert from "node:assert/strict";
 * disableNative("cpu");
 * assert.equal(isNativeEnabled("cpu"), false);
 * ```
 */
export function isNativeEnabled(backendName: NativeBackendName): boolean {
  return _registrations.has(backendName);
}
