/**
 * Respacing: sampling (or evaluating) with a subset of a process's timesteps, as data — a new
 * {@linkcode Schedule} plus the map back to the original timesteps, no wrapped model.
 *
 * @module
 */
import { createSchedule, type Schedule } from "./schedule.ts";
import { PREFIXED_METHODS, type SampleMethod } from "./sample_methods.ts";

/** Python's `round`: to the nearest integer, ties to even. */
function _roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The forms of a sampling-steps value in words, for help texts and messages; made from
 * {@linkcode PREFIXED_METHODS}, so a new method's name appears here by itself.
 *
 * @example
 * ```ts
 * import { SAMPLE_STEPS_SYNTAX } from "./respace.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   SAMPLE_STEPS_SYNTAX,
 *   "all, a count like 50, sections like 10,15,20, ddimN, dpm++N or unipcN",
 * );
 * ```
 */
export const SAMPLE_STEPS_SYNTAX: string = [
  "all",
  "a count like 50",
  "sections like 10,15,20",
  ...PREFIXED_METHODS.map((m) => `${m}N`),
].join(", ").replace(/, ([^,]*)$/, " or $1");

/** A sampling-steps value, parsed by {@linkcode parseSampleSteps}. */
export interface SampleSteps {
  /**
   * The method named by the prefix (`"ddimN"`: "ddim", `"dpm++N"`: "dpm++", `"unipcN"`:
   * "unipc"), else "ancestral" (the strided sampler on a respaced schedule).
   */
  method: SampleMethod;
  /** The section counts (`"50"`: [50]; `"10,15,20"`: [10, 15, 20]; `"ddim50"`: [50]); null for `"all"`. */
  counts: number[] | null;
}

/**
 * Parses a sampling-steps value, the one syntax of the CLI, the trainer and the library: `"all"`
 * (every step), `"N"` (N evenly spread steps), `"N1,N2,..."` (equal sections with that many steps
 * each), `"ddimN"` (DDIM on N steps at an integer stride), `"dpm++N"` (DPM-Solver++(2M)) or
 * `"unipcN"` (UniPC), the solvers on N steps uniform in time. Whether it fits a process of T steps
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
 * assert.deepEqual(parseSampleSteps("dpm++20"), { method: "dpm++", counts: [20] });
 * assert.deepEqual(parseSampleSteps("unipc10"), { method: "unipc", counts: [10] });
 * assert.throws(() => parseSampleSteps("0x10"), TypeError);
 * assert.throws(() => parseSampleSteps("dpm10"), TypeError);
 * assert.throws(() => parseSampleSteps("ddim0"), RangeError);
 * ```
 */
export function parseSampleSteps(text: string): SampleSteps {
  const spec = text.trim();
  if (spec === "all") return { method: "ancestral", counts: null };
  const method = PREFIXED_METHODS.find((m) => spec.startsWith(m));
  const counts = method
    ? [_parseCount(spec.slice(method.length), text)]
    : spec.split(",").map((c) => _parseCount(c, text));
  if (counts.some((c) => c === 0)) {
    throw new RangeError(`Cannot use sampling steps "${text}": expected at least one step, got 0`);
  }
  return { method: method ?? "ancestral", counts };
}

/**
 * Chooses which timesteps of a T-step process to keep, as improved-diffusion's `space_timesteps`:
 * `"50"` keeps 50 evenly spread steps; `"10,15,20"` splits the process into three equal sections
 * and keeps 10, 15 and 20 steps of them; `"ddimN"` keeps `range(0, T, stride)` for the smallest
 * integer stride that gives exactly N steps; `"dpm++N"` and `"unipcN"` keep N steps uniform in time
 * that end at T - 1, `round(k T / N) - 1` for k = 1..N (diffusers' "trailing" spacing: the
 * solvers start from the last trained step, whose x_T is nearly pure noise, and their last,
 * first-order step goes from T / N - 1 to the data); `"all"` keeps every step (see
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
 * assert.deepEqual(spaceTimesteps(1000, "dpm++4"), [249, 499, 749, 999]);
 * assert.deepEqual(spaceTimesteps(1000, "unipc3"), [332, 666, 999]);
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
  switch (method) {
    case "ancestral":
      return _sections(numTimesteps, counts, sectionCounts);
    case "ddim":
      return _integerStride(numTimesteps, counts[0]!, sectionCounts);
    case "dpm++":
    case "unipc":
      return _trailing(numTimesteps, counts[0]!, sectionCounts);
    default: {
      const never: never = method;
      throw new TypeError(`Cannot space timesteps for the unknown method "${never}"`);
    }
  }
}

/** DDIM's `range(0, T, stride)` for the smallest integer stride that gives exactly `desired` steps. */
function _integerStride(numTimesteps: number, desired: number, spec: string): number[] {
  for (let stride = 1; stride < numTimesteps; stride++) {
    if (Math.ceil(numTimesteps / stride) === desired) {
      const out: number[] = [];
      for (let i = 0; i < numTimesteps; i += stride) out.push(i);
      return out;
    }
  }
  throw new RangeError(
    `Cannot space ${numTimesteps} timesteps as "${spec}": no integer stride gives exactly ${desired} steps`,
  );
}

/** `round(k T / N) - 1` for k = 1..N: N steps uniform in time, the last at T - 1. */
function _trailing(numTimesteps: number, count: number, spec: string): number[] {
  if (count > numTimesteps) {
    throw new RangeError(
      `Cannot space ${numTimesteps} timesteps as "${spec}": expected at most ${numTimesteps} steps, got ${count}`,
    );
  }
  return Array.from(
    { length: count },
    (_, k) => _roundHalfEven((k + 1) * numTimesteps / count) - 1,
  );
}

/** improved-diffusion's sections: equal parts of the process, each with its count of steps. */
function _sections(numTimesteps: number, counts: number[], sectionCounts: string): number[] {
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
      `Cannot parse sampling steps "${whole}": expected ${SAMPLE_STEPS_SYNTAX} (N a decimal integer), got "${t}"`,
    );
  }
  return Number(t);
}

/**
 * The schedule and method a sampling-steps value runs: the given schedule itself when every step
 * is kept, else the respaced one; DDIM for `"ddimN"`, DPM-Solver++ for `"dpm++N"`, UniPC for
 * `"unipcN"`, else ancestral.
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
 * const u = samplingSchedule(base, "unipc5");
 * assert.equal(u.method, "unipc");
 * assert.deepEqual(Array.from(u.schedule.timestepMap), [19, 39, 59, 79, 99]);
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
