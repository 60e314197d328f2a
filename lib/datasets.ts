/**
 * The data sets the project trains on, named once for every layer: the data pipeline
 * (`workers/`), the training recipe, the CLI's choices and the viewer.
 *
 * @module
 */

/**
 * The data sets: 2-D points on an S-curve and 28x28 MNIST digits; the one list the CLI's
 * choices and help come from.
 *
 * @example
 * ```ts
 * import { DATASETS, type DatasetName } from "./datasets.ts";
 * import assert from "node:assert/strict";
 * const d: DatasetName = "mnist";
 * assert.ok(DATASETS.includes(d));
 * ```
 */
export const DATASETS = ["s-curve", "mnist"] as const;

/** A data set's name. */
export type DatasetName = typeof DATASETS[number];
