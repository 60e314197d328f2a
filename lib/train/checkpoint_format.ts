/**
 * The checkpoint format as pure functions: no files, no tensors, no Deno APIs, so that Deno
 * (`checkpoint.ts` reads and writes the files) and the browser (the viewer's sampler fetches
 * them) decode `checkpoint.json` + `weights.bin` with the same code. The format itself is
 * described in `checkpoint.ts`.
 *
 * @module
 */
import type { RngState } from "../random.ts";
import type { ModelConfig } from "../model/types.ts";
import type { TrainerHyper, TrainerState } from "./types.ts";

/** The tensor groups of a checkpoint. */
export type CheckpointGroup = "model" | "ema" | "adam_m" | "adam_v";

/**
 * The groups, in the order a full checkpoint stores them.
 *
 * @example
 * ```ts
 * import { CHECKPOINT_GROUPS } from "./checkpoint_format.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...CHECKPOINT_GROUPS], ["model", "ema", "adam_m", "adam_v"]);
 * ```
 */
export const CHECKPOINT_GROUPS: readonly CheckpointGroup[] = ["model", "ema", "adam_m", "adam_v"];

/**
 * The `format` field of every `checkpoint.json`.
 *
 * @example
 * ```ts
 * import { CHECKPOINT_FORMAT } from "./checkpoint_format.ts";
 * import assert from "node:assert/strict";
 * assert.equal(CHECKPOINT_FORMAT, "diffusion-ts-checkpoint");
 * ```
 */
export const CHECKPOINT_FORMAT = "diffusion-ts-checkpoint";

/**
 * The `version` field this code writes and reads.
 *
 * @example
 * ```ts
 * import { CHECKPOINT_VERSION } from "./checkpoint_format.ts";
 * import assert from "node:assert/strict";
 * assert.equal(CHECKPOINT_VERSION, 1);
 * ```
 */
export const CHECKPOINT_VERSION = 1;

/**
 * A checkpoint problem (missing, corrupt, mismatched); the message is one line.
 *
 * @example
 * ```ts
 * import { CheckpointError, parseCheckpointManifest } from "./checkpoint_format.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => parseCheckpointManifest("{", "c1"), CheckpointError);
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

/** A parsed `checkpoint.json`, checked as far as it can be without `weights.bin`. */
export interface CheckpointManifest {
  /** Names the checkpoint in error messages (its directory or URL). */
  source: string;
  /** The parsed JSON. */
  json: Record<string, unknown>;
  /** The model configuration. */
  config: ModelConfig;
  /** The training step. */
  step: number;
  /** The tensors of `weights.bin`, in order. */
  specs: CheckpointWeightSpec[];
  /** The weights file's name, relative to the checkpoint (`weights.bin`). */
  weightsPath: string;
  /** A sampling checkpoint (the EMA weights alone). */
  emaOnly: boolean;
}

const _LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function _fail(source: string, why: string): never {
  throw new CheckpointError(`Cannot load checkpoint ${source}: ${why}`);
}

/**
 * Parses and checks `checkpoint.json` (format, version, model, step, the manifest's entries); the
 * first half of {@linkcode decodeCheckpoint}, which needs the weights file it names.
 *
 * @param text The text of `checkpoint.json`.
 * @param source Names the checkpoint in error messages.
 * @returns The manifest.
 * @throws {CheckpointError} With a one-line message naming `source` and what is wrong.
 *
 * @example
 * ```ts
 * import { parseCheckpointManifest } from "./checkpoint_format.ts";
 * import assert from "node:assert/strict";
 * const text = JSON.stringify({
 *   format: "diffusion-ts-checkpoint", version: 1, step: 3,
 *   model: { kind: "mlp", timesteps: 10, outDim: 2 },
 *   weightsManifest: [{ paths: ["weights.bin"], weights: [] }],
 * });
 * assert.equal(parseCheckpointManifest(text, "c1").step, 3);
 * assert.throws(() => parseCheckpointManifest("[]", "c1"), /c1: expected format/);
 * ```
 */
export function parseCheckpointManifest(text: string, source: string): CheckpointManifest {
  const fail = (why: string): never => _fail(source, why);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(`checkpoint.json is not valid JSON (${(e as Error).message.split("\n")[0]})`);
  }
  if (json === null || typeof json !== "object") return fail("checkpoint.json is not an object");
  if (json.format !== CHECKPOINT_FORMAT) {
    return fail(`expected format "${CHECKPOINT_FORMAT}", got ${json.format}`);
  }
  if (json.version !== CHECKPOINT_VERSION) {
    return fail(`expected version ${CHECKPOINT_VERSION}, got ${json.version}`);
  }
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
  const emaOnly = json.emaOnly === true;
  for (const s of specs) {
    if (
      typeof s?.name !== "string" || !_isIntArray(s.shape) || !CHECKPOINT_GROUPS.includes(s.group)
    ) {
      return fail(`bad manifest entry ${JSON.stringify(s)}`);
    }
    if (s.dtype !== "float32" && !(emaOnly && s.dtype === "float16")) {
      return fail(`tensor ${s.name} has dtype ${s.dtype}, not float32`);
    }
    if (emaOnly && s.group !== "ema") {
      return fail(`a sampling checkpoint lists tensor ${s.name} in group "${s.group}", not "ema"`);
    }
  }
  return {
    source,
    json,
    config,
    step: step as number,
    specs,
    weightsPath: String(paths[0] ?? "weights.bin"),
    emaOnly,
  };
}

