/**
 * The project's own C kernels (`./c/*.c`: GroupNorm with SiLU and its gradient, parallel with
 * OpenMP), compiled on first use with the system's C compiler into a cache and loaded through
 * Deno FFI, as PyTorch's `cpp_extension` does. No library does these operations on NHWC tensors
 * (oneDNN 2.x has no group normalisation), and on one wasm thread they cost a third of a
 * UNet-S step. `./c/optim.c` holds the optimiser's updates over all parameters at once (global
 * norm, Adam, EMA), and `./c/mlp.c` the element-wise loops of the fused MLP, each bit for bit
 * equal to their JavaScript versions: in a small model's step those loops cost more than the
 * matrix products.
 *
 * The shared object is cached under `$XDG_CACHE_HOME/diffusion-ts` (else `~/.cache/...`),
 * keyed by the source, the flags, the compiler and the CPU, so a later run loads it at once.
 * Without a compiler, `--allow-run` or `--allow-ffi`, {@linkcode loadCKernels} says why in
 * one line and the JavaScript kernels stay in use.
 *
 * @module
 */

/** The C kernels, bound. Pointers are raw addresses from `Deno.UnsafePointer`. */
export interface CKernels {
  /** GroupNorm (+ SiLU) forward; 0 on success. */
  gnForward(
    x: Deno.PointerValue,
    gamma: Deno.PointerValue,
    beta: Deno.PointerValue,
    y: Deno.PointerValue,
    stats: Deno.PointerValue,
    n: number,
    hw: number,
    c: number,
    groups: number,
    eps: number,
    silu: boolean,
  ): number;
  /** GroupNorm (+ SiLU) backward; `partial` holds `2·n·c` doubles; 0 on success. */
  gnBackward(
    dy: Deno.PointerValue,
    x: Deno.PointerValue,
    gamma: Deno.PointerValue,
    beta: Deno.PointerValue,
    stats: Deno.PointerValue,
    dx: Deno.PointerValue,
    dgamma: Deno.PointerValue,
    dbeta: Deno.PointerValue,
    partial: Deno.PointerValue,
    n: number,
    hw: number,
    c: number,
    groups: number,
    silu: boolean,
  ): number;
  /**
   * The sum of squares of `count` float32 tensors (addresses in `xs`, sizes in `ns`), in the
   * 8-lane order of `c/optim.c`.
   */
  sumSquares(xs: BigUint64Array, ns: BigInt64Array, count: number): number;
  /**
   * One Adam update of `count` parameters; `ptrs` holds 7 arrays of `count` addresses (w src,
   * w dst, m src, m dst, v src, v dst, g), see `c/optim.c`.
   */
  adam(
    ptrs: BigUint64Array,
    ns: BigInt64Array,
    count: number,
    beta1: number,
    beta2: number,
    c1: number,
    c2: number,
    step: number,
    epsHat: number,
  ): void;
  /** One EMA update of `count` tensors; `ptrs` holds e src, e dst and w addresses. */
  ema(ptrs: BigUint64Array, ns: BigInt64Array, count: number, decay: number, d1: number): void;
  /** The fused MLP's hidden blocks initialised with embedding rows plus biases (`c/mlp.c`). */
  mlpEmbed(
    z: Deno.PointerValue,
    table: Deno.PointerValue,
    t: Deno.PointerValue,
    b0: Deno.PointerValue,
    b1: Deno.PointerValue,
    b2: Deno.PointerValue,
    batch: number,
    hidden: number,
  ): void;
  /** The ReLU in place on `n` floats. */
  relu(z: Deno.PointerValue, n: number): void;
  /** Zeroes `d[j]` where the ReLU output `z[j]` is +0. */
  reluMask(d: Deno.PointerValue, z: Deno.PointerValue, n: number): void;
  /** The fused MLP's table and bias gradients from the hidden blocks' gradients `g`. */
  mlpEmbedGrad(
    dtable: Deno.PointerValue,
    db0: Deno.PointerValue,
    db1: Deno.PointerValue,
    db2: Deno.PointerValue,
    g: Deno.PointerValue,
    t: Deno.PointerValue,
    batch: number,
    hidden: number,
    steps: number,
  ): void;
  /** The shared object loaded. */
  readonly path: string;
}

