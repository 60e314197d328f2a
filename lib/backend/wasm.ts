/**
 * The tfjs `wasm` backend (XNNPACK) under Deno, offline and able to train.
 *
 * The `.wasm` binaries ship inside the npm package, which Deno keeps in its cache; they are read
 * from there. Deno's `node:worker_threads` cannot start Emscripten's pthread workers, so the
 * single-threaded SIMD build is used. The kernels that training needs and the package lacks are
 * registered on top by `initBackend` (see `./kernels/mod.ts`).
 *
 * @module
 */
import { tf } from "../tf.ts";

/** What {@linkcode loadWasmBackend} set up. */
export interface WasmStatus {
  /** True when the SIMD build of the binary runs. */
  simd: boolean;
  /** Threads of XNNPACK's pool (1: the threaded build cannot start its workers under Deno). */
  threads: number;
  /** One line, e.g. `wasm (XNNPACK, SIMD, 1 thread)`. */
  detail: string;
}

let _loaded: Promise<WasmStatus> | null = null;

/**
 * Loads, registers and selects the `wasm` backend (its training kernels are registered by
 * `initBackend`). Idempotent.
 *
 * @returns SIMD and thread facts and a one-line description.
 * @throws Error (one line) when the binary cannot be loaded.
 *
 * @example
 * ```ts
 * import { loadWasmBackend } from "./wasm.ts";
 * import { tf } from "../tf.ts";
 * import assert from "node:assert/strict";
 * const s = await loadWasmBackend();
 * assert.equal(tf.getBackend(), "wasm");
 * assert.match(s.detail, /^wasm \(XNNPACK/);
 * ```
 */
export function loadWasmBackend(): Promise<WasmStatus> {
  _loaded ??= _load().catch((e) => {
    _loaded = null;
    throw e;
  });
  return _loaded.then(async (s) => {
    if (tf.getBackend() !== "wasm") await tf.setBackend("wasm");
    return s;
  });
}

async function _load(): Promise<WasmStatus> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  const entry = import.meta.resolve("@tensorflow/tfjs-backend-wasm");
  const dir = new URL(".", entry);
  try {
    // A directory prefix: Emscripten, which believes it runs in Node, reads the file from there.
    wasm.setWasmPaths(dir.protocol === "file:" ? decodeURIComponent(dir.pathname) : dir.href);
  } catch {
    // Already initialised by someone else: its paths stand.
  }
  // Deno's node:worker_threads cannot start Emscripten's pthread workers (ERR_WORKER_PATH).
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  const ok = await tf.setBackend("wasm");
  if (!ok) {
    throw new Error(
      `Cannot start the wasm backend: loading its binary from ${dir.href} failed (see the warning above)`,
    );
  }
  const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true;
  let threads = 1;
  try {
    threads = Math.max(1, wasm.getThreadsCount());
  } catch {
    threads = 1;
  }
  const detail = `wasm (XNNPACK, ${simd ? "SIMD" : "no SIMD"}, ${threads} thread${
    threads === 1 ? "" : "s"
  })`;
  return { simd, threads, detail };
}
