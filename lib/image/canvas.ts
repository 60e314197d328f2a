/**
 * A minimal RGB raster for the project's pictures: filled rectangles, round dots, and pasting
 * one image into another. Plots are drawn with these few primitives and encoded by `png.ts`.
 *
 * @module
 */
import type { RgbImage } from "./png.ts";

/** An RGB colour, each channel 0..255. */
export type Rgb = readonly [number, number, number];

/**
 * Creates an image filled with one colour.
 *
 * @param width Width in pixels.
 * @param height Height in pixels.
 * @param background The fill colour.
 * @returns The new image.
 *
 * @example
 * ```ts
 * import { createImage } from "./canvas.ts";
 * import assert from "node:assert/strict";
 * const img = createImage(2, 2, [255, 0, 0]);
 * assert.equal(img.data[0], 255);
 * ```
 */
export function createImage(
  width: number,
  height: number,
  background: Rgb = [255, 255, 255],
): RgbImage {
  if (!(width > 0 && height > 0) || !Number.isInteger(width) || !Number.isInteger(height)) {
    throw new RangeError(`Cannot create a ${width}x${height} image: expected positive integers`);
  }
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    data[3 * i] = background[0];
    data[3 * i + 1] = background[1];
    data[3 * i + 2] = background[2];
  }
  return { width, height, data };
}

/**
 * Fills a rectangle, clipped to the image.
 *
 * @param img The image to draw on.
 * @param rect `[x, y, w, h]` in pixels.
 * @param color The colour.
 *
 * @example
 * ```ts
 * import { createImage, fillRect } from "./canvas.ts";
 * import assert from "node:assert/strict";
 * const img = createImage(4, 4);
 * fillRect(img, [1, 1, 2, 2], [0, 0, 0]);
 * assert.equal(img.data[(1 * 4 + 1) * 3], 0);
 * ```
 */
export function fillRect(img: RgbImage, rect: [number, number, number, number], color: Rgb): void {
  const [x0, y0, w, h] = rect;
  const xa = Math.max(0, Math.floor(x0)), xb = Math.min(img.width, Math.floor(x0 + w));
  const ya = Math.max(0, Math.floor(y0)), yb = Math.min(img.height, Math.floor(y0 + h));
  for (let y = ya; y < yb; y++) {
    for (let x = xa; x < xb; x++) {
      const o = (y * img.width + x) * 3;
      img.data[o] = color[0];
      img.data[o + 1] = color[1];
      img.data[o + 2] = color[2];
    }
  }
}

/**
 * Draws a round dot, blended with the given opacity, clipped to the image.
 *
 * @param img The image to draw on.
 * @param center `[cx, cy]` in pixels.
 * @param radius The radius in pixels.
 * @param color The colour.
 * @param alpha The opacity in [0, 1].
 *
 * @example
 * ```ts
 * import { createImage, drawDot } from "./canvas.ts";
 * import assert from "node:assert/strict";
 * const img = createImage(5, 5);
 * drawDot(img, [2, 2], 1, [0, 0, 0], 1);
 * assert.equal(img.data[(2 * 5 + 2) * 3], 0);
 * ```
 */
export function drawDot(
  img: RgbImage,
  center: [number, number],
  radius: number,
  color: Rgb,
  alpha = 1,
): void {
  const [cx, cy] = center;
  const r2 = radius * radius;
  const ya = Math.max(0, Math.floor(cy - radius)),
    yb = Math.min(img.height - 1, Math.ceil(cy + radius));
  const xa = Math.max(0, Math.floor(cx - radius)),
    xb = Math.min(img.width - 1, Math.ceil(cx + radius));
  for (let y = ya; y <= yb; y++) {
    for (let x = xa; x <= xb; x++) {
      const dx = x - cx, dy = y - cy;
      if (dx * dx + dy * dy > r2) continue;
      const o = (y * img.width + x) * 3;
      for (let c = 0; c < 3; c++) {
        img.data[o + c] = Math.round(img.data[o + c]! * (1 - alpha) + color[c]! * alpha);
      }
    }
  }
}

/**
 * Copies `src` into `dst` with its top-left corner at `(x, y)`, clipped to `dst`.
 *
 * @param dst The image to paste into.
 * @param src The image to paste.
 * @param at `[x, y]`, the top-left corner in `dst`.
 *
 * @example
 * ```ts
 * import { createImage, paste } from "./canvas.ts";
 * import assert from "node:assert/strict";
 * const dst = createImage(4, 4), src = createImage(2, 2, [0, 0, 0]);
 * paste(dst, src, [2, 2]);
 * assert.equal(dst.data[(3 * 4 + 3) * 3], 0);
 * ```
 */
export function paste(dst: RgbImage, src: RgbImage, at: [number, number]): void {
  const [x0, y0] = at;
  for (let y = 0; y < src.height; y++) {
    const dy = y + y0;
    if (dy < 0 || dy >= dst.height) continue;
    for (let x = 0; x < src.width; x++) {
      const dx = x + x0;
      if (dx < 0 || dx >= dst.width) continue;
      const s = (y * src.width + x) * 3, d = (dy * dst.width + dx) * 3;
      dst.data[d] = src.data[s]!;
      dst.data[d + 1] = src.data[s + 1]!;
      dst.data[d + 2] = src.data[s + 2]!;
    }
  }
}

/**
 * Lays images out in a row (or in rows of `cols`), separated by `pad` pixels of `background`.
 *
 * @param images The images, all of the same size.
 * @param options `cols` (default: all in one row), `pad` (default 4), `background`.
 * @returns The montage.
 *
 * @example
 * ```ts
 * import { createImage, montage } from "./canvas.ts";
 * import assert from "node:assert/strict";
 * const m = montage([createImage(3, 3), createImage(3, 3)], { pad: 1 });
 * assert.equal(m.width, 3 * 2 + 1 * 3);
 * ```
 */
export function montage(
  images: RgbImage[],
  options: { cols?: number; pad?: number; background?: Rgb } = {},
): RgbImage {
  const first = images[0];
  if (!first) throw new RangeError("Cannot lay out images: got none");
  const cols = Math.max(1, Math.min(options.cols ?? images.length, images.length));
  const rows = Math.ceil(images.length / cols);
  const pad = options.pad ?? 4;
  const out = createImage(
    cols * first.width + (cols + 1) * pad,
    rows * first.height + (rows + 1) * pad,
    options.background ?? [255, 255, 255],
  );
  images.forEach((img, i) => {
    const r = Math.floor(i / cols), c = i % cols;
    paste(out, img, [pad + c * (first.width + pad), pad + r * (first.height + pad)]);
  });
  return out;
}
