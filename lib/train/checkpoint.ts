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
 * @module
 */
import { tf } from "../tf.ts";
import type { RngState } from "../random.ts";
import { createModel } from "../model/create_model.ts";
import type { DiffusionModel, ModelConfig } from "../model/types.ts";
import type { Checkpointable, TrainerHyper, TrainerState } from "./types.ts";

/** The tensor groups of a checkpoint. */
export type CheckpointGroup = "model" | "ema" | "adam_m" | "adam_v";

const _GROUPS: readonly CheckpointGroup[] = ["model", "ema", "adam_m", "adam_v"];
const _FORMAT = "diffusion-ts-checkpoint";
const _VERSION = 1;

/**
 * A checkpoint problem (missing, corrupt, mismatched); the message is one line.
 *
 * @example
 * ```ts
 * import { CheckpointError, loadCheckpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * await assert.rejects(loadCheckpoint("/nonexistent"), (e) => e instanceof CheckpointError);
 * ```
 */
export class CheckpointError extends Error {
  /** @param message What went wrong. */
  constructor(message: string) {
    super(message);
    this.name = "CheckpointError";
  }
}

/** One manifest entry. */
export interface CheckpointWeightSpec {
  /** The stable parameter name. */
  name: string;
  /** The shape. */
  shape: number[];
  /** "float32", or "float16" in a sampling checkpoint. */
  dtype: "float32" | "float16";
  /** Which copy of the parameter. */
  group: CheckpointGroup;
}

/** A checkpoint in memory. */
export interface Checkpoint extends TrainerState {
  /** The model configuration. */
  config: ModelConfig;
  /** The trainer's hyper-parameters when saved. */
  trainer: TrainerHyper | null;
  /** Stable parameter names, parallel to `weights`, `ema`, `adam.m`, `adam.v`. */
  names: string[];
  /** Parameter shapes, parallel to `names`. */
  shapes: number[][];
  /** The caller's JSON. */
  extra: unknown;
  /**
   * A sampling checkpoint: only the EMA weights were saved (`weights` holds them too; Adam's
   * state is empty); it cannot resume training.
   */
  emaOnly?: boolean;
}

const _LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function _toBytes(arrays: Float32Array[]): Uint8Array {
  const total = arrays.reduce((a, x) => a + x.length, 0);
  const out = new Float32Array(total);
  let off = 0;
  for (const a of arrays) {
    out.set(a, off);
    off += a.length;
  }
  const bytes = new Uint8Array(out.buffer);
  if (!_LITTLE) { for (let i = 0; i < bytes.length; i += 4) bytes.subarray(i, i + 4).reverse(); }
  return bytes;
}

function _fromBytes(bytes: Uint8Array, offset: number, n: number): Float32Array {
  const copy = bytes.slice(offset, offset + 4 * n);
  if (!_LITTLE) { for (let i = 0; i < copy.length; i += 4) copy.subarray(i, i + 4).reverse(); }
  return new Float32Array(copy.buffer);
}

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
  for (const group of _GROUPS) {
    model.names.forEach((name, i) =>
      weights.push({ name, shape: shapes[i]!, dtype: "float32", group })
    );
  }
  const json = {
    format: _FORMAT,
    version: _VERSION,
    model: model.config,
    step: state.step,
    optimizer: { name: "adam", step: state.adam.step },
    trainer: trainer.hyper,
    modelRng: state.modelRng,
    weightsManifest: [{ paths: ["weights.bin"], weights }],
    extra,
  };
  const text = JSON.stringify(json, null, 1);
  const bytes = _toBytes([...state.weights, ...state.ema, ...state.adam.m, ...state.adam.v]);
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

function _firstNonFinite(a: Float32Array): string | null {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    // x - x is 0 for every finite x, NaN for NaN and the infinities.
    if (x - x !== 0) return `${x} at index ${i}`;
  }
  return null;
}

