/**
 * Serving the viewer over HTTP with Deno.serve.
 * @module
 */
import { type AppOptions, createApp } from "./app.ts";

/** Options for {@linkcode startServer}. */
export interface ServerOptions extends AppOptions {
  /** Interface to bind. @default "127.0.0.1" */
  hostname?: string;
  /** Port; 0 picks a free one. @default 8000 */
  port?: number;
  /** Stops the server when aborted. */
  signal?: AbortSignal;
  /** Called once listening, with the address to open. */
  onListen?: (url: string) => void;
}

/**
 * Starts the viewer; returns the server (await `.finished` or call `.shutdown()`) and its URL.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startServer } from "./server.ts";
 * const dir = await Deno.makeTempDir();
 * const { server, url } = startServer({ runsDir: dir, port: 0 });
 * const res = await fetch(url);
 * assert.equal(res.status, 200);
 * await res.body?.cancel();
 * await server.shutdown();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function startServer(options: ServerOptions): { server: Deno.HttpServer; url: string } {
  const app = createApp(options);
  const hostname = options.hostname ?? "127.0.0.1";
  const server = Deno.serve({
    hostname,
    port: options.port ?? 8000,
    ...(options.signal ? { signal: options.signal } : {}),
    onListen: () => {},
  }, app.fetch);
  const addr = server.addr as Deno.NetAddr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const url = `http://${host}:${addr.port}/`;
  options.onListen?.(url);
  return { server, url };
}
