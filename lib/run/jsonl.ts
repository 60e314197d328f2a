/**
 * Cutting a run's JSON-lines files back to a step, so that a resumed run continues them as an
 * uninterrupted run would have written them.
 *
 * @module
 */
import { writeFileAtomic } from "../io/atomic.ts";

/**
 * Keeps the lines of a `.jsonl` file for which `keep(record)` holds, and drops lines that do not
 * parse (a partial last line left by a crash); rewrites the file atomically when anything is
 * dropped. A missing file is left missing.
 *
 * @param path The file.
 * @param keep Which records stay.
 * @returns How many lines were dropped.
 *
 * @example
 * ```ts
 * import { filterJsonl } from "./jsonl.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/m.jsonl`, '{"step":1}\n{"step":2}\n{"step":3}\n{"st');
 * assert.equal(await filterJsonl(`${dir}/m.jsonl`, (r) => (r.step as number) <= 2), 2);
 * assert.equal(await Deno.readTextFile(`${dir}/m.jsonl`), '{"step":1}\n{"step":2}\n');
 * assert.equal(await filterJsonl(`${dir}/none.jsonl`, () => true), 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function filterJsonl(
  path: string,
  keep: (record: Record<string, unknown>) => boolean,
): Promise<number> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return 0;
    throw e;
  }
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const kept: string[] = [];
  for (const line of lines) {
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      continue;
    }
    if (record !== null && typeof record === "object" && keep(record as Record<string, unknown>)) {
      kept.push(line);
    }
  }
  const dropped = lines.length - kept.length;
  if (dropped > 0) await writeFileAtomic(path, kept.map((l) => l + "\n").join(""));
  return dropped;
}

/**
 * Cuts `metrics.jsonl`-style files back to `step`: drops every line whose `step` is above it.
 *
 * @param path The file.
 * @param step The last step kept.
 * @returns How many lines were dropped.
 *
 * @example
 * ```ts
 * import { cutJsonlAfter } from "./jsonl.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/m.jsonl`, '{"step":10}\n{"step":20}\n{"step":30}\n');
 * assert.equal(await cutJsonlAfter(`${dir}/m.jsonl`, 20), 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function cutJsonlAfter(path: string, step: number): Promise<number> {
  return filterJsonl(path, (r) => typeof r.step === "number" && r.step <= step);
}
