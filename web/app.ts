/**
 * The viewer application: routes wired with Hono, pages rendered with Preact on the server,
 * static files and the island bundle served from allow-listed names.
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { h } from "preact";
import { renderToString } from "preact-render-to-string";
import { DEFAULT_BUILD_DIR } from "./build.ts";
import type { AppState, RouteContext, RouteModule } from "./route.ts";
import { notFound } from "./route.ts";
import { isValidRunId, RunIndex } from "./runs.ts";
import { type BoundAddress, isAllowedHost } from "./utils/host.ts";
import * as indexRoute from "./routes/index.tsx";
import * as compareRoute from "./routes/compare.tsx";
import * as runRoute from "./routes/runs/[id].tsx";
import * as fileRoute from "./routes/runs/[id]/files/[...path].ts";
import * as csvRoute from "./routes/runs/[id]/[name].csv.ts";
import * as emaRoute from "./routes/runs/[id]/ema/[name]/[file].ts";
import * as filesRoute from "./routes/api/runs/[id]/files.ts";
import * as eventsRoute from "./routes/api/runs/[id]/events.ts";
import { notFoundFor } from "./routes/_404.tsx";

/** Options for {@linkcode createApp}. */
export interface AppOptions {
  /** The runs directory to show. */
  runsDir: string;
  /** Where the bundled islands are. @default web/static/build */
  buildDir?: string;
  /** Points per curve after downsampling. @default 1500 */
  maxPoints?: number;
  /** Poll period of live updates in ms. @default 500 */
  pollMs?: number;
  /** Aborting it ends every open live-update stream (for a shutdown that does not wait). */
  signal?: AbortSignal;
  /**
   * Where the server listens: requests whose `Host` header names neither it nor localhost get
   * 403 (see `utils/host.ts`). Read at each request, so a port learnt after binding may be set
   * on it later. @default 127.0.0.1, any port
   */
  bound?: BoundAddress;
  /** Most bytes of a JSON-lines file read for one page. @default MAX_JSONL_BYTES (64 MiB) */
  maxFileBytes?: number;
}

/** The app: a fetch handler plus its shared state. */
export interface App {
  fetch(req: Request): Promise<Response>;
  state: AppState;
}

const STATIC_DIR = new URL("./static/", import.meta.url).pathname;
const STATIC_NAME = /^[a-z0-9][a-z0-9_-]*\.(?:css|js|png|svg|ico|wasm)$/;
const STATIC_TYPES: Record<string, string> = {
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  png: "image/png",
  svg: "image/svg+xml",
  ico: "image/x-icon",
  wasm: "application/wasm",
};
const CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "style-src 'self' 'unsafe-inline'",
  "script-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

async function serveStatic(dir: string, name: string): Promise<Response> {
  if (!STATIC_NAME.test(name)) return notFound();
  try {
    const file = await Deno.open(`${dir}/${name}`, { read: true });
    const ext = name.slice(name.lastIndexOf(".") + 1);
    return new Response(file.readable, {
      headers: {
        "content-type": STATIC_TYPES[ext] ?? "application/octet-stream",
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
      },
    });
  } catch {
    return notFound();
  }
}

