/**
 * The files inside one run directory that the viewer lists or serves: sample images,
 * the forward-process and trajectory pictures, checkpoints. Paths are allow-listed.
 * @module
 */
import { isValidRunId } from "./runs.ts";

/** Relative paths inside a run directory that may be served, and nothing else. */
export const SERVABLE_FILE_PATTERN: RegExp =
  /^(?:run\.json|metrics\.jsonl|eval\.jsonl|forward\.png|trajectory\.png|samples\/step_\d{8}\.png)$/;

/**
 * True when `rel` is a run-relative path the viewer may serve.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isServableFile } from "./run_files.ts";
 * assert.equal(isServableFile("samples/step_00001000.png"), true);
 * assert.equal(isServableFile("../run.json"), false);
 * assert.equal(isServableFile("checkpoints/latest"), false);
 * ```
 */
export function isServableFile(rel: string): boolean {
  return SERVABLE_FILE_PATTERN.test(rel);
}

/**
 * The on-disk path of a servable file of a run, or `null` when the id or name is not
 * allowed, or when the real path (after symlinks) leaves the runs directory.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveRunFile } from "./run_files.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/r1`);
 * await Deno.writeTextFile(`${dir}/r1/run.json`, "{}");
 * assert.ok((await resolveRunFile(dir, "r1", "run.json"))?.endsWith("run.json"));
 * assert.equal(await resolveRunFile(dir, "r1", "../r1/run.json"), null);
 * assert.equal(await resolveRunFile(dir, "r1", "forward.png"), null);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function resolveRunFile(
  runsDir: string,
  id: string,
  rel: string,
): Promise<string | null> {
  if (!isValidRunId(id) || !isServableFile(rel)) return null;
  try {
    const root = await Deno.realPath(runsDir);
    const real = await Deno.realPath(`${runsDir}/${id}/${rel}`);
    if (!real.startsWith(root + "/")) return null;
    const stat = await Deno.stat(real);
    return stat.isFile ? real : null;
  } catch {
    return null;
  }
}

/** One sample picture of a run. */
export interface SampleFile {
  step: number;
  /** Run-relative path, e.g. `samples/step_00001000.png`. */
  path: string;
}

const SAMPLE_NAME = /^step_(\d{8})\.png$/;

/**
 * Lists `samples/step_<8 digits>.png` of a run, by step; empty when there is no folder.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listSamples } from "./run_files.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/r1/samples`, { recursive: true });
 * await Deno.writeFile(`${dir}/r1/samples/step_00000200.png`, new Uint8Array(1));
 * await Deno.writeFile(`${dir}/r1/samples/step_00000100.png`, new Uint8Array(1));
 * await Deno.writeFile(`${dir}/r1/samples/other.png`, new Uint8Array(1));
 * assert.deepEqual((await listSamples(dir, "r1")).map((s) => s.step), [100, 200]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function listSamples(runsDir: string, id: string): Promise<SampleFile[]> {
  if (!isValidRunId(id)) return [];
  const out: SampleFile[] = [];
  try {
    for await (const e of Deno.readDir(`${runsDir}/${id}/samples`)) {
      const m = SAMPLE_NAME.exec(e.name);
      if (m && e.isFile) out.push({ step: Number(m[1]), path: `samples/${e.name}` });
    }
  } catch {
    return [];
  }
  return out.sort((a, b) => a.step - b.step);
}

/** One checkpoint folder of a run. */
export interface CheckpointEntry {
  name: string;
  step: number;
  /** Total bytes of the files in the folder. */
  bytes: number;
  /** True when checkpoints/latest names this one. */
  latest: boolean;
  /** Whether checkpoint.json and weights.bin are both there. */
  complete: boolean;
}

const CHECKPOINT_NAME = /^step_(\d{8})$/;

/**
 * Lists `checkpoints/step_<8 digits>/` of a run with their sizes, by step; `latest` is
 * read from `checkpoints/latest` (a text file or a symlink naming the folder).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listCheckpoints } from "./run_files.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/r1/checkpoints/step_00000010`, { recursive: true });
 * await Deno.writeFile(`${dir}/r1/checkpoints/step_00000010/weights.bin`, new Uint8Array(40));
 * await Deno.writeTextFile(`${dir}/r1/checkpoints/latest`, "step_00000010\n");
 * const [c] = await listCheckpoints(dir, "r1");
 * assert.deepEqual(c, { name: "step_00000010", step: 10, bytes: 40, latest: true, complete: false });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function listCheckpoints(runsDir: string, id: string): Promise<CheckpointEntry[]> {
  if (!isValidRunId(id)) return [];
  const base = `${runsDir}/${id}/checkpoints`;
  let latest: string | null = null;
  try {
    const s = await Deno.lstat(`${base}/latest`);
    const target = s.isSymlink
      ? await Deno.readLink(`${base}/latest`)
      : await Deno.readTextFile(`${base}/latest`);
    latest = target.trim().replace(/\/+$/, "").split("/").pop() ?? null;
  } catch {
    // no latest marker
  }
  const out: CheckpointEntry[] = [];
  try {
    for await (const e of Deno.readDir(base)) {
      const m = CHECKPOINT_NAME.exec(e.name);
      if (!m || !e.isDirectory) continue;
      let bytes = 0;
      const names = new Set<string>();
      for await (const f of Deno.readDir(`${base}/${e.name}`)) {
        if (!f.isFile) continue;
        names.add(f.name);
        bytes += (await Deno.stat(`${base}/${e.name}/${f.name}`)).size;
      }
      out.push({
        name: e.name,
        step: Number(m[1]),
        bytes,
        latest: e.name === latest,
        complete: names.has("checkpoint.json") && names.has("weights.bin"),
      });
    }
  } catch {
    return out;
  }
  return out.sort((a, b) => a.step - b.step);
}

/**
 * True when a run-relative file exists (used for the optional pictures).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runFileExists } from "./run_files.ts";
 * assert.equal(await runFileExists("/nonexistent", "r1", "forward.png"), false);
 * ```
 */
export async function runFileExists(runsDir: string, id: string, rel: string): Promise<boolean> {
  return (await resolveRunFile(runsDir, id, rel)) !== null;
}
