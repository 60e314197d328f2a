/**
 * Reading grey images from files' bytes: PNG (through `fast-png`: grey, grey with alpha, RGB,
 * RGBA or indexed, 1 to 16 bits) and NumPy `.npy` arrays, as intensities in [0, 1] and as the
 * model's [-1, 1].
 *
 * @module
 */
import { convertIndexedToRgb, decode } from "fast-png";
import { decodeNpy } from "../io/npy.ts";

/** A grey image: intensities in [0, 1], row-major. */
export interface GreyImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `width * height` intensities in [0, 1] (0 black, 1 white). */
  data: Float32Array;
}

/**
 * Decodes a PNG as grey intensities in [0, 1]: colour is converted by its luma (ITU-R BT.601,
 * 0.299 R + 0.587 G + 0.114 B) and transparency is laid over black (MNIST's background).
 *
 * @param bytes The PNG file's bytes.
 * @returns The grey image.
 * @throws {TypeError} If the bytes are not a PNG it can read.
 *
 * @example
 * ```ts
 * import { encodePng } from "./png.ts";
 * import { decodePngGrey } from "./grey.ts";
 * import assert from "node:assert/strict";
 * const rgb = new Uint8Array([255, 255, 255, 255, 0, 0]); // white, red
 * const g = decodePngGrey(encodePng({ width: 2, height: 1, data: rgb }));
 * assert.equal(g.width, 2);
 * assert.equal(g.data[0], 1);
 * assert.ok(Math.abs(g.data[1]! - 0.299) < 1e-6);
 * ```
 */
export function decodePngGrey(bytes: Uint8Array): GreyImage {
  let png;
  try {
    png = decode(bytes);
  } catch (e) {
    throw new TypeError(`Cannot read PNG: ${e instanceof Error ? e.message : e}`);
  }
  const { width, height } = png;
  let channels = png.channels, depth: number = png.depth;
  let raw: ArrayLike<number> = png.data;
  if (png.palette) {
    raw = convertIndexedToRgb(png);
    channels = png.palette[0]?.length ?? 3;
    depth = 8;
  } else if (depth < 8) {
    raw = _unpack(png.data as Uint8Array, width, height, channels, depth);
  }
  const max = 2 ** depth - 1;
  const data = new Float32Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const p = i * channels;
    const grey = channels >= 3
      ? 0.299 * raw[p]! + 0.587 * raw[p + 1]! + 0.114 * raw[p + 2]!
      : raw[p]!;
    const alpha = channels === 2 || channels === 4 ? raw[p + channels - 1]! / max : 1;
    data[i] = Math.min(1, Math.max(0, (grey / max) * alpha));
  }
  return { width, height, data };
}

