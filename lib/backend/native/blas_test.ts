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
