/**
 * `deno task inpaint`: fills in the unknown part of a digit with a trained MNIST model
 * (`lib/inpaint.ts`: RePaint or plain replacement), keeping the known pixels; or, for an S-curve
 * run, draws coordinate 2 given coordinate 1 (`--x`).
 *
 * Images are 28x28 grey: a PNG (grey, or colour converted by its luma; transparency over black)
 * or a `.npy` array of shape [28, 28] or [28, 28, 1] with values in [0, 1] (or [0, 255] when any
 * value exceeds 1); intensity 0 is the model's -1, 1 is +1. A mask file has the same form:
 * white (> 0.5) is known, black is inpainted; `--mask top` (bottom, left, right) inpaints that
 * half.
 *
 * The picture (`.png`) puts side by side the input, the masked input (the inpainted region in
 * red) and the results; `.npy` writes the results, float32 [n, 28, 28, 1] in [-1, 1] (S-curve:
 * [n, 2]).
 *
 * @example
 * ```sh
 * deno task inpaint --runs pretrained --run mnist-unet-s --image digit.png --mask top --out result.png
 * deno task inpaint --run <s-curve run> --x 0.05 --n 1000 --out x2.png
 * ```
 *
 * @module
 */
import { extname } from "node:path";
import { BACKEND_OPTION, callerPath, type OptionTable, runTask, UsageError } from "./_cli.ts";
import { checkSampleSteps, SEED_RANGE } from "./_train_options.ts";
import { openRun, requiredRun, RUN_OPTIONS } from "./_load_run.ts";
import { progressLine } from "./_progress.ts";
import { CLASS_SAMPLING, CLIP_OPTION, GUIDANCE_OPTION } from "./sample.ts";
import { dataSample } from "./_evaluate.ts";
import { samplesPicture } from "./_pictures.ts";
import { tf } from "../lib/tf.ts";
import type { ModelFn } from "../lib/tf.ts";
import { guidedModelFn } from "../lib/guidance.ts";
import { inpaint, INPAINT_METHODS, inpaintPlan } from "../lib/inpaint.ts";
import { parseSampleSteps, samplingSchedule } from "../lib/respace.ts";
import {
  encodePng,
  type GreyReadOptions,
  imageGrid,
  montage,
  readGreyImage,
  type RgbImage,
} from "../lib/image/mod.ts";
import { encodeNpy } from "../lib/io/npy.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import type { DiffusionModel } from "../lib/model/mod.ts";
import type { DatasetName } from "../workers/options.ts";

/**
 * The side of the images the image models take (MNIST's).
 *
 * @example
 * ```ts
 * import { IMAGE_SIDE } from "./inpaint.ts";
 * import assert from "node:assert/strict";
 * assert.equal(IMAGE_SIDE, 28);
 * ```
 */
export const IMAGE_SIDE = 28;

/**
 * The half masks `--mask` takes by name: the half named is inpainted.
 *
 * @example
 * ```ts
 * import { HALF_MASKS } from "./inpaint.ts";
 * import assert from "node:assert/strict";
 * assert.ok(HALF_MASKS.includes("top"));
 * ```
 */
export const HALF_MASKS = ["top", "bottom", "left", "right"] as const;

/** A half mask's name. */
export type HalfMask = typeof HALF_MASKS[number];

/**
 * How many results `inpaint` draws by default, per data set.
 *
 * @example
 * ```ts
 * import { INPAINT_COUNTS } from "./inpaint.ts";
 * import assert from "node:assert/strict";
 * assert.equal(INPAINT_COUNTS.mnist, 8);
 * ```
 */
export const INPAINT_COUNTS: Readonly<Record<DatasetName, number>> = { "s-curve": 1000, mnist: 8 };

/**
 * The flags of `deno task inpaint`.
 *
 * @example
 * ```ts
 * import { INPAINT_OPTIONS } from "./inpaint.ts";
 * import { parseOptions } from "./_cli.ts";
 * import assert from "node:assert/strict";
 * const { values } = parseOptions(INPAINT_OPTIONS, ["--mask", "top", "--method", "replace"]);
 * assert.equal(values.method, "replace");
 * assert.equal(values.jump, 10);
 * ```
 */
