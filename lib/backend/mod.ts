/**
 * Compute backends: choose, load and describe the TensorFlow.js backend a run uses.
 *
 * - `cpu`: tfjs's plain JavaScript kernels.
 * - `wasm`: XNNPACK in WebAssembly (SIMD, one thread), with the training kernels it lacks.
 * - `webgpu`: Deno's WebGPU; an explicit request may use a software adapter.
 * - `tensorflow`: `@tensorflow/tfjs-node-gpu` / `@tensorflow/tfjs-node`, when installed.
 * - `auto`: `tensorflow` if it loads, else `webgpu` on a hardware adapter, else `wasm`.
 *
 * Once the backend is up, the project's kernels (`./kernels/mod.ts`, one list) are registered
 * for it; on `wasm` and `cpu` the native libraries of `./native/mod.ts` (oneDNN or OpenBLAS, and
 * the C kernels) are opened when available and the kernels that need them registered too
 * (option `native`, environment `DIFFUSION_NATIVE=0` to disable). The ops that use the
 * project's own kernels are in `./ops.ts`.
 *
 * @module
 */
import { tf } from "../tf.ts";
import { applyAccelerators, nativeWanted } from "./accelerator.ts";
import { registerKernels } from "./kernels/mod.ts";
import { loadTensorflowBackend } from "./tensorflow.ts";
import { loadWasmBackend } from "./wasm.ts";
import { loadWebgpuBackend, probeWebgpu } from "./webgpu.ts";

export { type Accelerator, registerAccelerator } from "./accelerator.ts";
export { isSoftwareAdapter, probeWebgpu } from "./webgpu.ts";
export { KERNELS, registerKernels } from "./kernels/mod.ts";

/** The backends a run can ask for. */
export type BackendName = "auto" | "wasm" | "cpu" | "webgpu" | "tensorflow";

/** The backends that can be chosen. */
export type ConcreteBackendName = Exclude<BackendName, "auto">;

/** Every accepted backend name, for flags and help texts. */
export const BACKEND_NAMES: readonly BackendName[] = [
  "auto",
  "wasm",
  "cpu",
  "webgpu",
  "tensorflow",
];

/** The backend a run got. */
export interface BackendInfo {
  /** The backend chosen (and selected in tfjs). */
  name: ConcreteBackendName;
  /** The backend asked for. */
  requested: BackendName;
  /** One line, e.g. `wasm (XNNPACK, SIMD, 1 thread) + native ...`. */
  detail: string;
  /** True when an accelerator (native kernels) is active. */
  accelerated?: boolean;
  /** For `auto`: why the backends preferred over the chosen one were passed over. */
  skipped?: string[];
}

/** Options of {@linkcode initBackend}. */
export interface InitBackendOptions {
  /**
   * Enable the native OpenBLAS kernels on `wasm`/`cpu` when they load.
   * @default {true} unless the environment has DIFFUSION_NATIVE=0
   */
  native?: boolean;
}

/**
 * Loads and selects a backend.
 *
 * @param name The backend asked for.
 * @param opts Options.
 * @returns What was chosen, and a one-line description.
 * @throws RangeError for an unknown name; Error (one line) when an explicitly requested backend
 * cannot be used.
 *
 * @example
 * ```ts
 * import { initBackend } from "./mod.ts";
 * import { tf } from "../tf.ts";
 * import assert from "node:assert/strict";
 * const info = await initBackend("cpu", { native: false });
 * assert.equal(info.name, "cpu");
 * assert.equal(tf.getBackend(), "cpu");
 * ```
 */
export async function initBackend(
  name: BackendName = "auto",
  opts: InitBackendOptions = {},
): Promise<BackendInfo> {
  if (!BACKEND_NAMES.includes(name)) {
    throw new RangeError(
      `Unknown backend '${name}': expected one of ${BACKEND_NAMES.join(", ")}`,
    );
  }
  // The cpu backend's upsampling gradient is wrong for batches > 1; every backend may fall back
  // on cpu kernels, so cpu gets its kernels (the correction among them) whatever is chosen.
  registerKernels("cpu");
  const native = nativeWanted(opts.native);
  const skipped: string[] = [];
  let chosen: ConcreteBackendName;
  let detail: string;
  switch (name) {
    case "auto": {
      const pick = await _pickAuto(skipped);
      chosen = pick.name;
      detail = pick.detail;
      break;
    }
    case "wasm":
      chosen = "wasm";
      detail = (await loadWasmBackend()).detail;
      break;
    case "cpu":
      chosen = "cpu";
      detail = await _loadCpu();
      break;
    case "webgpu":
      chosen = "webgpu";
      detail = await loadWebgpuBackend();
      break;
    case "tensorflow":
      chosen = "tensorflow";
      detail = await loadTensorflowBackend();
      break;
    default: {
      const never: never = name;
      throw new RangeError(`Unknown backend '${never}'`);
    }
  }
  // The project's kernels for the backend chosen, then (in `enableNative`) those that need the
  // native libraries on top.
  registerKernels(chosen);
  const acc = await applyAccelerators(chosen, { native });
  for (const d of acc.enabled) detail += ` + ${d}`;
  if (acc.off.length > 0) detail += ` (${acc.off.join("; ")})`;
  const info: BackendInfo = { name: chosen, requested: name, detail };
  if (acc.enabled.length > 0) info.accelerated = true;
  if (skipped.length > 0) info.skipped = skipped;
  return info;
}

async function _loadCpu(): Promise<string> {
  if (!(await tf.setBackend("cpu"))) throw new Error("Cannot start the cpu backend");
  return "cpu (tfjs JavaScript kernels)";
}

async function _pickAuto(
  skipped: string[],
): Promise<{ name: ConcreteBackendName; detail: string }> {
  try {
    return { name: "tensorflow", detail: await loadTensorflowBackend() };
  } catch (e) {
    skipped.push(`tensorflow: ${_short(e)}`);
  }
  const probe = await probeWebgpu();
  if (probe.hardware) {
    try {
      return { name: "webgpu", detail: await loadWebgpuBackend() };
    } catch (e) {
      skipped.push(`webgpu: ${_short(e)}`);
    }
  } else {
    skipped.push(`webgpu: ${probe.detail}`);
  }
  return { name: "wasm", detail: (await loadWasmBackend()).detail };
}

function _short(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  if (m.startsWith("Backend 'tensorflow' needs")) return "not installed";
  return m.split("\n")[0] ?? "";
}
