/**
 * Seeded data augmentations: integer translation, small bilinear rotation and uniform
 * dequantization for MNIST digits in [-1, 1], gaussian jitter for 2-D points.
 *
 * Every draw comes from an {@linkcode Rng} passed in, so a batch seeded by its index is the same
 * whichever worker computes it.
 *
 * @module
 */
import type { Rng } from "../lib/random.ts";

/**
 * The value of an empty MNIST pixel in [-1, 1] data: pixels moved in from outside get it.
 *
 * @example
 * ```ts
 * import { BACKGROUND } from "./augment.ts";
 * import assert from "node:assert/strict";
 * assert.equal(BACKGROUND, -1);
 * ```
 */
export const BACKGROUND = -1;

/** MNIST augmentations. All off by default (see `workers/mod.ts` for why). */
export interface DigitAugmentation {
  /**
   * Maximum shift in whole pixels: dx and dy are drawn uniformly from {-k, …, k}.
   * @default {0}
   */
  translate?: number;
  /**
   * Maximum rotation in degrees: the angle is drawn uniformly from [-r, r]; bilinear.
   * @default {0}
   */
  rotate?: number;
  /**
   * Uniform dequantization: see {@linkcode dequantizeImage}.
   * @default {false}
   */
  dequantize?: boolean;
}

/**
 * Shifts by whole pixels and rotates about the centre a square single-channel image, sampling
 * bilinearly; pixels from outside the source are {@linkcode BACKGROUND}. With `degrees = 0` it is
 * an exact integer shift.
 *
 * @param src The source image, `side * side` values, row-major.
 * @param out The output image (not `src`), same size.
 * @param side The side in pixels.
 * @param dx Shift to the right in pixels (integer).
 * @param dy Shift down in pixels (integer).
 * @param degrees Counter-clockwise rotation in degrees (as displayed, y down).
 * @returns `out`.
 *
 * @example
 * ```ts
 * import { warpImage } from "./augment.ts";
 * import assert from "node:assert/strict";
 * const src = new Float32Array(9).fill(-1);
 * src[4] = 1; // centre of a 3x3 image
 * const out = warpImage(src, new Float32Array(9), 3, 1, 0, 0);
 * assert.equal(out[5], 1);
 * assert.equal(out[4], -1);
 * ```
 */
