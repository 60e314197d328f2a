/**
 * The one doorway through which the viewer reads the runs directory. A path is followed only
 * while its real path (after every symlink) stays inside the runs directory, a file is read
 * only when it is a regular file (its type is checked before it is opened, so a FIFO never
 * blocks a request and a device is never read), and a read takes at most a given number of
 * bytes. Symlinks that stay inside the runs directory are followed.
 * @module
 */
import { isAbsolute, join, normalize, sep as SEPARATOR } from "node:path";
import { RUN_FILE } from "../../lib/run/layout.ts";

/** Most bytes of a JSON file (run.json, forward.json) read: 1 MiB. */
export const MAX_JSON_BYTES: number = 1024 * 1024;

/** Most bytes of a JSON-lines file (metrics.jsonl, eval.jsonl) read for one page: 64 MiB. */
export const MAX_JSONL_BYTES: number = 64 * 1024 * 1024;

/** Why a path inside the runs directory was not used. */
export type RefusedReason = "missing" | "outside" | "not-file" | "not-dir";

/** A path checked by {@linkcode resolveInRuns}: its real path and what it is, or why not. */
export type ResolvedPath =
  | { ok: true; path: string; info: Deno.FileInfo; root: string }
  | { ok: false; reason: RefusedReason; why: string; message: string };

/** What {@linkcode resolveInRuns} wants the path to be (`any`: whatever it is). @default "file" */
export type PathKind = "file" | "dir" | "any";

/** What a refused path is, in words: `<file>: <why>` is the message. */
const _WHY: Record<RefusedReason, string> = {
  "missing": "it is missing",
  "outside": "it is a link out of the runs directory; not read",
  "not-file": "it is not a regular file; not read",
  "not-dir": "it is not a folder; not read",
};

function _refuse(rel: string, reason: RefusedReason): ResolvedPath {
  const name = rel.slice(rel.lastIndexOf("/") + 1) || rel;
  return { ok: false, reason, why: _WHY[reason], message: `${name}: ${_WHY[reason]}` };
}

/** True when `rel` is a plain relative path: not absolute, no `..`, no empty or `.` parts. */
function _isPlainRelative(rel: string): boolean {
  if (rel === "" || isAbsolute(rel) || rel.includes("\\") || rel.includes("\0")) return false;
  return rel.split("/").every((p) => p !== "" && p !== "." && p !== "..");
}

/**
 * Checks `runsDir/rel` without opening it: it must exist, its real path must be inside the
 * real path of `runsDir`, and it must be a regular file (`kind: "file"`) or a folder (`"dir"`).
 * Nothing here opens the path, so a FIFO or a device is refused without blocking or reading.
 *
 * @param runsDir The runs directory.
 * @param rel A path relative to it, with `/` separators and no `..` parts.
 * @param kind What the path must be. @default "file"
 * @returns The real path and its file info, or the reason it is refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveInRuns } from "./safe_fs.ts";
 * const dir = await Deno.makeTempDir();
 * const outside = await Deno.makeTempFile();
 * await Deno.mkdir(`${dir}/r1`);
 * await Deno.writeTextFile(`${dir}/r1/run.json`, "{}");
 * await Deno.symlink(outside, `${dir}/r1/metrics.jsonl`);
 * await Deno.symlink(`${dir}/r1/run.json`, `${dir}/r1/alias.json`);
 * assert.equal((await resolveInRuns(dir, "r1/run.json")).ok, true);
 * assert.equal((await resolveInRuns(dir, "r1/alias.json")).ok, true); // a link that stays inside
 * assert.deepEqual(await resolveInRuns(dir, "r1/metrics.jsonl"), {
 *   ok: false,
 *   reason: "outside",
 *   why: "it is a link out of the runs directory; not read",
 *   message: "metrics.jsonl: it is a link out of the runs directory; not read",
 * });
 * assert.equal((await resolveInRuns(dir, "r1")).ok, false); // a folder, not a file
 * assert.equal((await resolveInRuns(dir, "r1", "dir")).ok, true);
 * assert.equal((await resolveInRuns(dir, "r1/../r1/run.json")).ok, false);
 * assert.equal((await resolveInRuns(dir, "r1/eval.jsonl")).ok, false); // missing
 * await Deno.remove(dir, { recursive: true });
 * await Deno.remove(outside);
 * ```
 */
export async function resolveInRuns(
  runsDir: string,
  rel: string,
  kind: PathKind = "file",
): Promise<ResolvedPath> {
  if (!_isPlainRelative(rel)) return _refuse(rel, "missing");
  let root: string;
  let real: string;
  try {
    root = await Deno.realPath(runsDir);
    real = await Deno.realPath(join(runsDir, rel));
  } catch {
    // Not there, a dangling link, or a loop of links.
    return _refuse(rel, "missing");
  }
  return await _checkReal(root, real, rel, kind);
}

