/**
 * `deno task denoise`: draws clean digits from the posterior of a trained MNIST model given a
 * noisy one (`lib/denoise.ts`): the noisy image, in the model's [-1, 1], is taken as x + sigma n;
 * it is scaled to the step whose noise level is sigma and the reverse process runs from there.
 *
 * `--sigma` is in the model's units ([-1, 1] spans black to white): noise of standard deviation
 * s on the [0, 1] scale is sigma = 2 s. A PNG clips the noise to [0, 1]; a `.npy` [28, 28] or
 * [28, 28, 1] on the [0, 1] scale keeps values outside it.
 *
 * The picture (`.png`) puts the noisy input and the draws side by side; `.npy` writes the draws,
 * float32 [n, 28, 28, 1] in [-1, 1].
 *
 * @example
 * ```sh
 * deno task denoise --runs pretrained --run mnist-unet-s --image noisy.npy --sigma 0.5 --out clean.png
 * ```
 *
 * @module
 */
import { extname } from "node:path";
import { BACKEND_OPTION, callerPath, type OptionTable, runTask, UsageError } from "./_cli.ts";
import { SEED_RANGE } from "./_train_options.ts";
import { openRun, requiredRun, RUN_OPTIONS } from "./_load_run.ts";
import { progressLine } from "./_progress.ts";
import { GUIDANCE_OPTION } from "./sample.ts";
import {
  checkAncestralSteps,
  checkOut,
  digitTile,
  IMAGE_SIDE,
  modelFnOf,
  readImageFlag,
} from "./inpaint.ts";
import { tf } from "../lib/tf.ts";
import { denoise, denoisingSchedule } from "../lib/denoise.ts";
import { encodePng, montage } from "../lib/image/mod.ts";
import { encodeNpy } from "../lib/io/npy.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";

/**
 * The flags of `deno task denoise`.
 *
 * @example
 * ```ts
 * import { DENOISE_OPTIONS } from "./denoise.ts";
 * import { parseOptions } from "./_cli.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseOptions(DENOISE_OPTIONS, ["--sigma", "0.5"]).values.n, 4);
 * ```
 */
export const DENOISE_OPTIONS = {
  ...RUN_OPTIONS,
  image: {
    type: "string",
    help: "the noisy digit: 28x28 grey .png, or .npy [28,28] or [28,28,1] on the [0,1] scale " +
      "(values outside kept)",
    note: "required",
  },
  sigma: {
    type: "number",
    help: "the noise's standard deviation in the model's units ([-1,1]; 2x that on [0,1])",
    note: "required",
  },
  n: { type: "number", integer: true, min: 1, max: 10000, default: 4, help: "number of draws" },
  "sample-steps": {
    type: "string",
    help: "which steps below the matched one: all, or those of a respacing like 50",
    note: "the run's own --sample-steps (mnist: 50)",
  },
  seed: { type: "number", integer: true, ...SEED_RANGE, default: 0, help: "noise seed" },
  ema: { type: "boolean", default: true, help: "use the EMA weights (--no-ema for the raw ones)" },
  clip: { type: "boolean", default: true, help: "clip predicted x_0 to [-1, 1]" },
  class: {
    type: "string",
    help: "a class-conditional model's class 0..9",
    note: "none: unconditional",
  },
  guidance: GUIDANCE_OPTION,
  out: {
    type: "string",
    default: "denoised.png",
    help: "output file: .png (noisy input, then the draws) or .npy (the draws)",
  },
  backend: BACKEND_OPTION,
} as const satisfies OptionTable;

if (import.meta.main) {
  await runTask(
    "deno task denoise --run <id> --image F --sigma S [flags]",
    DENOISE_OPTIONS,
    async (v) => {
      requiredRun(v.run);
      const out = callerPath(v.out!);
      await checkOut(out, [".png", ".npy"]);
      if (v.image === undefined) throw new UsageError("--image is required (the noisy digit)");
      if (v.sigma === undefined) throw new UsageError("--sigma is required (the noise level)");
      if (!(v.sigma > 0)) throw new UsageError(`--sigma must be above 0; got ${v.sigma}`);
      if (v["sample-steps"] !== undefined) checkAncestralSteps(v["sample-steps"]);
      const image = await readImageFlag("--image", v.image, { unbounded: true });
      const { config, model, step, checkpoint, schedule } = await openRun(v);
      try {
        if (config.dataset !== "mnist") {
          throw new UsageError(`--image applies to image models; ${v.run} is an S-curve run`);
        }
        const steps = checkAncestralSteps(
          v["sample-steps"] ?? config.sampleSteps ?? "all",
          config.timesteps,
        );
        let start;
        try {
          start = denoisingSchedule(schedule, v.sigma, steps);
        } catch (e) {
          throw new UsageError(`--sigma ${v.sigma}: ${(e as Error).message}`);
        }
        const { fn, note } = modelFnOf(model, v.class, v.guidance, checkpoint);
        const n = v.n!;
        const calls = start.schedule.numTimesteps;
        console.error(
          `denoising ${n} draws from ${checkpoint} (step ${step}, ${
            v.ema ? "EMA" : "raw"
          } weights): sigma ${v.sigma} matched at t = ${start.index} (sigma ${
            start.sigma.toPrecision(4)
          }), ${calls} steps${note}`,
        );
        const y = tf.tidy(() =>
          tf.tile(tf.tensor4d(image, [1, IMAGE_SIDE, IMAGE_SIDE, 1]), [n, 1, 1, 1])
        );
        const onProgress = progressLine("denoising");
        let done = 0;
        const t0 = performance.now();
        const result = denoise(schedule, fn, y, v.sigma, {
          steps,
          seed: v.seed,
          variance: config.variance,
          clipDenoised: v.clip,
          onStep: () => onProgress(++done, calls),
        });
        const x = result.dataSync() as Float32Array;
        tf.dispose([result, y]);
        const secs = (performance.now() - t0) / 1000;
        let bytes: Uint8Array;
        if (extname(out).toLowerCase() === ".npy") {
          bytes = encodeNpy(x, [n, IMAGE_SIDE, IMAGE_SIDE, 1]);
        } else {
          const tiles = [digitTile(image)];
          for (let k = 0; k < n; k++) tiles.push(digitTile(x.subarray(k * 784, (k + 1) * 784)));
          bytes = encodePng(
            montage(tiles, { cols: Math.min(tiles.length, 10), pad: 4, background: [40, 40, 40] }),
          );
        }
        await writeFileAtomic(out, bytes);
        console.log(`wrote ${v.out} (${n} draws in ${secs.toFixed(1)}s)`);
      } finally {
        model.dispose();
      }
      return 0;
    },
  );
}
