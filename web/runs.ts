/**
 * Reading the run directories the trainer writes: run.json, the list of runs with their
 * last metrics, cached by file modification time.
 * @module
 */
import { join } from "node:path";
import { readLastRecord } from "./jsonl.ts";
import {
  MAX_JSON_BYTES,
  readRegularFile,
  type ReadResult,
  readRunsFile,
  type ResolvedPath,
  resolveEntry,
  resolveInRuns,
} from "./utils/safe_fs.ts";
import { METRICS_FILE, RUN_FILE } from "../lib/run/layout.ts";

export type { RunStatus } from "../lib/io/run_record.ts";
import type { RunRecord, RunStatus } from "../lib/io/run_record.ts";

/** The contents of runs/<id>/run.json, as the trainer writes it. */
export type RunInfo = RunRecord;

/** Run ids: letters, digits, `.`, `_`, `-`, starting with a letter or digit, at most 128. */
export const RUN_ID_PATTERN: RegExp = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** How long after its last update a running run still counts as live, in ms. */
export const LIVE_WINDOW_MS = 120_000;

/**
 * True when `id` may name a run directory (no separators, no leading dot).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isValidRunId } from "./runs.ts";
 * assert.equal(isValidRunId("2025-01-01_s-curve.mlp"), true);
 * assert.equal(isValidRunId(".."), false);
 * assert.equal(isValidRunId("a/b"), false);
 * ```
 */
export function isValidRunId(id: string): boolean {
  return RUN_ID_PATTERN.test(id);
}

/** The result of reading run.json: the info, or why it could not be read. */
export type RunInfoResult = { ok: true; info: RunInfo } | { ok: false; error: string };

const STATUSES: readonly RunStatus[] = ["running", "completed", "failed", "interrupted"];

function str(v: unknown, fallback = ""): string {
  return typeof v === "string" ? v : fallback;
}
function num(v: unknown, fallback = 0): number {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}
function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : {};
}

/**
 * Checks and normalises a parsed run.json: unknown statuses become an error, missing
 * optional fields get neutral values.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeRunInfo } from "./runs.ts";
 * const r = normalizeRunInfo({ id: "a", status: "running", step: 3 }, "a");
 * assert.equal(r.ok && r.info.step, 3);
 * assert.equal(normalizeRunInfo([], "a").ok, false);
 * ```
 */
export function normalizeRunInfo(raw: unknown, id: string): RunInfoResult {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { ok: false, error: "run.json is not a JSON object" };
  }
  const r = raw as Record<string, unknown>;
  const status = r.status as RunStatus;
  if (!STATUSES.includes(status)) {
    return { ok: false, error: `run.json has an unknown status: ${JSON.stringify(r.status)}` };
  }
  const info: RunInfo = {
    id,
    name: str(r.name, id),
    status,
    dataset: str(r.dataset),
    model: str(r.model),
    backend: str(r.backend),
    config: obj(r.config),
    versions: obj(r.versions),
    gitCommit: typeof r.gitCommit === "string" ? r.gitCommit : null,
    startedAt: str(r.startedAt),
    updatedAt: str(r.updatedAt, str(r.startedAt)),
    step: num(r.step),
    steps: num(r.steps),
    paramCount: num(r.paramCount),
  };
  if (typeof r.endedAt === "string") info.endedAt = r.endedAt;
  if (typeof r.error === "string") info.error = r.error;
  if (typeof r.pid === "number") info.pid = r.pid;
  return { ok: true, info };
}

/**
 * Reads and checks runs/<id>/run.json; a missing or corrupt file gives `{ ok: false }`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRunInfo } from "./runs.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/r1`);
 * await Deno.writeTextFile(`${dir}/r1/run.json`, "{oops");
 * const r = await readRunInfo(dir, "r1");
 * assert.equal(r.ok, false);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readRunInfo(runsDir: string, id: string): Promise<RunInfoResult> {
  if (!isValidRunId(id)) return { ok: false, error: "invalid run id" };
  // Through the runs directory's doorway: no links out of it, regular files only, capped.
  const read = await readRunsFile(runsDir, `${id}/${RUN_FILE}`, { maxBytes: MAX_JSON_BYTES });
  if (!read.ok) {
    return { ok: false, error: read.reason === "missing" ? "run.json is missing" : read.message };
  }
  return _parseRunJson(read, id);
}

/** run.json at a path already checked by the doorway (see `utils/safe_fs.ts`). */
async function _readRunJson(path: string, id: string): Promise<RunInfoResult> {
  try {
    return _parseRunJson(await readRegularFile(path, { maxBytes: MAX_JSON_BYTES }), id);
  } catch (e) {
    return {
      ok: false,
      error: `run.json could not be read: ${e instanceof Error ? e.message : e}`,
    };
  }
}

