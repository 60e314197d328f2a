/**
 * What the viewer says of a class-conditional run (`train --class-cond`): read from its
 * `run.json` config (`numClasses`, `labelDropout`), for the run page's header, the captions of
 * its class-grid pictures and the browser sampler's class control. Shared by the server and the
 * islands (no tfjs, no Deno).
 * @module
 */
import { CLASS_SAMPLING } from "../lib/class_sampling.ts";
import { getOwn } from "./utils/own.ts";

/** A class-conditional run's labels. */
export interface ClassCond {
  /** Its classes (10 for MNIST); the null label is `numClasses`. */
  numClasses: number;
  /** The fraction of each batch's labels replaced by the null label, when recorded. */
  labelDropout: number | null;
}

/**
 * The labels of a run from its config: null for a run trained without labels (no
 * `numClasses`, or not a whole number above 0).
 *
 * @param config The run's `config` from `run.json`.
 * @returns Its classes and label dropout, or null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classCondOf } from "./class_cond.ts";
 * assert.deepEqual(classCondOf({ numClasses: 10, labelDropout: 0.1 }), {
 *   numClasses: 10,
 *   labelDropout: 0.1,
 * });
 * assert.equal(classCondOf({ numClasses: 0 }), null);
 * assert.equal(classCondOf({ numClasses: "10" }), null);
 * assert.equal(classCondOf({}), null);
 * ```
 */
export function classCondOf(config: Readonly<Record<string, unknown>>): ClassCond | null {
  const k = getOwn(config, "numClasses");
  if (typeof k !== "number" || !Number.isInteger(k) || k < 1) return null;
  const p = getOwn(config, "labelDropout");
  return { numClasses: k, labelDropout: typeof p === "number" && Number.isFinite(p) ? p : null };
}

/**
 * The run header's words for a class-conditional model.
 *
 * @param c The run's labels.
 * @returns E.g. `class-conditional: 10 classes, label dropout 0.1`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classCondLabel } from "./class_cond.ts";
 * assert.equal(
 *   classCondLabel({ numClasses: 10, labelDropout: 0.1 }),
 *   "class-conditional: 10 classes, label dropout 0.1",
 * );
 * assert.equal(classCondLabel({ numClasses: 3, labelDropout: null }), "class-conditional: 3 classes");
 * ```
 */
export function classCondLabel(c: ClassCond): string {
  const dropout = c.labelDropout === null ? "" : `, label dropout ${c.labelDropout}`;
  return `class-conditional: ${c.numClasses} classes${dropout}`;
}

/**
 * The caption of the pictures a class-conditional run draws while training (and of
 * `deno task sample --class all`): one row per class, each row from the same noise, drawn with
 * the CLI's default guidance (the conditional model).
 *
 * @param c The run's labels.
 * @returns The caption.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classGridCaption } from "./class_cond.ts";
 * assert.equal(
 *   classGridCaption({ numClasses: 10, labelDropout: 0.1 }),
 *   "One row per class, 0 at the top to 9 at the bottom, 8 samples of each, the rows sharing " +
 *     "their noise; guidance 1 (the conditional model).",
 * );
 * ```
 */
export function classGridCaption(c: ClassCond): string {
  const w = CLASS_SAMPLING.guidance;
  return `One row per class, 0 at the top to ${c.numClasses - 1} at the bottom, ` +
    `${CLASS_SAMPLING.perClass} samples of each, the rows sharing their noise; guidance ${w}` +
    `${w === 1 ? " (the conditional model)" : ""}.`;
}

/**
 * The caption of a class-conditional run's denoising trajectory: the trainer keeps the frames
 * of its first class's row.
 *
 * @param c The run's labels.
 * @returns The caption.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classTrajectoryCaption } from "./class_cond.ts";
 * assert.match(classTrajectoryCaption({ numClasses: 10, labelDropout: 0.1 }), /^Class 0/);
 * ```
 */
export function classTrajectoryCaption(_c: ClassCond): string {
  return `Class 0: the top row of the last sample picture, guidance ${CLASS_SAMPLING.guidance}.`;
}
