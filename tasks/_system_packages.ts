/**
 * The Debian packages the project uses, how to tell that each is installed, and how to install
 * the missing ones with apt-get (as root, as on a fresh machine of this project's kind). Used by
 * `deno task test` (everything the suite needs) and `deno task train` (the fast native path).
 *
 * @module
 */

/** A Debian package, with files whose presence shows it is installed and what it is for. */
export interface SystemPackage {
  /** The Debian package name. */
  name: string;
  /** Any of these files present means the package is installed. */
  files: readonly string[];
  /** What it brings, in a few words. */
  purpose: string;
}

const _lib = (file: string) => [
  `/usr/lib/x86_64-linux-gnu/${file}`,
  `/usr/lib/aarch64-linux-gnu/${file}`,
  `/usr/lib64/${file}`,
  `/usr/lib/${file}`,
];

/** oneDNN: the convolutions and matrix products of training and sampling on the CPU. */
export const ONEDNN: SystemPackage = {
  name: "libdnnl2",
  files: _lib("libdnnl.so.2"),
  purpose: "oneDNN, PyTorch's CPU convolution library: UNet-S steps about 4x faster",
};

/** What the test suite needs. */
export const TEST_PACKAGES: readonly SystemPackage[] = [
  { name: "chromium", files: ["/usr/bin/chromium"], purpose: "the viewer's browser tests" },
  ONEDNN,
  { name: "libopenblas0", files: _lib("libopenblas.so.0"), purpose: "the OpenBLAS fallback" },
  {
    name: "mesa-vulkan-drivers",
    files: [
      "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json",
      "/usr/share/vulkan/icd.d/lvp_icd.aarch64.json",
    ],
    purpose: "the WebGPU backend tests on a software adapter",
  },
  {
    name: "python3-torch",
    files: ["/usr/lib/python3/dist-packages/torch/__init__.py"],
    purpose: "the parity tests with PyTorch (interop/)",
  },
];

async function _exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The packages of `list` that are not installed.
 *
 * @param list Packages to look for.
 * @returns The missing ones, in order.
 *
 * @example
 * ```ts
 * import { missingPackages } from "./_system_packages.ts";
 * import assert from "node:assert/strict";
 * const gone = { name: "nothing", files: ["/nonexistent/file"], purpose: "a test" };
 * assert.deepEqual(await missingPackages([gone]), [gone]);
 * ```
 */
export async function missingPackages(
  list: readonly SystemPackage[],
): Promise<SystemPackage[]> {
  const missing: SystemPackage[] = [];
  for (const p of list) {
    let found = false;
    for (const f of p.files) found ||= await _exists(f);
    if (!found) missing.push(p);
  }
  return missing;
}

/** True when this process may install Debian packages: root, with apt-get on the machine. */
export async function canInstall(): Promise<boolean> {
  return Deno.uid?.() === 0 && await _exists("/usr/bin/apt-get");
}

/**
 * Installs `packages` with apt-get (update, then install), quietly; its output goes to
 * stderr only when it fails.
 *
 * @param packages The packages to install.
 * @returns True when apt-get succeeded.
 */
export async function installPackages(packages: readonly SystemPackage[]): Promise<boolean> {
  const names = packages.map((p) => p.name);
  const run = async (args: string[]) => {
    const r = await new Deno.Command("apt-get", {
      args,
      stdout: "piped",
      stderr: "piped",
      env: { DEBIAN_FRONTEND: "noninteractive" },
    }).output();
    if (!r.success) await Deno.stderr.write(r.stderr);
    return r.success;
  };
  return await run(["update", "-qq"]) && await run(["install", "-y", "-qq", ...names]);
}

/**
 * Before training: when oneDNN is missing, installs it where that is possible (root and
 * apt-get, unless `DIFFUSION_NO_INSTALL=1`), else says in one line what to install and what it
 * gains. Never fails: training goes on either way.
 *
 * @param log Where the one-line messages go.
 * @returns What happened: "present", "installed", or "missing".
 */
export async function ensureFastPath(
  log: (line: string) => void = (l) => console.error(l),
): Promise<"present" | "installed" | "missing"> {
  const missing = await missingPackages([ONEDNN]);
  if (missing.length === 0) return "present";
  let noInstall = false;
  try {
    noInstall = Deno.env.get("DIFFUSION_NO_INSTALL") === "1";
  } catch {
    noInstall = true;
  }
  if (!noInstall && await canInstall()) {
    log(`installing ${ONEDNN.name} (${ONEDNN.purpose}) with apt-get ...`);
    try {
      if (await installPackages(missing)) return "installed";
    } catch {
      // apt-get not permitted or not runnable: say what to do instead.
    }
    log(`could not install ${ONEDNN.name}; training on the plain kernels`);
    return "missing";
  }
  log(`note: apt-get install ${ONEDNN.name} for ${ONEDNN.purpose}; training on the plain kernels`);
  return "missing";
}
