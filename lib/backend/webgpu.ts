/**
 * The tfjs `webgpu` backend on Deno's own WebGPU, and the probe that tells a hardware adapter
 * from a software rasteriser (Mesa's llvmpipe/lavapipe, SwiftShader, WARP), which is slower than
 * the wasm backend and never chosen automatically.
 *
 * @module
 */
import { tf } from "../tf.ts";

/** The fields of `GPUAdapterInfo` the probe reads. */
export interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** What {@linkcode probeWebgpu} found. */
export interface WebgpuProbe {
  /** True when an adapter was returned. */
  available: boolean;
  /** True when that adapter is real hardware. */
  hardware: boolean;
  /** One line: the adapter's description, or why there is none. */
  detail: string;
}

const _SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|swrast|microsoft basic render|\bwarp\b/i;

/**
 * True when an adapter is a software implementation: flagged as a fallback adapter, or named
 * like one of the known software rasterisers.
 *
 * @param info The adapter's `info`.
 * @returns Whether the adapter runs on the CPU.
 *
 * @example
 * ```ts
 * import { isSoftwareAdapter } from "./webgpu.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isSoftwareAdapter({ description: "llvmpipe (LLVM 15.0.6, 256 bits)" }), true);
 * assert.equal(isSoftwareAdapter({ vendor: "nvidia", description: "NVIDIA GeForce RTX 4090" }), false);
 * assert.equal(isSoftwareAdapter({ description: "x", isFallbackAdapter: true }), true);
 * ```
 */
export function isSoftwareAdapter(info: AdapterInfoLike): boolean {
  if (info.isFallbackAdapter === true) return true;
  const text = [info.vendor, info.architecture, info.device, info.description].join(" ");
  return _SOFTWARE.test(text);
}

/**
 * Gives Mesa's Vulkan loader the `XDG_RUNTIME_DIR` it asks for (a private folder under the temporary directory)
 * when the environment has none. Quietly does nothing without the permissions.
 *
 * @example
 * ```ts
 * import { ensureXdgRuntimeDir } from "./webgpu.ts";
 * import assert from "node:assert/strict";
 * ensureXdgRuntimeDir();
 * if (Deno.build.os === "linux") assert.ok(Deno.env.get("XDG_RUNTIME_DIR"));
 * ```
 */
export function ensureXdgRuntimeDir(): void {
  try {
    if (Deno.build.os !== "linux" || Deno.env.get("XDG_RUNTIME_DIR")) return;
    const base = Deno.env.get("TMPDIR") ?? "/tmp";
    const dir = `${base}/diffusion-xdg-${Deno.uid() ?? "user"}`;
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.chmodSync(dir, 0o700);
    Deno.env.set("XDG_RUNTIME_DIR", dir);
  } catch {
    // No --allow-env/--allow-write/--allow-sys: Mesa prints a warning and carries on.
  }
}

/**
 * Asks Deno's WebGPU for an adapter and classifies it.
 *
 * @param timeoutMs How long to wait for the adapter.
 * @returns Whether there is an adapter, whether it is hardware, and a one-line detail.
 *
 * @example
 * ```ts
 * import { probeWebgpu } from "./webgpu.ts";
 * import assert from "node:assert/strict";
 * const p = await probeWebgpu();
 * assert.equal(typeof p.detail, "string");
 * if (!p.available) assert.equal(p.hardware, false);
 * ```
 */
export async function probeWebgpu(timeoutMs = 10_000): Promise<WebgpuProbe> {
  const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (gpu === undefined) {
    return { available: false, hardware: false, detail: "this runtime offers no navigator.gpu" };
  }
  ensureXdgRuntimeDir();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const adapter = await Promise.race([
      gpu.requestAdapter({ powerPreference: "high-performance" }),
      new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), timeoutMs)),
    ]);
    if (adapter === null) {
      return { available: false, hardware: false, detail: "no WebGPU adapter" };
    }
    const info = adapter.info as AdapterInfoLike;
    const software = isSoftwareAdapter({
      ...info,
      isFallbackAdapter: info.isFallbackAdapter ??
        (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter,
    });
    const name = info.description || info.device || info.vendor || "unnamed adapter";
    return {
      available: true,
      hardware: !software,
      detail: software ? `software adapter: ${name}` : name,
    };
  } catch (e) {
    return {
      available: false,
      hardware: false,
      detail: `requestAdapter failed: ${e instanceof Error ? e.message : String(e)}`,
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Loads, registers and selects the tfjs `webgpu` backend.
 *
 * @returns A one-line description naming the adapter.
 * @throws Error (one line) when there is no adapter or the backend fails to start.
 *
 * @example
 * ```ts ignore
 * import { loadWebgpuBackend } from "./webgpu.ts";
 * console.log(await loadWebgpuBackend()); // "webgpu (software adapter: llvmpipe ...)"
 * ```
 */
export async function loadWebgpuBackend(): Promise<string> {
  const probe = await probeWebgpu();
  if (!probe.available) throw new Error(`Cannot use backend 'webgpu': ${probe.detail}`);
  await import("@tensorflow/tfjs-backend-webgpu");
  if (!(await tf.setBackend("webgpu"))) {
    throw new Error(
      `Cannot use backend 'webgpu': tfjs-backend-webgpu failed to initialise on ${probe.detail}`,
    );
  }
  return `webgpu (${probe.detail})`;
}
