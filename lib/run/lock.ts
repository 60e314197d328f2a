/**
 * An exclusive lock on a run directory: a `lock` file created with `createNew`, holding the
 * pid and host of the process that trains the run. A second trainer of the same run is refused;
 * the lock of a process that no longer exists (on this host) is taken over.
 *
 * @module
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { LOCK_FILE } from "./layout.ts";

/**
 * A run is locked by a live process. The message is one line.
 *
 * @example
 * ```ts
 * import { RunLockedError } from "./lock.ts";
 * const e = new RunLockedError("run r1 is being trained by process 42", 42);
 * console.log(e.pid);
 * ```
 */
export class RunLockedError extends Error {
  /**
   * @param message What holds the lock.
   * @param pid The pid in the lock file, when it could be read.
   */
  constructor(message: string, readonly pid?: number) {
    super(message);
    this.name = "RunLockedError";
  }
}

/**
 * What the lock file holds.
 *
 * @example
 * ```ts
 * import type { LockInfo } from "./lock.ts";
 * const info: LockInfo = { pid: 42, host: "box", since: "2026-11-30T14:00:00.000Z" };
 * ```
 */
export interface LockInfo {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
}

/**
 * A held lock; release it on every exit path (see {@linkcode acquireRunLock}).
 *
 * @example
 * ```ts
 * import { acquireRunLock, type RunLock } from "./lock.ts";
 * const dir = await Deno.makeTempDir();
 * const lock: RunLock = await acquireRunLock(dir);
 * await lock.release();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface RunLock {
  /** The lock file. */
  readonly path: string;
  /** Removes the lock file if it is still this process's; safe to call more than once. */
  release(): Promise<void>;
  /** The same, synchronously (for `unload` handlers and `Deno.exit` paths). */
  releaseSync(): void;
  /** The lock taken over from a process that no longer exists, if any. */
  readonly tookOver?: LockInfo;
}

/**
 * Whether a process with this pid exists on this machine (Linux: `/proc/<pid>`; elsewhere a
 * harmless `SIGCONT`).
 *
 * @param pid The process id.
 * @returns False only when the process certainly does not exist.
 *
 * @example
 * ```ts
 * import { processExists } from "./lock.ts";
 * import assert from "node:assert/strict";
 * assert.equal(processExists(Deno.pid), true);
 * assert.equal(processExists(2 ** 30), false);
 * ```
 */
export function processExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (Deno.build.os === "linux") {
    try {
      Deno.statSync(`/proc/${pid}`);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
    }
  }
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch (e) {
    return !(e instanceof Deno.errors.NotFound);
  }
}

function _parse(text: string): LockInfo | null {
  try {
    const v = JSON.parse(text);
    return Number.isInteger(v?.pid) && typeof v.host === "string" ? v as LockInfo : null;
  } catch {
    return null;
  }
}

async function _readOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

function _hostname(): string {
  try {
    return hostname();
  } catch {
    return "unknown host"; // no --allow-sys: liveness is still told by the pid
  }
}

/** A lock file that cannot be parsed is left alone this long (its writer may be mid-write). */
const _YOUNG_MS = 5_000;

/**
 * Takes the lock of the run directory `dir`. Throws {@linkcode RunLockedError} when a live
 * process holds it (or it was written on another host, where liveness cannot be told); takes
 * over a lock whose process no longer exists, or an unreadable one older than a few seconds.
 *
 * @param dir The run directory.
 * @returns The lock.
 *
 * @example
 * ```ts
 * import { acquireRunLock, RunLockedError } from "./lock.ts";
 * import { hostname } from "node:os";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const lock = await acquireRunLock(dir);
 * await assert.rejects(acquireRunLock(dir), RunLockedError);
 * await lock.release();
 * // A lock left by a process that no longer exists is taken over.
 * await Deno.writeTextFile(`${dir}/lock`, JSON.stringify({ pid: 2 ** 30, host: hostname(), since: "" }));
 * const again = await acquireRunLock(dir);
 * assert.equal(again.tookOver?.pid, 2 ** 30);
 * again.releaseSync();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function acquireRunLock(dir: string): Promise<RunLock> {
  const path = join(dir, LOCK_FILE);
  const host = _hostname();
  const mine: LockInfo = { pid: Deno.pid, host, since: new Date().toISOString() };
  const text = JSON.stringify(mine) + "\n";
  let tookOver: LockInfo | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const f = await Deno.open(path, { write: true, createNew: true });
      try {
        await f.write(new TextEncoder().encode(text));
      } finally {
        f.close();
      }
      return _held(path, text, tookOver);
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    const seen = await _readOrNull(path);
    if (seen === null) continue; // released meanwhile
    const info = _parse(seen);
    if (info) {
      // The same host and a live pid: held (our own pid too: another run in this process).
      if (info.host !== host || processExists(info.pid)) {
        const where = info.host !== host ? ` on ${info.host}` : "";
        throw new RunLockedError(
          `run ${dir} is being trained by process ${info.pid}${where} (since ${info.since}); ` +
            `if no such process trains it, delete ${path}`,
          info.pid,
        );
      }
    } else {
      let age = Infinity;
      try {
        age = Date.now() - ((await Deno.stat(path)).mtime?.getTime() ?? 0);
      } catch { /* gone */ }
      if (age < _YOUNG_MS) {
        throw new RunLockedError(`run ${dir} is being locked by another process (${path})`);
      }
    }
    // Stale: move it aside under a unique name; if what was moved is not what was judged stale
    // (another process took it over meanwhile), put it back and look again.
    const aside = `${path}.stale-${crypto.randomUUID().slice(0, 8)}`;
    try {
      await Deno.rename(path, aside);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw e;
    }
    const moved = await _readOrNull(aside);
    if (moved !== seen) {
      await Deno.link(aside, path).catch(() => {});
    } else if (info) {
      tookOver = info;
    }
    await Deno.remove(aside).catch(() => {});
  }
  throw new RunLockedError(`run ${dir}: cannot take its lock ${path} (contended)`);
}

function _held(path: string, text: string, tookOver: LockInfo | undefined): RunLock {
  let released = false;
  const releaseSync = () => {
    if (released) return;
    released = true;
    try {
      if (Deno.readTextFileSync(path) === text) Deno.removeSync(path);
    } catch { /* already gone */ }
  };
  return {
    path,
    tookOver,
    releaseSync,
    release: () => Promise.resolve(releaseSync()),
  };
}
