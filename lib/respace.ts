/**
 * Respacing: sampling (or evaluating) with a subset of a process's timesteps, as data — a new
 * {@linkcode Schedule} plus the map back to the original timesteps, no wrapped model.
 *
 * @module
 */
import { createSchedule, type Schedule } from "./schedule.ts";
import type { SampleMethod } from "./sampler.ts";

/** Python's `round`: to the nearest integer, ties to even. */
function _roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** A sampling-steps value, parsed by {@linkcode parseSampleSteps}. */
export interface SampleSteps {
  /** "ddim" for `"ddimN"`, else "ancestral" (the strided sampler on a respaced schedule). */
  method: SampleMethod;
  /** The section counts (`"50"`: [50]; `"10,15,20"`: [10, 15, 20]; `"ddim50"`: [50]); null for `"all"`. */
  counts: number[] | null;
}

/**
 * Parses a sampling-steps value, the one syntax of the CLI, the trainer and the library: `"all"`
 * (every step), `"N"` (N evenly spread steps), `"N1,N2,..."` (equal sections with that many steps
 * each) or `"ddimN"` (DDIM on N steps at an integer stride). Whether it fits a process of T steps
 * is {@linkcode spaceTimesteps}'s to say.
 *
 * @param text The value.
 * @returns The method and the section counts.
 * @throws {TypeError} If it does not parse.
 * @throws {RangeError} If a count is 0.
 *
 * @example
 * ```ts
 * import { parseSampleSteps } from "./respace.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseSampleSteps("ddim50"), { method: "ddim", counts: [50] });
 * assert.deepEqual(parseSampleSteps("10,15"), { method: "ancestral", counts: [10, 15] });
 * assert.deepEqual(parseSampleSteps("all"), { method: "ancestral", counts: null });
 * assert.throws(() => parseSampleSteps("0x10"), TypeError);
 * assert.throws(() => parseSampleSteps("ddim0"), RangeError);
 * ```
 */
export function parseSampleSteps(text: string): SampleSteps {
  const spec = text.trim();
  if (spec === "all") return { method: "ancestral", counts: null };
  const ddim = spec.startsWith("ddim");
  const counts = ddim
    ? [_parseCount(spec.slice(4), text)]
    : spec.split(",").map((c) => _parseCount(c, text));
  if (counts.some((c) => c === 0)) {
    throw new RangeError(`Cannot use sampling steps "${text}": expected at least one step, got 0`);
  }
  return { method: ddim ? "ddim" : "ancestral", counts };
}

/**
 * Chooses which timesteps of a T-step process to keep, as improved-diffusion's `space_timesteps`:
 * `"50"` keeps 50 evenly spread steps; `"10,15,20"` splits the process into three equal sections
 * and keeps 10, 15 and 20 steps of them; `"ddimN"` keeps `range(0, T, stride)` for the smallest
 * integer stride that gives exactly N steps; `"all"` keeps every step (see
 * {@linkcode parseSampleSteps}).
 *
 * @param numTimesteps T of the original process.
 * @param sectionCounts The section counts, as described above.
 * @returns The kept timesteps, sorted ascending, without duplicates.
 * @throws {RangeError} If a section is smaller than its count, or no integer stride gives N.
 * @throws {TypeError} If `sectionCounts` does not parse.
 *
 * @example
 * ```ts
 * import { spaceTimesteps } from "./respace.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(spaceTimesteps(10, "3"), [0, 4, 9]);
 * assert.deepEqual(spaceTimesteps(300, "ddim3"), [0, 100, 200]);
 * assert.equal(spaceTimesteps(300, "10,15,20").length, 45);
 * assert.equal(spaceTimesteps(7, "all").length, 7);
 * ```
 */
export function spaceTimesteps(numTimesteps: number, sectionCounts: string): number[] {
  if (!Number.isInteger(numTimesteps) || numTimesteps < 1) {
    throw new RangeError(
      `Cannot space timesteps: expected a positive integer number of timesteps, got ${numTimesteps}`,
    );
  }
  const { method, counts } = parseSampleSteps(sectionCounts);
  if (counts === null) return Array.from({ length: numTimesteps }, (_, i) => i);
  if (method === "ddim") {
    const desired = counts[0]!;
    for (let stride = 1; stride < numTimesteps; stride++) {
      if (Math.ceil(numTimesteps / stride) === desired) {
        const out: number[] = [];
        for (let i = 0; i < numTimesteps; i += stride) out.push(i);
        return out;
      }
    }
    throw new RangeError(
      `Cannot space ${numTimesteps} timesteps as "${sectionCounts}": no integer stride gives exactly ${desired} steps`,
    );
  }
  const sizePer = Math.floor(numTimesteps / counts.length);
  const extra = numTimesteps % counts.length;
  const steps = new Set<number>();
  let start = 0;
  counts.forEach((count, i) => {
    const size = sizePer + (i < extra ? 1 : 0);
    if (size < count) {
      throw new RangeError(
        `Cannot space ${numTimesteps} timesteps as "${sectionCounts}": section ${i} has ${size} steps, fewer than ${count}`,
      );
    }
    const stride = count <= 1 ? 1 : (size - 1) / (count - 1);
    let cur = 0;
    for (let k = 0; k < count; k++) {
      steps.add(start + _roundHalfEven(cur));
      cur += stride;
    }
    start += size;
  });
  return [...steps].sort((a, b) => a - b);
}

