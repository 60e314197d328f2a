/**
 * The `tensorflow` backend of `@tensorflow/tfjs-node-gpu` (CUDA) or `@tensorflow/tfjs-node`
 * (CPU), when one of them is installed.
 *
 * Neither package is a dependency: each needs a native addon fetched at install time (and CUDA
 * for the GPU build). The probe looks for an installed copy first (a `node_modules` folder, or
 * Deno's npm cache) and imports only what is there, so an absent package costs no network
 * access and no time.
 *
 * @module
 */
import { tf } from "../tf.ts";

/** The packages that provide the `tensorflow` backend, preferred first. */
export const TFJS_NODE_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] as const;

/** One line telling how to install the `tensorflow` backend. */
export const TENSORFLOW_INSTALL_HINT =
  "Backend 'tensorflow' needs @tensorflow/tfjs-node-gpu (CUDA 11.2 + cuDNN 8.1) or " +
  "@tensorflow/tfjs-node, and neither is installed: with network access run " +
  "`npm i @tensorflow/tfjs-node-gpu@4.22.0` (or tfjs-node) in the project, set " +
  '"nodeModulesDir": "manual" in deno.json, and run with --allow-ffi';

/** An installed copy of a tfjs-node package. */
export interface TfjsNodeInstall {
  /** The package name. */
  pkg: (typeof TFJS_NODE_PACKAGES)[number];
  /** The specifier to import it by. */
  specifier: string;
}

function _exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds an installed tfjs-node package without importing it or touching the network.
 *
 * @param cwd The project folder whose `node_modules` is searched.
 * @returns The first installed package, or null.
 *
 * @example
 * ```ts
 * import { findTfjsNode } from "./tensorflow.ts";
 * import assert from "node:assert/strict";
 * assert.equal(findTfjsNode("/nonexistent"), null);
 * ```
 */
export function findTfjsNode(cwd: string = _cwd()): TfjsNodeInstall | null {
  const npmCache = _npmCacheRoot();
  for (const pkg of TFJS_NODE_PACKAGES) {
    if (_exists(`${cwd}/node_modules/${pkg}/package.json`)) return { pkg, specifier: pkg };
    if (npmCache === null) continue;
    let versions: string[] = [];
    try {
      versions = [...Deno.readDirSync(`${npmCache}/${pkg}`)]
        .filter((e) => e.isDirectory && /^\d+\.\d+\.\d+$/.test(e.name))
        .map((e) => e.name);
    } catch {
      continue;
    }
    const v = versions.sort(_compareVersions).at(-1);
    if (v !== undefined) return { pkg, specifier: `npm:${pkg}@${v}` };
  }
  return null;
}

/**
 * Imports an installed tfjs-node package and selects its `tensorflow` backend.
 *
 * @returns A one-line description, e.g. `tensorflow (@tensorflow/tfjs-node-gpu)`.
 * @throws Error (one line) with installation advice when no package is installed, or with the
 * loader's reason when it is installed but does not load.
 *
 * @example
 * ```ts
 * import { findTfjsNode, loadTensorflowBackend } from "./tensorflow.ts";
 * import assert from "node:assert/strict";
 * if (findTfjsNode() === null) {
 *   await assert.rejects(loadTensorflowBackend(), /npm i @tensorflow\/tfjs-node-gpu/);
 * }
 * ```
 */
export async function loadTensorflowBackend(): Promise<string> {
  const found = findTfjsNode();
  if (found === null) throw new Error(TENSORFLOW_INSTALL_HINT);
  try {
    // A computed specifier: the package is optional and must not enter the module graph.
    await import(found.specifier);
  } catch (e) {
    throw new Error(
      `Backend 'tensorflow': ${found.pkg} is installed but does not load: ${_oneLine(e)}`,
    );
  }
  if (tf.findBackendFactory("tensorflow") === null) {
    throw new Error(
      `Backend 'tensorflow': ${found.pkg} loaded but registered no 'tensorflow' backend ` +
        "(is it built for @tensorflow/tfjs 4.22.0?)",
    );
  }
  if (!(await tf.setBackend("tensorflow"))) {
    throw new Error(`Backend 'tensorflow': ${found.pkg} failed to initialise`);
  }
  return `tensorflow (${found.pkg})`;
}

function _oneLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split("\n").map((s) => s.trim()).filter((s) => s !== "")[0] ?? "unknown error";
}

function _cwd(): string {
  try {
    return Deno.cwd();
  } catch {
    return ".";
  }
}

/** `<DENO_DIR>/npm/registry.npmjs.org`, found from where tfjs-core itself resolved. */
function _npmCacheRoot(): string | null {
  try {
    const u = new URL(import.meta.resolve("@tensorflow/tfjs-core"));
    if (u.protocol !== "file:") return null;
    const path = decodeURIComponent(u.pathname);
    const i = path.lastIndexOf("/@tensorflow/tfjs-core/");
    return i < 0 ? null : path.slice(0, i);
  } catch {
    return null;
  }
}

function _compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
