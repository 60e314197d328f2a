/**
 * Escaping for data embedded in HTML: JSON inside `<script type="application/json">`.
 * @module
 */

const UNSAFE: Record<string, string> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/**
 * JSON.stringify whose output can sit inside a `<script>` element: `<`, `>`, `&` and the
 * line separators are written as \u escapes, so `</script>` and `<!--` cannot appear.
 * The result parses back to the same value.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonForScript } from "./escape.ts";
 * const s = jsonForScript({ name: "</script><!--" });
 * assert.equal(s.includes("<"), false);
 * assert.deepEqual(JSON.parse(s), { name: "</script><!--" });
 * ```
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => UNSAFE[c]!);
}
