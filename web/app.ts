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
import * as indexRoute from "./routes/index.tsx";
import * as compareRoute from "./routes/compare.tsx";
import * as runRoute from "./routes/runs/[id].tsx";
import * as fileRoute from "./routes/runs/[id]/files/[...path].ts";
import * as csvRoute from "./routes/runs/[id]/[name].csv.ts";
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
}

/** The app: a fetch handler plus its shared state. */
export interface App {
  fetch(req: Request): Promise<Response>;
  state: AppState;
}

const STATIC_DIR = new URL("./static/", import.meta.url).pathname;
const STATIC_NAME = /^[a-z0-9][a-z0-9_-]*\.(?:css|js|png|svg|ico)$/;
const STATIC_TYPES: Record<string, string> = {
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  png: "image/png",
  svg: "image/svg+xml",
  ico: "image/x-icon",
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
 * Builds the viewer. Path parameters are checked before any route sees them: run ids match
 * {@linkcode isValidRunId}, and a path with `%` or a backslash anywhere is 404.
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
  };
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

  return { fetch: async (req: Request) => await app.fetch(req), state };
}