export function warpImage(
  src: Float32Array,
  out: Float32Array,
  side: number,
  dx: number,
  dy: number,
  degrees: number,
): Float32Array {
  if (src.length !== side * side || out.length !== side * side) {
    throw new TypeError(
      `Cannot warp an image: expected ${side * side} values, got ${src.length} and ${out.length}`,
    );
  }
  if (degrees === 0) {
    for (let y = 0; y < side; y++) {
      const sy = y - dy;
      for (let x = 0; x < side; x++) {
        const sx = x - dx;
        out[y * side + x] = sy >= 0 && sy < side && sx >= 0 && sx < side
          ? src[sy * side + sx]!
          : BACKGROUND;
      }
    }
    return out;
  }
  // Inverse mapping: for each output pixel, undo the shift, then rotate back by -θ.
  const th = (degrees * Math.PI) / 180, c = Math.cos(th), s = Math.sin(th);
  const mid = (side - 1) / 2;
  const at = (ix: number, iy: number): number =>
    ix >= 0 && ix < side && iy >= 0 && iy < side ? src[iy * side + ix]! : BACKGROUND;
  for (let y = 0; y < side; y++) {
    const py = y - dy - mid;
    for (let x = 0; x < side; x++) {
      const px = x - dx - mid;
      // Image y points down, so a counter-clockwise turn on screen is a clockwise one in (x, y).
      const sx = c * px - s * py + mid;
      const sy = s * px + c * py + mid;
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      const fx = sx - x0, fy = sy - y0;
      const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
      const bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
      out[y * side + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/**
 * Uniform dequantization for data in [-1, 1] made of 256 grey levels: with `y = (x + 1) / 2`
 * and `u ~ U(0, 1)` per pixel, `x' = 2 · (255 · y + u) / 256 - 1`. For a pixel of level `k`
 * (`x = 2k/255 - 1`) that is `2 · (k + u) / 256 - 1`, the classic `(k + u) / 256`
 * dequantization mapped to [-1, 1): the bins of the 256 levels tile [-1, 1) without overlap.
 *
 * @param img The image, modified in place.
 * @param rng The generator.
 * @returns `img`.
 *
 * @example
 * ```ts
 * import { dequantizeImage } from "./augment.ts";
 * import { Rng } from "../lib/random.ts";
 * import assert from "node:assert/strict";
 * const img = dequantizeImage(new Float32Array([-1, 1]), new Rng(0));
 * assert.ok(img[0]! >= -1 && img[0]! < -1 + 2 / 256);
 * assert.ok(img[1]! >= 1 - 2 / 256 && img[1]! < 1);
 * ```
 */
export function dequantizeImage(img: Float32Array, rng: Rng): Float32Array {
  for (let i = 0; i < img.length; i++) {
    img[i] = (2 * (255 * ((img[i]! + 1) / 2) + rng.uniform())) / 256 - 1;
  }
  return img;
}

/**
 * Augments one digit: draws a shift in {-k..k}², an angle in [-r, r] and dequantization noise
 * from `rng` (only for the augmentations that are on), writing into `out`.
 *
 * @param src The source digit, 784 values.
 * @param out The output (not `src`), 784 values.
 * @param rng The generator.
 * @param aug Which augmentations, how strong.
 * @returns `out`.
 *
 * @example
 * ```ts
 * import { augmentDigit } from "./augment.ts";
 * import { Rng } from "../lib/random.ts";
 * import assert from "node:assert/strict";
 * const src = new Float32Array(784).map((_, i) => (i % 28) / 14 - 1);
 * const a = augmentDigit(src, new Float32Array(784), new Rng(3), { translate: 2, rotate: 10 });
 * const b = augmentDigit(src, new Float32Array(784), new Rng(3), { translate: 2, rotate: 10 });
 * assert.deepEqual(a, b);
 * assert.deepEqual(augmentDigit(src, new Float32Array(784), new Rng(3), {}), src);
 * ```
 */
export function augmentDigit(
  src: Float32Array,
  out: Float32Array,
  rng: Rng,
  aug: DigitAugmentation,
): Float32Array {
  const { translate = 0, rotate = 0, dequantize = false } = aug;
  const dx = translate > 0 ? rng.int(2 * translate + 1) - translate : 0;
  const dy = translate > 0 ? rng.int(2 * translate + 1) - translate : 0;
  const deg = rotate > 0 ? (2 * rng.uniform() - 1) * rotate : 0;
  if (dx === 0 && dy === 0 && deg === 0) out.set(src);
  else warpImage(src, out, 28, dx, dy, deg);
  if (dequantize) dequantizeImage(out, rng);
  return out;
}

/**
 * Adds gaussian noise of standard deviation `std` to every coordinate, in place.
 *
 * @param points The values to jitter.
 * @param rng The generator.
 * @param std The standard deviation; 0 leaves the points unchanged and draws nothing.
 * @returns `points`.
 *
 * @example
 * ```ts
 * import { jitterPoints } from "./augment.ts";
 * import { Rng } from "../lib/random.ts";
 * import assert from "node:assert/strict";
 * const p = new Float32Array([0.5, -0.5]);
 * assert.deepEqual(jitterPoints(p.slice(), new Rng(1), 0), p);
 * assert.notDeepEqual(jitterPoints(p.slice(), new Rng(1), 0.01), p);
 * ```
 */
export function jitterPoints(points: Float32Array, rng: Rng, std: number): Float32Array {
  if (std > 0) { for (let i = 0; i < points.length; i++) points[i]! += std * rng.normal(); }
  return points;
}
