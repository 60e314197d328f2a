/**
 * `/api/runs/:id/events`: server-sent events following a run (see web/live.ts). The start
 * is `?m=&e=&s=` (metrics/eval byte offsets, last sample step) or the Last-Event-ID header.
 * @module
 */
import { parseCursor, runEventStream } from "../../../../live.ts";
import { notFound, type RouteHandler } from "../../../../route.ts";
import { runExists } from "../../../../run_data.ts";

/**
 * GET: the event stream, or 404 for an unknown run.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { handler } from "./events.ts";
 * import { RunIndex } from "../../../../runs.ts";
 * const state = { runsDir: "/nonexistent", index: new RunIndex("/nonexistent"), maxPoints: 1500, pollMs: 500 };
 * const url = new URL("http://x/api/runs/r1/events");
 * const r = await handler.GET({ req: new Request(url), url, params: { id: "r1" }, state });
 * assert.equal(r instanceof Response && r.status, 404);
 * ```
 */
export const handler: RouteHandler<never> = {
  async GET({ req, url, params, state }) {
    const id = params.id!;
    if (!(await runExists(state.runsDir, id))) return notFound(`No run ${id}`);
    const cursor = parseCursor(req.headers.get("last-event-id"), url.searchParams);
    const body = runEventStream(state.runsDir, id, {
      cursor,
      pollMs: state.pollMs,
      ...(state.signal ? { signal: state.signal } : {}),
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        "x-accel-buffering": "no",
      },
    });
  },
};