export const INPAINT_OPTIONS = {
  ...RUN_OPTIONS,
  image: {
    type: "string",
    help: "the digit: 28x28 grey .png, or .npy [28,28] or [28,28,1] in [0,1] (or [0,255])",
    note: "mnist runs: required",
  },
  mask: {
    type: "string",
    help: `the known pixels: a .png or .npy of the image's size (white/1 known, black/0 ` +
      `inpainted), or ${HALF_MASKS.join("|")} (that half inpainted)`,
    note: "with --image: required",
  },
  x: {
    type: "number",
    help: "s-curve runs: coordinate 1, given; coordinate 2 is drawn (the data lie within about " +
      "±0.12 by ±0.22)",
  },
  method: {
    type: "string",
    choices: INPAINT_METHODS,
    default: "repaint",
    help: "repaint: resampling with jumps; replace: plain replacement (faster, biased)",
  },
  jump: {
    type: "number",
    integer: true,
    min: 1,
    max: 1000,
    default: 10,
    help: "RePaint jump length",
  },
  resample: {
    type: "number",
    integer: true,
    min: 1,
    max: 100,
    default: 10,
    help: "RePaint resample count (1: no resampling)",
  },
  "sample-steps": {
    type: "string",
    help:
      "sampling steps: all (T), or a respacing like 50 or 10,15,20 (solvers' steps do not apply)",
    note: "the run's own --sample-steps (s-curve: all, mnist: 50)",
  },
  n: {
    type: "number",
    integer: true,
    min: 1,
    max: 100000,
    help: "number of results",
    note: `mnist: ${INPAINT_COUNTS.mnist}, s-curve: ${INPAINT_COUNTS["s-curve"]}`,
  },
  seed: { type: "number", integer: true, ...SEED_RANGE, default: 0, help: "noise seed" },
  ema: { type: "boolean", default: true, help: "use the EMA weights (--no-ema for the raw ones)" },
  clip: CLIP_OPTION,
  class: {
    type: "string",
    help: "a class-conditional model's class 0..9 to inpaint towards",
    note: "none: unconditional",
  },
  guidance: GUIDANCE_OPTION,
  out: {
    type: "string",
    default: "inpaint.png",
    help: "output file: .png (input, masked input, results) or .npy (the results)",
  },
  backend: BACKEND_OPTION,
} as const satisfies OptionTable;

/**
 * A half mask of a square image: 1 (known) everywhere but the named half.
 *
 * @param half The half that is inpainted.
 * @param side The image's side.
 * @returns `side * side` values, row-major.
 *
 * @example
 * ```ts
 * import { halfMask } from "./inpaint.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...halfMask("top", 2)], [0, 0, 1, 1]);
 * assert.deepEqual([...halfMask("right", 2)], [1, 0, 1, 0]);
 * ```
 */
export function halfMask(half: HalfMask, side: number): Float32Array {
  const m = new Float32Array(side * side);
  const h = side / 2;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const unknown = half === "top"
        ? y < h
        : half === "bottom"
        ? y >= h
        : half === "left"
        ? x < h
        : x >= h;
      m[y * side + x] = unknown ? 0 : 1;
    }
  }
  return m;
}

/**
 * Reads a grey image flag's file as the model's [-1, 1] values of a 28x28 image; every failure
 * (missing, unreadable, another size or format) is a {@linkcode UsageError} naming the flag.
 *
 * @param flag The flag's name, e.g. `--image`.
 * @param path The path as given.
 * @param options For `.npy`: whether values outside [0, 1] are taken.
 * @returns 784 values in [-1, 1] (beyond, for unbounded `.npy`).
 * @throws {UsageError} If the file is missing or not a 28x28 grey image.
 *
 * @example
 * ```ts
 * import { readImageFlag } from "./inpaint.ts";
 * import assert from "node:assert/strict";
 * await assert.rejects(readImageFlag("--image", "/no/such.png"), /no such file/);
 * ```
 */