function _parseCount(text: string, whole: string): number {
  const t = text.trim();
  if (!/^\d+$/.test(t)) {
    throw new TypeError(
      `Cannot parse sampling steps "${whole}": expected "all", "N", "N1,N2,..." or "ddimN" with decimal integers, got "${t}"`,
    );
  }
  return Number(t);
}

/**
 * The schedule and method a sampling-steps value runs: the given schedule itself when every step
 * is kept, else the respaced one; DDIM for `"ddimN"`.
 *
 * @param schedule The training schedule.
 * @param steps A sampling-steps value (see {@linkcode parseSampleSteps}).
 * @returns The schedule to sample on and the method.
 * @throws {TypeError | RangeError} As {@linkcode spaceTimesteps}.
 *
 * @example
 * ```ts
 * import { createSchedule } from "./schedule.ts";
 * import { samplingSchedule } from "./respace.ts";
 * import assert from "node:assert/strict";
 * const base = createSchedule("cosine", { numTimesteps: 100 });
 * assert.equal(samplingSchedule(base, "all").schedule, base);
 * const d = samplingSchedule(base, "ddim10");
 * assert.equal(d.method, "ddim");
 * assert.equal(d.schedule.numTimesteps, 10);
 * ```
 */
export function samplingSchedule(
  schedule: Schedule,
  steps: string,
): { schedule: Schedule; method: SampleMethod } {
  const { method } = parseSampleSteps(steps);
  const keep = spaceTimesteps(schedule.numTimesteps, steps);
  return {
    schedule: keep.length === schedule.numTimesteps ? schedule : respace(schedule, keep),
    method,
  };
}

/**
 * Returns the schedule that keeps only the given steps: its betas are recomputed from
 * `alphasCumprod` at the kept steps, beta_i = 1 - abar_{k_i} / abar_{k_{i-1}}, so that its
 * `alphasCumprod` equals the original's there, and its `timestepMap` maps each kept step to the
 * original timestep (composing with the given schedule's own map).
 *
 * @param schedule The schedule to respace (itself possibly respaced).
 * @param keep Indices into `schedule` to keep (any order, duplicates ignored).
 * @returns The respaced schedule.
 * @throws {RangeError} If `keep` is empty or has an index outside [0, T).
 *
 * @example
 * ```ts
 * import { createSchedule } from "./schedule.ts";
 * import { respace, spaceTimesteps } from "./respace.ts";
 * import assert from "node:assert/strict";
 * const base = createSchedule("linear", { numTimesteps: 1000 });
 * const s = respace(base, spaceTimesteps(1000, "50"));
 * assert.equal(s.numTimesteps, 50);
 * assert.equal(s.timestepMap[49], 999);
 * assert.ok(Math.abs(s.alphasCumprod[49]! - base.alphasCumprod[999]!) < 1e-15);
 * ```
 */
export function respace(schedule: Schedule, keep: Iterable<number>): Schedule {
  const kept = [...new Set(keep)].sort((a, b) => a - b);
  if (kept.length === 0) {
    throw new RangeError(
      "Cannot respace a schedule: expected at least one timestep to keep, got none",
    );
  }
  const betas = new Float64Array(kept.length);
  const map = new Int32Array(kept.length);
  let last = 1;
  kept.forEach((k, i) => {
    if (!Number.isInteger(k) || k < 0 || k >= schedule.numTimesteps) {
      throw new RangeError(
        `Cannot respace a schedule of ${schedule.numTimesteps} steps: expected integer steps in [0, ${schedule.numTimesteps}), got ${k}`,
      );
    }
    const a = schedule.alphasCumprod[k]!;
    betas[i] = 1 - a / last;
    last = a;
    map[i] = schedule.timestepMap[k]!;
  });
  return createSchedule(betas, { timestepMap: map });
}
