/**
 * Objects keyed by names read from files (metric keys of metrics.jsonl, config keys of
 * run.json): a key such as `__proto__`, `constructor` or `toString` must stay an ordinary key.
 * Read with {@linkcode getOwn} (never `obj[key]` or `key in obj`, which see `Object.prototype`)
 * and write with {@linkcode setOwn} (never `obj[key] = v`, which sets the prototype for
 * `__proto__`). Plain objects built so stay plain: JSON, `Object.keys` and islands' props work.
 * This module is shared by the server and the islands.
 * @module
 */

/**
 * The own property `key` of `obj`, or `undefined` (inherited names are not seen).
 *
 * @param obj An object keyed by names from a file.
 * @param key The name.
 * @returns Its own value, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getOwn } from "./own.ts";
 * const columns: Record<string, number[]> = JSON.parse('{"__proto__":[1],"loss":[2]}');
 * assert.deepEqual(getOwn(columns, "__proto__"), [1]);
 * assert.equal(getOwn(columns, "toString"), undefined);
 * assert.equal(getOwn(columns, "constructor"), undefined);
 * ```
 */
export function getOwn<T>(obj: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/**
 * True when `obj` has its own property `key` (`key in obj` is also true for `toString`).
 *
 * @param obj An object keyed by names from a file.
 * @param key The name.
 * @returns Whether it is an own property.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasOwn } from "./own.ts";
 * assert.equal(hasOwn({ loss: [] }, "loss"), true);
 * assert.equal(hasOwn({ loss: [] }, "toString"), false);
 * ```
 */
export function hasOwn(obj: Readonly<Record<string, unknown>>, key: string): boolean {
  return Object.hasOwn(obj, key);
}

/**
 * Sets the own, enumerable property `key` of `obj` to `value`, also for `__proto__`.
 *
 * @param obj An object keyed by names from a file.
 * @param key The name.
 * @param value The value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setOwn } from "./own.ts";
 * const columns: Record<string, number[]> = {};
 * setOwn(columns, "__proto__", [1]);
 * assert.deepEqual(Object.keys(columns), ["__proto__"]);
 * assert.equal(Object.getPrototypeOf(columns), Object.prototype);
 * assert.equal(JSON.stringify(columns), '{"__proto__":[1]}');
 * ```
 */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}
