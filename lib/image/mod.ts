/**
 * Pictures: PNG encoding, a minimal raster, image grids and scatter plots.
 *
 * @module
 */
export { encodePng, type RgbImage } from "./png.ts";
export {
  decodeNpyGrey,
  decodePngGrey,
  type GreyImage,
  type GreyReadOptions,
  readGreyImage,
} from "./grey.ts";
export { createImage, drawDot, fillRect, montage, paste, type Rgb } from "./canvas.ts";
export { imageGrid, type ScatterOptions, scatterPlot } from "./plots.ts";
