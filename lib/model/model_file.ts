/**
 * A model's weights as one safetensors file in PyTorch's names and layouts (see
 * `torch_layout.ts`), the form in which they leave the project (`deno task export`) and come
 * back (`deno task import`), for example after training further with PyTorch DDP
 * (`interop/train_ddp.py`).
 *
 * ## Format (version 1)
 * - Tensors: the weights under the PyTorch `state_dict` keys (`down.0.0.conv1.weight`, ...);
 *   with `weights: "all"` those are the raw weights, and the EMA weights and Adam's two moments
 *   follow under the same keys prefixed `ema.`, `adam_m.` and `adam_v.`. All `F32`.
 * - `__metadata__` (strings): `format` (`diffusion-ts-model`), `version` (`1`), `model` (the
 *   model configuration as JSON, `kind` first), `step`, `weights` (`ema`, `raw` or `all`),
 *   `adam_step` (with `all`), and whatever else the writer adds (the tasks add `schedule` and
 *   `train_config`).
 *
 * @module
 */
import { createModel } from "./create_model.ts";
import type { ModelConfig } from "./types.ts";
import { fromTorch, type TorchParam, torchParams, toTorch } from "./torch_layout.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  f32Tensor,
  float32Of,
  SafetensorsError,
  type SafetensorsTensor,
} from "../io/safetensors.ts";

/**
 * The `format` metadata value.
 *
 * @example
 * ```ts
 * import { MODEL_FILE_FORMAT } from "./model_file.ts";
 * import assert from "node:assert/strict";
 * assert.equal(MODEL_FILE_FORMAT, "diffusion-ts-model");
 * ```
 */
export const MODEL_FILE_FORMAT = "diffusion-ts-model";
/**
 * The `version` metadata value this code writes and reads.
 *
 * @example
 * ```ts
 * import { MODEL_FILE_VERSION } from "./model_file.ts";
 * import assert from "node:assert/strict";
 * assert.equal(MODEL_FILE_VERSION, 1);
 * ```
 */
export const MODEL_FILE_VERSION = 1;

/** Which weights a file holds: the EMA ones, the raw ones, or everything training needs. */
export type ModelFileWeights = "ema" | "raw" | "all";

/**
 * The prefixes of the extra tensor groups of a `weights: "all"` file.
 *
 * @example
 * ```ts
 * import { MODEL_FILE_PREFIXES } from "./model_file.ts";
 * import assert from "node:assert/strict";
 * assert.equal(`${MODEL_FILE_PREFIXES.ema}conv_in.weight`, "ema.conv_in.weight");
 * ```
 */
export const MODEL_FILE_PREFIXES = { ema: "ema.", adamM: "adam_m.", adamV: "adam_v." } as const;

/** A model file's content, in the project's names and layouts. */
export interface ModelFileState {
  /** The model configuration (`createModel(config)` rebuilds the model). */
  config: ModelConfig;
  /** The training step of the weights. */
  step: number;
  /** Which weights `values` are (`"all"`: the raw ones, with `ema` and `adam` present). */
  weights: ModelFileWeights;
  /** The parameters' stable names (the model's order). */
  names: string[];
  /** Their shapes here. */
  shapes: number[][];
  /** The weights, parallel to `names`. */
  values: Float32Array[];
  /** With `"all"`: the EMA weights. */
  ema?: Float32Array[];
  /** With `"all"`: Adam's step count and moments. */
  adam?: { step: number; m: Float32Array[]; v: Float32Array[] };
  /** Further metadata (strings), kept as they are. */
  metadata: Record<string, string>;
}

/**
 * A model file that cannot be read or written; the message is one line.
 *
 * @example
 * ```ts
 * import { decodeModelFile, ModelFileError } from "./model_file.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => decodeModelFile(new Uint8Array(4)), ModelFileError);
 * ```
 */
export class ModelFileError extends Error {
  /** @param message What was expected and what came. */
  constructor(message: string) {
    super(message);
    this.name = "ModelFileError";
  }
}

