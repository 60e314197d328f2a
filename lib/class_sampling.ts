/**
 * Class-conditional sampling's defaults, tensor-free, so that the CLI (`deno task sample`,
 * `inpaint`, `denoise`, `eval`) and the viewer's browser sampler and run page read one spelling.
 *
 * @module
 */

/**
 * Class-conditional sampling's defaults: the guidance weight (1: the model's own conditional
 * distribution; 0 is the unconditional model, 2 to 4 sharpen the classes at some cost in
 * variety), its largest accepted value, and the digits per class of `--class all`.
 *
 * @example
 * ```ts
 * import { CLASS_SAMPLING } from "./class_sampling.ts";
 * import assert from "node:assert/strict";
 * assert.equal(CLASS_SAMPLING.guidance, 1);
 * assert.ok(CLASS_SAMPLING.maxGuidance > CLASS_SAMPLING.guidance);
 * ```
 */
export const CLASS_SAMPLING = { guidance: 1, maxGuidance: 20, perClass: 8 } as const;
