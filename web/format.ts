/**
 * Small formatting helpers shared by server pages and islands.
 * @module
 */

/**
 * A duration in ms as `1h 02m`, `3m 05s` or `12.3s`; `—` for null.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./format.ts";
 * assert.equal(formatDuration(3_723_000), "1h 02m");
 * assert.equal(formatDuration(185_000), "3m 05s");
 * assert.equal(formatDuration(1234), "1.2s");
 * assert.equal(formatDuration(null), "—");
 * ```
 */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "—";
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${String(m % 60).padStart(2, "0")}m`;
}

/**
 * A number with about four significant digits, exponent form when tiny or huge; `—` for null.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatNumber } from "./format.ts";
 * assert.equal(formatNumber(0.123456), "0.1235");
 * assert.equal(formatNumber(0.0000123), "1.230e-5");
 * assert.equal(formatNumber(null), "—");
 * ```
 */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(3);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

/**
 * A byte count as `512 B`, `1.5 KiB`, `3.2 MiB`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBytes } from "./format.ts";
 * assert.equal(formatBytes(1536), "1.5 KiB");
 * ```
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) (v /= 1024), i++;
  return `${v.toFixed(1)} ${units[i]}`;
}

/**
 * An ISO time as `YYYY-MM-DD HH:MM` (UTC); the input as is when it does not parse.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTime } from "./format.ts";
 * assert.equal(formatTime("2025-01-02T03:04:05.000Z"), "2025-01-02 03:04");
 * ```
 */
export function formatTime(iso: string | undefined): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  return new Date(t).toISOString().slice(0, 16).replace("T", " ");
}

/**
 * A short axis tick label: up to 3 significant digits, `1.0e-4` style when tiny or huge.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTick } from "./format.ts";
 * assert.equal(formatTick(0.0002), "2.0e-4");
 * assert.equal(formatTick(1500), "1500");
 * assert.equal(formatTick(0.25), "0.25");
 * ```
 */
export function formatTick(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}