/** Unpacks samples of 1, 2 or 4 bits (rows padded to whole bytes) to one number each. */
function _unpack(
  packed: Uint8Array,
  width: number,
  height: number,
  channels: number,
  depth: number,
): Uint8Array {
  const perRow = width * channels;
  const rowBytes = Math.ceil((perRow * depth) / 8);
  const out = new Uint8Array(perRow * height);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let k = 0; k < perRow; k++) {
      const bit = k * depth;
      const byte = packed[y * rowBytes + (bit >> 3)]!;
      out[y * perRow + k] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/** Options of {@linkcode decodeNpyGrey} and {@linkcode readGreyImage}. */
export interface GreyReadOptions {
  /**
   * Take `.npy` values as they are, on the [0, 1] scale, even outside it (a noisy observation's
   * values are), instead of checking them and reading [0, 255] arrays.
   *
   * @default {false}
   */
  unbounded?: boolean;
}

/**
 * Reads a `.npy` array as a grey image: shape `[H, W]` or `[H, W, 1]`, values in [0, 1], or in
 * [0, 255] when any value exceeds 1 (then divided by 255); with `unbounded`, any finite values,
 * on the [0, 1] scale.
 *
 * @param bytes The `.npy` file's bytes.
 * @param options Whether values outside [0, 1] are taken as they are.
 * @returns The grey image.
 * @throws {TypeError} If the array is not 2-D (or 3-D with one channel), or its values lie outside
 *   [0, 255].
 *
 * @example
 * ```ts
 * import { encodeNpy } from "../io/npy.ts";
 * import { decodeNpyGrey } from "./grey.ts";
 * import assert from "node:assert/strict";
 * const g = decodeNpyGrey(encodeNpy(new Float32Array([0, 255, 255, 0]), [2, 2, 1]));
 * assert.deepEqual([...g.data], [0, 1, 1, 0]); // [0, 255] read as [0, 1]
 * const noisy = encodeNpy(new Float32Array([-0.5, 1.5]), [1, 2]);
 * assert.deepEqual([...decodeNpyGrey(noisy, { unbounded: true }).data], [-0.5, 1.5]);
 * assert.throws(() => decodeNpyGrey(encodeNpy(new Float32Array(12), [2, 2, 3])), /\[H, W\]/);
 * ```
 */
export function decodeNpyGrey(bytes: Uint8Array, options: GreyReadOptions = {}): GreyImage {
  const { data, shape } = decodeNpy(bytes);
  if (!(shape.length === 2 || (shape.length === 3 && shape[2] === 1))) {
    throw new TypeError(
      `Cannot read a grey image from .npy: expected shape [H, W] or [H, W, 1], got [${shape}]`,
    );
  }
  let lo = Infinity, hi = -Infinity;
  for (const v of data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (options.unbounded) {
    if (data.length > 0 && !(Number.isFinite(lo) && Number.isFinite(hi))) {
      throw new TypeError("Cannot read a grey image from .npy: expected finite values");
    }
    return { height: shape[0]!, width: shape[1]!, data };
  }
  if (data.length > 0 && !(lo >= 0 && hi <= 255)) {
    throw new TypeError(
      `Cannot read a grey image from .npy: expected values in [0, 1] or [0, 255], got [${lo}, ${hi}]`,
    );
  }
  const scale = hi > 1 ? 1 / 255 : 1;
  return {
    height: shape[0]!,
    width: shape[1]!,
    data: scale === 1 ? data : data.map((v) => Math.fround(v * scale)),
  };
}

/**
 * Reads a grey image of a given size from a file's bytes, by the file's extension (`.png` or
 * `.npy`), as the model's values: intensity 0 is -1, intensity 1 is 1.
 *
 * @param bytes The file's bytes.
 * @param name The file's name (its extension says the format).
 * @param size `[height, width]` expected.
 * @param options For `.npy`: whether values outside [0, 1] are taken as they are.
 * @returns `height * width` values in [-1, 1], row-major.
 * @throws {TypeError} For another format, a file that does not decode, or another size.
 *
 * @example
 * ```ts
 * import { encodeNpy } from "../io/npy.ts";
 * import { readGreyImage } from "./grey.ts";
 * import assert from "node:assert/strict";
 * const x = readGreyImage(encodeNpy(new Float32Array(4).fill(1), [2, 2]), "a.npy", [2, 2]);
 * assert.deepEqual([...x], [1, 1, 1, 1]);
 * assert.throws(() => readGreyImage(encodeNpy(new Float32Array(4), [2, 2]), "a.npy", [28, 28]), /28x28/);
 * assert.throws(() => readGreyImage(new Uint8Array(4), "a.jpg", [2, 2]), /\.png or \.npy/);
 * ```
 */
export function readGreyImage(
  bytes: Uint8Array,
  name: string,
  size: readonly [number, number],
  options: GreyReadOptions = {},
): Float32Array {
  const ext = name.toLowerCase().match(/\.[^./]*$/)?.[0] ?? "";
  let img: GreyImage;
  switch (ext) {
    case ".png":
      img = decodePngGrey(bytes);
      break;
    case ".npy":
      img = decodeNpyGrey(bytes, options);
      break;
    default:
      throw new TypeError(`Cannot read ${name}: expected a .png or .npy file`);
  }
  const [h, w] = size;
  if (img.height !== h || img.width !== w) {
    throw new TypeError(
      `Cannot read ${name}: expected a ${h}x${w} grey image, got ${img.height}x${img.width}`,
    );
  }
  return img.data.map((v) => v * 2 - 1);
}
