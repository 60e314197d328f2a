/**
 * The names of the reverse process's variances, tensor-free, so that the diffusion maths
 * (`diffusion.ts`), the CLI's choices and help, and the quality records (which the viewer reads
 * without tensors) share one list.
 *
 * @module
 */

/**
 * The ways of choosing the reverse process's variance: "fixed-small" is the posterior variance
 * (beta tilde), "fixed-large" is beta_t, "learned-range" interpolates between them in the log
 * domain with the model's second output (Improved DDPM). The one list the CLI's choices and
 * help come from.
 *
 * @example
 * ```ts
 * import { VARIANCE_KINDS } from "./variance_kinds.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...VARIANCE_KINDS], ["fixed-small", "fixed-large", "learned-range"]);
 * ```
 */
export const VARIANCE_KINDS = ["fixed-small", "fixed-large", "learned-range"] as const;

/** How the reverse process's variance is chosen, one of {@linkcode VARIANCE_KINDS}. */
export type VarianceKind = typeof VARIANCE_KINDS[number];

/**
 * The variances a model trained with `trained` can be sampled with: both fixed variances for a
 * fixed-variance model (its network predicts only the noise, so the variance is a sampling
 * choice, as Improved DDPM's figure 8 compares them), only its own for a learned-range model
 * (whose second output is the variance).
 *
 * @param trained The variance the model trained with.
 * @returns The variances it can sample with.
 *
 * @example
 * ```ts
 * import { samplingVariances } from "./variance_kinds.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(samplingVariances("fixed-small"), ["fixed-small", "fixed-large"]);
 * assert.deepEqual(samplingVariances("learned-range"), ["learned-range"]);
 * ```
 */
export function samplingVariances(trained: VarianceKind): VarianceKind[] {
  return trained === "learned-range" ? ["learned-range"] : ["fixed-small", "fixed-large"];
}