function _isIntArray(a: unknown): a is number[] {
  return Array.isArray(a) && a.every((x) => Number.isInteger(x) && x >= 0);
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
  const fail = (why: string): never => {
    throw new CheckpointError(`Cannot load checkpoint ${dir}: ${why}`);
  };
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await Deno.readTextFile(`${where}/checkpoint.json`));
  } catch (e) {
    return fail(`checkpoint.json is not valid JSON (${(e as Error).message.split("\n")[0]})`);
  }
  if (json === null || typeof json !== "object") return fail("checkpoint.json is not an object");
  if (json.format !== _FORMAT) return fail(`expected format "${_FORMAT}", got ${json.format}`);
  if (json.version !== _VERSION) return fail(`expected version ${_VERSION}, got ${json.version}`);
  const config = json.model as ModelConfig;
  if (config === null || typeof config !== "object" || typeof config.kind !== "string") {
    return fail("the model configuration is missing");
  }
  const step = json.step;
  if (!Number.isInteger(step) || (step as number) < 0) return fail(`invalid step ${step}`);
  const manifest = json.weightsManifest as { paths?: unknown; weights?: unknown }[] | undefined;
  const group0 = Array.isArray(manifest) ? manifest[0] : undefined;
  if (group0 === undefined || !Array.isArray(group0.weights)) {
    return fail("weightsManifest is missing");
  }
  const specs = group0.weights as CheckpointWeightSpec[];
  const paths = Array.isArray(group0.paths) ? group0.paths : ["weights.bin"];
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(`${where}/${paths[0] ?? "weights.bin"}`);
  } catch {
    return fail(`${paths[0]} is missing`);
  }
  const emaOnly = json.emaOnly === true;
  for (const s of specs) {
    if (typeof s?.name !== "string" || !_isIntArray(s.shape) || !_GROUPS.includes(s.group)) {
      return fail(`bad manifest entry ${JSON.stringify(s)}`);
    }
    if (s.dtype !== "float32" && !(emaOnly && s.dtype === "float16")) {
      return fail(`tensor ${s.name} has dtype ${s.dtype}, not float32`);
    }
    if (emaOnly && s.group !== "ema") {
      return fail(`a sampling checkpoint lists tensor ${s.name} in group "${s.group}", not "ema"`);
    }
  }
  const size = (s: CheckpointWeightSpec) =>
    (s.dtype === "float16" ? 2 : 4) * s.shape.reduce((x, y) => x * y, 1);
  const total = specs.reduce((a, s) => a + size(s), 0);
  if (bytes.length !== total) {
    return fail(`weights.bin has ${bytes.length} bytes, the manifest needs ${total}`);
  }
  const byGroup = new Map<CheckpointGroup, { name: string; shape: number[]; data: Float32Array }[]>(
    _GROUPS.map((g) => [g, []]),
  );
  let off = 0;
  for (const s of specs) {
    const n = s.shape.reduce((x, y) => x * y, 1);
    const data = s.dtype === "float16" ? _fromHalfBytes(bytes, off, n) : _fromBytes(bytes, off, n);
    byGroup.get(s.group)!.push({ name: s.name, shape: s.shape, data });
    off += size(s);
  }
  if (emaOnly) {
    // The EMA weights stand in for the model's; there is no optimiser state.
    byGroup.set("model", byGroup.get("ema")!);
    byGroup.set("adam_m", []);
    byGroup.set("adam_v", []);
  }
  for (const [group, list] of byGroup) {
    for (const e of list) {
      const bad = _firstNonFinite(e.data);
      if (bad !== null) return fail(`tensor "${e.name}" (${group}) holds ${bad}`);
    }
  }
  const model = byGroup.get("model")!;
  for (const g of emaOnly ? ["ema" as const] : _GROUPS) {
    const list = byGroup.get(g)!;
    if (list.length !== model.length || list.some((e, i) => e.name !== model[i]!.name)) {
      return fail(`group "${g}" does not list the same parameters as group "model"`);
    }
  }
  const optimizer = json.optimizer as { step?: unknown } | undefined;
  const adamStep = Number.isInteger(optimizer?.step) ? optimizer!.step as number : step as number;
  return {
    config,
    step: step as number,
    trainer: (json.trainer ?? null) as TrainerHyper | null,
    names: model.map((e) => e.name),
    shapes: model.map((e) => e.shape),
    weights: model.map((e) => e.data),
    ema: byGroup.get("ema")!.map((e) => e.data),
    adam: {
      step: adamStep,
      m: byGroup.get("adam_m")!.map((e) => e.data),
      v: byGroup.get("adam_v")!.map((e) => e.data),
    },
    modelRng: json.modelRng as RngState,
    extra: json.extra ?? null,
    ...(emaOnly ? { emaOnly } : {}),
  };
}

