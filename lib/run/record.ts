/**
 * A run directory's creation and its record, `run.json`: a fresh directory per run (created
 * exclusively, so two runs never share one), and the record read and written atomically.
 *
 * @module
 */
import { join } from "node:path";
import { writeJsonAtomic } from "../io/atomic.ts";
import type { RunRecord } from "../io/run_record.ts";
import { CHECKPOINTS_DIR, RUN_FILE, SAMPLES_DIR } from "./layout.ts";

export type { RunRecord, RunStatus } from "../io/run_record.ts";

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
 * import { createRunDir } from "./record.ts";
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
 * Reads a run's `run.json`.
 *
 * @param dir The run directory.
 * @returns The record.
 *
 * @example
 * ```ts
 * import { readRunRecord } from "./record.ts";
 * import assert from "node:assert/strict";
 * await assert.rejects(readRunRecord("/nonexistent"), /Cannot read \/nonexistent\/run.json/);
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
 * ```ts
 * import { readRunRecord, type RunRecord, writeRunRecord } from "./record.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await writeRunRecord(dir, { id: "r", status: "completed" } as RunRecord);
 * assert.ok((await readRunRecord(dir)).updatedAt);
 * await Deno.remove(dir, { recursive: true });
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
 * import { readRunRecord, type RunRecord, writeRunRecordSync } from "./record.ts";
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
