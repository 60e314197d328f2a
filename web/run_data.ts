/**
 * Everything the run page shows about one run, read from its directory, with the metric
 * files parsed once, extended as they grow, and downsampled on the way out.
 * @module
 */
import { alignSteps } from "./align_steps.ts";
import { downsampleMinMax, roundTable } from "./downsample.ts";
import { flattenEvalRecord } from "./eval_series.ts";
import { emptyTable, type MetricTable, parseJsonlTable } from "./jsonl.ts";
import { getOwn, setOwn } from "./utils/own.ts";
import { TIME_COLUMN, withTimeMs } from "./wall_time.ts";
import { isRunDir, MAX_JSONL_BYTES, readRegularFile, resolveInRuns } from "./utils/safe_fs.ts";
import {
  type CheckpointEntry,
  type EvalSampleSet,
  listCheckpoints,
  listEvalSamples,
  listSamples,
  readPictureFrames,
  readPngSize,
  type SampleFile,
} from "./run_files.ts";
import {
  EVAL_FILE,
  FORWARD_FILE,
  FORWARD_FRAMES_FILE,
  METRICS_FILE,
  TRAJECTORY_FILE,
  TRAJECTORY_FRAMES_FILE,
} from "../lib/run/layout.ts";
import { readRunInfo, type RunInfoResult } from "./runs.ts";

/** A metrics or eval file as the page gets it. */
export interface SeriesData {
  /** The curve, downsampled to at most the requested number of points, 5 significant digits. */
  table: MetricTable;
  /** How many lines the file holds (before downsampling). */
  totalPoints: number;
  /** Lines once those of one step are merged into one (before downsampling). */
  rows: number;
  /** Complete lines that were not valid records. */
  malformed: number;
  /** Whether a partially written last line was left out. */
  partialTail: boolean;
  /** Byte offset just after the last complete line: where live updates start. */
  offset: number;
  /** Why the file could not be read; `"missing"` when there is no such file. */
  error: string | null;
  /**
   * Bytes at the start of the file that were not read, when the file is longer than the cap
   * (`LoadSeriesOptions.maxBytes`): its last lines are shown. Absent when it was read whole.
   */
  skippedBytes?: number;
}

/** Options for {@linkcode loadSeries}. */
export interface LoadSeriesOptions {
  /** Points kept after downsampling. @default 1500 */
  maxPoints?: number;
  /**
   * Turns each parsed line into the record that is tabled (a file is always read with the same
   * one: tables are cached by path). @default the line as it is
   */
  mapRecord?: (record: unknown) => unknown;
  /**
   * Most bytes of the file read and kept: a longer file is read from its end, from the first
   * line's start in its last `maxBytes`. @default MAX_JSONL_BYTES (64 MiB)
   */
  maxBytes?: number;
}

interface Cached {
  mtime: number | null;
  size: number;
  /** Where the parsed lines start in the file (0 unless the file is longer than the cap). */
  start: number;
  /** The cap it was read under. */
  maxBytes: number;
  table: MetricTable;
  malformed: number;
  partialTail: boolean;
  offset: number;
}

const cache = new Map<string, Cached>();
const CACHE_LIMIT = 32;

/**
 * Reads a JSON-lines metric file into a downsampled table whose steps increase strictly (rows
 * of one step merged). Parsed tables are cached by path and, when the file only grew,
 * extended with the new bytes instead of re-read.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSeries } from "./run_data.ts";
 * const path = await Deno.makeTempFile();
 * const lines = Array.from({ length: 100 }, (_, i) => JSON.stringify({ step: i, loss: i }));
 * await Deno.writeTextFile(path, lines.join("\n") + "\n");
 * const s = await loadSeries(path, { maxPoints: 10 });
 * assert.equal(s.totalPoints, 100);
 * assert.equal(s.table.steps.length, 10);
 * assert.equal((await loadSeries("/nonexistent.jsonl")).error, "missing");
 * const capped = await loadSeries(path, { maxBytes: 100 }); // its last lines only
 * assert.ok(capped.skippedBytes! > 0 && capped.totalPoints < 10);
 * assert.deepEqual(capped.table.steps.at(-1), 99);
 * assert.equal((await loadSeries("/dev/zero")).error, "it is not a regular file; not read");
 * await Deno.remove(path);
 * ```
 */
