/**
 * Creating, finding and recording a training run's directory. The layout itself (file names,
 * step names, checkpoints, the lock) is `lib/run/`'s; this module adds what only the CLI does:
 * a fresh directory per run, ids or paths from the command line, `run.json`, the git commit.
 *
 * Directory creation is exclusive, so two runs never share a directory.
 *
 * @module
 */
import { join } from "node:path";
import { writeJsonAtomic } from "../lib/io/atomic.ts";
import { CHECKPOINTS_DIR, RUN_FILE, SAMPLES_DIR } from "../lib/run/mod.ts";
import { callerPath } from "./_cli.ts";

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
    await Deno.mkdir(join(dir, SAMPLES_DIR));
    await Deno.mkdir(join(dir, CHECKPOINTS_DIR));
    return { id, dir };
  }
  throw new Error(
    `Cannot create a run directory in ${out}: too many runs named ${safe} this second`,
  );
}

/**
 * Finds a run's directory from an id (under `out`) or a path (relative to the caller's
 * directory, see {@linkcode callerPath}).
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
  const path = join(dir, RUN_FILE);
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
  await writeJsonAtomic(join(dir, RUN_FILE), record);
}

/**
 * Writes `run.json` atomically and synchronously (for the paths that end in `Deno.exit`).
 *
 * @param dir The run directory.
 * @param record The record (mutated: `updatedAt`).
 *
 * @example
 * ```ts
 * import { readRunRecord, type RunRecord, writeRunRecordSync } from "./_run_dir.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * writeRunRecordSync(dir, { id: "r", status: "interrupted" } as RunRecord);
 * assert.equal((await readRunRecord(dir)).status, "interrupted");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function writeRunRecordSync(dir: string, record: RunRecord): void {
  record.updatedAt = new Date().toISOString();
  const path = join(dir, RUN_FILE);
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  Deno.writeTextFileSync(tmp, JSON.stringify(record, null, 2) + "\n");
  Deno.renameSync(tmp, path);
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
