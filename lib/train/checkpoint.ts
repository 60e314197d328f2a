/**
 * Checkpoints: the weights, the EMA weights, Adam's state, the step and an opaque JSON
 * `extra` (the caller's RNG states, timestep-sampler state, run configuration...).
 *
 * ## Format (version 1)
 * A checkpoint is a directory with two files:
 *
 * - `checkpoint.json`, a tfjs-style weight manifest:
 *   ```json
 *   {
 *     "format": "diffusion-ts-checkpoint",
 *     "version": 1,
 *     "model": { "kind": "unet-s", "outChannels": 1, "dropout": 0.1, "seed": 0 },
 *     "step": 1200,
 *     "optimizer": { "name": "adam", "step": 1200 },
 *     "trainer": { "lr": 0.0002, "warmupSteps": 0, "clipNorm": 1, "emaRate": 0.9999,
 *                  "beta1": 0.9, "beta2": 0.999, "eps": 1e-8 },
 *     "modelRng": { "s": [1, 2, 3, 4], "spare": null },
 *     "weightsManifest": [{
 *       "paths": ["weights.bin"],
 *       "weights": [
 *         { "name": "time.fc1.w", "shape": [32, 128], "dtype": "float32", "group": "model" },
 *         ...
 *       ]
 *     }],
 *     "extra": { ... }
 *   }
 *   ```
 *   `model` is the model's full configuration (`createModel(model)` rebuilds it); `weights`
 *   lists every parameter (by its stable name) four times, in the groups `"model"`, `"ema"`,
 *   `"adam_m"` and `"adam_v"`, each group in the model's parameter order; `modelRng` is the
 *   model's dropout stream.
 * - `weights.bin`: the tensors of `weights`, in that order, as little-endian float32,
 *   concatenated without padding (its size is checked against the manifest on load).
 *
 * A sampling checkpoint (written by {@linkcode saveEmaCheckpoint}: what a model shipped for
 * sampling needs, a quarter of the size or less) lists the `"ema"` group alone, optionally as
 * little-endian IEEE float16 (`"dtype": "float16"`), and has `"emaOnly": true`; it loads as a
 * {@linkcode Checkpoint} with `emaOnly` set, samples, and cannot resume training.
 *
 * Writing is atomic: everything is written (and synced) into `<dir>.tmp-<random>`, then
 * renamed to `<dir>`; an existing `<dir>` is first renamed aside to `<dir>.old-<random>` and
 * removed after the swap. Should the process die between the two renames, loading `<dir>`
 * falls back to the `<dir>.old-*` sibling.
 *
 * The decoding is `checkpoint_format.ts`'s (pure, shared with the viewer's browser sampler) and
 * the model building `checkpoint_model.ts`'s; this module adds the files.
 *
 * @module
 */
import type { DiffusionModel } from "../model/types.ts";
import type { Checkpointable } from "./types.ts";
import {
  type Checkpoint,
  CHECKPOINT_FORMAT,
  CHECKPOINT_GROUPS,
  CHECKPOINT_VERSION,
  CheckpointError,
  type CheckpointWeightSpec,
  decodeCheckpoint,
  packWeights,
  parseCheckpointManifest,
  samplingCheckpointJson,
} from "./checkpoint_format.ts";
import { modelFromCheckpoint } from "./checkpoint_model.ts";

export {
  type Checkpoint,
  CheckpointError,
  type CheckpointGroup,
  type CheckpointWeightSpec,
} from "./checkpoint_format.ts";
export { assertCheckpointFits } from "./checkpoint_model.ts";

async function _writeSynced(path: string, data: Uint8Array): Promise<void> {
  const f = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    let written = 0;
    while (written < data.length) written += await f.write(data.subarray(written));
    await f.syncData();
  } finally {
    f.close();
  }
}

async function _exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function _suffix(): string {
  return crypto.randomUUID().slice(0, 8);
}

