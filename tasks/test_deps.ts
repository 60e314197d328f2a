/**
 * Makes sure the Debian packages the test suite needs are present before `deno task test`
 * runs it: Chromium (the viewer's browser tests), oneDNN and OpenBLAS (the native convolution
 * and matmul paths, each tested) and Mesa's
 * software Vulkan driver (the WebGPU backend tests). Installs the missing ones with apt-get
 * when running as root (as on a fresh machine of this project's kind); otherwise says what to
 * install and exits non-zero.
 *
 * @module
 */

/** Each package and a file whose presence shows it is installed. */
const PACKAGES: [string, string[]][] = [
  ["chromium", ["/usr/bin/chromium"]],
  ["libopenblas0", [
    "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
    "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
  ]],
  ["libdnnl2", [
    "/usr/lib/x86_64-linux-gnu/libdnnl.so.2",
    "/usr/lib/aarch64-linux-gnu/libdnnl.so.2",
  ]],
  ["mesa-vulkan-drivers", [
    "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json",
    "/usr/share/vulkan/icd.d/lvp_icd.aarch64.json",
  ]],
];

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function sh(cmd: string, args: string[]): Promise<boolean> {
  const r = await new Deno.Command(cmd, {
    args,
    stdout: "inherit",
    stderr: "inherit",
    env: { DEBIAN_FRONTEND: "noninteractive" },
  }).output();
  return r.success;
}

if (import.meta.main) {
  const missing: string[] = [];
  for (const [pkg, files] of PACKAGES) {
    let found = false;
    for (const f of files) found ||= await exists(f);
    if (!found) missing.push(pkg);
  }
  if (missing.length > 0) {
    const root = Deno.uid?.() === 0;
    if (!root || !(await exists("/usr/bin/apt-get"))) {
      console.error(
        `error: the tests need these Debian packages: ${missing.join(" ")} (apt-get install them)`,
      );
      Deno.exit(1);
    }
    console.error(`installing test dependencies: ${missing.join(" ")}`);
    const ok = (await sh("apt-get", ["update", "-qq"])) &&
      (await sh("apt-get", ["install", "-y", "-qq", ...missing]));
    if (!ok) {
      console.error(`error: apt-get could not install ${missing.join(" ")}`);
      Deno.exit(1);
    }
  }
}
