import assert from "node:assert/strict";
import { createSchedule } from "./schedule.ts";
import { parseSampleSteps, respace, samplingSchedule, spaceTimesteps } from "./respace.ts";

Deno.test("spaceTimesteps matches improved-diffusion's space_timesteps", () => {
  assert.deepEqual(spaceTimesteps(300, "ddim3"), [0, 100, 200]);
  const ddim50 = spaceTimesteps(1000, "ddim50");
  assert.equal(ddim50.length, 50);
  assert.deepEqual(ddim50.slice(0, 3), [0, 20, 40]);
  assert.equal(ddim50[49], 980);
  // Sections of 334, 333 and 333 steps (1000 = 3 * 333 + 1, the first takes the extra one).
  assert.deepEqual(spaceTimesteps(1000, "10,15,20"), [
    0,
    37,
    74,
    111,
    148,
    185,
    222,
    259,
    296,
    333, // 10 of [0, 334)
    334,
    358,
    381,
    405,
    429,
    453,
    476,
    500,
    524,
    547,
    571,
    595,
    619,
    642,
    666, // 15 of [334, 667)
    667,
    684,
    702,
    719,
    737,
    754,
    772,
    789,
    807,
    824,
    842,
    859,
    877,
    894,
    912,
    929,
    947,
    964,
    982,
    999, // 20 of [667, 1000)
  ]);
  assert.equal(spaceTimesteps(300, "10,15,20").length, 45);
  assert.deepEqual(spaceTimesteps(10, "3"), [0, 4, 9]);
  assert.deepEqual(spaceTimesteps(100, "7"), [0, 16, 33, 50, 66, 82, 99]);
  // Python rounds half to even: 2.5 -> 2.
  assert.deepEqual(spaceTimesteps(6, "3"), [0, 2, 5]);
  const fifty = spaceTimesteps(1000, "50");
  assert.equal(fifty.length, 50);
  assert.equal(fifty[0], 0);
  assert.equal(fifty[49], 999);
  assert.deepEqual(spaceTimesteps(5, "5"), [0, 1, 2, 3, 4]);
});

Deno.test("spaceTimesteps errors clearly when impossible", () => {
  assert.throws(() => spaceTimesteps(10, "11"), RangeError);
  assert.throws(() => spaceTimesteps(10, "ddim7"), /no integer stride gives exactly 7/);
  assert.throws(() => spaceTimesteps(10, "5,6"), /section 1 has 5 steps, fewer than 6/);
  assert.throws(() => spaceTimesteps(10, "abc"), TypeError);
  assert.throws(() => spaceTimesteps(10, "ddim"), TypeError);
  assert.throws(() => spaceTimesteps(0, "1"), RangeError);
});

Deno.test("respaced betas reproduce alphasCumprod at the kept steps", () => {
  for (const kind of ["linear", "cosine"] as const) {
    const base = createSchedule(kind, { numTimesteps: 1000 });
    for (const spec of ["50", "ddim25", "10,15,20", "1000"]) {
      const keep = spaceTimesteps(1000, spec);
      const s = respace(base, keep);
      assert.equal(s.numTimesteps, keep.length);
      keep.forEach((k, i) => {
        const a = s.alphasCumprod[i]!, b = base.alphasCumprod[k]!;
        assert.ok(Math.abs(a - b) <= 1e-10 * b, `${kind} ${spec} step ${k}: ${a} vs ${b}`);
        assert.equal(s.timestepMap[i], k);
      });
      assert.ok(s.betas.every((b) => b > 0 && b < 1));
    }
  }
});

Deno.test("respacing a respaced schedule composes the timestep maps", () => {
  const base = createSchedule("linear", { numTimesteps: 100 });
  const a = respace(base, [0, 10, 20, 30, 40, 99]);
  const b = respace(a, new Set([5, 2, 0]));
  assert.deepEqual(Array.from(b.timestepMap), [0, 20, 99]);
  assert.ok(Math.abs(b.alphasCumprod[1]! - base.alphasCumprod[20]!) < 1e-15);
  assert.ok(Math.abs(b.alphasCumprod[2]! - base.alphasCumprod[99]!) < 1e-15);
  assert.throws(() => respace(base, []), RangeError);
  assert.throws(() => respace(base, [100]), RangeError);
  assert.throws(() => respace(base, [1.5]), RangeError);
});

Deno.test("parseSampleSteps: the one syntax, decimal counts only", () => {
  assert.deepEqual(parseSampleSteps(" 50 "), { method: "ancestral", counts: [50] });
  assert.deepEqual(parseSampleSteps("ddim25"), { method: "ddim", counts: [25] });
  for (const bad of ["", "0x10", "1e2", "-5", "ddim", "ddimx", "10,,5", "fifty", "all,5"]) {
    assert.throws(() => parseSampleSteps(bad), TypeError, bad);
  }
  for (const zero of ["0", "ddim0", "10,0"]) {
    assert.throws(() => parseSampleSteps(zero), /at least one step/, zero);
  }
});

Deno.test("samplingSchedule: the schedule itself for every step, respaced otherwise", () => {
  const base = createSchedule("linear", { numTimesteps: 100 });
  for (const all of ["all", "100", "ddim100"]) {
    assert.equal(samplingSchedule(base, all).schedule, base, all);
  }
  assert.equal(samplingSchedule(base, "ddim100").method, "ddim");
  const s = samplingSchedule(base, "10,15");
  assert.equal(s.method, "ancestral");
  assert.equal(s.schedule.numTimesteps, 25);
  assert.throws(() => samplingSchedule(base, "5000"), RangeError);
});
