/**
 * The names of the sampling methods, tensor-free, so that the steps syntax
 * ({@linkcode parseSampleSteps} in `respace.ts`), the sampling loops (`sampler.ts`), the CLI's
 * help and the quality records (which the viewer reads without tensors) share one list.
 *
 * @module
 */

/**
 * The sampling methods: ancestral (DDPM; the strided sampler of Improved DDPM on a respaced
 * schedule), DDIM (Song et al. 2021), DPM-Solver++(2M) (Lu et al. 2022) and UniPC (Zhao et al.
 * 2023, bh2, UniP-2 with UniC). Every method but "ancestral" is also the prefix of its
 * sampling-steps value (`ddim50`, `dpm++20`, `unipc10`).
 *
 * @example
 * ```ts
 * import { SAMPLE_METHODS } from "./sample_methods.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...SAMPLE_METHODS], ["ancestral", "ddim", "dpm++", "unipc"]);
 * ```
 */
export const SAMPLE_METHODS = ["ancestral", "ddim", "dpm++", "unipc"] as const;

/** A sampling method, one of {@linkcode SAMPLE_METHODS}. */
export type SampleMethod = typeof SAMPLE_METHODS[number];

/**
 * The methods whose sampling-steps value is their name followed by a count (`ddim50`): every
 * method but "ancestral", whose values are bare counts (`50`, `10,15,20`) or `all`.
 *
 * @example
 * ```ts
 * import { PREFIXED_METHODS } from "./sample_methods.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...PREFIXED_METHODS], ["ddim", "dpm++", "unipc"]);
 * ```
 */
export const PREFIXED_METHODS: readonly Exclude<SampleMethod, "ancestral">[] = SAMPLE_METHODS
  .filter((m): m is Exclude<SampleMethod, "ancestral"> => m !== "ancestral");

/**
 * Whether a value is one of {@linkcode SAMPLE_METHODS} (for records read from files).
 *
 * @param value Anything.
 * @returns True for a method's name.
 *
 * @example
 * ```ts
 * import { isSampleMethod } from "./sample_methods.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isSampleMethod("dpm++"));
 * assert.ok(!isSampleMethod("dpm"));
 * ```
 */
export function isSampleMethod(value: unknown): value is SampleMethod {
  return (SAMPLE_METHODS as readonly unknown[]).includes(value);
}
