/**
 * The pictures of a run, per data set: samples (an image grid for MNIST, a scatter over the
 * data for the S-curve), the forward process q(x_t | x_0) at 10 evenly spaced t, and a
 * denoising trajectory as a strip of frames.
 *
 * @module
 */
import { imageGrid, montage, type RgbImage, scatterPlot } from "../lib/image/mod.ts";
import { Rng } from "../lib/random.ts";
import type { Schedule } from "../lib/schedule.ts";

import type { DatasetName } from "../workers/options.ts";

export type { DatasetName };

/** Half-width of the S-curve plots' window (the data lie within about ±0.1 by ±0.2). */
const S_RANGE = 0.25;

/**
 * Draws samples: a scatter (with `reference` data in grey) for 2-D points, a grid for images.
 *
 * @param dataset The data set the samples belong to.
 * @param x The samples, flattened.
 * @param n How many samples `x` holds.
 * @param reference Data points drawn behind S-curve samples.
 * @returns The picture.
 *
 * @example
 * ```ts
 * import { samplesPicture } from "./_pictures.ts";
 * import assert from "node:assert/strict";
 * const img = samplesPicture("s-curve", new Float32Array([0, 0, 0.05, 0.05]), 2);
 * assert.ok(img.width > 0);
 * ```
 */
export function samplesPicture(
  dataset: DatasetName,
  x: Float32Array,
  n: number,
  reference?: Float32Array,
): RgbImage {
  switch (dataset) {
    case "s-curve":
      return scatterPlot(x, { size: 360, range: S_RANGE, reference, alpha: n > 3000 ? 0.3 : 0.55 });
    case "mnist":
      return imageGrid(x, [n, 28, 28], { cols: Math.ceil(Math.sqrt(n)), scale: 2 });
  }
}

/**
 * Draws frames side by side: 2-D point clouds as small scatters, images as one column of
 * digits per frame (at most 8 digits).
 *
 * @param dataset The data set.
 * @param frames Each frame's samples, flattened, `n` samples each.
 * @param n Samples per frame.
 * @param ranges Half-width of each 2-D frame's window (default: from the frame's spread).
 * @returns The strip.
 *
 * @example
 * ```ts
 * import { framesPicture } from "./_pictures.ts";
 * import assert from "node:assert/strict";
 * const img = framesPicture("s-curve", [new Float32Array(4), new Float32Array(4)], 2);
 * assert.ok(img.width > img.height);
 * ```
 */
export function framesPicture(
  dataset: DatasetName,
  frames: Float32Array[],
  n: number,
  ranges?: number[],
): RgbImage {
  switch (dataset) {
    case "s-curve":
      return montage(
        frames.map((f, i) =>
          scatterPlot(f, { size: 160, range: ranges?.[i] ?? _spread(f), radius: 0.8 })
        ),
        { pad: 4 },
      );
    case "mnist": {
      const k = Math.min(n, 8);
      return montage(
        frames.map((f) => imageGrid(f.subarray(0, k * 784), [k, 28, 28], { cols: 1, scale: 1 })),
        { pad: 2, background: [40, 40, 40] },
      );
    }
  }
}

/**
 * Draws the forward process: x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps for 10 evenly
 * spaced t from 0 to T - 1, computed in float64 from the schedule, one panel per t.
 *
 * @param dataset The data set.
 * @param x0 Data, flattened, `n` samples.
 * @param n Samples in `x0`.
 * @param schedule The noise schedule.
 * @param seed The noise seed.
 * @returns The picture and the timesteps drawn.
 *
 * @example
 * ```ts
 * import { forwardPicture } from "./_pictures.ts";
 * import { createSchedule } from "../lib/schedule.ts";
 * import assert from "node:assert/strict";
 * const s = createSchedule("linear", { numTimesteps: 100 });
 * const { timesteps } = forwardPicture("s-curve", new Float32Array(20), 10, s, 0);
 * assert.deepEqual(timesteps, [0, 11, 22, 33, 44, 55, 66, 77, 88, 99]);
 * ```
 */
export function forwardPicture(
  dataset: DatasetName,
  x0: Float32Array,
  n: number,
  schedule: Schedule,
  seed: number,
): { image: RgbImage; timesteps: number[] } {
  const T = schedule.numTimesteps;
  const timesteps = Array.from({ length: 10 }, (_, i) => Math.round((i * (T - 1)) / 9));
  const rng = new Rng(seed, 0xf0);
  const noise = rng.fillNormal(new Float32Array(x0.length));
  const frames = timesteps.map((t) => {
    const a = schedule.sqrtAlphasCumprod[t]!, s = schedule.sqrtOneMinusAlphasCumprod[t]!;
    const xt = new Float32Array(x0.length);
    for (let i = 0; i < x0.length; i++) xt[i] = a * x0[i]! + s * noise[i]!;
    return xt;
  });
  // Each panel's window follows the spread of q(x_t): the data's scale, then the noise's.
  const ranges = timesteps.map((t) =>
    Math.max(S_RANGE, 3 * schedule.sqrtOneMinusAlphasCumprod[t]!)
  );
  return { image: framesPicture(dataset, frames, n, ranges), timesteps };
}

/** A window that holds the S-curve or, when wider, 3 standard deviations of the points. */
function _spread(points: Float32Array): number {
  let s = 0;
  for (let i = 0; i < points.length; i++) s += points[i]! * points[i]!;
  return Math.max(S_RANGE, 3 * Math.sqrt(s / Math.max(1, points.length)));
}
