/**
 * Loads a trained model for `sample` and `eval` from a run id, a run directory or a
 * checkpoint directory, with the training config it was made with.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { loadCheckpoint, loadModel } from "../lib/train/mod.ts";
import type { DiffusionModel } from "../lib/model/mod.ts";
import type { TrainConfig } from "./_train_options.ts";
import { findRunDir, latestCheckpoint } from "./_run_dir.ts";

/** A model ready to sample, with where it came from. */
export interface LoadedRun {
  config: TrainConfig;
  model: DiffusionModel;
  step: number;
  checkpoint: string;
}

/**
 * Loads the latest checkpoint of a run (or the given checkpoint) into a model, with the EMA
 * weights or the raw ones.
 *
 * @param runs The runs directory.
 * @param ref A run id, a run directory or a checkpoint directory.
 * @param ema Use the EMA weights.
 * @returns The model and its training config.
 */
export async function loadRun(runs: string, ref: string, ema: boolean): Promise<LoadedRun> {
  let checkpoint: string | null = null;
  try {
    if ((await Deno.stat(join(ref, "checkpoint.json"))).isFile) checkpoint = ref;
  } catch { /* not a checkpoint directory */ }
  if (!checkpoint) {
    const dir = await findRunDir(runs, ref);
    checkpoint = await latestCheckpoint(dir);
    if (!checkpoint) throw new Error(`Run ${ref} has no checkpoint yet`);
  }
  const ckpt = await loadCheckpoint(checkpoint);
  const extra = ckpt.extra as { config?: TrainConfig } | undefined;
  let config = extra?.config;
  if (!config) {
    try {
      const record = JSON.parse(
        await Deno.readTextFile(join(dirname(dirname(checkpoint)), "run.json")),
      );
      config = record.config as TrainConfig;
    } catch {
      throw new Error(
        `Cannot tell how ${checkpoint} was trained: no config in it or in its run.json`,
      );
    }
  }
  const model = await loadModel(ckpt, { weights: ema ? "ema" : "model" });
  return { config, model, step: ckpt.step, checkpoint };
}
