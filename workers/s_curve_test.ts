import assert from "node:assert/strict";
import { Rng } from "../lib/random.ts";
import { fillSCurve, makeSCurve } from "./s_curve.ts";

Deno.test("makeSCurve: noiseless points lie on the two arcs of the S", () => {
  const p = makeSCurve(500, { noise: 0, seed: 1 });
  for (let i = 0; i < p.length; i += 2) {
    const x = 10 * p[i]!, z = 10 * p[i + 1]!;
    // t > 0: x² + (z + 1)² = 1 with z <= 0; t < 0: x² + (z - 1)² = 1 with z >= 0.
    const r = z <= 0 ? x * x + (z + 1) ** 2 : x * x + (z - 1) ** 2;
    assert.ok(Math.abs(r - 1) < 1e-5, `point ${i / 2} off the curve: ${x}, ${z}`);
  }
});

Deno.test("makeSCurve: range and moments of the default (noise 0.1) data", () => {
  const n = 20_000;
  const p = makeSCurve(n, { seed: 2 });
  let mx = 0, mz = 0, vx = 0, vz = 0, maxAbsX = 0, maxAbsZ = 0;
  for (let i = 0; i < n; i++) {
    const x = p[2 * i]!, z = p[2 * i + 1]!;
    mx += x / n;
    mz += z / n;
    maxAbsX = Math.max(maxAbsX, Math.abs(x));
    maxAbsZ = Math.max(maxAbsZ, Math.abs(z));
  }
  for (let i = 0; i < n; i++) {
    vx += (p[2 * i]! - mx) ** 2 / n;
    vz += (p[2 * i + 1]! - mz) ** 2 / n;
  }
  assert.ok(Math.abs(mx) < 0.003 && Math.abs(mz) < 0.005, `means ${mx}, ${mz}`);
  // Var(sin t) = 1/2 for t uniform on [-3π/2, 3π/2]; noise adds 0.01; then / 100.
  assert.ok(Math.abs(vx - 0.0051) < 0.0003, `var x ${vx}`);
  assert.ok(maxAbsX < 0.16 && maxAbsZ < 0.26, `max |x| ${maxAbsX}, max |z| ${maxAbsZ}`);
  assert.ok(maxAbsZ > 0.18, "the curve should reach |z| near 0.2");
});

Deno.test("makeSCurve: seeded, and validates its arguments", () => {
  assert.deepEqual(makeSCurve(10, { seed: 5 }), makeSCurve(10, { seed: 5 }));
  assert.notDeepEqual(makeSCurve(10, { seed: 5 }), makeSCurve(10, { seed: 6 }));
  assert.equal(makeSCurve(0).length, 0);
  assert.throws(() => makeSCurve(-1), RangeError);
  assert.throws(() => makeSCurve(1.5), RangeError);
  assert.throws(() => makeSCurve(3, { noise: -1 }), RangeError);
  assert.throws(() => fillSCurve(new Float32Array(3), new Rng(0), 0), TypeError);
});
