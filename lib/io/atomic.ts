/**
 * Crash-safe file writes: every file the project writes for a run goes to a temporary file in
 * the same directory and is renamed into place, so a reader never sees half a file and an
 * interrupted write never destroys the previous version.
 *
 * @module
 */

/**
 * Writes bytes or text to `path` atomically (temp file in the same directory, then rename).
 *
 * @param path The destination.
 * @param data The content.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./atomic.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a.txt`, "hello");
 * assert.equal(await Deno.readTextFile(`${dir}/a.txt`), "hello");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Writes a JSON value atomically, pretty-printed.
 *
 * @param path The destination.
 * @param value Any JSON-serialisable value.
 *
 * @example
 * ```ts
 * import { writeJsonAtomic } from "./atomic.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await writeJsonAtomic(`${dir}/a.json`, { a: 1 });
 * assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/a.json`)), { a: 1 });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/**
 * Appends one JSON line to a `.jsonl` file in a single write call, so that a reader sees
 * either the whole line or, at worst, a partial last line it can skip.
 *
 * @param path The `.jsonl` file.
 * @param value The record.
 *
 * @example
 * ```ts
 * import { appendJsonl } from "./atomic.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await appendJsonl(`${dir}/m.jsonl`, { step: 1 });
 * await appendJsonl(`${dir}/m.jsonl`, { step: 2 });
 * assert.equal((await Deno.readTextFile(`${dir}/m.jsonl`)).split("\n").length, 3);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function appendJsonl(path: string, value: unknown): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(value) + "\n", { append: true, create: true });
}
