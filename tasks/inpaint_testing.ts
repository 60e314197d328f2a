/**
 * Helpers of the tests of `deno task inpaint` and `deno task denoise`: running a task, checking a
 * usage error, writing inputs, an S-curve checkpoint. Not a test file itself.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { encode } from "fast-png";
import { halfMask } from "./inpaint.ts";
import { encodeNpy } from "../lib/io/npy.ts";
import {
  oneLineError,
  runTask,
  type TaskOutput,
  untrainedCheckpoint,
} from "../tests/_cli_helpers.ts";

/**
 * The flags naming the shipped MNIST run (UNet-S, learned-range variance, T = 1000).
 *
 * @example
 * ```ts
 * import { PRETRAINED } from "./inpaint_testing.ts";
 * import assert from "node:assert/strict";
 * assert.ok(PRETRAINED.includes("mnist-unet-s"));
 * ```
 */
export const PRETRAINED = ["--runs", "pretrained", "--run", "mnist-unet-s", "--backend", "cpu"];

/**
 * Runs a task as `deno task` would, from the repository's root.
 *
 * @param task The task's file name under `tasks/`, without `.ts`.
 * @param args Its flags.
 * @returns Exit code, stdout and stderr.
 *
 * @example
 * ```ts ignore
 * import { runTaskFile } from "./inpaint_testing.ts";
 * const r = await runTaskFile("inpaint", ["-h"]);
 * ```
 */
export const runTaskFile: (task: string, args: string[]) => Promise<TaskOutput> = runTask;

/**
 * Asserts a usage error: exit 2, one line `error: ...` matching `pattern`, and `out` not written.
 *
 * @param r The task's result.
 * @param pattern What the line says.
 * @param out The output file that must not exist.
 *
 * @example
 * ```ts ignore
 * import { assertUsageError, runTaskFile } from "./inpaint_testing.ts";
 * await assertUsageError(await runTaskFile("denoise", ["--run", "x"]), /--image/, "/tmp/none.png");
 * ```
 */
export async function assertUsageError(
  r: { code: number; stderr: string },
  pattern: RegExp,
  out: string,
): Promise<void> {
  oneLineError(r, pattern);
  await assert.rejects(Deno.stat(out), Deno.errors.NotFound, `${out} was written`);
}

/**
 * Writes test inputs into `dir`: a 28x28 digit (PNG and .npy), a 32x32 PNG, an RGB .npy and a
 * 14x14 mask.
 *
 * @param dir The directory.
 * @returns Their paths.
 *
 * @example
 * ```ts
 * import { writeInputs } from "./inpaint_testing.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const p = await writeInputs(dir);
 * assert.ok((await Deno.stat(p.png)).isFile);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeInputs(dir: string) {
  const grey = (side: number) =>
    encode({ width: side, height: side, channels: 1, depth: 8, data: new Uint8Array(side * side) });
  const paths = {
    png: join(dir, "digit.png"),
    npy: join(dir, "digit.npy"),
    big: join(dir, "big.png"),
    rgb: join(dir, "rgb.npy"),
    smallMask: join(dir, "mask14.npy"),
    mask: join(dir, "mask.png"),
  };
  const digit = new Uint8Array(784);
  for (let i = 0; i < 784; i++) digit[i] = (i % 28 > 9 && i % 28 < 18) ? 255 : 0; // a bar
  await Deno.writeFile(
    paths.png,
    encode({ width: 28, height: 28, channels: 1, depth: 8, data: digit }),
  );
  await Deno.writeFile(paths.npy, encodeNpy(Float32Array.from(digit, (v) => v / 255), [28, 28]));
  await Deno.writeFile(paths.big, grey(32));
  await Deno.writeFile(paths.rgb, encodeNpy(new Float32Array(784 * 3), [28, 28, 3]));
  await Deno.writeFile(paths.smallMask, encodeNpy(new Float32Array(196), [14, 14]));
  await Deno.writeFile(
    paths.mask,
    encode({
      width: 28,
      height: 28,
      channels: 1,
      depth: 8,
      data: Uint8Array.from(halfMask("bottom", 28), (m) => m * 255),
    }),
  );
  return paths;
}

/**
 * A checkpoint of an untrained S-curve model (T = 100), made directly.
 *
 * @param dir Where.
 * @returns The checkpoint's directory.
 *
 * @example
 * ```ts ignore
 * import { sCurveCheckpoint } from "./inpaint_testing.ts";
 * const ckpt = await sCurveCheckpoint(await Deno.makeTempDir());
 * ```
 */
export function sCurveCheckpoint(dir: string): Promise<string> {
  return untrainedCheckpoint(join(dir, "ckpt"), ["--dataset", "s-curve", "--timesteps", "100"]);
}