const _RESERVED = ["format", "version", "model", "step", "weights", "adam_step"];

function _params(config: ModelConfig): { params: TorchParam[]; config: ModelConfig } {
  const kind = (config as { kind?: unknown }).kind;
  if (kind !== "mlp" && kind !== "unet-s") {
    throw new ModelFileError(
      `unknown model kind ${JSON.stringify(kind)}: expected "mlp" or "unet-s"`,
    );
  }
  let model;
  try {
    model = createModel(config);
  } catch (e) {
    throw new ModelFileError(`invalid model configuration: ${(e as Error).message}`);
  }
  try {
    const shapes = model.variables.map((v) => v.shape.slice());
    return { params: torchParams(model.kind, model.names, shapes), config: model.config };
  } finally {
    model.dispose();
  }
}

/**
 * Encodes a model's weights (and with `"all"` its EMA weights and Adam's state) as a
 * safetensors file in PyTorch's names and layouts.
 *
 * @example
 * ```ts
 * import { createModel } from "./create_model.ts";
 * import { decodeModelFile, encodeModelFile } from "./model_file.ts";
 * import assert from "node:assert/strict";
 * const m = createModel({ kind: "mlp", timesteps: 10, outDim: 2 });
 * const values = m.variables.map((v) => v.dataSync() as Float32Array);
 * const bytes = encodeModelFile({
 *   config: m.config,
 *   step: 5,
 *   weights: "ema",
 *   names: [...m.names],
 *   shapes: m.variables.map((v) => v.shape),
 *   values,
 *   metadata: { note: "hi" },
 * });
 * const back = decodeModelFile(bytes);
 * assert.equal(back.step, 5);
 * assert.deepEqual(back.values, values);
 * assert.equal(back.metadata.note, "hi");
 * m.dispose();
 * ```
 *
 * @param state The content.
 * @returns The file's bytes.
 * @throws {ModelFileError} When the arrays do not fit the model the configuration describes.
 */
export function encodeModelFile(state: ModelFileState): Uint8Array {
  const { params, config } = _params(state.config);
  const fail = (why: string): never => {
    throw new ModelFileError(`Cannot write the model file: ${why}`);
  };
  params.forEach((p, i) => {
    if (state.names[i] !== p.name) {
      fail(`parameter ${i} is "${state.names[i]}", expected "${p.name}"`);
    }
  });
  if (state.names.length !== params.length) {
    fail(`${state.names.length} parameters given, the model has ${params.length}`);
  }
  const groups: [string, Float32Array[]][] = [["", state.values]];
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(state.metadata)) if (!_RESERVED.includes(k)) meta[k] = v;
  Object.assign(meta, {
    format: MODEL_FILE_FORMAT,
    version: String(MODEL_FILE_VERSION),
    model: JSON.stringify(config),
    step: String(state.step),
    weights: state.weights,
  });
  if (state.weights === "all") {
    if (!state.ema || !state.adam) fail(`weights "all" needs the EMA weights and Adam's state`);
    groups.push(
      [MODEL_FILE_PREFIXES.ema, state.ema!],
      [MODEL_FILE_PREFIXES.adamM, state.adam!.m],
      [MODEL_FILE_PREFIXES.adamV, state.adam!.v],
    );
    meta.adam_step = String(state.adam!.step);
  }
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [prefix, arrays] of groups) {
    params.forEach((p, i) => {
      const a = arrays[i];
      if (a === undefined) fail(`no values for "${prefix}${p.name}"`);
      tensors.set(`${prefix}${p.torchName}`, f32Tensor(toTorch(p, a!), p.torchShape));
    });
  }
  return encodeSafetensors(tensors, meta);
}

function _int(meta: Record<string, string>, key: string): number {
  const v = meta[key];
  if (v === undefined || !/^\d+$/.test(v)) {
    throw new ModelFileError(
      `metadata "${key}" must be a non-negative integer; got ${JSON.stringify(v)}`,
    );
  }
  return Number(v);
}