/** The checks on a real path: inside `root`, and of the kind asked (lstat: nothing opened). */
async function _checkReal(
  root: string,
  real: string,
  rel: string,
  kind: PathKind,
): Promise<ResolvedPath> {
  const inside = root === SEPARATOR ? real !== root : real.startsWith(root + SEPARATOR);
  if (!inside || normalize(real) !== real) return _refuse(rel, "outside");
  let info: Deno.FileInfo;
  try {
    // The real path has no links left: lstat says what it is without following or opening.
    info = await Deno.lstat(real);
  } catch {
    return _refuse(rel, "missing");
  }
  return _checkKind(root, real, rel, kind, info);
}

function _checkKind(
  root: string,
  real: string,
  rel: string,
  kind: PathKind,
  info: Deno.FileInfo,
): ResolvedPath {
  if (kind === "file" && !info.isFile) return _refuse(rel, "not-file");
  if (kind === "dir" && !info.isDirectory) return _refuse(rel, "not-dir");
  return { ok: true, path: real, info, root };
}

/**
 * {@linkcode resolveInRuns} for an entry of a folder it already resolved (a run directory):
 * one `lstat` when the entry is not a link (its real path is then the folder's plus its name),
 * the full check when it is. For reading many runs' files quickly (the runs list).
 *
 * @param dir A folder as {@linkcode resolveInRuns} returned it.
 * @param name An entry's name (no `/`).
 * @param kind What the entry must be. @default "file"
 * @returns As {@linkcode resolveInRuns}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveEntry, resolveInRuns } from "./safe_fs.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/r1`);
 * await Deno.writeTextFile(`${dir}/r1/run.json`, "{}");
 * await Deno.symlink("/etc/hostname", `${dir}/r1/metrics.jsonl`);
 * const run = await resolveInRuns(dir, "r1", "dir");
 * assert.ok(run.ok);
 * assert.equal((await resolveEntry(run, "run.json")).ok, true);
 * const m = await resolveEntry(run, "metrics.jsonl");
 * assert.equal(!m.ok && m.reason, "outside");
 * assert.equal(!(await resolveEntry(run, "../r1")).ok, true);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function resolveEntry(
  dir: { path: string; root: string },
  name: string,
  kind: PathKind = "file",
): Promise<ResolvedPath> {
  if (!_isPlainRelative(name) || name.includes("/")) return _refuse(name, "missing");
  const path = join(dir.path, name);
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch {
    return _refuse(name, "missing");
  }
  if (!info.isSymlink) return _checkKind(dir.root, path, name, kind, info);
  let real: string;
  try {
    real = await Deno.realPath(path);
  } catch {
    return _refuse(name, "missing");
  }
  return await _checkReal(dir.root, real, name, kind);
}

/** Options for {@linkcode readRegularFile}. */
export interface ReadOptions {
  /** Byte offset to start at. @default 0 */
  offset?: number;
  /** Most bytes read. @default {@linkcode MAX_JSONL_BYTES} */
  maxBytes?: number;
  /**
   * Read the last `maxBytes` of the file (from `offset` on) rather than the first, when more
   * is there. @default false
   */
  fromEnd?: boolean;
}

/** Bytes read by {@linkcode readRegularFile}. */
export interface ReadResult {
  /** The bytes read. */
  bytes: Uint8Array;
  /** Where in the file they start. */
  start: number;
  /** The file's size when it was read. */
  size: number;
  /** True when the file held more bytes after `offset` than were read. */
  truncated: boolean;
}

/**
 * Reads at most `maxBytes` of a regular file from `offset` on. The file's type is checked
 * before it is opened (a FIFO or a device throws a `TypeError` without being opened), and
 * again on the open handle, so that a file swapped in meanwhile is not read either.
 *
 * @param path The file (as {@linkcode resolveInRuns} returns it).
 * @param options Offset, cap and direction.
 * @returns The bytes and where they lie in the file.
 * @throws {TypeError} when `path` is not a regular file.
 * @throws {Deno.errors.NotFound} when it is not there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRegularFile } from "./safe_fs.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "abcdef");
 * const head = await readRegularFile(path, { offset: 1, maxBytes: 3 });
 * assert.equal(new TextDecoder().decode(head.bytes), "bcd");
 * assert.equal(head.truncated, true);
 * const tail = await readRegularFile(path, { maxBytes: 2, fromEnd: true });
 * assert.deepEqual([new TextDecoder().decode(tail.bytes), tail.start], ["ef", 4]);
 * await assert.rejects(readRegularFile("/dev/zero"), TypeError);
 * await Deno.remove(path);
 * ```
 */
export async function readRegularFile(
  path: string,
  options: ReadOptions = {},
): Promise<ReadResult> {
  const offset = Math.max(0, options.offset ?? 0);
  const maxBytes = Math.max(0, options.maxBytes ?? MAX_JSONL_BYTES);
  const before = await Deno.stat(path);
  if (!before.isFile) throw new TypeError(`Cannot read ${path}: not a regular file`);
  const file = await Deno.open(path, { read: true });
  try {
    const info = await file.stat();
    if (!info.isFile || (before.ino !== null && info.ino !== before.ino)) {
      throw new TypeError(`Cannot read ${path}: not a regular file, or replaced while opened`);
    }
    const size = info.size;
    const available = Math.max(0, size - offset);
    const length = Math.min(available, maxBytes);
    const start = options.fromEnd ? size - length : offset;
    if (length === 0) return { bytes: new Uint8Array(0), start, size, truncated: available > 0 };
    await file.seek(start, Deno.SeekMode.Start);
    const buf = new Uint8Array(length);
    let read = 0;
    while (read < length) {
      const n = await file.read(buf.subarray(read));
      if (n === null) break;
      read += n;
    }
    return { bytes: buf.subarray(0, read), start, size, truncated: length < available };
  } finally {
    file.close();
  }
}