/**
 * Builds the viewer. Every request must name this server in its `Host` header (else 403) and
 * be GET or HEAD (else 405, `Allow: GET, HEAD`). Path parameters are checked before any route
 * sees them: run ids match {@linkcode isValidRunId}, and a path with `%` or a backslash anywhere
 * is 404.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createApp } from "./app.ts";
 * const dir = await Deno.makeTempDir();
 * const app = createApp({ runsDir: dir });
 * const res = await app.fetch(new Request("http://localhost/"));
 * assert.equal(res.status, 200);
 * assert.match(await res.text(), /No runs yet/);
 * assert.equal((await app.fetch(new Request("http://localhost/runs/%2e%2e%2fx"))).status, 404);
 * assert.equal((await app.fetch(new Request("http://evil.example/"))).status, 403);
 * const post = await app.fetch(new Request("http://localhost/", { method: "POST" }));
 * assert.equal(post.status, 405);
 * assert.equal(post.headers.get("allow"), "GET, HEAD");
 * await post.body?.cancel();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function createApp(options: AppOptions): App {
  const state: AppState = {
    runsDir: options.runsDir.replace(/\/+$/, "") || "/",
    index: new RunIndex(options.runsDir),
    maxPoints: options.maxPoints ?? 1500,
    pollMs: options.pollMs ?? 500,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.maxFileBytes !== undefined ? { maxFileBytes: options.maxFileBytes } : {}),
  };
  const bound = options.bound ?? {};
  const buildDir = options.buildDir ?? DEFAULT_BUILD_DIR;
  const app = new Hono();

  const route =
    <T>(mod: RouteModule<T>, params: (c: Context) => Record<string, string> | null) =>
    async (c: Context): Promise<Response> => {
      const p = params(c);
      if (p === null) return notFound();
      const url = new URL(c.req.url);
      const ctx: RouteContext = { req: c.req.raw, url, params: p, state };
      const result = await mod.handler.GET(ctx);
      if (result instanceof Response) {
        return result.status === 404 ? await notFoundFor(c.req.raw, result) : result;
      }
      if (!mod.default) throw new Error("route returned page data but has no page component");
      const html = "<!DOCTYPE html>" + renderToString(h(mod.default, { data: result.data, url }));
      return new Response(html, {
        status: result.status,
        headers: {
          "content-type": "text/html; charset=utf-8",
          "content-security-policy": CSP,
          "x-content-type-options": "nosniff",
        },
      });
    };
  const withId = (c: Context) => {
    const id = c.req.param("id") ?? "";
    return isValidRunId(id) ? { id } : null;
  };

  app.use("*", async (c, next) => {
    const path = new URL(c.req.url).pathname;
    if (path.includes("%") || path.includes("\\")) return notFound();
    await next();
  });
  app.get("/", route(indexRoute, () => ({})));
  app.get("/compare", route(compareRoute, () => ({})));
  app.get("/runs/:id", route(runRoute, withId));
  app.get(
    "/runs/:id/files/*",
    route(fileRoute, (c) => {
      const p = withId(c);
      if (p === null) return null;
      const prefix = `/runs/${p.id}/files/`;
      const path = new URL(c.req.url).pathname;
      return path.startsWith(prefix) ? { ...p, path: path.slice(prefix.length) } : null;
    }),
  );
  app.get(
    "/runs/:id/:file{[a-z]+\\.csv}",
    route(csvRoute, (c) => {
      const p = withId(c);
      const file = c.req.param("file") ?? "";
      return p === null ? null : { ...p, name: file.slice(0, -".csv".length) };
    }),
  );
  app.get("/api/runs/:id/events", route(eventsRoute, withId));
  app.get("/api/runs/:id/files", route(filesRoute, withId));
  app.get(
    "/runs/:id/ema/:name/:file",
    route(emaRoute, (c) => {
      const p = withId(c);
      return p === null ? null : { ...p, name: c.req.param("name"), file: c.req.param("file") };
    }),
  );
  app.get("/static/build/:name", (c) => serveStatic(buildDir, c.req.param("name")));
  app.get("/static/:name", (c) => serveStatic(STATIC_DIR, c.req.param("name")));
  app.notFound((c) => notFoundFor(c.req.raw, notFound()));
  app.onError((err) => {
    console.error(`web: ${err instanceof Error ? err.stack ?? err.message : err}`);
    return new Response("Internal error; see the server log.\n", {
      status: 500,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  });

  return { fetch: (req: Request) => _guard(req, bound, (r) => app.fetch(r)), state };
}

function _plain(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(message + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

/**
 * What every request passes before a route: a `Host` that names this server (else 403: a
 * DNS-rebinding page), GET or HEAD (else 405). HEAD is answered as GET without the body, whose
 * stream is cancelled (so that a live-update stream stops polling at once).
 */
async function _guard(
  req: Request,
  bound: BoundAddress,
  next: (req: Request) => Response | Promise<Response>,
): Promise<Response> {
  const host = req.headers.get("host") ?? new URL(req.url).host;
  if (!isAllowedHost(host, bound)) {
    return _plain(403, "Forbidden: the Host header does not name this viewer (localhost only).");
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    return _plain(405, `Method ${req.method} not allowed; the viewer only reads.`, {
      allow: "GET, HEAD",
    });
  }
  if (req.method === "GET") return await next(req);
  const res = await next(new Request(req.url, { headers: req.headers, signal: req.signal }));
  await res.body?.cancel();
  return new Response(null, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}