/**
 * Saves a trainer's full state and `extra` to the directory `dir` (atomically).
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { createModel } from "../model/create_model.ts";
 * import { createTrainer } from "./trainer.ts";
 * import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const model = createModel({ kind: "mlp", timesteps: 10, outDim: 2 });
 * const trainer = createTrainer({
 *   model,
 *   loss: (apply, x0) => ({
 *     loss: tf.mean(apply(x0, tf.zeros([x0.shape[0]!], "int32") as tf.Tensor1D)) as tf.Scalar,
 *   }),
 * });
 * await trainer.step(tf.ones([4, 2]));
 * const dir = await Deno.makeTempDir();
 * await saveCheckpoint(`${dir}/ckpt`, trainer, { note: "hi" });
 * const ckpt = await loadCheckpoint(`${dir}/ckpt`);
 * assert.equal(ckpt.step, 1);
 * assert.deepEqual(ckpt.extra, { note: "hi" });
 * trainer.restore(ckpt);
 * await Deno.remove(dir, { recursive: true });
 * trainer.dispose();
 * model.dispose();
 * ```
 *
 * @param dir The checkpoint directory (created or replaced).
 * @param trainer The trainer.
 * @param extra Any JSON-serialisable value. @default {null}
 */
export async function saveCheckpoint(
  dir: string,
  trainer: Checkpointable,
  extra: unknown = null,
): Promise<void> {
  const state = trainer.getState();
  const model = trainer.model;
  const shapes = model.variables.map((v) => v.shape.slice());
  const weights: CheckpointWeightSpec[] = [];
  for (const group of CHECKPOINT_GROUPS) {
    model.names.forEach((name, i) =>
      weights.push({ name, shape: shapes[i]!, dtype: "float32", group })
    );
  }
  const json = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    model: model.config,
    step: state.step,
    optimizer: { name: "adam", step: state.adam.step },
    trainer: trainer.hyper,
    modelRng: state.modelRng,
    weightsManifest: [{ paths: ["weights.bin"], weights }],
    extra,
  };
  const text = JSON.stringify(json, null, 1);
  const bytes = packWeights([...state.weights, ...state.ema, ...state.adam.m, ...state.adam.v]);
  await _writeAtomically(dir, bytes, text);
}

async function _writeAtomically(dir: string, bytes: Uint8Array, text: string): Promise<void> {
  const tmp = `${dir}.tmp-${_suffix()}`;
  await Deno.mkdir(tmp, { recursive: true });
  try {
    await _writeSynced(`${tmp}/weights.bin`, bytes);
    await _writeSynced(`${tmp}/checkpoint.json`, new TextEncoder().encode(text));
    if (await _exists(dir)) {
      const old = `${dir}.old-${_suffix()}`;
      await Deno.rename(dir, old);
      await Deno.rename(tmp, dir);
      await Deno.remove(old, { recursive: true });
    } else {
      await Deno.rename(tmp, dir);
    }
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
}

async function _resolveDir(dir: string): Promise<string> {
  if (await _exists(`${dir}/checkpoint.json`)) return dir;
  // A save interrupted between its two renames leaves the previous checkpoint at <dir>.old-*.
  const slash = dir.replace(/\/+$/, "").lastIndexOf("/");
  const parent = slash >= 0 ? dir.slice(0, slash) || "/" : ".";
  const base = dir.replace(/\/+$/, "").slice(slash + 1);
  try {
    for await (const e of Deno.readDir(parent)) {
      if (e.isDirectory && e.name.startsWith(`${base}.old-`)) {
        const candidate = `${parent}/${e.name}`;
        if (await _exists(`${candidate}/checkpoint.json`)) return candidate;
      }
    }
  } catch {
    // fall through to the error below
  }
  throw new CheckpointError(`Cannot load checkpoint ${dir}: ${dir}/checkpoint.json is missing`);
}

/**
 * Loads a checkpoint written by {@linkcode saveCheckpoint}. Throws a
 * {@linkcode CheckpointError} with a one-line message when it is missing or corrupt, or when any
 * of its tensors holds a NaN or an infinity (weights that would only sample NaNs).
 *
 * @example
 * ```ts
 * import { CheckpointError, loadCheckpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * await assert.rejects(loadCheckpoint("/nonexistent/ckpt"), CheckpointError);
 * ```
 *
 * @param dir The checkpoint directory.
 * @returns The checkpoint, with plain arrays (no tensors to dispose).
 */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const where = await _resolveDir(dir);
  let text: string;
  try {
    text = await Deno.readTextFile(`${where}/checkpoint.json`);
  } catch (e) {
    throw new CheckpointError(
      `Cannot load checkpoint ${dir}: checkpoint.json cannot be read (${(e as Error).message})`,
    );
  }
  const manifest = parseCheckpointManifest(text, dir);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(`${where}/${manifest.weightsPath}`);
  } catch {
    throw new CheckpointError(`Cannot load checkpoint ${dir}: ${manifest.weightsPath} is missing`);
  }
  return decodeCheckpoint(manifest, bytes);
}

