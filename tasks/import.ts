/**
 * `deno task import`: makes a run directory from a safetensors model file (one written by
 * `deno task export`, or one trained further in PyTorch by `interop/train_ddp.py`) that
 * `deno task sample`, `eval` and `web` read like any other run: `run.json` (status
 * `completed`, the training configuration from the file's metadata) and one checkpoint at the
 * file's step. A file that is not safetensors, that holds other tensors than the model needs, or
 * a model kind the project does not know: one line, exit 2, nothing written.
 *
 * @example
 * ```sh
 * deno task import --file model.safetensors --name from-pytorch
 * deno task sample --run <the id it printed> --out digits.png
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { tf } from "../lib/tf.ts";
import { callerPath, type OptionTable, parseOptions, runTask, UsageError } from "./_cli.ts";
import { resolveTrainConfig, TRAIN_OPTIONS, type TrainConfig } from "./_train_options.ts";
import { gitCommit } from "./_run_dir.ts";
import { createRunDir, type RunRecord, writeRunRecord } from "../lib/run/mod.ts";
import { runPaths, stepName } from "../lib/run/mod.ts";
import { createTrainer, saveCheckpoint } from "../lib/train/mod.ts";
import { createModel, type ModelConfig } from "../lib/model/mod.ts";
import { decodeModelFile, ModelFileError, type ModelFileState } from "../lib/model/model_file.ts";

/**
 * The flags of `deno task import`.
 *
 * @example
 * ```ts
 * import { IMPORT_OPTIONS } from "./import.ts";
 * import { parseOptions } from "./_cli.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseOptions(IMPORT_OPTIONS, ["--file", "m.safetensors"]).values.out, "runs");
 * ```
 */
export const IMPORT_OPTIONS = {
  file: { type: "string", help: "the .safetensors file to import (required)" },
  name: { type: "string", help: "run name", note: "imported-<model>" },
  out: {
    type: "string",
    default: "runs",
    help: "directory that holds the runs (relative to the current directory)",
  },
} as const satisfies OptionTable;

function _json(meta: Record<string, string>, key: string): unknown {
  try {
    return JSON.parse(meta[key]!);
  } catch {
    throw new UsageError(`metadata "${key}" is not JSON`);
  }
}

/**
 * The training configuration of an imported model: the file's `train_config` when it has one,
 * else one resolved from its model configuration and `schedule` (with the data set's defaults);
 * checked against the model, and with the run's `name`, `out` and `steps` (the file's step).
 *
 * @example
 * ```ts
 * import { importedConfig } from "./import.ts";
 * import assert from "node:assert/strict";
 * const c = importedConfig(
 *   { config: { kind: "unet-s", outChannels: 2 }, step: 7, metadata: { schedule: '{"name":"cosine","timesteps":1000}' } },
 *   { name: "x", out: "runs" },
 * );
 * assert.equal(c.dataset, "mnist");
 * assert.equal(c.variance, "learned-range");
 * assert.equal(c.steps, 7);
 * ```
 *
 * @param state The decoded file (its model configuration, step and metadata).
 * @param run The run's name and runs directory.
 * @returns The configuration.
 * @throws {UsageError} When the metadata is missing, malformed or contradicts the model.
 */
export function importedConfig(
  state: Pick<ModelFileState, "config" | "step" | "metadata">,
  run: { name: string; out: string },
): TrainConfig {
  const meta = state.metadata;
  const model = state.config;
  let config: TrainConfig;
  if (meta.train_config !== undefined) {
    config = _json(meta, "train_config") as TrainConfig;
    if (config === null || typeof config !== "object") {
      throw new UsageError(`metadata "train_config" is not an object`);
    }
  } else {
    if (meta.schedule === undefined) {
      throw new UsageError(`the file's metadata has neither "train_config" nor "schedule"`);
    }
    const s = _json(meta, "schedule") as { name?: unknown; timesteps?: unknown };
    const image = model.kind === "unet-s";
    const learned = image ? model.outChannels === 2 : model.outDim === 4;
    const flags = [
      ...["--dataset", image ? "mnist" : "s-curve", "--model", model.kind],
      ...["--schedule", String(s?.name), "--timesteps", String(s?.timesteps)],
      ...(learned ? ["--loss", "hybrid"] : ["--loss", "simple"]),
    ];
    if (model.kind === "mlp" && model.timeEmbedding) {
      flags.push("--time-embedding", model.timeEmbedding);
    }
    try {
      config = resolveTrainConfig(parseOptions(TRAIN_OPTIONS, flags).values);
    } catch (e) {
      throw new UsageError(`metadata "schedule" does not fit: ${(e as Error).message}`);
    }
  }
  if (config.model !== model.kind) {
    throw new UsageError(
      `the file's training config is for a ${config.model} model, its weights a ${model.kind}`,
    );
  }
  const outputs = model.kind === "unet-s" ? model.outChannels ?? 1 : model.outDim;
  const wants = (model.kind === "unet-s" ? 1 : 2) * (config.variance === "learned-range" ? 2 : 1);
  if (outputs !== wants) {
    throw new UsageError(
      `variance ${config.variance} needs ${wants} output channels, the model has ${outputs}`,
    );
  }
  if (model.kind === "mlp" && model.timesteps !== config.timesteps) {
    throw new UsageError(
      `the MLP embeds ${model.timesteps} timesteps, the schedule has ${config.timesteps}`,
    );
  }
  return { ...config, name: run.name, out: run.out, steps: state.step };
}

