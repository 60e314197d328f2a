/**
 * A model from a decoded checkpoint, without files: what `loadModel` (Deno) and the viewer's
 * sampler (the browser) both build with.
 *
 * @module
 */
import { tf } from "../tf.ts";
import { createModel } from "../model/create_model.ts";
import type { DiffusionModel, ModelConfig } from "../model/types.ts";
import { type Checkpoint, CheckpointError } from "./checkpoint_format.ts";

/**
 * Checks that a checkpoint fits a model (same kind, parameter names and shapes); throws a
 * {@linkcode CheckpointError} naming the first difference.
 *
 * @example
 * ```ts
 * import { createModel } from "../model/create_model.ts";
 * import { assertCheckpointFits } from "./checkpoint_model.ts";
 * import { CheckpointError } from "./checkpoint_format.ts";
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
 * Builds the model a decoded checkpoint describes and gives it the checkpoint's EMA weights
 * (default, for sampling) or its raw weights.
 *
 * @param ckpt A decoded checkpoint (`loadCheckpoint`, or `decodeCheckpoint` of its two files).
 * @param options Which weights. @default {{ weights: "ema" }}
 * @returns A new model (dispose it).
 * @throws {CheckpointError} When the configuration is invalid, the weights do not fit it, or the
 *   raw weights are asked of a sampling checkpoint.
 *
 * @example
 * ```ts
 * import { createModel } from "../model/create_model.ts";
 * import { modelFromCheckpoint } from "./checkpoint_model.ts";
 * import assert from "node:assert/strict";
 * const m = createModel({ kind: "mlp", timesteps: 10, outDim: 2, seed: 1 });
 * const arrays = m.variables.map((v) => v.dataSync() as Float32Array);
 * const ckpt = {
 *   config: m.config, step: 0, trainer: null, names: [...m.names],
 *   shapes: m.variables.map((v) => v.shape),
 *   weights: arrays, ema: arrays.map((a) => a.map((x) => 2 * x)), adam: { step: 0, m: [], v: [] },
 *   modelRng: { s: [1, 2, 3, 4] as [number, number, number, number], spare: null }, extra: null,
 * };
 * const ema = modelFromCheckpoint(ckpt);
 * assert.equal(ema.variables[0]!.dataSync()[0], 2 * arrays[0]![0]!);
 * ema.dispose();
 * m.dispose();
 * ```
 */
export function modelFromCheckpoint(
  ckpt: Checkpoint,
  options: { weights?: "ema" | "model" } = {},
): DiffusionModel {
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
