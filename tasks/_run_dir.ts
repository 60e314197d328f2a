/**
 * The run directory a training run writes (`runs/<id>/`) and the records in it:
 *
 * - `run.json`: config, versions, backend, git commit, status, times (rewritten atomically);
 * - `metrics.jsonl`, `eval.jsonl`: one JSON object a line, appended;
 * - `samples/step_<8 digits>.png`, `forward.png`, `trajectory.png`;
 * - `checkpoints/step_<8 digits>/` (see `lib/train/checkpoint.ts`).
 *
 * Directory creation is exclusive, so two runs never share a directory.
 *
 * @module
 */
import { join } from "node:path";
import { writeJsonAtomic } from "../lib/io/atomic.ts";

export type { RunRecord, RunStatus } from "../lib/io/run_record.ts";
import type { RunRecord } from "../lib/io/run_record.ts";

/**
 * Creates a new, empty run directory under `out` with an id made of the date and `name`;
 * never reuses an existing directory.
 *
 * @param out The runs directory (created if missing).
 * @param name The run's name.
 * @returns The id and the path.
 *
 * @example
 * ```ts
 * import { createRunDir } from "./_run_dir.ts";
 * import assert from "node:assert/strict";
 * const out = await Deno.makeTempDir();
 * const a = await createRunDir(out, "x"), b = await createRunDir(out, "x");
 * assert.notEqual(a.dir, b.dir);
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function createRunDir(
  out: string,
  name: string,
): Promise<{ id: string; dir: string }> {
  await Deno.mkdir(out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 60) || "run";
  for (let k = 1; k < 1000; k++) {
    const id = k === 1 ? `${stamp}-${safe}` : `${stamp}-${safe}-${k}`;
    const dir = join(out, id);
    try {
      await Deno.mkdir(dir);
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) continue;
      throw e;
    }
    await Deno.mkdir(join(dir, "samples"));
    await Deno.mkdir(join(dir, "checkpoints"));
    return { id, dir };
  }
  throw new Error(
    `Cannot create a run directory in ${out}: too many runs named ${safe} this second`,
  );
}

/**
 * Finds a run's directory from an id (under `out`) or a path.
 *
 * @param out The runs directory.
 * @param idOrPath A run id or a path to a run directory.
 * @returns The directory path.
 *
 * @example
 * ```ts
 * import { findRunDir } from "./_run_dir.ts";
 * import assert from "node:assert/strict";
 * await assert.rejects(() => findRunDir("/nonexistent", "nope"), /No run "nope"/);
 * ```
 */
export async function findRunDir(out: string, idOrPath: string): Promise<string> {
  for (const candidate of [idOrPath, join(out, idOrPath)]) {
    try {
      if ((await Deno.stat(join(candidate, "run.json"))).isFile) return candidate;
    } catch { /* try the next */ }
  }
  throw new Error(`No run "${idOrPath}": expected a run id under ${out}/ or a run directory`);
}

/**
 * Reads a run's `run.json`.
 *
 * @param dir The run directory.
 * @returns The record.
 *
 * @example
 * ```ts ignore
 * const record = await readRunRecord("runs/20261122-101010-s-curve-mlp");
 * ```
 */
export async function readRunRecord(dir: string): Promise<RunRecord> {
  const path = join(dir, "run.json");
  try {
    return JSON.parse(await Deno.readTextFile(path)) as RunRecord;
  } catch (e) {
    throw new Error(`Cannot read ${path}: ${e instanceof Error ? e.message : e}`);
  }
}

/**
 * Writes `run.json` atomically, stamping `updatedAt`.
 *
 * @param dir The run directory.
 * @param record The record (mutated: `updatedAt`).
 *
 * @example
 * ```ts ignore
 * await writeRunRecord(dir, { ...record, status: "completed" });
 * ```
 */
export async function writeRunRecord(dir: string, record: RunRecord): Promise<void> {
  record.updatedAt = new Date().toISOString();
  await writeJsonAtomic(join(dir, "run.json"), record);
}

/**
 * The file name of a per-step artefact: `step_00001234<ext>`.
 *
 * @param step The training step.
 * @param ext The extension including the dot, or "" for a directory.
 * @returns The file name.
 *
 * @example
 * ```ts
 * import { stepName } from "./_run_dir.ts";
 * import assert from "node:assert/strict";
 * assert.equal(stepName(1234, ".png"), "step_00001234.png");
 * ```
 */
export function stepName(step: number, ext: string): string {
  return `step_${String(step).padStart(8, "0")}${ext}`;
}

/**
 * The latest checkpoint directory of a run, or null when it has none.
 *
 * @param dir The run directory.
 * @returns The checkpoint directory's path, or null.
 *
 * @example
 * ```ts
 * import { latestCheckpoint } from "./_run_dir.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * assert.equal(await latestCheckpoint(dir), null);
 * await Deno.remove(dir);
 * ```
 */
export async function latestCheckpoint(dir: string): Promise<string | null> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(join(dir, "checkpoints"))) {
      if (e.isDirectory && /^step_\d{8}$/.test(e.name)) names.push(e.name);
    }
  } catch {
    return null;
  }
  names.sort();
  const last = names.at(-1);
  return last ? join(dir, "checkpoints", last) : null;
}

/**
 * The git commit of the working tree, or null outside a checkout.
 *
 * @returns The commit hash or null.
 *
 * @example
 * ```ts ignore
 * console.log(await gitCommit());
 * ```
 */
export async function gitCommit(): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", { args: ["rev-parse", "HEAD"], stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}