/**
 * Writes a sampling checkpoint: the EMA weights of `ckpt` alone (as float32, or float16 for
 * half the size again), its model configuration, step and `extra`; see the module's format.
 * It loads with `emaOnly` set; {@linkcode loadModel} builds the EMA model from it.
 *
 * @example
 * ```ts
 * import { createModel } from "../model/create_model.ts";
 * import { createTrainer } from "./trainer.ts";
 * import { loadCheckpoint, loadModel, saveCheckpoint, saveEmaCheckpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const model = createModel({ kind: "mlp", timesteps: 10, outDim: 2 });
 * const trainer = createTrainer({ model, loss: () => { throw new Error("unused"); } });
 * const dir = await Deno.makeTempDir();
 * await saveCheckpoint(`${dir}/full`, trainer);
 * await saveEmaCheckpoint(`${dir}/ema`, await loadCheckpoint(`${dir}/full`), { dtype: "float16" });
 * const small = await loadCheckpoint(`${dir}/ema`);
 * assert.equal(small.emaOnly, true);
 * const ema = await loadModel(small);
 * assert.equal(ema.paramCount(), model.paramCount());
 * await assert.rejects(loadModel(small, { weights: "model" }), /only its EMA weights/);
 * ema.dispose();
 * trainer.dispose();
 * model.dispose();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param dir The checkpoint directory (created or replaced, atomically).
 * @param ckpt A loaded checkpoint.
 * @param options The stored precision. @default {{ dtype: "float32" }}
 */
export async function saveEmaCheckpoint(
  dir: string,
  ckpt: Checkpoint,
  options: { dtype?: "float32" | "float16" } = {},
): Promise<void> {
  const dtype = options.dtype ?? "float32";
  const weights: CheckpointWeightSpec[] = ckpt.names.map((name, i) => ({
    name,
    shape: ckpt.shapes[i]!.slice(),
    dtype,
    group: "ema",
  }));
  const json = samplingCheckpointJson(ckpt, weights);
  const bytes = packWeights(ckpt.ema, dtype);
  await _writeAtomically(dir, bytes, JSON.stringify(json, null, 1));
}

/**
 * Builds a model from a checkpoint, with its EMA weights (default, for sampling) or its raw
 * weights.
 *
 * @example
 * ```ts
 * import { CheckpointError, loadModel } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * await assert.rejects(loadModel("/nonexistent/ckpt"), CheckpointError);
 * ```
 *
 * @param dirOrCkpt The checkpoint directory, or a loaded checkpoint.
 * @param options Which weights. @default {{ weights: "ema" }}
 * @returns A new model (dispose it).
 */
export async function loadModel(
  dirOrCkpt: string | Checkpoint,
  options: { weights?: "ema" | "model" } = {},
): Promise<DiffusionModel> {
  const ckpt = typeof dirOrCkpt === "string" ? await loadCheckpoint(dirOrCkpt) : dirOrCkpt;
  return modelFromCheckpoint(ckpt, options);
}