/**
 * Writes a decoded model file as a new run under `out`: `run.json` and one checkpoint (the
 * file's weights; its EMA weights and Adam's state when it has them, else the weights stand for
 * the EMA too and Adam starts afresh).
 *
 * @param state The decoded file.
 * @param config Its training configuration (see {@linkcode importedConfig}).
 * @param source The file's path, for the record.
 * @returns The new run's id and directory.
 *
 * @example
 * ```ts ignore
 * const state = decodeModelFile(await Deno.readFile("model.safetensors"));
 * const { id } = await writeImportedRun(state, importedConfig(state, { name: "x", out: "runs" }), "model.safetensors");
 * ```
 */
export async function writeImportedRun(
  state: ModelFileState,
  config: TrainConfig,
  source: string,
): Promise<{ id: string; dir: string }> {
  const model = createModel(state.config as ModelConfig);
  const trainer = createTrainer({
    model,
    loss: () => ({ loss: tf.scalar(0) }),
    lr: config.lr,
    warmupSteps: config.warmup,
    clipNorm: config.clip,
    emaRate: config.ema,
  });
  let created: { id: string; dir: string } | null = null;
  try {
    const zeros = state.values.map((a) => new Float32Array(a.length));
    trainer.restore({
      step: state.step,
      weights: state.values,
      ema: state.ema ?? state.values,
      adam: state.adam ?? { step: 0, m: zeros, v: zeros },
      modelRng: model.rng.getState(),
    });
    created = await createRunDir(config.out, config.name);
    const paths = runPaths(created.dir);
    await saveCheckpoint(paths.checkpoint(state.step), trainer, {
      config,
      imported: { file: source, weights: state.weights, metadata: state.metadata },
    });
    const now = new Date().toISOString();
    const record: RunRecord = {
      id: created.id,
      name: config.name,
      status: "completed",
      dataset: config.dataset,
      model: config.model,
      backend: state.metadata.backend ?? "import",
      backendDetail: `imported from ${source}${
        state.metadata.trained_with ? ` (trained with ${state.metadata.trained_with})` : ""
      }`,
      config: { ...config },
      versions: { deno: Deno.version.deno, tfjs: tf.version_core, diffusion: "0.1.0" },
      gitCommit: await gitCommit(),
      startedAt: now,
      updatedAt: now,
      endedAt: now,
      step: state.step,
      steps: state.step,
      paramCount: model.paramCount(),
      lastCheckpoint: stepName(state.step, ""),
    };
    await writeRunRecord(created.dir, record);
    return created;
  } catch (e) {
    if (created) await Deno.remove(created.dir, { recursive: true }).catch(() => {});
    throw e;
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

if (import.meta.main) {
  await runTask("deno task import --file model.safetensors [flags]", IMPORT_OPTIONS, async (v) => {
    if (!v.file) throw new UsageError("--file is required (a .safetensors file)");
    const path = callerPath(v.file);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (e) {
      throw new UsageError(`cannot read ${v.file}: ${(e as Error).message.split("\n")[0]}`);
    }
    await tf.setBackend("cpu");
    let state: ModelFileState;
    try {
      state = decodeModelFile(bytes);
    } catch (e) {
      if (e instanceof ModelFileError) throw new UsageError(`${v.file}: ${e.message}`);
      throw e;
    }
    const out = callerPath(v.out!);
    const config = importedConfig(state, {
      name: v.name ?? `imported-${state.config.kind}`,
      out,
    });
    const { id } = await writeImportedRun(state, config, path);
    console.log(
      `imported ${v.file} as run ${id} (${state.config.kind}, step ${state.step}, ${state.weights} ` +
        `weights) in ${join(v.out!, id)}`,
    );
    console.error(
      `next: deno task sample --run ${id}${v.out !== "runs" ? ` --runs ${v.out}` : ""}`,
    );
    return 0;
  });
}
