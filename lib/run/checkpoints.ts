/**
 * The checkpoints of a run directory: the list, the latest and retention. No tensors here (the
 * viewer imports it); loading is `load.ts`'s.
 *
 * @module
 */
import { join } from "node:path";
import { CHECKPOINT_FILES, CHECKPOINTS_DIR, parseStepName } from "./layout.ts";

/**
 * One `checkpoints/step_<8 digits>/` folder (see {@linkcode listCheckpointDirs}).
 *
 * @example
 * ```ts
 * import type { CheckpointDir } from "./checkpoints.ts";
 * const c: CheckpointDir = { name: "step_00000010", step: 10, path: "r/checkpoints/step_00000010", complete: true };
 * ```
 */
export interface CheckpointDir {
  /** The folder name, e.g. `step_00001000`. */
  name: string;
  /** Its step. */
  step: number;
  /** Its path. */
  path: string;
  /** Whether both `checkpoint.json` and `weights.bin` are there. */
  complete: boolean;
}

async function _isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * Lists a run's checkpoint folders by step (oldest first); empty when there are none.
 *
 * @param runDir The run directory.
 * @returns The folders.
 *
 * @example
 * ```ts
 * import { listCheckpointDirs } from "./checkpoints.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/checkpoints/step_00000020`, { recursive: true });
 * await Deno.mkdir(`${dir}/checkpoints/step_00000010.tmp-ab`, { recursive: true });
 * const list = await listCheckpointDirs(dir);
 * assert.deepEqual(list.map((c) => [c.step, c.complete]), [[20, false]]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function listCheckpointDirs(runDir: string): Promise<CheckpointDir[]> {
  const base = join(runDir, CHECKPOINTS_DIR);
  const out: CheckpointDir[] = [];
  try {
    for await (const e of Deno.readDir(base)) {
      const step = parseStepName(e.name, "");
      if (step === null || !e.isDirectory) continue;
      const path = join(base, e.name);
      let complete = true;
      for (const f of CHECKPOINT_FILES) complete &&= await _isFile(join(path, f));
      out.push({ name: e.name, step, path, complete });
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort((a, b) => a.step - b.step);
}

/**
 * The newest complete checkpoint folder of a run, or null when it has none. "Complete" means
 * both files are present; whether they load is `loadNewestCheckpoint`'s question (`load.ts`).
 *
 * @param runDir The run directory.
 * @returns The folder, or null.
 *
 * @example
 * ```ts
 * import { latestCheckpoint } from "./checkpoints.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * assert.equal(await latestCheckpoint(dir), null);
 * await Deno.mkdir(`${dir}/checkpoints/step_00000010`, { recursive: true });
 * await Deno.writeTextFile(`${dir}/checkpoints/step_00000010/checkpoint.json`, "{}");
 * await Deno.writeFile(`${dir}/checkpoints/step_00000010/weights.bin`, new Uint8Array(0));
 * await Deno.mkdir(`${dir}/checkpoints/step_00000020`); // incomplete: skipped
 * assert.equal((await latestCheckpoint(dir))?.step, 10);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function latestCheckpoint(runDir: string): Promise<CheckpointDir | null> {
  return (await listCheckpointDirs(runDir)).filter((c) => c.complete).at(-1) ?? null;
}

/**
 * Retention: removes all but the newest `keep` complete checkpoints (and any incomplete
 * folder older than the oldest one kept). `keep` 0 keeps everything.
 *
 * @param runDir The run directory.
 * @param keep How many to keep (0: all).
 * @returns The names removed.
 *
 * @example
 * ```ts
 * import { listCheckpointDirs, pruneCheckpoints } from "./checkpoints.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * for (const s of ["10", "20", "30"]) {
 *   const c = `${dir}/checkpoints/step_000000${s}`;
 *   await Deno.mkdir(c, { recursive: true });
 *   await Deno.writeTextFile(`${c}/checkpoint.json`, "{}");
 *   await Deno.writeFile(`${c}/weights.bin`, new Uint8Array(0));
 * }
 * assert.deepEqual(await pruneCheckpoints(dir, 2), ["step_00000010"]);
 * assert.deepEqual((await listCheckpointDirs(dir)).map((c) => c.step), [20, 30]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function pruneCheckpoints(runDir: string, keep: number): Promise<string[]> {
  if (!(keep > 0)) return [];
  const all = await listCheckpointDirs(runDir);
  const complete = all.filter((c) => c.complete);
  if (complete.length <= keep) return [];
  const oldestKept = complete[complete.length - keep]!.step;
  const removed: string[] = [];
  for (const c of all) {
    if (c.step >= oldestKept) continue;
    await Deno.remove(c.path, { recursive: true });
    removed.push(c.name);
  }
  return removed;
}
