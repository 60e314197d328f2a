/**
 * `/runs/:id/files/<path>`: the allow-listed files of a run (pictures, run.json, the JSON
 * lines files). Anything else, encoded or not, is 404.
 * @module
 */
import { notFound, type RouteHandler } from "../../../../route.ts";
import { resolveRunFile } from "../../../../run_files.ts";
import { openRunsFile } from "../../../../utils/safe_fs.ts";

const TYPES: Record<string, string> = {
  png: "image/png",
  json: "application/json; charset=utf-8",
  jsonl: "text/plain; charset=utf-8",
};

/**
 * GET: the file, streamed, with its content type; 404 unless id and path are allowed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { handler } from "./[...path].ts";
 * import { RunIndex } from "../../../../runs.ts";
 * const state = { runsDir: "/tmp", index: new RunIndex("/tmp"), maxPoints: 1500, pollMs: 500 };
 * const url = new URL("http://x/runs/r1/files/..%2f..%2fetc%2fpasswd");
 * const r = await handler.GET({ req: new Request(url), url, params: { id: "r1", path: "..%2f..%2fetc%2fpasswd" }, state });
 * assert.equal(r instanceof Response && r.status, 404);
 * ```
 */
export const handler: RouteHandler<never> = {
  async GET({ params, state }) {
    const rel = params.path ?? "";
    if ((await resolveRunFile(state.runsDir, params.id!, rel)) === null) return notFound();
    const ext = rel.slice(rel.lastIndexOf(".") + 1);
    // Checked again on the open handle: a regular file inside the runs directory.
    const opened = await openRunsFile(state.runsDir, `${params.id}/${rel}`);
    if (opened === null) return notFound();
    return new Response(opened.file.readable, {
      headers: {
        "content-type": TYPES[ext] ?? "application/octet-stream",
        "cache-control": rel.startsWith("samples/") ? "max-age=3600" : "no-cache",
        "x-content-type-options": "nosniff",
      },
    });
  },
};
