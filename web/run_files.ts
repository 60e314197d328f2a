/**
 * The files inside one run directory that the viewer lists or serves: sample images,
 * the forward-process and trajectory pictures, checkpoints. Paths are allow-listed.
 * @module
 */
import { join } from "node:path";
import { isValidRunId } from "./runs.ts";
import { readRunsFile, resolveInRuns } from "./utils/safe_fs.ts";
// The light parts of lib/run only: the viewer loads no tensors.
import { listCheckpointDirs } from "../lib/run/checkpoints.ts";
import {
  CHECKPOINT_FILES,
  CHECKPOINTS_DIR,
  EVAL_FILE,
  EVAL_SAMPLES_DIR,
  FORWARD_FILE,
  FORWARD_FRAMES_FILE,
  METRICS_FILE,
  parseStepName,
  RUN_FILE,
  SAMPLES_DIR,
  TRAJECTORY_FILE,
  TRAJECTORY_FRAMES_FILE,
} from "../lib/run/layout.ts";

/** The name of a setting folder under `eval_samples/` (as `deno task eval --quality` names them). */
export const EVAL_SETTING_PATTERN: RegExp = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Relative paths inside a run directory that may be served, and nothing else. */
export const SERVABLE_FILE_PATTERN: RegExp = new RegExp(
  `^(?:${
    [
      RUN_FILE,
      METRICS_FILE,
      EVAL_FILE,
      FORWARD_FILE,
      TRAJECTORY_FILE,
      FORWARD_FRAMES_FILE,
      TRAJECTORY_FRAMES_FILE,
    ].map(_escape).join("|")
  }|${_escape(SAMPLES_DIR)}/step_\\d{8}\\.png` +
    `|${_escape(CHECKPOINTS_DIR)}/step_\\d{8}/(?:${CHECKPOINT_FILES.map(_escape).join("|")})` +
    `|${_escape(EVAL_SAMPLES_DIR)}/${
      EVAL_SETTING_PATTERN.source.slice(1, -1)
    }/batch_\\d{4}\\.npy)$`,
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
 * assert.equal(isServableFile("checkpoints/step_00000010/weights.bin"), true);
 * assert.equal(isServableFile("checkpoints/step_00000010/../run.json"), false);
 * assert.equal(isServableFile("eval_samples/step_00001500-ema-50-seed0/batch_0003.npy"), true);
 * assert.equal(isServableFile("eval_samples/../batch_0003.npy"), false);
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
  const r = await resolveInRuns(runsDir, `${id}/${rel}`, "file");
  return r.ok ? r.path : null;
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
  const dir = await resolveInRuns(runsDir, `${id}/${SAMPLES_DIR}`, "dir");
  if (!dir.ok) return [];
  const out: SampleFile[] = [];
  try {
    for await (const e of Deno.readDir(dir.path)) {
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
  /** Run-relative paths of its files that the viewer serves (checkpoint.json, weights.bin). */
  files: string[];
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
 * assert.deepEqual(a, {
 *   name: "step_00000010",
 *   step: 10,
 *   bytes: 42,
 *   latest: true,
 *   complete: true,
 *   files: ["checkpoints/step_00000010/checkpoint.json", "checkpoints/step_00000010/weights.bin"],
 * });
 * assert.equal(b!.latest, false); // incomplete
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function listCheckpoints(runsDir: string, id: string): Promise<CheckpointEntry[]> {
  if (!isValidRunId(id)) return [];
  // Step folders are listed without following links; the folder itself must stay inside.
  if (!(await resolveInRuns(runsDir, `${id}/${CHECKPOINTS_DIR}`, "dir")).ok) return [];
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
    const files: string[] = [];
    try {
      for await (const f of Deno.readDir(c.path)) {
        if (!f.isFile) continue;
        bytes += (await Deno.stat(join(c.path, f.name))).size;
        const rel = `${CHECKPOINTS_DIR}/${c.name}/${f.name}`;
        if (isServableFile(rel)) files.push(rel);
      }
    } catch { /* removed meanwhile (retention) */ }
    out.push({
      name: c.name,
      step: c.step,
      bytes,
      latest: c.name === latest,
      complete: c.complete,
      files: files.sort(),
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

/** The `.npy` batches `deno task eval --quality` kept for one setting. */
export interface EvalSampleSet {
  /** The setting folder's name, e.g. `step_00001500-ema-50-seed0`. */
  setting: string;
  /** Run-relative paths of its batches, in order. */
  files: string[];
  /** Their total size in bytes. */
  bytes: number;
}

/**
 * Lists `eval_samples/<setting>/batch_<4 digits>.npy` of a run, settings by name; empty when
 * there is no such folder.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listEvalSamples } from "./run_files.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/r1/eval_samples/step_00000010-ema-50-seed0`, { recursive: true });
 * await Deno.writeFile(`${dir}/r1/eval_samples/step_00000010-ema-50-seed0/batch_0000.npy`, new Uint8Array(8));
 * const [set] = await listEvalSamples(dir, "r1");
 * assert.deepEqual(set, {
 *   setting: "step_00000010-ema-50-seed0",
 *   files: ["eval_samples/step_00000010-ema-50-seed0/batch_0000.npy"],
 *   bytes: 8,
 * });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function listEvalSamples(runsDir: string, id: string): Promise<EvalSampleSet[]> {
  if (!isValidRunId(id)) return [];
  const root = await resolveInRuns(runsDir, `${id}/${EVAL_SAMPLES_DIR}`, "dir");
  if (!root.ok) return [];
  const out: EvalSampleSet[] = [];
  try {
    for await (const d of Deno.readDir(root.path)) {
      if (!d.isDirectory || !EVAL_SETTING_PATTERN.test(d.name)) continue;
      const set: EvalSampleSet = { setting: d.name, files: [], bytes: 0 };
      for await (const f of Deno.readDir(join(root.path, d.name))) {
        const rel = `${EVAL_SAMPLES_DIR}/${d.name}/${f.name}`;
        if (!f.isFile || !isServableFile(rel)) continue;
        set.files.push(rel);
        set.bytes += (await Deno.lstat(join(root.path, d.name, f.name)).catch(() => ({ size: 0 })))
          .size;
      }
      set.files.sort();
      if (set.files.length > 0) out.push(set);
    }
  } catch {
    return out;
  }
  return out.sort((a, b) => (a.setting < b.setting ? -1 : a.setting > b.setting ? 1 : 0));
}

/**
 * The t of each frame of a run's picture (`forward.json` or `trajectory.json` beside the PNG),
 * or `null` when the run did not record them or the record is not a list of numbers.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPictureFrames } from "./run_files.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/r1`);
 * await Deno.writeTextFile(`${dir}/r1/forward.json`, '{"t":[0,500,999]}');
 * assert.deepEqual(await readPictureFrames(dir, "r1", "forward.json"), [0, 500, 999]);
 * assert.equal(await readPictureFrames(dir, "r1", "trajectory.json"), null);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readPictureFrames(
  runsDir: string,
  id: string,
  rel: typeof FORWARD_FRAMES_FILE | typeof TRAJECTORY_FRAMES_FILE,
): Promise<number[] | null> {
  if (!isValidRunId(id)) return null;
  const r = await readRunsFile(runsDir, `${id}/${rel}`, { maxBytes: 64 * 1024 });
  if (!r.ok || r.truncated) return null;
  try {
    const t = JSON.parse(new TextDecoder().decode(r.bytes))?.t;
    return Array.isArray(t) && t.length <= 1000 && t.every((v) => Number.isFinite(v)) ? t : null;
  } catch {
    return null;
  }
}

/**
 * The width and height of a run's PNG from its header, or `null` when it is missing or not a PNG.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPngSize } from "./run_files.ts";
 * import { fixturePng } from "./fixtures.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/r1`);
 * await Deno.writeFile(`${dir}/r1/forward.png`, fixturePng(30, 20, 1));
 * assert.deepEqual(await readPngSize(dir, "r1", "forward.png"), { width: 30, height: 20 });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readPngSize(
  runsDir: string,
  id: string,
  rel: string,
): Promise<{ width: number; height: number } | null> {
  if (!isValidRunId(id) || !isServableFile(rel)) return null;
  const r = await readRunsFile(runsDir, `${id}/${rel}`, { maxBytes: 24 });
  if (!r.ok) return null;
  const b = r.bytes;
  if (b.length < 24 || b[1] !== 0x50 || b[2] !== 0x4e || b[3] !== 0x47) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { width: v.getUint32(16), height: v.getUint32(20) };
}
