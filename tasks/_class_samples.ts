/**
 * Samples of chosen classes from a class-conditional model, for `sample --class` and the
 * pictures of a class-conditional training run: each class drawn with classifier-free guidance
 * (`lib/guidance.ts`) through the ordinary sampling of `generateSamples`, every class from the
 * same noise (the same seed), so that rows of a grid differ by their class alone.
 *
 * @module
 */
import type { DiffusionModel } from "../lib/model/mod.ts";
import type { Schedule } from "../lib/schedule.ts";
import { imageGrid, type RgbImage } from "../lib/image/mod.ts";
import { type GenerateOptions, generateSamples } from "./_evaluate.ts";

/** Options of {@linkcode generateClassSamples}. */
export interface ClassSampleOptions extends Omit<GenerateOptions, "n"> {
  /** The classes, in the order of the result. */
  classes: readonly number[];
  /** Samples of each class. */
  perClass: number;
  /** The guidance weight w (0 unconditional, 1 conditional, above 1 guided). */
  guidance: number;
}

/** What {@linkcode generateClassSamples} returns. */
export interface ClassSamples {
  /** The samples, class by class, flattened. */
  x: Float32Array;
  /** Their shape, `[classes.length * perClass, ...]`. */
  shape: number[];
  /** The class of each sample. */
  labels: number[];
  /** The first class's trajectory frames, if asked. */
  trajectory: Float32Array[];
  /** The timesteps of those frames. */
  trajectorySteps: number[];
}

/**
 * The model seen through classifier-free guidance toward one class: a view that shares the
 * model's variables, for code that takes a model (`generateSamples`); its `dispose` does nothing.
 */

/**
 * Draws `perClass` samples of each class of a class-conditional model, class after class, each
 * class from the same seed (so with the same noise).
 *
 * @example
 * ```ts ignore
 * const r = await generateClassSamples(model, schedule, {
 *   dataset: "mnist", classes: [0, 1, 2], perClass: 4, guidance: 2, steps: "50",
 *   variance: "learned-range", seed: 0,
 * });
 * ```
 *
 * @param model A class-conditional model.
 * @param schedule The training schedule.
 * @param options The classes, how many of each, the guidance, and `generateSamples`' options.
 * @returns The samples, class by class, with their labels.
 */
export async function generateClassSamples(
  model: DiffusionModel,
  schedule: Schedule,
  options: ClassSampleOptions,
): Promise<ClassSamples> {
  const { classes, perClass, guidance, onProgress, trajectoryEvery, ...rest } = options;
  const parts = [];
  for (const [i, c] of classes.entries()) {
    parts.push(
      await generateSamples(model, schedule, {
        ...rest,
        guided: { classOf: () => c, guidance },
        n: perClass,
        trajectoryEvery: i === 0 ? trajectoryEvery : undefined,
        onProgress: onProgress &&
          ((done, all) => onProgress(i * all + done, classes.length * all)),
      }),
    );
  }
  const x = new Float32Array(parts.reduce((a, p) => a + p.x.length, 0));
  parts.forEach((p, i) => x.set(p.x, i * p.x.length));
  return {
    x,
    shape: [classes.length * perClass, ...(parts[0]?.shape.slice(1) ?? [])],
    labels: classes.flatMap((c) => Array<number>(perClass).fill(c)),
    trajectory: parts[0]?.trajectory ?? [],
    trajectorySteps: parts[0]?.trajectorySteps ?? [],
  };
}

/**
 * A grid of digits with one row per class (`perClass` digits in each row).
 *
 * @example
 * ```ts
 * import { classGridPicture } from "./_class_samples.ts";
 * import assert from "node:assert/strict";
 * const img = classGridPicture(new Float32Array(3 * 2 * 784), 2);
 * assert.ok(img.height > img.width); // 3 rows of 2
 * ```
 *
 * @param x The digits, class by class, flattened (`[n, 28, 28, 1]`).
 * @param perClass Digits of each class.
 * @returns The picture.
 */
export function classGridPicture(x: Float32Array, perClass: number): RgbImage {
  const n = x.length / 784;
  return imageGrid(x, [n, 28, 28], { cols: perClass, scale: 2 });
}
