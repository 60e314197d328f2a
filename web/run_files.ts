/**
 * The files inside one run directory that the viewer lists or serves: sample images,
 * the forward-process and trajectory pictures, checkpoints. Paths are allow-listed.
 * @module
 */
import { join } from "node:path";
import { isValidRunId } from "./runs.ts";
// The light parts of lib/run only: the viewer loads no tensors.
import { listCheckpointDirs } from "../lib/run/checkpoints.ts";
import {
  EVAL_FILE,
  FORWARD_FILE,
  METRICS_FILE,
  parseStepName,
  RUN_FILE,
  SAMPLES_DIR,
  TRAJECTORY_FILE,
} from "../lib/run/layout.ts";

/** Relative paths inside a run directory that may be served, and nothing else. */
export const SERVABLE_FILE_PATTERN: RegExp = new RegExp(
  `^(?:${
    [RUN_FILE, METRICS_FILE, EVAL_FILE, FORWARD_FILE, TRAJECTORY_FILE].map(_escape).join("|")
  }|${_escape(SAMPLES_DIR)}/step_\\d{8}\\.png)$`,
);

function _escape(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/**
 * True when `rel` is a run-relative path the viewer may serve.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isServableFile } from "./run_files.ts";
 * assert.equal(isServableFile("samples/step_00001000.png"), true);
 * assert.equal(isServableFile("../run.json"), false);
 * assert.equal(isServableFile("checkpoints/latest"), false);
 * assert.equal(isServableFile("run.json"), true);
 * assert.equal(isServableFile("runXjson"), false);
 * assert.equal(isServableFile("samples/step_0000100.png"), false);
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
    for await (const e of Deno.readDir(join(runsDir, id, SAMPLES_DIR))) {
      const step = parseStepName(e.name, ".png");
      if (step !== null && e.isFile) out.push({ step, path: `${SAMPLES_DIR}/${e.name}` });
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
  /** True for the newest complete checkpoint: the one resume, sample and eval start from. */
  latest: boolean;
  /** Whether checkpoint.json and weights.bin are both there. */
  complete: boolean;
}

/**
 * Lists `checkpoints/step_<8 digits>/` of a run with their sizes, by step (through
 * `lib/run/`, which the trainer writes with); `latest` marks the newest complete one.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listCheckpoints } from "./run_files.ts";
 * const dir = await Deno.makeTempDir();
 * for (const name of ["step_00000010", "step_00000020"]) {
 *   await Deno.mkdir(`${dir}/r1/checkpoints/${name}`, { recursive: true });
 *   await Deno.writeFile(`${dir}/r1/checkpoints/${name}/weights.bin`, new Uint8Array(40));
 * }
 * await Deno.writeTextFile(`${dir}/r1/checkpoints/step_00000010/checkpoint.json`, "{}");
 * const [a, b] = await listCheckpoints(dir, "r1");
 * assert.deepEqual(a, { name: "step_00000010", step: 10, bytes: 42, latest: true, complete: true });
 * assert.equal(b!.latest, false); // incomplete
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function listCheckpoints(runsDir: string, id: string): Promise<CheckpointEntry[]> {
  if (!isValidRunId(id)) return [];
  let dirs;
  try {
    dirs = await listCheckpointDirs(join(runsDir, id));
  } catch {
    return [];
  }
  const latest = dirs.filter((c) => c.complete).at(-1)?.name;
  const out: CheckpointEntry[] = [];
  for (const c of dirs) {
    let bytes = 0;
    try {
      for await (const f of Deno.readDir(c.path)) {
        if (f.isFile) bytes += (await Deno.stat(join(c.path, f.name))).size;
      }
    } catch { /* removed meanwhile (retention) */ }
    out.push({
      name: c.name,
      step: c.step,
      bytes,
      latest: c.name === latest,
      complete: c.complete,
    });
  }
  return out;
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
