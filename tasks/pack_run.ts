/**
 * `deno task pack-run`: makes a run directory to ship: its record, metrics, evaluations and
 * pictures, and its newest checkpoint as a sampling checkpoint (the EMA weights alone, float16
 * by default: a quarter of a float32 model's size, an eighth of a training checkpoint's). The
 * result is a run that `deno task sample`, `eval` and `web` read, and that cannot be resumed.
 *
 * @example
 * ```sh
 * deno task pack-run --run <run id> --out pretrained/mnist-unet-s
 * deno task sample --run pretrained/mnist-unet-s --out digits.png
 * ```
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { callerPath, type OptionTable, runTask, UsageError } from "./_cli.ts";
import { findRunDir } from "./_run_dir.ts";
import {
  CHECKPOINTS_DIR,
  EVAL_FILE,
  FORWARD_FILE,
  FORWARD_FRAMES_FILE,
  loadNewestCheckpoint,
  METRICS_FILE,
  readRunRecord,
  runPaths,
  SAMPLES_DIR,
  stepName,
  TRAJECTORY_FILE,
  TRAJECTORY_FRAMES_FILE,
  writeRunRecord,
} from "../lib/run/mod.ts";
import { saveEmaCheckpoint } from "../lib/train/checkpoint.ts";

/** The flags of `deno task pack-run`. */
export const PACK_OPTIONS = {
  run: { type: "string", help: "run id or run directory to pack (required)" },
  runs: { type: "string", default: "runs", help: "directory that holds the runs" },
  out: { type: "string", help: "the new run directory (required; must not exist)" },
  dtype: {
    type: "string",
    choices: ["float16", "float32"],
    default: "float16",
    help: "precision of the shipped EMA weights",
  },
} as const satisfies OptionTable;

/** What a packed run holds and what it came from. */
export interface PackResult {
  /** The new run directory. */
  dir: string;
  /** The checkpoint's step. */
  step: number;
  /** Bytes of the shipped weights. */
  weightBytes: number;
}

/**
 * Packs the run at `runDir` into `out` (see the module).
 *
 * @example
 * ```ts ignore
 * const r = await packRun("runs/20261130-162625-mnist-unet-s", "pretrained/mnist", "float16");
 * console.log(r.weightBytes);
 * ```
 *
 * @param runDir The run directory.
 * @param out The new directory (must not exist).
 * @param dtype The weights' precision.
 * @returns Where it went, the step and the weights' size.
 */
export async function packRun(
  runDir: string,
  out: string,
  dtype: "float16" | "float32",
): Promise<PackResult> {
  const record = await readRunRecord(runDir);
  const { found } = await loadNewestCheckpoint(runDir);
  if (!found) throw new UsageError(`run ${runDir} has no checkpoint that loads`);
  await Deno.mkdir(dirname(out), { recursive: true });
  try {
    await Deno.mkdir(out);
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new UsageError(`${out} exists; pack into a new directory`);
    }
    throw e;
  }
  try {
    const to = runPaths(out);
    for (
      const file of [
        METRICS_FILE,
        EVAL_FILE,
        FORWARD_FILE,
        TRAJECTORY_FILE,
        FORWARD_FRAMES_FILE,
        TRAJECTORY_FRAMES_FILE,
      ]
    ) {
      await Deno.copyFile(join(runDir, file), join(out, file)).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
    }
    await Deno.mkdir(join(out, SAMPLES_DIR));
    for await (const e of Deno.readDir(join(runDir, SAMPLES_DIR))) {
      if (e.isFile) {
        await Deno.copyFile(join(runDir, SAMPLES_DIR, e.name), join(out, SAMPLES_DIR, e.name));
      }
    }
    await Deno.mkdir(join(out, CHECKPOINTS_DIR));
    const step = found.checkpoint.step;
    await saveEmaCheckpoint(to.checkpoint(step), found.checkpoint, { dtype });
    const weightBytes = (await Deno.stat(join(to.checkpoint(step), "weights.bin"))).size;
    await writeRunRecord(
      out,
      {
        ...record,
        id: basename(out),
        status: record.status === "running" ? "interrupted" : record.status,
        step,
        lastCheckpoint: stepName(step, ""),
        pid: undefined,
        packedFrom: { id: record.id, checkpoint: found.dir.name, dtype, weights: "ema" },
      } as typeof record,
    );
    return { dir: out, step, weightBytes };
  } catch (e) {
    await Deno.remove(out, { recursive: true }).catch(() => {});
    throw e;
  }
}

if (import.meta.main) {
  await runTask("deno task pack-run --run <id> --out <dir> [flags]", PACK_OPTIONS, async (v) => {
    if (!v.run) throw new UsageError("--run is required (a run id or run directory)");
    if (!v.out) throw new UsageError("--out is required (the new run directory)");
    const dir = await findRunDir(callerPath(v.runs!), v.run);
    const r = await packRun(dir, callerPath(v.out), v.dtype as "float16" | "float32");
    console.log(
      `packed ${basename(dir)} at step ${r.step} into ${v.out} (EMA weights, ${v.dtype}, ${
        (r.weightBytes / 1e6).toFixed(1)
      } MB)`,
    );
    const config = (await readRunRecord(r.dir)).config as { numClasses?: number } | undefined;
    const classCond = (config?.numClasses ?? 0) > 0;
    console.log(
      `sample it: deno task sample --run ${v.out} ${
        classCond ? "--class all --out classes.png" : "--out digits.png"
      }`,
    );
    return 0;
  });
}
