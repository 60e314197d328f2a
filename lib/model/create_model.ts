/**
 * Builds either model from its serialisable configuration.
 *
 * @module
 */
import { createMlp } from "./mlp.ts";
import { createUnetS } from "./unet_s.ts";
import type { DiffusionModel, ModelConfig } from "./types.ts";

/**
 * Builds the model a configuration describes (`kind` selects the family); the same
 * configuration, seed included, always gives identical weights.
 *
 * @example
 * ```ts
 * import { createModel } from "./create_model.ts";
 * import assert from "node:assert/strict";
 * const a = createModel({ kind: "mlp", timesteps: 10, outDim: 2, seed: 3 });
 * const b = createModel(a.config);
 * assert.deepEqual(a.variables[0]!.dataSync(), b.variables[0]!.dataSync());
 * a.dispose();
 * b.dispose();
 * ```
 *
 * @param config The configuration (as stored in `model.config` or a checkpoint).
 * @returns A new model that owns its variables.
 */
export function createModel(config: ModelConfig): DiffusionModel {
  const kind = (config as { kind: unknown }).kind as ModelConfig["kind"];
  switch (kind) {
    case "mlp":
      return createMlp(config as Extract<ModelConfig, { kind: "mlp" }>);
    case "unet-s":
      return createUnetS(config as Extract<ModelConfig, { kind: "unet-s" }>);
    default: {
      const never: never = kind;
      throw new RangeError(`Cannot build a model: expected kind "mlp" or "unet-s", got ${never}`);
    }
  }
}
