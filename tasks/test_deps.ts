/**
 * Makes sure the Debian packages the test suite needs are present before `deno task test`
 * runs it: Chromium (the viewer's browser tests), oneDNN and OpenBLAS (the native convolution
 * and matmul paths, each tested) and Mesa's
 * software Vulkan driver (the WebGPU backend tests) and PyTorch (the parity tests of
 * `interop/`). Installs the missing ones with apt-get
 * when running as root (as on a fresh machine of this project's kind); otherwise says what to
 * install and exits non-zero.
 *
 * @module
 */

import { canInstall, installPackages, missingPackages, TEST_PACKAGES } from "./_system_packages.ts";

if (import.meta.main) {
  const missing = await missingPackages(TEST_PACKAGES);
  if (missing.length > 0) {
    const names = missing.map((p) => p.name).join(" ");
    if (!(await canInstall())) {
      console.error(`error: the tests need these Debian packages: ${names} (apt-get install them)`);
      Deno.exit(1);
    }
    console.error(`installing test dependencies: ${names}`);
    if (!(await installPackages(missing))) {
      console.error(`error: apt-get could not install ${names}`);
      Deno.exit(1);
    }
  }
}
