/**
 * Serving the viewer over HTTP with Deno.serve.
 * @module
 */
import { type AppOptions, createApp } from "./app.ts";
import { type BoundAddress, serverUrl } from "./utils/host.ts";

/** Options for {@linkcode startServer}. */
export interface ServerOptions extends Omit<AppOptions, "bound"> {
  /** Interface to bind (IPv6 with or without brackets). @default "127.0.0.1" */
  hostname?: string;
  /** Port; 0 picks a free one. @default 8000 */
  port?: number;
  /** Stops the server when aborted. */
  signal?: AbortSignal;
  /** Called once listening, with the address to open. */
  onListen?: (url: string) => void;
}

/**
 * Starts the viewer; returns the server, its URL and `close()`, which ends the open live-update
 * streams and then shuts the server down (a bare `server.shutdown()` waits for them). Aborting
 * `options.signal` does the same.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startServer } from "./server.ts";
 * const dir = await Deno.makeTempDir();
 * const { url, close } = startServer({ runsDir: dir, port: 0 });
 * const res = await fetch(url);
 * assert.equal(res.status, 200);
 * await res.body?.cancel();
 * await close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function startServer(
  options: ServerOptions,
): { server: Deno.HttpServer; url: string; close: () => Promise<void> } {
  const closing = new AbortController();
  options.signal?.addEventListener("abort", () => closing.abort(), { once: true });
  // Brackets are for URLs; Deno.serve takes the bare IPv6 address.
  const hostname = (options.hostname ?? "127.0.0.1").replace(/^\[(.*)\]$/, "$1");
  // The Host check reads the port per request: it is filled in once known (it may be 0 here).
  const bound: BoundAddress = { hostname };
  const app = createApp({ ...options, signal: closing.signal, bound });
  const server = Deno.serve({
    hostname,
    port: options.port ?? 8000,
    signal: closing.signal,
    onListen: () => {},
  }, app.fetch);
  const addr = server.addr as Deno.NetAddr;
  bound.port = addr.port;
  const url = serverUrl(addr.hostname, addr.port);
  options.onListen?.(url);
  const close = async () => {
    closing.abort();
    await server.finished;
  };
  return { server, url, close };
}
