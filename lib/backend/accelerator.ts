/**
 * Accelerators: code that, once a backend is up, replaces some of its kernels with faster ones
 * (the OpenBLAS-through-FFI kernels of `./native/mod.ts`, or anything registered with
 * {@linkcode registerAccelerator}). An accelerator that fails leaves the backend as it was; the
 * reason is reported, never thrown.
 *
 * @module
 */

/**
 * An accelerator: given the backend just selected, it registers its kernels and returns a
 * one-line description, or returns null when it does not apply. It may throw; the throw is
 * reported as the reason it is off.
 */
export type Accelerator = (backendName: string) => Promise<string | null>;

const _accelerators: Accelerator[] = [];

/**
 * Registers an accelerator, run by `initBackend` after every backend it selects.
 *
 * @param fn The accelerator.
 * @returns A function that unregisters it.
 *
 * @example
 * ```ts
 * import { applyAccelerators, registerAccelerator } from "./accelerator.ts";
 * import assert from "node:assert/strict";
 * const off = registerAccelerator((b) => Promise.resolve(b === "cpu" ? "fast cpu" : null));
 * const r = await applyAccelerators("cpu", { native: false });
 * assert.deepEqual(r.enabled, ["fast cpu"]);
 * off();
 * ```
 */
export function registerAccelerator(fn: Accelerator): () => void {
  _accelerators.push(fn);
  return () => {
    const i = _accelerators.indexOf(fn);
    if (i >= 0) _accelerators.splice(i, 1);
  };
}

/**
 * Whether the native accelerator is wanted: the option when given, else not when the
 * environment variable `DIFFUSION_NATIVE` is `0`, `false` or `off`.
 *
 * @param option The caller's explicit choice, if any.
 * @returns True unless disabled.
 *
 * @example
 * ```ts
 * import { nativeWanted } from "./accelerator.ts";
 * import assert from "node:assert/strict";
 * assert.equal(nativeWanted(false), false);
 * ```
 */
export function nativeWanted(option?: boolean): boolean {
  if (option !== undefined) return option;
  let env: string | undefined;
  try {
    env = Deno.env.get("DIFFUSION_NATIVE");
  } catch {
    env = undefined;
  }
  return !(env !== undefined && /^(0|false|off|no)$/i.test(env.trim()));
}

/** The outcome of {@linkcode applyAccelerators}. */
export interface AcceleratorReport {
  /** Descriptions of the accelerators now active. */
  enabled: string[];
  /** Why the others are off (only those that apply to this backend and failed). */
  off: string[];
}

/** The contract of `./native/mod.ts`. */
interface NativeModule {
  enableNative(backendName: "wasm" | "cpu"): Promise<{ enabled: boolean; detail: string }>;
  disableNative?(backendName: "wasm" | "cpu"): boolean;
}

let _native: NativeModule | null = null;

/**
 * Runs the native accelerator (for `wasm` and `cpu`; with `native` false, native kernels an
 * earlier call enabled are switched off again) and then every registered accelerator on the
 * backend just selected.
 *
 * @param backendName The backend now selected.
 * @param opts `native`: whether to try `./native/mod.ts`.
 * @returns What is on, and why what applies is off.
 *
 * @example
 * ```ts
 * import { applyAccelerators } from "./accelerator.ts";
 * import assert from "node:assert/strict";
 * const r = await applyAccelerators("webgpu", { native: true });
 * assert.deepEqual(r, { enabled: [], off: [] }); // nothing applies to webgpu
 * ```
 */
export async function applyAccelerators(
  backendName: string,
  opts: { native: boolean },
): Promise<AcceleratorReport> {
  const report: AcceleratorReport = { enabled: [], off: [] };
  if (!opts.native && _native !== null && (backendName === "wasm" || backendName === "cpu")) {
    _native.disableNative?.(backendName);
  }
  if (opts.native && (backendName === "wasm" || backendName === "cpu")) {
    try {
      const mod: NativeModule = await import("./native/mod.ts");
      _native = mod;
      const r = await mod.enableNative(backendName);
      (r.enabled ? report.enabled : report.off).push(r.detail);
    } catch (e) {
      report.off.push(`native: ${_oneLine(e)}`);
    }
  }
  for (const fn of _accelerators) {
    try {
      const d = await fn(backendName);
      if (d !== null) report.enabled.push(d);
    } catch (e) {
      report.off.push(_oneLine(e));
    }
  }
  return report;
}

function _oneLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split("\n")[0] ?? "";
}