const _SOURCES = ["group_norm.c", "optim.c", "mlp.c"] as const;
// -fno-trapping-math and -fno-math-errno change no result (only FP exception flags and errno),
// and let the loops vectorise; nothing here assumes finite math or reassociates.
const _FLAGS = [
  "-O3",
  "-march=native",
  "-fno-trapping-math",
  "-fno-math-errno",
  "-fopenmp",
  "-shared",
  "-fPIC",
  "-std=c11",
];
const P = "pointer" as const;
const _SYMBOLS = {
  diffusion_gn_forward: {
    parameters: [P, P, P, P, P, "i64", "i64", "i64", "i64", "f32", "i32"],
    result: "i32",
  },
  diffusion_gn_backward: {
    parameters: [P, P, P, P, P, P, P, P, P, "i64", "i64", "i64", "i64", "i32"],
    result: "i32",
  },
  diffusion_sum_squares: { parameters: ["buffer", "buffer", "i64"], result: "f64" },
  diffusion_adam: {
    parameters: ["buffer", "buffer", "i64", "f64", "f64", "f64", "f64", "f64", "f64"],
    result: "void",
  },
  diffusion_ema: { parameters: ["buffer", "buffer", "i64", "f64", "f64"], result: "void" },
  diffusion_mlp_embed: { parameters: [P, P, P, P, P, P, "i64", "i64"], result: "void" },
  diffusion_relu: { parameters: [P, "i64"], result: "void" },
  diffusion_relu_mask: { parameters: [P, P, "i64"], result: "void" },
  diffusion_mlp_embed_grad: {
    parameters: [P, P, P, P, P, P, "i64", "i64", "i64"],
    result: "void",
  },
} as const;

let _loading: Promise<CKernels> | undefined;

/**
 * Compiles (once per source and machine) and loads the C kernels. Rejects with a one-line
 * reason when that is not possible.
 *
 * @returns The bound kernels.
 *
 * @example
 * ```ts
 * import { loadCKernels } from "./cc.ts";
 * import assert from "node:assert/strict";
 * const k = await loadCKernels();
 * assert.match(k.path, /diffusion-ts/);
 * ```
 */
export function loadCKernels(): Promise<CKernels> {
  return _loading ??= _load();
}

async function _load(): Promise<CKernels> {
  const sources = await Promise.all(
    _SOURCES.map(async (name) => [name, await _readSource(name)] as const),
  );
  const compiler = await _findCompiler();
  const cpu = await _cpuId();
  const key = (await _sha256(
    JSON.stringify({ sources, flags: _FLAGS, compiler: compiler.version, cpu }),
  )).slice(0, 16);
  const dir = `${_cacheDir()}/kernels-${key}`;
  const so = `${dir}/diffusion_kernels.so`;
  if (!(await _exists(so))) await _compile(dir, so, sources, compiler.command);
  let lib: Deno.DynamicLibrary<typeof _SYMBOLS>;
  try {
    lib = Deno.dlopen(so, _SYMBOLS);
  } catch (e) {
    throw new Error(`cannot load ${so}: ${_firstLine(e)}`);
  }
  const s = lib.symbols;
  return {
    path: so,
    gnForward: (x, gamma, beta, y, stats, n, hw, c, groups, eps, silu) =>
      s.diffusion_gn_forward(
        x,
        gamma,
        beta,
        y,
        stats,
        BigInt(n),
        BigInt(hw),
        BigInt(c),
        BigInt(groups),
        eps,
        silu ? 1 : 0,
      ),
    gnBackward: (dy, x, gamma, beta, stats, dx, dgamma, dbeta, partial, n, hw, c, groups, silu) =>
      s.diffusion_gn_backward(
        dy,
        x,
        gamma,
        beta,
        stats,
        dx,
        dgamma,
        dbeta,
        partial,
        BigInt(n),
        BigInt(hw),
        BigInt(c),
        BigInt(groups),
        silu ? 1 : 0,
      ),
    sumSquares: (xs, ns, count) => s.diffusion_sum_squares(xs, ns, BigInt(count)),
    adam: (ptrs, ns, count, beta1, beta2, c1, c2, step, epsHat) =>
      s.diffusion_adam(ptrs, ns, BigInt(count), beta1, beta2, c1, c2, step, epsHat),
    ema: (ptrs, ns, count, decay, d1) => s.diffusion_ema(ptrs, ns, BigInt(count), decay, d1),
    mlpEmbed: (z, table, t, b0, b1, b2, batch, hidden) =>
      s.diffusion_mlp_embed(z, table, t, b0, b1, b2, BigInt(batch), BigInt(hidden)),
    relu: (z, n) => s.diffusion_relu(z, BigInt(n)),
    reluMask: (d, z, n) => s.diffusion_relu_mask(d, z, BigInt(n)),
    mlpEmbedGrad: (dtable, db0, db1, db2, g, t, batch, hidden, steps) =>
      s.diffusion_mlp_embed_grad(
        dtable,
        db0,
        db1,
        db2,
        g,
        t,
        BigInt(batch),
        BigInt(hidden),
        BigInt(steps),
      ),
  };
}

