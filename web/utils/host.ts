/**
 * Which `Host` headers the viewer answers (against DNS rebinding: a page on another site whose
 * name the attacker points at 127.0.0.1 sends its own name as the Host), and whether an
 * interface is loopback.
 * @module
 */

/** The names of this machine's loopback interface. */
const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "::1"]);

/** Interfaces that mean "every interface". */
const WILDCARDS = new Set(["0.0.0.0", "::", ""]);

/** The hostname without IPv6 brackets, in lower case. */
function _bare(hostname: string): string {
  const h = hostname.toLowerCase();
  return h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h;
}

/**
 * True when `hostname` is a loopback interface (`localhost`, `127.x.x.x`, `::1`): only this
 * machine can reach a server bound there.
 *
 * @param hostname The interface, as given to `--host` (IPv6 with or without brackets).
 * @returns Whether it is loopback.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoopbackHost } from "./host.ts";
 * assert.equal(isLoopbackHost("127.0.0.1"), true);
 * assert.equal(isLoopbackHost("[::1]"), true);
 * assert.equal(isLoopbackHost("0.0.0.0"), false);
 * assert.equal(isLoopbackHost("192.168.1.5"), false);
 * ```
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = _bare(hostname);
  return LOOPBACK_NAMES.has(h) || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/** True for an IPv4 or IPv6 literal (no DNS name, so no rebinding). */
function _isIpLiteral(h: string): boolean {
  return /^\d{1,3}(?:\.\d{1,3}){3}$/.test(h) || (h.includes(":") && /^[0-9a-f:.]+$/.test(h));
}

/** Where the server listens, for {@linkcode isAllowedHost}. */
export interface BoundAddress {
  /** The interface bound. @default "127.0.0.1" */
  hostname?: string;
  /** The port bound; when absent or 0 any port is accepted (a handler called directly). */
  port?: number;
}

/**
 * True when a request's `Host` header names this server: a localhost name (`localhost`,
 * `127.0.0.1`, `[::1]`) or the interface it is bound to, with its port. A server bound to every
 * interface (`0.0.0.0`, `::`) also answers IP addresses and this machine's hostname, which a
 * rebinding site cannot send. Anything else (another site's name) is refused.
 *
 * @param host The `Host` header (`name[:port]`, IPv6 in brackets).
 * @param bound Where the server listens.
 * @returns Whether to answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAllowedHost } from "./host.ts";
 * const bound = { hostname: "127.0.0.1", port: 8000 };
 * assert.equal(isAllowedHost("localhost:8000", bound), true);
 * assert.equal(isAllowedHost("127.0.0.1:8000", bound), true);
 * assert.equal(isAllowedHost("[::1]:8000", bound), true);
 * assert.equal(isAllowedHost("evil.example:8000", bound), false);
 * assert.equal(isAllowedHost("localhost:9999", bound), false);
 * assert.equal(isAllowedHost("192.168.1.5:8000", { hostname: "0.0.0.0", port: 8000 }), true);
 * assert.equal(isAllowedHost("evil.example:8000", { hostname: "0.0.0.0", port: 8000 }), false);
 * ```
 */
export function isAllowedHost(host: string, bound: BoundAddress = {}): boolean {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(host.trim());
  if (m === null) return false;
  const name = _bare(m[1]!.replace(/\.$/, ""));
  const port = m[2] === undefined ? 80 : Number(m[2]);
  if (bound.port !== undefined && bound.port !== 0 && port !== bound.port) return false;
  const boundName = _bare(bound.hostname ?? "127.0.0.1");
  if (LOOPBACK_NAMES.has(name) || name === boundName) return true;
  if (WILDCARDS.has(boundName)) {
    return _isIpLiteral(name) || name === _safeHostname().toLowerCase();
  }
  return false;
}

function _safeHostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost"; // no --allow-sys: only the localhost names then
  }
}

/**
 * The address to open for a server bound to `hostname` and `port`, an IPv6 address in
 * brackets.
 *
 * @param hostname The interface bound.
 * @param port The port bound.
 * @returns e.g. `http://[::1]:8000/`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serverUrl } from "./host.ts";
 * assert.equal(serverUrl("::1", 8000), "http://[::1]:8000/");
 * assert.equal(serverUrl("127.0.0.1", 80), "http://127.0.0.1:80/");
 * ```
 */
export function serverUrl(hostname: string, port: number): string {
  const h = _bare(hostname);
  return `http://${h.includes(":") ? `[${h}]` : h}:${port}/`;
}
