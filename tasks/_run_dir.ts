/**
 * A training run's directory as the CLI names it: ids or paths from the command line (relative
 * to the caller's directory) and the git commit. Creating the directory and its `run.json` are
 * `lib/run/`'s.
 *
 * @module
 */
import { join } from "node:path";
import { RUN_FILE } from "../lib/run/layout.ts";
import { callerPath, UsageError } from "./_cli.ts";

/**
 * Finds a run's directory from an id (under `out`) or a path (relative to the caller's
 * directory, see {@linkcode callerPath}). A run that is not there is a {@linkcode UsageError}
 * (exit 2): the command line named it.
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
  for (const candidate of [callerPath(idOrPath), join(out, idOrPath)]) {
    try {
      if ((await Deno.stat(join(candidate, RUN_FILE))).isFile) return candidate;
    } catch { /* try the next */ }
  }
  throw new UsageError(`No run "${idOrPath}": expected a run id under ${out}/ or a run directory`);
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