export async function readImageFlag(
  flag: string,
  path: string,
  options: GreyReadOptions = {},
): Promise<Float32Array> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(callerPath(path));
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    throw new UsageError(`${flag} ${path}: cannot read it (${why})`);
  }
  try {
    return readGreyImage(bytes, path, [IMAGE_SIDE, IMAGE_SIDE], options);
  } catch (e) {
    throw new UsageError(`${flag}: ${(e as Error).message}`);
  }
}

/**
 * Checks that `--out` has one of the formats and that its directory exists.
 *
 * @param path The absolute path.
 * @param formats Extensions, with their dot.
 * @throws {UsageError} Otherwise.
 *
 * @example
 * ```ts
 * import { checkOut } from "./inpaint.ts";
 * import assert from "node:assert/strict";
 * await checkOut("/tmp/x.png", [".png"]);
 * await assert.rejects(checkOut("/tmp/x.gif", [".png"]), /extension/);
 * ```
 */
export async function checkOut(path: string, formats: readonly string[]): Promise<void> {
  const ext = extname(path).toLowerCase();
  if (!formats.includes(ext)) {
    throw new UsageError(
      `cannot write ${path}: the extension must be one of ${formats.join(", ")}`,
    );
  }
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  let ok = false;
  try {
    ok = (await Deno.stat(dir)).isDirectory;
  } catch { /* missing */ }
  if (!ok) throw new UsageError(`cannot write ${path}: directory ${dir} does not exist`);
}

/**
 * Checks a steps flag for the ancestral sampler (RePaint and denoising take no solver's steps).
 *
 * @param steps The value.
 * @param timesteps The model's T.
 * @returns The value.
 * @throws {UsageError} If it does not parse, does not fit, or names a solver.
 *
 * @example
 * ```ts
 * import { checkAncestralSteps } from "./inpaint.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkAncestralSteps("50", 1000), "50");
 * assert.throws(() => checkAncestralSteps("ddim50", 1000), /ancestral/);
 * ```
 */
export function checkAncestralSteps(steps: string, timesteps?: number): string {
  checkSampleSteps("--sample-steps", steps, timesteps);
  const { method } = parseSampleSteps(steps);
  if (method !== "ancestral") {
    throw new UsageError(
      `--sample-steps ${steps}: this task runs the ancestral sampler; give all, N or N1,N2,...`,
    );
  }
  return steps;
}

/**
 * The model function a task samples with: the model itself, or, with `--class`, its
 * classifier-free guided form.
 *
 * @param model The loaded model.
 * @param cls The `--class` value, if given.
 * @param guidance The `--guidance` value, if given.
 * @param where The checkpoint, for the message.
 * @returns The model function and a words' description of the class.
 * @throws {UsageError} For a class on a model without labels, or a class out of range.
 *
 * @example
 * ```ts
 * import { modelFnOf } from "./inpaint.ts";
 * import { createModel } from "../lib/model/mod.ts";
 * import assert from "node:assert/strict";
 * const model = createModel({ kind: "mlp", timesteps: 10, outDim: 2 });
 * assert.equal(modelFnOf(model, undefined, undefined, "ckpt").note, "");
 * assert.throws(() => modelFnOf(model, "3", undefined, "ckpt"), /has no labels/);
 * model.dispose();
 * ```
 */
export function modelFnOf(
  model: DiffusionModel,
  cls: string | undefined,
  guidance: number | undefined,
  where: string,
): { fn: ModelFn; note: string } {
  if (cls === undefined) {
    if (guidance !== undefined) {
      throw new UsageError("--guidance applies only with --class (a class-conditional model)");
    }
    return { fn: (x, t) => model.apply(x, t, { training: false }), note: "" };
  }
  if (!(model.numClasses > 0)) {
    throw new UsageError(
      `--class needs a class-conditional model (train --class-cond); ${where} has no labels`,
    );
  }
  const c = /^\d+$/.test(cls) ? Number(cls) : NaN;
  if (!(c >= 0 && c < model.numClasses)) {
    throw new UsageError(
      `--class must be a whole number from 0 to ${model.numClasses - 1}; got "${cls}"`,
    );
  }
  const w = guidance ?? CLASS_SAMPLING.guidance;
  return {
    fn: guidedModelFn(model, { labels: c, guidance: w }),
    note: `, class ${c}, guidance ${w}`,
  };
}