/** A capped read of a run's file, or why it was not read. */
export type RunFileRead =
  | ({ ok: true; path: string } & ReadResult)
  | { ok: false; reason: RefusedReason | "unreadable"; why: string; message: string };

/**
 * {@linkcode resolveInRuns} and then {@linkcode readRegularFile}: the capped bytes of a regular
 * file inside the runs directory, or why not. Never throws for what is on disk.
 *
 * @param runsDir The runs directory.
 * @param rel A path relative to it.
 * @param options Offset, cap and direction.
 * @returns The read, or the reason it was refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRunsFile } from "./safe_fs.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/r1`);
 * await Deno.writeTextFile(`${dir}/r1/run.json`, '{"status":"running"}');
 * await Deno.symlink("/dev/zero", `${dir}/r1/metrics.jsonl`);
 * const r = await readRunsFile(dir, "r1/run.json", { maxBytes: 1024 });
 * assert.ok(r.ok && r.size === 20 && !r.truncated);
 * assert.equal((await readRunsFile(dir, "r1/metrics.jsonl")).ok, false);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readRunsFile(
  runsDir: string,
  rel: string,
  options: ReadOptions = {},
): Promise<RunFileRead> {
  const r = await resolveInRuns(runsDir, rel, "file");
  if (!r.ok) return r;
  try {
    return { ok: true, path: r.path, ...(await readRegularFile(r.path, options)) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return _refuse(rel, "missing") as RunFileRead;
    const why = `it could not be read: ${e instanceof Error ? e.message : e}`;
    const name = rel.slice(rel.lastIndexOf("/") + 1);
    return { ok: false, reason: "unreadable", why, message: `${name}: ${why}` };
  }
}

/**
 * Opens a regular file inside the runs directory for streaming (a picture, a checkpoint),
 * checking its type before opening and again on the handle; `null` when refused. The caller
 * closes the file (or hands `file.readable` to a Response, which does).
 *
 * @param runsDir The runs directory.
 * @param rel A path relative to it.
 * @returns The open file and its size, or `null`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openRunsFile } from "./safe_fs.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/r1`);
 * await Deno.writeTextFile(`${dir}/r1/forward.png`, "png");
 * const f = await openRunsFile(dir, "r1/forward.png");
 * assert.equal(f?.size, 3);
 * f?.file.close();
 * assert.equal(await openRunsFile(dir, "r1/../../etc/passwd"), null);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openRunsFile(
  runsDir: string,
  rel: string,
): Promise<{ file: Deno.FsFile; size: number } | null> {
  const r = await resolveInRuns(runsDir, rel, "file");
  if (!r.ok) return null;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(r.path, { read: true });
  } catch {
    return null;
  }
  try {
    const info = await file.stat();
    if (info.isFile && (r.info.ino === null || info.ino === r.info.ino)) {
      return { file, size: info.size };
    }
  } catch { /* fall through */ }
  file.close();
  return null;
}

/**
 * True when `runsDir/id` is a run: a folder whose real path is inside the runs directory
 * (a link to a folder inside is followed) and that holds an entry named `run.json`. A folder
 * without one is not a run, and the viewer neither lists nor shows it. (A `run.json` that is
 * not a readable regular file still makes a run: a broken one, which says why.)
 *
 * @param runsDir The runs directory.
 * @param id The folder's name.
 * @returns Whether it is a run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isRunDir } from "./safe_fs.ts";
 * const dir = await Deno.makeTempDir();
 * const outside = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/r1`);
 * await Deno.writeTextFile(`${dir}/r1/run.json`, "{}");
 * await Deno.mkdir(`${dir}/notes`);
 * await Deno.writeTextFile(`${outside}/run.json`, "{}");
 * await Deno.symlink(outside, `${dir}/elsewhere`);
 * await Deno.symlink(`${dir}/r1`, `${dir}/alias`);
 * assert.equal(await isRunDir(dir, "r1"), true);
 * assert.equal(await isRunDir(dir, "alias"), true);
 * assert.equal(await isRunDir(dir, "notes"), false);
 * assert.equal(await isRunDir(dir, "elsewhere"), false);
 * assert.equal(await isRunDir(dir, ".."), false);
 * await Deno.remove(dir, { recursive: true });
 * await Deno.remove(outside, { recursive: true });
 * ```
 */
export async function isRunDir(runsDir: string, id: string): Promise<boolean> {
  if (id.includes("/")) return false;
  const r = await resolveInRuns(runsDir, id, "dir");
  if (!r.ok) return false;
  const runFile = await resolveEntry(r, RUN_FILE, "any");
  return runFile.ok || runFile.reason !== "missing";
}