/**
 * Decodes a checkpoint from the text of its `checkpoint.json` (or its parsed manifest) and the
 * bytes of its `weights.bin`: float32 or (in a sampling checkpoint) float16 tensors, little-endian.
 * Throws when the sizes disagree, a group lists other parameters than `"model"`, or any tensor
 * holds a NaN or an infinity (weights that would only sample NaNs).
 *
 * @param manifest The text of `checkpoint.json`, or {@linkcode parseCheckpointManifest}'s result.
 * @param bytes The contents of `weights.bin`.
 * @param source Names the checkpoint in error messages when `manifest` is text.
 *   @default {"(in memory)"}
 * @returns The checkpoint, with plain arrays (no tensors to dispose).
 * @throws {CheckpointError} With a one-line message.
 *
 * @example
 * ```ts
 * import { decodeCheckpoint } from "./checkpoint_format.ts";
 * import assert from "node:assert/strict";
 * const text = JSON.stringify({
 *   format: "diffusion-ts-checkpoint", version: 1, step: 3, emaOnly: true,
 *   model: { kind: "mlp", timesteps: 10, outDim: 2 },
 *   weightsManifest: [{ paths: ["weights.bin"], weights: [
 *     { name: "w", shape: [2], dtype: "float16", group: "ema" },
 *   ] }],
 * });
 * const bytes = new Uint8Array(new Float16Array([1.5, -2]).buffer);
 * const ckpt = decodeCheckpoint(text, bytes);
 * assert.deepEqual(Array.from(ckpt.ema[0]!), [1.5, -2]);
 * assert.equal(ckpt.emaOnly, true);
 * assert.throws(() => decodeCheckpoint(text, new Uint8Array(2)), /weights.bin has 2 bytes/);
 * ```
 */
