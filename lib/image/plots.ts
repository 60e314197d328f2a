/**
 * The pictures a run writes: grids of grayscale images (MNIST samples) and scatter plots of
 * 2-D points (S-curve samples), both as {@linkcode RgbImage}s ready for `encodePng`.
 *
 * @module
 */
import { createImage, drawDot, fillRect, montage, type Rgb } from "./canvas.ts";
import type { RgbImage } from "./png.ts";

/**
 * Turns `n` grayscale images in [-1, 1] (NHWC with one channel, flattened) into a grid.
 *
 * @param pixels `n * height * width` values in [-1, 1]; values outside are clipped.
 * @param shape `[n, height, width]`.
 * @param options `cols` (default ceil(sqrt(n))), `scale` (pixel repeat, default 2), `pad` (default 2).
 * @returns The grid image.
 *
 * @example
 * ```ts
 * import { imageGrid } from "./plots.ts";
 * import assert from "node:assert/strict";
 * const g = imageGrid(new Float32Array(4 * 28 * 28).fill(1), [4, 28, 28], { scale: 1, pad: 0 });
 * assert.equal(g.width, 56);
 * assert.equal(g.data[0], 255);
 * ```
 */
export function imageGrid(
  pixels: Float32Array,
  shape: [number, number, number],
  options: { cols?: number; scale?: number; pad?: number } = {},
): RgbImage {
  const [n, h, w] = shape;
  if (pixels.length !== n * h * w) {
    throw new TypeError(
      `Cannot draw a grid: expected ${n * h * w} values for ${n}x${h}x${w}, got ${pixels.length}`,
    );
  }
  const scale = options.scale ?? 2;
  const tiles: RgbImage[] = [];
  for (let k = 0; k < n; k++) {
    const tile = createImage(w * scale, h * scale, [0, 0, 0]);
    for (let y = 0; y < h * scale; y++) {
      for (let x = 0; x < w * scale; x++) {
        const v = pixels[k * h * w + Math.floor(y / scale) * w + Math.floor(x / scale)]!;
        const g = Math.round((Math.min(1, Math.max(-1, v)) + 1) * 127.5);
        const o = (y * tile.width + x) * 3;
        tile.data[o] = tile.data[o + 1] = tile.data[o + 2] = g;
      }
    }
    tiles.push(tile);
  }
  return montage(tiles, {
    cols: options.cols ?? Math.ceil(Math.sqrt(n)),
    pad: options.pad ?? 2,
    background: [40, 40, 40],
  });
}

/** Options of {@linkcode scatterPlot}. */
export interface ScatterOptions {
  /** Side of the square plot in pixels. @default 320 */
  size?: number;
  /** Half-width of the square data window centred on 0. @default 0.15 (the S-curve's scale) */
  range?: number;
  /** Dot colour. @default a blue */
  color?: Rgb;
  /** Dot radius in pixels. @default 1.2 */
  radius?: number;
  /** Dot opacity. @default 0.5 */
  alpha?: number;
  /** Points drawn behind the main ones in grey, e.g. the data. */
  reference?: Float32Array;
}

/**
 * Draws 2-D points (`[x0, y0, x1, y1, ...]`) as a square scatter plot with axes through 0.
 * Points outside the window are drawn clamped to its border, so divergence stays visible.
 *
 * @param points Interleaved coordinates.
 * @param options See {@linkcode ScatterOptions}.
 * @returns The plot.
 *
 * @example
 * ```ts
 * import { scatterPlot } from "./plots.ts";
 * import assert from "node:assert/strict";
 * const img = scatterPlot(new Float32Array([0, 0, 0.1, 0.1]), { size: 100 });
 * assert.equal(img.width, 100);
 * ```
 */
export function scatterPlot(points: Float32Array, options: ScatterOptions = {}): RgbImage {
  const size = options.size ?? 320;
  const range = options.range ?? 0.15;
  const img = createImage(size, size);
  const toPx = (v: number) => ((v + range) / (2 * range)) * (size - 1);
  const mid = Math.round(toPx(0));
  fillRect(img, [0, mid, size, 1], [225, 225, 225]);
  fillRect(img, [mid, 0, 1, size], [225, 225, 225]);
  const draw = (p: Float32Array, color: Rgb, alpha: number) => {
    for (let i = 0; i + 1 < p.length; i += 2) {
      const x = Math.min(size - 1, Math.max(0, toPx(p[i]!)));
      const y = Math.min(size - 1, Math.max(0, size - 1 - toPx(p[i + 1]!)));
      drawDot(img, [x, y], options.radius ?? 1.2, color, alpha);
    }
  };
  if (options.reference) draw(options.reference, [190, 190, 190], 0.35);
  draw(points, options.color ?? [31, 100, 200], options.alpha ?? 0.5);
  fillRect(img, [0, 0, size, 1], [120, 120, 120]);
  fillRect(img, [0, size - 1, size, 1], [120, 120, 120]);
  fillRect(img, [0, 0, 1, size], [120, 120, 120]);
  fillRect(img, [size - 1, 0, 1, size], [120, 120, 120]);
  return img;
}