function _parseRunJson(read: ReadResult, id: string): RunInfoResult {
  if (read.truncated) {
    return {
      ok: false,
      error: `run.json is larger than ${MAX_JSON_BYTES / 1024 ** 2} MiB; not read`,
    };
  }
  try {
    return normalizeRunInfo(JSON.parse(new TextDecoder().decode(read.bytes)), id);
  } catch {
    return { ok: false, error: "run.json is not valid JSON (corrupt or partly written)" };
  }
}

/** One row of the runs list. */
export interface RunSummary {
  id: string;
  /** run.json, when it could be read. */
  info: RunInfo | null;
  /** Why run.json could not be read. */
  error: string | null;
  /** Step and loss of the last complete metrics line, if any. */
  lastStep: number | null;
  lastLoss: number | null;
  /** Status running and updated (run.json or metrics) within {@linkcode LIVE_WINDOW_MS}. */
  live: boolean;
  /** ms since the latest write to run.json or metrics.jsonl (null when unknown). */
  lastWriteMs: number | null;
  /** endedAt (or, while live, now; else updatedAt) minus startedAt, in ms. */
  durationMs: number | null;
}

interface CacheEntry {
  key: string;
  info: RunInfoResult;
  lastStep: number | null;
  lastLoss: number | null;
  lastWrite: number | null;
}

/** What tells a file's versions apart (mtime, size, real path), and its mtime. */
function _fileKey(r: ResolvedPath): { key: string; mtime: number | null } {
  if (!r.ok) return { key: r.reason, mtime: null };
  const mtime = r.info.mtime?.getTime() ?? null;
  return { key: `${mtime}:${r.info.size}:${r.path}`, mtime };
}

function parseTime(s: string | undefined): number | null {
  if (s === undefined || s === "") return null;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : null;
}

