/**
 * `deno task export`: writes a run's weights as one safetensors file in the names and layouts
 * of the PyTorch modules of `interop/unet_s.py` (conv weights OIHW, linear weights [out, in];
 * see `lib/model/model_file.ts`), with the model configuration, the schedule, the training
 * configuration and the step in its metadata. `--weights all` adds the EMA weights and Adam's
 * state, everything `interop/train_ddp.py` needs to continue training.
 *
 * @example
 * ```sh
 * deno task export --run <run id> --out model.safetensors
 * deno task export --run <run id> --weights all --out train.safetensors
 * ```
 *
 * @module
 */
import { dirname } from "node:path";
import { callerPath, type OptionTable, runTask, UsageError } from "./_cli.ts";
import { loadRun, requiredRun, RUN_OPTIONS } from "./_load_run.ts";
import { loadCheckpoint } from "../lib/train/mod.ts";
import { encodeModelFile, type ModelFileWeights } from "../lib/model/model_file.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import type { TrainConfig } from "./_train_options.ts";

/**
 * The flags of `deno task export`.
 *
 * @example
 * ```ts
 * import { EXPORT_OPTIONS } from "./export.ts";
 * import { parseOptions } from "./_cli.ts";
 * import assert from "node:assert/strict";
 * const { values } = parseOptions(EXPORT_OPTIONS, ["--run", "r1", "--out", "m.safetensors"]);
 * assert.equal(values.weights, "ema");
 * ```
 */
export const EXPORT_OPTIONS = {
  ...RUN_OPTIONS,
  weights: {
    type: "string",
    choices: ["ema", "raw", "all"],
    default: "ema",
    help: "which weights: the EMA ones (for sampling), the raw ones, or all that training needs " +
      "(raw, EMA and Adam's moments)",
  },
  out: {
    type: "string",
    help: "the .safetensors file to write (required; relative to the current directory)",
  },
} as const satisfies OptionTable;

/**
 * The metadata the tasks add to a model file: the schedule and the training configuration.
 *
 * @example
 * ```ts
 * import { exportMetadata } from "./export.ts";
 * import assert from "node:assert/strict";
 * const m = exportMetadata({ schedule: "cosine", timesteps: 1000 } as never, "runs/r1");
 * assert.deepEqual(JSON.parse(m.schedule!), { name: "cosine", timesteps: 1000 });
 * ```
 *
 * @param config The run's training configuration.
 * @param source Where the weights come from.
 * @returns String metadata.
 */
export function exportMetadata(config: TrainConfig, source: string): Record<string, string> {
  return {
    schedule: JSON.stringify({ name: config.schedule, timesteps: config.timesteps }),
    train_config: JSON.stringify(config),
    source,
  };
}

if (import.meta.main) {
  await runTask(
    "deno task export --run <id> [--weights ema|raw|all] --out model.safetensors",
    EXPORT_OPTIONS,
    async (v) => {
      const ref = requiredRun(v.run);
      if (!v.out) throw new UsageError("--out is required (the .safetensors file to write)");
      if (!v.out.endsWith(".safetensors")) {
        throw new UsageError(`--out must name a .safetensors file, got ${v.out}`);
      }
      const out = callerPath(v.out);
      let dirOk = false;
      try {
        dirOk = (await Deno.stat(dirname(out))).isDirectory;
      } catch { /* missing */ }
      if (!dirOk) throw new UsageError(`cannot write ${v.out}: its directory does not exist`);
      const weights = v.weights as ModelFileWeights;
      const run = await loadRun(callerPath(v.runs!), ref, weights === "ema");
      run.model.dispose();
      const ckpt = await loadCheckpoint(run.checkpoint);
      const bytes = encodeModelFile({
        config: ckpt.config,
        step: ckpt.step,
        weights,
        names: ckpt.names,
        shapes: ckpt.shapes,
        values: weights === "ema" ? ckpt.ema : ckpt.weights,
        ema: ckpt.ema,
        adam: ckpt.adam,
        metadata: exportMetadata(run.config, run.checkpoint),
      });
      await writeFileAtomic(out, bytes);
      console.log(
        `wrote ${v.out} (${ckpt.config.kind}, step ${ckpt.step}, ${weights} weights, ` +
          `${(bytes.length / 1e6).toFixed(1)} MB)`,
      );
      return 0;
    },
  );
}
