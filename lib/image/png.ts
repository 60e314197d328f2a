/**
 * PNG encoding of 8-bit RGB images, through `fast-png` (a small, maintained, pure-JS encoder).
 *
 * @module
 */
import { encode } from "fast-png";

/** An 8-bit RGB raster, row-major, 3 bytes a pixel. */
export interface RgbImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `width * height * 3` bytes. */
  data: Uint8Array;
}

/**
 * Encodes an RGB image as PNG bytes.
 *
 * @param image The image.
 * @returns The PNG file's bytes.
 *
 * @example
 * ```ts
 * import { encodePng } from "./png.ts";
 * import assert from "node:assert/strict";
 * const png = encodePng({ width: 2, height: 1, data: new Uint8Array(6) });
 * assert.deepEqual(Array.from(png.subarray(1, 4)), [80, 78, 71]); // "PNG"
 * ```
 */
export function encodePng(image: RgbImage): Uint8Array {
  const { width, height, data } = image;
  if (data.length !== width * height * 3) {
    throw new TypeError(
      `Cannot encode PNG: expected ${
        width * height * 3
      } bytes for ${width}x${height} RGB, got ${data.length}`,
    );
  }
  return encode({ width, height, data, channels: 3, depth: 8 });
}
