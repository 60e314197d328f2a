/**
 * Bundles the islands for the browser with Deno's own bundler: `web/client.ts` becomes
 * `client.js`, `web/vendor.css` (uPlot's CSS) becomes `vendor.css`, and the browser sampler's
 * worker `web/sampler_worker.ts` (tfjs and `lib/`, loaded only when a user samples) becomes
 * `sampler_worker.js` in the output folder, beside the binaries of tfjs's wasm backend (copied
 * from the npm cache: {@linkcode WASM_BINARIES}).
 * @module
 */

/** Options for {@linkcode buildIslands}. */
export interface BuildOptions {
  /** Output folder. @default web/static/build beside this file */
  outDir?: string;
  /** Minify the bundle. @default true */
  minify?: boolean;
}

/**
 * The binaries of `@tensorflow/tfjs-backend-wasm` the browser sampler may load: plain and SIMD
 * (the threaded build needs cross-origin isolation, which the viewer does not ask for).
 */
export const WASM_BINARIES: readonly string[] = [
  "tfjs-backend-wasm.wasm",
  "tfjs-backend-wasm-simd.wasm",
];

/** The default output folder, web/static/build/. */
export const DEFAULT_BUILD_DIR: string = new URL("./static/build", import.meta.url).pathname;

/**
 * Runs `deno bundle --platform browser` on the browser entry and the vendor CSS.
 * Needs permission to run `deno`. Returns the output folder and how long it took.
 * @throws {Error} with the bundler's message when bundling fails.
 * @example
 * ```ts ignore
 * import { buildIslands } from "./build.ts";
 * const { outDir, ms } = await buildIslands({ outDir: await Deno.makeTempDir() });
 * console.log(`bundled into ${outDir} in ${ms} ms`);
 * ```
 */
export async function buildIslands(
  options: BuildOptions = {},
): Promise<{ outDir: string; ms: number }> {
  const outDir = options.outDir ?? DEFAULT_BUILD_DIR;
  const here = (p: string) => new URL(p, import.meta.url).pathname;
  // The project compiles JSX with "precompile" (string templates: right for server pages, but
  // they drop event handlers and refs in the browser). The bundle uses the same import map
  // with the automatic runtime, from a temporary config.
  const project = JSON.parse(await Deno.readTextFile(here("../deno.json")));
  const tmp = await Deno.makeTempDir({ prefix: "web-bundle-" });
  // In the browser, "@tensorflow/tfjs" (which lib/tf.ts imports) is tfjs-core with the cpu
  // backend (tf_browser.ts), not the umbrella package. The shim is copied beside the temporary
  // config: Deno does not apply a mapping to a file inside the project's own workspace.
  await Deno.copyFile(here("./tf_browser.ts"), `${tmp}/tf_browser.ts`);
  const config = {
    imports: { ...project.imports, "@tensorflow/tfjs": "./tf_browser.ts" },
    compilerOptions: { ...project.compilerOptions, jsx: "react-jsx", jsxImportSource: "preact" },
    nodeModulesDir: project.nodeModulesDir,
  };
  await Deno.writeTextFile(`${tmp}/deno.json`, JSON.stringify(config));
  const args = [
    "bundle",
    "--quiet",
    "--no-lock",
    "--config",
    `${tmp}/deno.json`,
    "--platform",
    "browser",
    "--outdir",
    outDir,
    ...(options.minify ?? true ? ["--minify"] : []),
    here("./client.ts"),
    here("./sampler_worker.ts"),
    here("./vendor.css"),
  ];
  const t0 = performance.now();
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("deno", { args, stdout: "piped", stderr: "piped" }).output();
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  if (!out.success) {
    const msg = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-5).join("\n");
    throw new Error(`Cannot bundle the islands: deno bundle failed: ${msg}`);
  }
  // The package's files in Deno's npm cache (a file: URL once the project's lockfile names it).
  const entry = import.meta.resolve("@tensorflow/tfjs-backend-wasm");
  if (entry.startsWith("file:")) {
    for (const name of WASM_BINARIES) {
      await Deno.copyFile(new URL(name, new URL(".", entry)), `${outDir}/${name}`);
    }
  } else {
    console.warn(
      `web: the wasm backend's binaries were not found (${entry}); sampling in the ` +
        "browser has the cpu backend only",
    );
  }
  return { outDir, ms: Math.round(performance.now() - t0) };
}