function _fromHalfBytes(bytes: Uint8Array, offset: number, n: number): Float32Array {
  const copy = bytes.slice(offset, offset + 2 * n);
  if (!_LITTLE) { for (let i = 0; i < copy.length; i += 2) copy.subarray(i, i + 2).reverse(); }
  return Float32Array.from(new Float16Array(copy.buffer));
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
  const json = {
    format: _FORMAT,
    version: _VERSION,
    emaOnly: true,
    model: ckpt.config,
    step: ckpt.step,
    trainer: ckpt.trainer,
    modelRng: ckpt.modelRng,
    weightsManifest: [{ paths: ["weights.bin"], weights }],
    extra: ckpt.extra,
  };
  const flat = new Float32Array(ckpt.ema.reduce((n, a) => n + a.length, 0));
  let off = 0;
  for (const a of ckpt.ema) {
    flat.set(a, off);
    off += a.length;
  }
  const width = dtype === "float16" ? 2 : 4;
  const bytes = new Uint8Array(dtype === "float16" ? Float16Array.from(flat).buffer : flat.buffer);
  if (!_LITTLE) {
    for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
  }
  await _writeAtomically(dir, bytes, JSON.stringify(json, null, 1));
}

/**
 * Checks that a checkpoint fits a model (same kind, parameter names and shapes); throws a
 * {@linkcode CheckpointError} naming the first difference.
 *
 * @example
 * ```ts
 * import { createModel } from "../model/create_model.ts";
 * import { assertCheckpointFits, CheckpointError } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const m = createModel({ kind: "mlp", timesteps: 10, outDim: 2 });
 * const fake = { config: m.config, names: ["x"], shapes: [[1]] };
 * assert.throws(() => assertCheckpointFits(fake, m), CheckpointError);
 * m.dispose();
 * ```
 *
 * @param ckpt The checkpoint (or its `config`, `names`, `shapes`).
 * @param model The model.
 */
export function assertCheckpointFits(
  ckpt: {
    config: ModelConfig;
    names: readonly string[];
    shapes: readonly (readonly number[])[];
  },
  model: DiffusionModel,
): void {
  const fail = (why: string): never => {
    throw new CheckpointError(`Checkpoint does not fit the model: ${why}`);
  };
  if (ckpt.config.kind !== model.kind) {
    fail(`it holds a "${ckpt.config.kind}" model, not "${model.kind}"`);
  }
  if (ckpt.names.length !== model.names.length) {
    fail(`it has ${ckpt.names.length} parameters, the model ${model.names.length}`);
  }
  model.names.forEach((name, i) => {
    if (ckpt.names[i] !== name) fail(`parameter ${i} is "${ckpt.names[i]}", expected "${name}"`);
    const a = ckpt.shapes[i]!, b = model.variables[i]!.shape;
    if (a.length !== b.length || a.some((x, j) => x !== b[j])) {
      fail(`parameter "${name}" has shape [${a}], the model [${b}]`);
    }
  });
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
  let model: DiffusionModel;
  try {
    model = createModel(ckpt.config);
  } catch (e) {
    throw new CheckpointError(`Checkpoint holds an invalid model: ${(e as Error).message}`);
  }
  try {
    assertCheckpointFits(ckpt, model);
    const which = options.weights ?? "ema";
    if (which === "model" && ckpt.emaOnly) {
      throw new CheckpointError(
        "Checkpoint holds only its EMA weights (a sampling checkpoint): use the EMA weights",
      );
    }
    const arrays = which === "ema" ? ckpt.ema : ckpt.weights;
    tf.tidy(() =>
      model.variables.forEach((v, i) => v.assign(tf.tensor(arrays[i]!, v.shape, "float32")))
    );
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}
