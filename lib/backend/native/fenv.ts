/**
 * Flush-to-zero (FTZ/DAZ) for the native kernels, shared by the OpenBLAS and oneDNN bindings.
 *
 * @module
 */
/**
 * Flush-to-zero for the matrix products and convolutions. Gradients that pass through saturated SiLUs carry
 * subnormal floats, and x86 cores take microcode assists on every one of them: measured on
 * UNet-S with real MNIST batches, the convolutions ran 2.5x slower than on random data. With
 * FTZ and DAZ set in MXCSR, subnormals are read and written as zero (the difference is below
 * 1.2e-38). The bits are set only around each sgemm call on the calling thread (and, through
 * inheritance, in OpenBLAS's own threads, which start while they are set), so JavaScript's
 * arithmetic stays IEEE-exact. glibc on x86-64 only: `fenv_t` is 32 bytes there with MXCSR at
 * byte 28; elsewhere this is a no-op.
 */
export interface Fenv {
  /** Sets FTZ/DAZ on the calling thread. */
  enter(): void;
  /** Restores the calling thread's floating-point environment. */
  leave(): void;
}

let _cached: Fenv | null | undefined;

/**
 * The process's flush-to-zero switch (one per process), or null where it is not supported.
 *
 * @example
 * ```ts
 * import { openFenv } from "./fenv.ts";
 * const fenv = openFenv();
 * fenv?.enter();
 * fenv?.leave();
 * ```
 */
export function openFenv(): Fenv | null {
  if (_cached === undefined) _cached = _open();
  return _cached;
}

function _open(): Fenv | null {
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") return null;
  try {
    const libc = Deno.dlopen("libm.so.6", {
      fegetenv: { parameters: ["buffer"], result: "i32" },
      fesetenv: { parameters: ["buffer"], result: "i32" },
    });
    const base = new Uint8Array(32);
    if (libc.symbols.fegetenv(base) !== 0) return null;
    const view = new DataView(base.buffer);
    const mxcsr = view.getUint32(28, true);
    // The default MXCSR masks all exceptions (0x1F80); anything else means the layout differs.
    if ((mxcsr & 0x1f80) !== 0x1f80) return null;
    const ftz = base.slice();
    new DataView(ftz.buffer).setUint32(28, mxcsr | 0x8040, true);
    const set = libc.symbols.fesetenv;
    return { enter: () => void set(ftz), leave: () => void set(base) };
  } catch {
    return null;
  }
}