/**
 * One digit as a picture tile (scale 2); where `tint` is 0 the pixels are drawn red.
 *
 * @param values 784 values in [-1, 1].
 * @param tint A mask: 0 where to tint.
 * @returns The tile.
 *
 * @example
 * ```ts
 * import { digitTile } from "./inpaint.ts";
 * import assert from "node:assert/strict";
 * const t = digitTile(new Float32Array(784).fill(1), new Float32Array(784));
 * assert.deepEqual([...t.data.subarray(0, 3)], [200, 40, 40]);
 * ```
 */
export function digitTile(values: Float32Array, tint?: Float32Array): RgbImage {
  const tile = imageGrid(values, [1, IMAGE_SIDE, IMAGE_SIDE], { cols: 1, scale: 2, pad: 0 });
  if (!tint) return tile;
  const inner = montage([tile], { pad: 0 }); // a copy
  for (let y = 0; y < inner.height; y++) {
    for (let x = 0; x < inner.width; x++) {
      if (tint[Math.floor(y / 2) * IMAGE_SIDE + Math.floor(x / 2)]! > 0.5) continue;
      const o = (y * inner.width + x) * 3;
      inner.data.set([200, 40, 40], o);
    }
  }
  return inner;
}

/** A row of tiles: the input, the masked input, then the results. */
function _resultsPicture(image: Float32Array, mask: Float32Array, results: Float32Array): RgbImage {
  const n = results.length / (IMAGE_SIDE * IMAGE_SIDE);
  const tiles = [digitTile(image), digitTile(image, mask)];
  for (let k = 0; k < n; k++) {
    tiles.push(digitTile(results.subarray(k * 784, (k + 1) * 784)));
  }
  return montage(tiles, { cols: Math.min(tiles.length, 10), pad: 4, background: [40, 40, 40] });
}

