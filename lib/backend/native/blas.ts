/**
 * A thin binding to a system CBLAS (OpenBLAS by preference) through Deno FFI.
 *
 * Only single-precision GEMM is needed by the native kernels; the thread-count setter of
 * OpenBLAS is used when the library has it.
 *
 * @module
 */
import { type Fenv, openFenv } from "./fenv.ts";

/** Row-major single-precision matrix product, `C = alpha·op(A)·op(B) + beta·C`. */
export interface Blas {
  /**
   * `cblas_sgemm` in row-major order. `a`, `b`, `c` start at the matrices' first element
   * (pass a `subarray` for an offset); `lda`, `ldb`, `ldc` are row strides in elements.
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
  /** The library file that was opened. */
  readonly library: string;
  /** The BLAS thread count after setup, or 0 when the library cannot tell. */
  readonly threads: number;
  /**
   * Runs `fn` with at most `max` BLAS threads, then restores the count (OpenBLAS; with another
   * library, or `max` at or above the count, it just runs `fn`). Small products run faster on
   * one thread than on several.
   */
  withThreads<R>(max: number, fn: () => R): R;
  /** Releases the binding (the library itself stays loaded: its threads outlive the calls). */
  close(): void;
}

/** Options of {@linkcode openBlas}. */
export interface OpenBlasOptions {
  /**
   * Library names or paths tried in order.
   * @default {DEFAULT_BLAS_LIBRARIES}
   */
  libraries?: readonly string[];
  /**
   * BLAS threads (OpenBLAS only); 0 leaves the library's default. OpenBLAS threads busy-wait,
   * so on a machine shared with other busy processes fewer threads can be much faster.
   * @default 0 when `OPENBLAS_NUM_THREADS` is set (the library honours it), else navigator.hardwareConcurrency
   */
  threads?: number;
  /**
   * Flush subnormal floats to zero inside the matrix products (x86-64 Linux), which keeps
   * them from running several times slower on gradients full of subnormals.
   * @default true
   */
  flushSubnormals?: boolean;
}

/** The libraries {@linkcode openBlas} tries, in order (Debian/Ubuntu names first). */
export const DEFAULT_BLAS_LIBRARIES: readonly string[] = [
  "libopenblas.so.0",
  "libopenblas.so",
  "libcblas.so.3",
  "libcblas.so",
  "libblas.so.3",
  "libblas.so",
  "libopenblas.dylib",
  "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
  "/usr/local/opt/openblas/lib/libopenblas.dylib",
];

const _GEMM = {
  cblas_sgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
} as const;

const _THREADS = {
  openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
  openblas_get_num_threads: { parameters: [], result: "i32", optional: true },
} as const;

const _ROW_MAJOR = 101;
const _NO_TRANS = 111;
const _TRANS = 112;

/**
 * Opens the first CBLAS library that loads and has `cblas_sgemm`.
 *
 * Throws an `Error` whose message names every library tried and why it failed (missing
 * `--allow-ffi` is reported as such).
 *
 * @param options Library list and thread count.
 * @returns The binding.
 *
 * @example
 * ```ts
 * import { openBlas } from "./blas.ts";
 * import assert from "node:assert/strict";
 * const blas = openBlas({ threads: 1 });
 * const c = new Float32Array(1);
 * blas.sgemm(false, false, 1, 1, 2, 1, new Float32Array([1, 2]), 2, new Float32Array([3, 4]), 1, 0, c, 1);
 * assert.equal(c[0], 11);
 * blas.close();
 * ```
 */
export function openBlas(options: OpenBlasOptions = {}): Blas {
  const libraries = options.libraries ?? DEFAULT_BLAS_LIBRARIES;
  const failures: string[] = [];
  const fenv = (options.flushSubnormals ?? _envFlag("DIFFUSION_FLUSH_SUBNORMALS", true))
    ? openFenv()
    : null;
  for (const name of libraries) {
    let lib: Deno.DynamicLibrary<typeof _GEMM & typeof _THREADS>;
    try {
      // OpenBLAS starts its thread pool when loaded: its threads inherit FTZ/DAZ from here.
      fenv?.enter();
      try {
        lib = Deno.dlopen(name, { ..._GEMM, ..._THREADS });
      } finally {
        fenv?.leave();
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        throw new Error(`FFI not permitted (run with --allow-ffi): ${(e as Error).message}`);
      }
      const msg = _firstLine(e);
      // "Not there" is the common case: the name says it; anything else is worth its message.
      failures.push(
        /cannot open shared object|image not found|no such file/i.test(msg)
          ? name
          : `${name}: ${msg}`,
      );
      continue;
    }
    return _wrap(lib, name, options.threads ?? _defaultThreads(), fenv);
  }
  const shown = failures.slice(0, 2).join("; ");
  const more = failures.length > 2 ? ` and ${failures.length - 2} more` : "";
  throw new Error(`no CBLAS library found (tried ${shown}${more})`);
}

/** `OPENBLAS_NUM_THREADS` when set (OpenBLAS already applied it), else the core count. */
function _defaultThreads(): number {
  try {
    const q = Deno.permissions.querySync({ name: "env", variable: "OPENBLAS_NUM_THREADS" });
    const env = q.state === "granted" ? Deno.env.get("OPENBLAS_NUM_THREADS") : undefined;
    if (env !== undefined && env !== "") return 0;
  } catch {
    // No permission API: use the core count.
  }
  const n = typeof navigator !== "undefined" ? navigator.hardwareConcurrency : 0;
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** A boolean from the environment ("0" is false), or the default without the permission. */
function _envFlag(name: string, fallback: boolean): boolean {
  try {
    const v = Deno.env.get(name);
    return v === undefined || v === "" ? fallback : v !== "0";
  } catch {
    return fallback;
  }
}

function _firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n")[0] ?? msg;
}

function _wrap(
  lib: Deno.DynamicLibrary<typeof _GEMM & typeof _THREADS>,
  library: string,
  threads: number,
  fenv: Fenv | null,
): Blas {
  const s = lib.symbols;
  // Setting the thread count can start threads: they too must inherit FTZ/DAZ.
  if (threads > 0 && s.openblas_set_num_threads !== null) {
    fenv?.enter();
    s.openblas_set_num_threads(threads);
    fenv?.leave();
  }
  const actual = s.openblas_get_num_threads !== null ? s.openblas_get_num_threads() : 0;
  const gemm = s.cblas_sgemm;
  const setThreads = s.openblas_set_num_threads, getThreads = s.openblas_get_num_threads;
  return {
    library,
    threads: actual,
    withThreads(max, fn) {
      if (setThreads === null || getThreads === null) return fn();
      const prev = getThreads();
      if (prev <= max) return fn();
      setThreads(max);
      try {
        return fn();
      } finally {
        // Raising the count can start threads: they must inherit FTZ/DAZ.
        fenv?.enter();
        setThreads(prev);
        fenv?.leave();
      }
    },
    sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
      if (m === 0 || n === 0) return;
      fenv?.enter();
      gemm(
        _ROW_MAJOR,
        transA ? _TRANS : _NO_TRANS,
        transB ? _TRANS : _NO_TRANS,
        m,
        n,
        k,
        alpha,
        a,
        lda,
        b,
        ldb,
        beta,
        c,
        ldc,
      );
      fenv?.leave();
    },
    close() {
      // Nothing is unloaded: OpenBLAS's threads outlive the calls, and unloading the code they
      // run crashes the process. The handle stays open for the life of the process.
    },
  };
}
