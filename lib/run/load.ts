/**
 * Loading a run's newest checkpoint that loads, passing over (and setting aside) corrupt ones.
 *
 * @module
 */
import { type Checkpoint, CheckpointError, loadCheckpoint } from "../train/checkpoint.ts";
import { type CheckpointDir, listCheckpointDirs } from "./checkpoints.ts";

/**
 * A checkpoint that {@linkcode loadNewestCheckpoint} passed over.
 *
 * @example
 * ```ts
 * import type { SkippedCheckpoint } from "./load.ts";
 * const s: SkippedCheckpoint = { name: "step_00000020", reason: "weights.bin has 100 bytes" };
 * ```
 */
export interface SkippedCheckpoint {
  /** The folder name. */
  name: string;
  /** Why it does not load, one line. */
  reason: string;
  /** Where it was moved, when set aside. */
  movedTo?: string;
}

/**
 * What {@linkcode loadNewestCheckpoint} found.
 *
 * @example
 * ```ts
 * import type { NewestCheckpoint } from "./load.ts";
 * const none: NewestCheckpoint = { found: null, skipped: [] };
 * ```
 */
export interface NewestCheckpoint {
  /** The newest folder that loaded and its content; null when none did. */
  found: { dir: CheckpointDir; checkpoint: Checkpoint } | null;
  /** Newer folders that did not load, newest first. */
  skipped: SkippedCheckpoint[];
}

/**
 * Loads the newest checkpoint of a run that loads and is finite, passing over corrupt ones
 * (and, with `setAside`, renaming them to `step_<8 digits>.corrupt` so that no later look-up
 * meets them again).
 *
 * @param runDir The run directory.
 * @param options `setAside`: rename the corrupt folders out of the list.
 * @returns The checkpoint (null when none loads) and what was skipped.
 *
 * @example
 * ```ts
 * import { loadNewestCheckpoint } from "./load.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/checkpoints/step_00000010`, { recursive: true });
 * await Deno.writeTextFile(`${dir}/checkpoints/step_00000010/checkpoint.json`, "{not json");
 * await Deno.writeFile(`${dir}/checkpoints/step_00000010/weights.bin`, new Uint8Array(0));
 * const { found, skipped } = await loadNewestCheckpoint(dir);
 * assert.equal(found, null);
 * assert.match(skipped[0]!.reason, /not valid JSON/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadNewestCheckpoint(
  runDir: string,
  options: { setAside?: boolean } = {},
): Promise<NewestCheckpoint> {
  const skipped: SkippedCheckpoint[] = [];
  const dirs = await listCheckpointDirs(runDir);
  for (const dir of dirs.reverse()) {
    try {
      const checkpoint = await loadCheckpoint(dir.path);
      return { found: { dir, checkpoint }, skipped };
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      const reason = e.message.replace(/^Cannot load checkpoint [^:]*: /, "");
      const entry: SkippedCheckpoint = { name: dir.name, reason };
      if (options.setAside) {
        let to = `${dir.path}.corrupt`;
        for (let k = 2; await _exists(to); k++) to = `${dir.path}.corrupt-${k}`;
        await Deno.rename(dir.path, to);
        entry.movedTo = to;
      }
      skipped.push(entry);
    }
  }
  return { found: null, skipped };
}

async function _exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
