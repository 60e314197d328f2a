/**
 * The shapes route modules follow (after Fresh): a method-keyed `handler` that returns a
 * Response or page data, and a default page component that renders the data.
 * @module
 */
import type { VNode } from "preact";
import type { RunIndex } from "./runs.ts";

/** Shared by every route: where runs are and the list cache. */
export interface AppState {
  /** The runs directory. */
  runsDir: string;
  /** The cached runs list. */
  index: RunIndex;
  /** Points per curve after server-side downsampling. */
  maxPoints: number;
  /** Poll period of the live-update stream in ms. */
  pollMs: number;
  /** Most bytes of a JSON-lines file read for one page. @default MAX_JSONL_BYTES (64 MiB) */
  maxFileBytes?: number;
  /** Aborted when the server shuts down: live streams end. */
  signal?: AbortSignal;
}

/** What a handler gets. */
export interface RouteContext {
  req: Request;
  url: URL;
  /** Path parameters, already checked against their allow-lists by the app. */
  params: Record<string, string>;
  state: AppState;
}

/** Page data returned by a handler, rendered by the route's default component. */
export interface PageResult<T> {
  data: T;
  title: string;
  status: number;
}

/** A route module's `handler`. */
export interface RouteHandler<T = unknown> {
  GET(ctx: RouteContext): Promise<Response | PageResult<T>> | Response | PageResult<T>;
}

/** What a page component gets. */
export interface PageProps<T> {
  data: T;
  url: URL;
}

/** A route module: handler plus optional page component. */
export interface RouteModule<T = unknown> {
  handler: RouteHandler<T>;
  default?: (props: PageProps<T>) => VNode;
}

/**
 * Wraps page data for the route's component.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { page } from "./route.ts";
 * assert.deepEqual(page({ a: 1 }, "A"), { data: { a: 1 }, title: "A", status: 200 });
 * ```
 */
export function page<T>(data: T, title: string, status = 200): PageResult<T> {
  return { data, title, status };
}

/**
 * A plain-text 404 response.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notFound } from "./route.ts";
 * assert.equal(notFound().status, 404);
 * ```
 */
export function notFound(message = "Not found"): Response {
  return new Response(message + "\n", {
    status: 404,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}