export function decodeCheckpoint(
  manifest: string | CheckpointManifest,
  bytes: Uint8Array,
  source = "(in memory)",
): Checkpoint {
  const m = typeof manifest === "string" ? parseCheckpointManifest(manifest, source) : manifest;
  const fail = (why: string): never => _fail(m.source, why);
  const { specs, emaOnly, json } = m;
  const size = (s: CheckpointWeightSpec) =>
    (s.dtype === "float16" ? 2 : 4) * s.shape.reduce((x, y) => x * y, 1);
  const total = specs.reduce((a, s) => a + size(s), 0);
  if (bytes.length !== total) {
    return fail(`weights.bin has ${bytes.length} bytes, the manifest needs ${total}`);
  }
  const byGroup = new Map<CheckpointGroup, { name: string; shape: number[]; data: Float32Array }[]>(
    CHECKPOINT_GROUPS.map((g) => [g, []]),
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
  for (const g of emaOnly ? ["ema" as const] : CHECKPOINT_GROUPS) {
    const list = byGroup.get(g)!;
    if (list.length !== model.length || list.some((e, i) => e.name !== model[i]!.name)) {
      return fail(`group "${g}" does not list the same parameters as group "model"`);
    }
  }
  const optimizer = json.optimizer as { step?: unknown } | undefined;
  const adamStep = Number.isInteger(optimizer?.step) ? optimizer!.step as number : m.step;
  return {
    config: m.config,
    step: m.step,
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

/** What {@linkcode samplingManifest} returns. */
export interface SamplingManifest {
  /** The `checkpoint.json` of the sampling checkpoint (`emaOnly`, the `"ema"` group alone). */
  json: Record<string, unknown>;
  /** Where its `weights.bin` lies in the original one: byte ranges, in order. */
  ranges: { start: number; length: number }[];
}

/**
 * The sampling checkpoint inside a checkpoint, without decoding it: the `checkpoint.json` that
 * lists its EMA tensors alone (as {@linkcode samplingCheckpointJson} writes it) and the byte
 * ranges of the original `weights.bin` that hold them, so that a server can send the EMA
 * weights (a quarter of a full checkpoint) for {@linkcode decodeCheckpoint} to decode. A
 * sampling checkpoint is its own: one range, the whole file.
 *
 * @param manifest A checkpoint's parsed manifest.
 * @returns The new manifest's JSON and the ranges (adjacent ones merged).
 *
 * @example
 * ```ts
 * import { parseCheckpointManifest, samplingManifest } from "./checkpoint_format.ts";
 * import assert from "node:assert/strict";
 * const w = (group: string) => ({ name: "w", shape: [3], dtype: "float32", group });
 * const text = JSON.stringify({
 *   format: "diffusion-ts-checkpoint", version: 1, step: 3,
 *   model: { kind: "mlp", timesteps: 10, outDim: 2 },
 *   weightsManifest: [{
 *     paths: ["weights.bin"],
 *     weights: ["model", "ema", "adam_m", "adam_v"].map(w),
 *   }],
 * });
 * const { json, ranges } = samplingManifest(parseCheckpointManifest(text, "c1"));
 * assert.deepEqual(ranges, [{ start: 12, length: 12 }]);
 * assert.equal(json.emaOnly, true);
 * ```
 */
export function samplingManifest(manifest: CheckpointManifest): SamplingManifest {
  const ranges: { start: number; length: number }[] = [];
  const specs: CheckpointWeightSpec[] = [];
  let off = 0;
  for (const s of manifest.specs) {
    const length = (s.dtype === "float16" ? 2 : 4) * s.shape.reduce((x, y) => x * y, 1);
    if (s.group === "ema") {
      specs.push(s);
      const last = ranges.at(-1);
      if (last && last.start + last.length === off) last.length += length;
      else if (length > 0) ranges.push({ start: off, length });
    }
    off += length;
  }
  const j = manifest.json;
  const json = samplingCheckpointJson({
    config: manifest.config,
    step: manifest.step,
    trainer: (j.trainer ?? null) as TrainerHyper | null,
    modelRng: j.modelRng as RngState,
    extra: j.extra ?? null,
  }, specs);
  return { json, ranges };
}

/**
 * The `checkpoint.json` of a sampling checkpoint: format, version, `emaOnly: true`, the model's
 * configuration, step, trainer, dropout stream and `extra` of the checkpoint it comes from, and
 * the manifest of its EMA tensors.
 *
 * @param ckpt What it keeps of the original checkpoint.
 * @param weights The EMA tensors' entries, in the order of `weights.bin`.
 * @returns The JSON (to `JSON.stringify`).
 *
 * @example
 * ```ts
 * import { samplingCheckpointJson } from "./checkpoint_format.ts";
 * import assert from "node:assert/strict";
 * const json = samplingCheckpointJson({
 *   config: { kind: "mlp", timesteps: 10, outDim: 2 }, step: 5, trainer: null,
 *   modelRng: { s: [1, 2, 3, 4], spare: null }, extra: null,
 * }, []);
 * assert.equal(json.emaOnly, true);
 * ```
 */
export function samplingCheckpointJson(
  ckpt: Pick<Checkpoint, "config" | "step" | "trainer" | "modelRng" | "extra">,
  weights: readonly CheckpointWeightSpec[],
): Record<string, unknown> {
  return {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    emaOnly: true,
    model: ckpt.config,
    step: ckpt.step,
    trainer: ckpt.trainer,
    modelRng: ckpt.modelRng,
    weightsManifest: [{ paths: ["weights.bin"], weights }],
    extra: ckpt.extra,
  };
}

/**
 * Packs tensors into the bytes of `weights.bin`: concatenated, little-endian, as float32 or
 * float16 (rounded to nearest), without padding.
 *
 * @param arrays The tensors' data, in manifest order.
 * @param dtype The stored precision. @default {"float32"}
 * @returns The file's bytes.
 *
 * @example
 * ```ts
 * import { packWeights } from "./checkpoint_format.ts";
 * import assert from "node:assert/strict";
 * const a = [new Float32Array([1, 2]), new Float32Array([3])];
 * assert.equal(packWeights(a).length, 12);
 * assert.deepEqual(packWeights(a, "float16"), new Uint8Array(new Float16Array([1, 2, 3]).buffer));
 * ```
 */
export function packWeights(
  arrays: readonly Float32Array[],
  dtype: "float32" | "float16" = "float32",
): Uint8Array {
  const flat = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let off = 0;
  for (const a of arrays) {
    flat.set(a, off);
    off += a.length;
  }
  const width = dtype === "float16" ? 2 : 4;
  const bytes = new Uint8Array(dtype === "float16" ? Float16Array.from(flat).buffer : flat.buffer);
  if (!_LITTLE) {
    for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
  }
  return bytes;
}

function _fromBytes(bytes: Uint8Array, offset: number, n: number): Float32Array {
  const copy = bytes.slice(offset, offset + 4 * n);
  if (!_LITTLE) { for (let i = 0; i < copy.length; i += 4) copy.subarray(i, i + 4).reverse(); }
  return new Float32Array(copy.buffer);
}

function _fromHalfBytes(bytes: Uint8Array, offset: number, n: number): Float32Array {
  const copy = bytes.slice(offset, offset + 2 * n);
  if (!_LITTLE) { for (let i = 0; i < copy.length; i += 2) copy.subarray(i, i + 2).reverse(); }
  // Browsers without Float16Array (before 2025) decode the bits by hand.
  if (typeof Float16Array === "undefined") return _halfToFloat(new Uint16Array(copy.buffer));
  return Float32Array.from(new Float16Array(copy.buffer));
}

/** IEEE half-precision bits to float32 values (exact: every half is a float). */
function _halfToFloat(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const b = h[i]!, sign = b & 0x8000 ? -1 : 1, e = (b >> 10) & 0x1f, m = b & 0x3ff;
    out[i] = e === 0
      ? sign * m * 2 ** -24
      : e === 31
      ? (m ? NaN : sign * Infinity)
      : sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return out;
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