/**
 * Decodes a model file written by {@linkcode encodeModelFile} (or by `interop/model_file.py`),
 * checking that its tensors are exactly the model's, by name and shape, finite and `F32`.
 *
 * @example
 * ```ts
 * import { decodeModelFile, ModelFileError } from "./model_file.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => decodeModelFile(new Uint8Array(3)), ModelFileError);
 * ```
 *
 * @param bytes The file's bytes.
 * @returns The content, in the project's layouts.
 * @throws {ModelFileError} With a one-line message for anything else: not safetensors, no or
 *   unknown model configuration, missing, extra or misshapen tensors, non-finite values.
 */
export function decodeModelFile(bytes: Uint8Array): ModelFileState {
  let file;
  try {
    file = decodeSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new ModelFileError(e.message);
    throw e;
  }
  const meta = file.metadata;
  if (meta.model === undefined) {
    throw new ModelFileError(
      `no model configuration: the safetensors metadata has no "model" entry (keys: ${
        Object.keys(meta).join(", ") || "none"
      })`,
    );
  }
  if (meta.version !== undefined && meta.version !== String(MODEL_FILE_VERSION)) {
    throw new ModelFileError(`expected version ${MODEL_FILE_VERSION}, got ${meta.version}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(meta.model);
  } catch {
    throw new ModelFileError(`metadata "model" is not JSON: ${meta.model.slice(0, 80)}`);
  }
  if (parsed === null || typeof parsed !== "object") {
    throw new ModelFileError(`metadata "model" is not an object: ${meta.model.slice(0, 80)}`);
  }
  const { params, config } = _params(parsed as ModelConfig);
  const weights = (meta.weights ?? "raw") as ModelFileWeights;
  if (!["ema", "raw", "all"].includes(weights)) {
    throw new ModelFileError(`metadata "weights" must be ema, raw or all; got ${weights}`);
  }
  const step = meta.step === undefined ? 0 : _int(meta, "step");
  const used = new Set<string>();
  const group = (prefix: string): Float32Array[] =>
    params.map((p) => {
      const key = `${prefix}${p.torchName}`;
      const t = file.tensors.get(key);
      if (t === undefined) {
        throw new ModelFileError(
          `tensor "${key}" [${p.torchShape}] is missing (a ${config.kind} model needs ${params.length} tensors${
            prefix ? ` under "${prefix}"` : ""
          })`,
        );
      }
      if (t.shape.length !== p.torchShape.length || t.shape.some((d, j) => d !== p.torchShape[j])) {
        throw new ModelFileError(
          `tensor "${key}" has shape [${t.shape}], expected [${p.torchShape}]`,
        );
      }
      let values: Float32Array;
      try {
        values = float32Of(t, key);
      } catch (e) {
        throw new ModelFileError((e as Error).message);
      }
      for (let i = 0; i < values.length; i++) {
        const x = values[i]!;
        if (x - x !== 0) throw new ModelFileError(`tensor "${key}" holds ${x} at index ${i}`);
      }
      used.add(key);
      return fromTorch(p, values);
    });
  const values = group("");
  const state: ModelFileState = {
    config,
    step,
    weights,
    names: params.map((p) => p.name),
    shapes: params.map((p) => p.shape),
    values,
    metadata: Object.fromEntries(Object.entries(meta).filter(([k]) => !_RESERVED.includes(k))),
  };
  if (weights === "all") {
    state.ema = group(MODEL_FILE_PREFIXES.ema);
    state.adam = {
      step: meta.adam_step === undefined ? step : _int(meta, "adam_step"),
      m: group(MODEL_FILE_PREFIXES.adamM),
      v: group(MODEL_FILE_PREFIXES.adamV),
    };
  }
  const extra = [...file.tensors.keys()].filter((k) => !used.has(k));
  if (extra.length > 0) {
    throw new ModelFileError(
      `${extra.length} tensor(s) that a ${config.kind} model does not have: ${
        extra.slice(0, 3).map((k) => `"${k}"`).join(", ")
      }${extra.length > 3 ? ", ..." : ""}`,
    );
  }
  return state;
}
