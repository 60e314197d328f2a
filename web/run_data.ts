/**
 * Everything the run page shows about one run, read from its directory, with the metric
 * files parsed once, extended as they grow, and downsampled on the way out.
 * @module
 */
import { alignSteps } from "./align_steps.ts";
import { downsampleMinMax, roundTable } from "./downsample.ts";
import { flattenEvalRecord } from "./eval_series.ts";
import { emptyTable, type MetricTable, parseJsonlTable, readFrom } from "./jsonl.ts";
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
  FORWARD_FILE,
  FORWARD_FRAMES_FILE,
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
}

interface Cached {
  mtime: number | null;
  size: number;
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
 * await Deno.remove(path);
 * ```
 */
export async function loadSeries(
  path: string,
  options: LoadSeriesOptions = {},
): Promise<SeriesData> {
  const maxPoints = options.maxPoints ?? 1500;
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch (e) {
    return unreadable(path, e instanceof Deno.errors.NotFound ? "missing" : String(e));
  }
  const mtime = stat.mtime?.getTime() ?? null;
  let c = cache.get(path);
  try {
    if (c === undefined || stat.size < c.size) {
      const r = parseJsonlTable(await Deno.readFile(path), undefined, options.mapRecord);
      c = { mtime, size: stat.size, table: r.table, malformed: r.malformed, ...rest(r) };
    } else if (stat.size > c.size || mtime !== c.mtime) {
      const bytes = await readFrom(path, c.offset);
      const r = parseJsonlTable(bytes, c.table, options.mapRecord);
      c = {
        mtime,
        size: c.offset + bytes.length,
        table: r.table,
        malformed: c.malformed + r.malformed,
        partialTail: r.partialTail,
        offset: c.offset + r.bytesConsumed,
      };
    }
  } catch (e) {
    return unreadable(path, String(e));
  }
  cache.delete(path);
  cache.set(path, c);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  const aligned = alignSteps(c.table);
  return {
    table: roundTable(downsampleMinMax(aligned, maxPoints)),
    totalPoints: c.table.steps.length,
    rows: aligned.steps.length,
    malformed: c.malformed,
    partialTail: c.partialTail,
    offset: c.offset,
    error: null,
  };
}

/** Forgets the cached table of `path` and says why the file could not be read. */
function unreadable(path: string, error: string): SeriesData {
  cache.delete(path);
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

function rest(r: { partialTail: boolean; bytesConsumed: number }) {
  return { partialTail: r.partialTail, offset: r.bytesConsumed };
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
  const dir = `${runsDir}/${id}`;
  const [info, metrics, evals, samples, checkpoints, forward, trajectory, evalSamples] =
    await Promise.all([
      readRunInfo(runsDir, id),
      loadSeries(`${dir}/metrics.jsonl`, options),
      loadSeries(`${dir}/eval.jsonl`, { ...options, mapRecord: flattenEvalRecord }),
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
 * True when the run directory exists.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runExists } from "./run_data.ts";
 * assert.equal(await runExists("/nonexistent", "r1"), false);
 * ```
 */
export async function runExists(runsDir: string, id: string): Promise<boolean> {
  try {
    return (await Deno.stat(`${runsDir}/${id}`)).isDirectory;
  } catch {
    return false;
  }
}
