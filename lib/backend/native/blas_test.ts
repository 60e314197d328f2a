import assert from "node:assert/strict";
import { openBlas } from "./blas.ts";

Deno.test("sgemm flushes subnormals, and JavaScript's arithmetic keeps them afterwards", () => {
  const tiny = 1e-39; // a float32 subnormal
  const flushed = openBlas({ threads: 1 });
  const c = new Float32Array(1);
  flushed.sgemm(
    false,
    false,
    1,
    1,
    1,
    1,
    new Float32Array([tiny]),
    1,
    new Float32Array([1]),
    1,
    0,
    c,
    1,
  );
  if (Deno.build.os === "linux" && Deno.build.arch === "x86_64") assert.equal(c[0], 0);
  // The main thread's floating-point mode is restored after the call: subnormals survive.
  assert.ok(Number.MIN_VALUE * 1 > 0);
  assert.ok(Math.fround(tiny) > 0);
  flushed.close();

  const exact = openBlas({ threads: 1, flushSubnormals: false });
  exact.sgemm(
    false,
    false,
    1,
    1,
    1,
    1,
    new Float32Array([tiny]),
    1,
    new Float32Array([1]),
    1,
    0,
    c,
    1,
  );
  assert.equal(c[0], Math.fround(tiny));
  exact.close();
});

Deno.test("withThreads runs the products on fewer threads and passes the result through", () => {
  // The library default: one thread in the suite (OPENBLAS_NUM_THREADS=1, see deno.json).
  const blas = openBlas({ threads: 0 });
  try {
    const c = new Float32Array(1);
    const out = blas.withThreads(1, () => {
      blas.sgemm(
        false,
        false,
        1,
        1,
        2,
        1,
        new Float32Array([1, 2]),
        2,
        new Float32Array([3, 4]),
        1,
        0,
        c,
        1,
      );
      return c[0];
    });
    assert.equal(out, 11);
    assert.throws(() =>
      blas.withThreads(1, () => {
        throw new Error("inside");
      }), /inside/);
    // The thread count is back, so a later call still runs (and reports it unchanged).
    assert.equal(blas.withThreads(Infinity, () => 7), 7);
  } finally {
    blas.close();
  }
});