/**
 * Lists the runs under a directory, reading only run.json and the tail of metrics.jsonl of
 * each, and re-reading a run only when one of those files changed (size or mtime). A folder
 * without run.json is not a run and is not listed; nor is a link that leaves the directory.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RunIndex } from "./runs.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/r1`);
 * await Deno.writeTextFile(`${dir}/r1/run.json`, "{oops");
 * await Deno.writeTextFile(`${dir}/r1/metrics.jsonl`, '{"step":5,"loss":0.25}\n');
 * await Deno.mkdir(`${dir}/notes`); // no run.json: not a run
 * const runs = await new RunIndex(dir).list();
 * assert.deepEqual(runs.map((r) => r.id), ["r1"]);
 * assert.equal(runs[0]?.lastLoss, 0.25);
 * assert.match(runs[0]?.error ?? "", /not valid JSON/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class RunIndex {
  readonly runsDir: string;
  #cache = new Map<string, CacheEntry>();

  /** @param runsDir the directory holding one folder per run */
  constructor(runsDir: string) {
    this.runsDir = runsDir;
  }

  /** Reads (or reuses) every run's summary; the order is the directory's. */
  async list(now: number = Date.now()): Promise<RunSummary[]> {
    const ids: string[] = [];
    const links = new Set<string>();
    let root: string;
    try {
      root = await Deno.realPath(this.runsDir);
      for await (const e of Deno.readDir(root)) {
        if ((e.isDirectory || e.isSymlink) && isValidRunId(e.name)) ids.push(e.name);
        if (e.isSymlink) links.add(e.name);
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
    const seen = new Set(ids);
    for (const id of this.#cache.keys()) if (!seen.has(id)) this.#cache.delete(id);
    const out: RunSummary[] = [];
    // Bounded concurrency keeps file handles in check with thousands of runs.
    const chunk = 64;
    for (let i = 0; i < ids.length; i += chunk) {
      const part = await Promise.all(
        ids.slice(i, i + chunk).map((id) => this.#summary(id, root, links.has(id), now)),
      );
      for (const s of part) if (s !== null) out.push(s);
    }
    return out;
  }

  /** The run's row; `null` for a folder that is not a run (see `isRunDir`). */
  async #summary(
    id: string,
    root: string,
    isLink: boolean,
    now: number,
  ): Promise<RunSummary | null> {
    // A folder (not a link) of the real runs directory is inside it: an lstat per file then
    // (more only for links); a link to a folder is checked in full.
    const dir = isLink
      ? await resolveInRuns(this.runsDir, id, "dir")
      : { ok: true as const, path: join(root, id), root };
    const [runFile, metricsFile] = dir.ok
      ? await Promise.all([resolveEntry(dir, RUN_FILE), resolveEntry(dir, METRICS_FILE)])
      : [null, null];
    if (runFile === null || metricsFile === null || (!runFile.ok && runFile.reason === "missing")) {
      this.#cache.delete(id); // not a run (see isRunDir)
      return null;
    }
    const r = _fileKey(runFile), m = _fileKey(metricsFile);
    const key = `${r.key}|${m.key}`;
    let entry = this.#cache.get(id);
    if (entry === undefined || entry.key !== key) {
      const [info, last] = await Promise.all([
        runFile.ok
          ? _readRunJson(runFile.path, id)
          : { ok: false as const, error: runFile.message },
        metricsFile.ok ? readLastRecord(metricsFile.path) : null,
      ]);
      const lastWrite = Math.max(r.mtime ?? -Infinity, m.mtime ?? -Infinity);
      entry = {
        key,
        info,
        lastStep: typeof last?.step === "number" ? last.step : null,
        lastLoss: typeof last?.loss === "number" ? last.loss : null,
        lastWrite: Number.isFinite(lastWrite) ? lastWrite : null,
      };
      this.#cache.set(id, entry);
    }
    return summarize(id, entry, now);
  }
}

function summarize(id: string, e: CacheEntry, now: number): RunSummary {
  const info = e.info.ok ? e.info.info : null;
  const updated = Math.max(parseTime(info?.updatedAt) ?? -Infinity, e.lastWrite ?? -Infinity);
  const lastWriteMs = Number.isFinite(updated) ? Math.max(0, now - updated) : null;
  const live = info?.status === "running" && lastWriteMs !== null &&
    lastWriteMs <= LIVE_WINDOW_MS;
  const start = parseTime(info?.startedAt);
  const end = parseTime(info?.endedAt) ?? (live ? now : Number.isFinite(updated) ? updated : null);
  return {
    id,
    info,
    error: e.info.ok ? null : e.info.error,
    lastStep: e.lastStep ?? info?.step ?? null,
    lastLoss: e.lastLoss,
    live,
    lastWriteMs,
    durationMs: start !== null && end !== null ? Math.max(0, end - start) : null,
  };
}

/** Columns the runs list can be sorted by. */
export type RunSortKey =
  | "name"
  | "dataset"
  | "model"
  | "backend"
  | "status"
  | "step"
  | "loss"
  | "started"
  | "duration";

/** Every {@linkcode RunSortKey}, in display order. */
export const RUN_SORT_KEYS: readonly RunSortKey[] = [
  "name",
  "dataset",
  "model",
  "backend",
  "status",
  "step",
  "loss",
  "started",
  "duration",
];

function sortValue(r: RunSummary, key: RunSortKey): string | number | null {
  switch (key) {
    case "name":
      return r.info?.name ?? r.id;
    case "dataset":
      return r.info?.dataset ?? null;
    case "model":
      return r.info?.model ?? null;
    case "backend":
      return r.info?.backend ?? null;
    case "status":
      return r.info?.status ?? null;
    case "step":
      return r.lastStep;
    case "loss":
      return r.lastLoss;
    case "started":
      return parseTime(r.info?.startedAt);
    case "duration":
      return r.durationMs;
  }
}

/**
 * Sorts runs by a column; rows with no value go last in either direction, ties by id.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sortRuns, type RunSummary } from "./runs.ts";
 * const row = (id: string, lastLoss: number | null): RunSummary => ({
 *   id, info: null, error: null, lastStep: null, lastLoss, live: false,
 *   lastWriteMs: null, durationMs: null,
 * });
 * const sorted = sortRuns([row("a", 2), row("b", null), row("c", 1)], "loss", "asc");
 * assert.deepEqual(sorted.map((r) => r.id), ["c", "a", "b"]);
 * ```
 */
export function sortRuns(
  runs: readonly RunSummary[],
  key: RunSortKey,
  dir: "asc" | "desc",
): RunSummary[] {
  const sign = dir === "asc" ? 1 : -1;
  return [...runs].sort((a, b) => {
    const va = sortValue(a, key), vb = sortValue(b, key);
    if (va === null && vb === null) return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    if (va === null) return 1;
    if (vb === null) return -1;
    const c = typeof va === "number" && typeof vb === "number"
      ? va - vb
      : String(va).localeCompare(String(vb));
    if (c !== 0) return sign * c;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}