export async function loadSeries(
  path: string,
  options: LoadSeriesOptions = {},
): Promise<SeriesData> {
  const maxPoints = options.maxPoints ?? 1500;
  const maxBytes = options.maxBytes ?? MAX_JSONL_BYTES;
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch (e) {
    return unreadable(path, e instanceof Deno.errors.NotFound ? "missing" : String(e));
  }
  // Never opened unless a regular file: a FIFO would block, a device never end.
  if (!stat.isFile) return unreadable(path, "it is not a regular file; not read");
  const mtime = stat.mtime?.getTime() ?? null;
  let c = cache.get(path);
  try {
    if (
      c === undefined || c.maxBytes !== maxBytes || stat.size < c.size ||
      stat.size - c.start > maxBytes
    ) {
      // The whole file, or its last maxBytes from the first line that starts in them.
      const read = await readRegularFile(path, { maxBytes, fromEnd: true });
      let bytes = read.bytes, start = read.start;
      if (start > 0) {
        const cut = bytes.indexOf(0x0a) + 1 || bytes.length;
        bytes = bytes.subarray(cut);
        start += cut;
      }
      const r = parseJsonlTable(bytes, undefined, options.mapRecord);
      c = {
        mtime,
        size: start + bytes.length,
        start,
        maxBytes,
        table: r.table,
        malformed: r.malformed,
        partialTail: r.partialTail,
        offset: start + r.bytesConsumed,
      };
    } else if (stat.size > c.size || mtime !== c.mtime) {
      const read = await readRegularFile(path, {
        offset: c.offset,
        maxBytes: maxBytes - (c.offset - c.start),
      });
      const r = parseJsonlTable(read.bytes, c.table, options.mapRecord);
      c = {
        mtime,
        size: c.offset + read.bytes.length,
        start: c.start,
        maxBytes,
        table: r.table,
        malformed: c.malformed + r.malformed,
        partialTail: r.partialTail,
        offset: c.offset + r.bytesConsumed,
      };
    }
  } catch (e) {
    return unreadable(path, e instanceof Error ? e.message : String(e));
  }
  cache.delete(path);
  cache.set(path, c);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  const aligned = alignSteps(c.table);
  const down = downsampleMinMax(aligned, maxPoints);
  const table = roundTable(down);
  // Wall times (ms since the epoch) need every digit: kept unrounded.
  const time = getOwn(down.columns, TIME_COLUMN);
  if (time !== undefined) setOwn(table.columns, TIME_COLUMN, time);
  return {
    table,
    totalPoints: c.table.steps.length,
    rows: aligned.steps.length,
    malformed: c.malformed,
    partialTail: c.partialTail,
    offset: c.offset,
    error: null,
    ...(c.start > 0 ? { skippedBytes: c.start } : {}),
  };
}

/** Forgets the cached table of `path` and says why the file could not be read. */
function unreadable(path: string | null, error: string): SeriesData {
  if (path !== null) cache.delete(path);
  return {
    table: emptyTable(),
    totalPoints: 0,
    rows: 0,
    malformed: 0,
    partialTail: false,
    offset: 0,
    error,
  };
}

/** What the run page shows. */
export interface RunData {
  id: string;
  info: RunInfoResult;
  metrics: SeriesData;
  /** `eval.jsonl` as series columns `<metric>@<series>` (see `eval_series.ts`). */
  evals: SeriesData;
  samples: SampleFile[];
  checkpoints: CheckpointEntry[];
  hasForward: boolean;
  hasTrajectory: boolean;
  /** The forward-process and trajectory pictures: size and the t of each frame. */
  pictures?: { forward: PictureInfo | null; trajectory: PictureInfo | null };
  /** Pixel size of the newest sample picture (they all have one size). */
  sampleSize?: { width: number; height: number } | null;
  /** The digits kept by `deno task eval --quality`, by setting. */
  evalSamples?: EvalSampleSet[];
}

/** One of the run's strip pictures (`forward.png`, `trajectory.png`). */
export interface PictureInfo {
  /** Run-relative path of the PNG. */
  file: string;
  width: number;
  height: number;
  /** The t of each frame, left to right, when the run recorded them. */
  t: number[] | null;
}

/**
 * Reads everything about one run; each part that is missing or broken says so in its own
 * field, and nothing throws for bad files.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadRun } from "./run_data.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/r1`);
 * const run = await loadRun(dir, "r1");
 * assert.equal(run.info.ok, false);
 * assert.equal(run.metrics.error, "missing");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadRun(
  runsDir: string,
  id: string,
  options: LoadSeriesOptions = {},
): Promise<RunData> {
  const [info, metrics, evals, samples, checkpoints, forward, trajectory, evalSamples] =
    await Promise.all([
      readRunInfo(runsDir, id),
      _series(runsDir, `${id}/${METRICS_FILE}`, { ...options, mapRecord: withTimeMs }),
      _series(runsDir, `${id}/${EVAL_FILE}`, { ...options, mapRecord: flattenEvalRecord }),
      listSamples(runsDir, id),
      listCheckpoints(runsDir, id),
      _picture(runsDir, id, FORWARD_FILE, FORWARD_FRAMES_FILE),
      _picture(runsDir, id, TRAJECTORY_FILE, TRAJECTORY_FRAMES_FILE),
      listEvalSamples(runsDir, id),
    ]);
  const newest = samples.at(-1);
  const sampleSize = newest ? await readPngSize(runsDir, id, newest.path) : null;
  return {
    id,
    info,
    metrics,
    evals,
    samples,
    checkpoints,
    hasForward: forward !== null,
    hasTrajectory: trajectory !== null,
    pictures: { forward, trajectory },
    sampleSize,
    evalSamples,
  };
}

/** A run's metric file through the runs directory's doorway: no link out of it is followed. */
async function _series(
  runsDir: string,
  rel: string,
  options: LoadSeriesOptions,
): Promise<SeriesData> {
  const r = await resolveInRuns(runsDir, rel);
  if (!r.ok) return unreadable(null, r.reason === "missing" ? "missing" : r.why);
  return await loadSeries(r.path, options);
}

async function _picture(
  runsDir: string,
  id: string,
  file: string,
  frames: typeof FORWARD_FRAMES_FILE | typeof TRAJECTORY_FRAMES_FILE,
): Promise<PictureInfo | null> {
  const size = await readPngSize(runsDir, id, file);
  if (size === null) return null;
  return { file, ...size, t: await readPictureFrames(runsDir, id, frames) };
}

/**
 * True when `runsDir/id` is a run: a folder inside the runs directory with a `run.json`
 * (see `isRunDir` in `utils/safe_fs.ts`); a folder without one, or a link out of the runs
 * directory, is not.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runExists } from "./run_data.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/notes`);
 * assert.equal(await runExists(dir, "notes"), false);
 * assert.equal(await runExists("/nonexistent", "r1"), false);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runExists(runsDir: string, id: string): Promise<boolean> {
  return await isRunDir(runsDir, id);
}