if (import.meta.main) {
  await runTask(
    "deno task inpaint --run <id> (--image F --mask M | --x V) [flags]",
    INPAINT_OPTIONS,
    async (v) => {
      requiredRun(v.run);
      const out = callerPath(v.out!);
      await checkOut(out, [".png", ".npy"]);
      if (v.image !== undefined && v.x !== undefined) {
        throw new UsageError("--image (a digit) and --x (an S-curve point) exclude each other");
      }
      if (v.image === undefined && v.x === undefined) {
        throw new UsageError(
          "--image and --mask (an MNIST run) or --x (an S-curve run) is required",
        );
      }
      if (v.mask !== undefined && v.image === undefined) {
        throw new UsageError("--mask applies only with --image");
      }
      if (v.image !== undefined && v.mask === undefined) {
        throw new UsageError(
          `--mask is required with --image: a file, or ${HALF_MASKS.join(", ")}`,
        );
      }
      if (v["sample-steps"] !== undefined) checkAncestralSteps(v["sample-steps"]);
      let image: Float32Array | undefined, mask: Float32Array | undefined;
      if (v.image !== undefined) {
        image = await readImageFlag("--image", v.image);
        const half = (HALF_MASKS as readonly string[]).includes(v.mask!);
        if (!half && !/\.(png|npy)$/i.test(v.mask!)) {
          throw new UsageError(
            `--mask must be a .png or .npy file or one of ${
              HALF_MASKS.join(", ")
            }; got "${v.mask}"`,
          );
        }
        mask = half
          ? halfMask(v.mask as HalfMask, IMAGE_SIDE)
          : (await readImageFlag("--mask", v.mask!)).map((m) => (m > 0 ? 1 : 0));
      }
      const { config, model, step, checkpoint, schedule } = await openRun(v);
      try {
        const dataset = config.dataset;
        if (dataset === "s-curve" && image) {
          throw new UsageError(
            `--image applies to image models; ${v.run} is an S-curve run (use --x)`,
          );
        }
        if (dataset === "mnist" && v.x !== undefined) {
          throw new UsageError(
            `--x applies to S-curve runs; ${v.run} is an MNIST run (use --image)`,
          );
        }
        const steps = checkAncestralSteps(
          v["sample-steps"] ?? config.sampleSteps ?? "all",
          config.timesteps,
        );
        const { fn, note } = modelFnOf(model, v.class, v.guidance, checkpoint);
        const n = v.n ?? INPAINT_COUNTS[dataset];
        const s = samplingSchedule(schedule, steps).schedule;
        const method = v.method!;
        const plan = inpaintPlan(s.numTimesteps, {
          method,
          jumpLength: v.jump,
          resampleCount: v.resample,
        });
        const calls = plan.filter((t, k) => k > 0 && t < plan[k - 1]!).length;
        console.error(
          `inpainting ${n} with ${method} from ${checkpoint} (step ${step}, ${
            v.ema ? "EMA" : "raw"
          } weights, steps ${steps}${
            method === "repaint" ? `, jump ${v.jump}, resample ${v.resample}` : ""
          }: ${calls} model calls${note})`,
        );
        const item = dataset === "mnist" ? [IMAGE_SIDE, IMAGE_SIDE, 1] : [2];
        const known = dataset === "mnist"
          ? tf.tidy(() =>
            tf.tile(tf.tensor4d(image!, [1, IMAGE_SIDE, IMAGE_SIDE, 1]), [n, 1, 1, 1])
          )
          : tf.tidy(() => tf.tile(tf.tensor2d([[v.x!, 0]]), [n, 1]));
        const m = dataset === "mnist"
          ? tf.tensor4d(mask!, [1, IMAGE_SIDE, IMAGE_SIDE, 1])
          : tf.tensor2d([[1, 0]]);
        const onProgress = progressLine("inpainting");
        let done = 0;
        const t0 = performance.now();
        const result = inpaint(s, fn, known, m, {
          method,
          jumpLength: v.jump,
          resampleCount: v.resample,
          seed: v.seed,
          variance: config.variance,
          clipDenoised: v.clip ?? dataset === "mnist",
          onStep: (st) => {
            if (st.kind === "reverse") onProgress(++done, calls);
          },
        });
        const x = result.dataSync() as Float32Array;
        tf.dispose([result, known, m]);
        const secs = (performance.now() - t0) / 1000;
        let bytes: Uint8Array;
        if (extname(out).toLowerCase() === ".npy") {
          bytes = encodeNpy(x, [n, ...item]);
        } else if (dataset === "mnist") {
          bytes = encodePng(_resultsPicture(image!, mask!, x));
        } else {
          bytes = encodePng(
            samplesPicture("s-curve", x, n, (await dataSample("s-curve", 2000, 0)).x),
          );
        }
        if (dataset === "s-curve") {
          const x2 = Array.from({ length: n }, (_, i) => x[2 * i + 1]!).sort((a, b) => a - b);
          const mean = x2.reduce((a, b) => a + b, 0) / n;
          const sd = Math.sqrt(x2.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
          const q = (p: number) => x2[Math.min(n - 1, Math.floor(p * n))]!.toFixed(4);
          console.log(
            `x2 | x1 = ${v.x}: mean ${mean.toFixed(4)}, sd ${sd.toFixed(4)}, ` +
              `quantiles 5% ${q(0.05)}, 25% ${q(0.25)}, 50% ${q(0.5)}, 75% ${q(0.75)}, 95% ${
                q(0.95)
              }`,
          );
        }
        await writeFileAtomic(out, bytes);
        console.log(`wrote ${v.out} (${n} results in ${secs.toFixed(1)}s)`);
      } finally {
        model.dispose();
      }
      return 0;
    },
  );
}