async function _readSource(name: string): Promise<string> {
  const url = new URL(`./c/${name}`, import.meta.url);
  if (url.protocol === "file:") return await Deno.readTextFile(url);
  const r = await fetch(url);
  if (!r.ok) throw new Error(`cannot read ${url}: HTTP ${r.status}`);
  return await r.text();
}

async function _findCompiler(): Promise<{ command: string; version: string }> {
  const tried: string[] = [];
  let denied = 0;
  for (const command of [Deno.env.get("CC"), "cc", "gcc"]) {
    if (command === undefined || command === "") continue;
    try {
      const r = await new Deno.Command(command, { args: ["--version"], stdout: "piped" }).output();
      if (r.success) {
        return { command, version: new TextDecoder().decode(r.stdout).split("\n")[0] ?? "" };
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        denied++;
      }
    }
    tried.push(command);
  }
  if (denied === tried.length) {
    throw new Error(`running a C compiler is not permitted (--allow-run=cc,gcc)`);
  }
  throw new Error(`no C compiler found (tried ${tried.join(", ")}; apt-get install gcc)`);
}

async function _compile(
  dir: string,
  so: string,
  sources: readonly (readonly [string, string])[],
  compiler: string,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const [name, text] of sources) {
    const p = `${dir}/${name}`;
    await Deno.writeTextFile(p, text);
    paths.push(p);
  }
  // Compile to a private name, then rename: a concurrent run never loads half a file.
  const tmp = `${so}.${Deno.pid}.tmp`;
  const r = await new Deno.Command(compiler, {
    args: [..._FLAGS, ...paths, "-o", tmp, "-lm"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) {
    const err = new TextDecoder().decode(r.stderr).split("\n").find((l) => /error/.test(l));
    throw new Error(`${compiler} failed on the C kernels: ${err ?? `exit ${r.code}`}`);
  }
  await Deno.rename(tmp, so);
}

function _cacheDir(): string {
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/diffusion-ts`;
  const home = Deno.env.get("HOME");
  if (home) return `${home}/.cache/diffusion-ts`;
  return `${Deno.makeTempDirSync()}/diffusion-ts`;
}

/** The CPU's model and feature flags (`-march=native` code runs only where they match). */
async function _cpuId(): Promise<string> {
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    const lines = info.split("\n");
    const pick = (k: string) => lines.find((l) => l.startsWith(k)) ?? "";
    return `${pick("model name")}|${pick("flags")}`;
  } catch {
    return `${Deno.build.os}-${Deno.build.arch}`;
  }
}

async function _sha256(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function _exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

function _firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n")[0] ?? msg;
}
