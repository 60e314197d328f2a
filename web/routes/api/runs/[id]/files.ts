/**
 * `/api/runs/:id/files`: the run's files that its page lists below the charts (pictures with
 * their size and frame t, checkpoints, kept evaluation digits, which records can be read), as
 * JSON; a live run's page asks again when the run writes something new.
 * @module
 */
import type { RunFilesData } from "../../../../islands/RunFiles.tsx";
import { notFound, type RouteHandler } from "../../../../route.ts";
import { runExists } from "../../../../run_data.ts";
import {
  listCheckpoints,
  listEvalSamples,
  readPictureFrames,
  readPngSize,
  resolveRunFile,
} from "../../../../run_files.ts";
import {
  EVAL_FILE,
  FORWARD_FILE,
  FORWARD_FRAMES_FILE,
  METRICS_FILE,
  RUN_FILE,
  TRAJECTORY_FILE,
  TRAJECTORY_FRAMES_FILE,
} from "../../../../../lib/run/layout.ts";

/**
 * Reads the run's listed files (nothing throws for missing or broken ones).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadRunFiles } from "./files.ts";
 * import { writeFixtureRun } from "../../../../fixtures.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFixtureRun(dir, { id: "r1", metricLines: 5, checkpoints: 1 });
 * const f = await loadRunFiles(dir, "r1");
 * assert.equal(f.pictures.forward?.width, 400);
 * assert.equal(f.pictures.forward?.t?.length, 10);
 * assert.equal(f.checkpoints.length, 1);
 * assert.deepEqual(f.has, { metrics: true, eval: true, run: true });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadRunFiles(runsDir: string, id: string): Promise<RunFilesData> {
  const picture = async (
    file: string,
    frames: typeof FORWARD_FRAMES_FILE | typeof TRAJECTORY_FRAMES_FILE,
  ) => {
    const size = await readPngSize(runsDir, id, file);
    return size && { file, ...size, t: await readPictureFrames(runsDir, id, frames) };
  };
  const exists = async (file: string) => (await resolveRunFile(runsDir, id, file)) !== null;
  const [forward, trajectory, checkpoints, evalSamples, metrics, evals, run] = await Promise.all([
    picture(FORWARD_FILE, FORWARD_FRAMES_FILE),
    picture(TRAJECTORY_FILE, TRAJECTORY_FRAMES_FILE),
    listCheckpoints(runsDir, id),
    listEvalSamples(runsDir, id),
    exists(METRICS_FILE),
    exists(EVAL_FILE),
    exists(RUN_FILE),
  ]);
  return {
    pictures: { forward, trajectory },
    checkpoints,
    evalSamples,
    has: { metrics, eval: evals, run },
  };
}

/**
 * GET: the JSON, or 404 for an unknown run.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { handler } from "./files.ts";
 * import { RunIndex } from "../../../../runs.ts";
 * const state = { runsDir: "/nonexistent", index: new RunIndex("/nonexistent"), maxPoints: 1500, pollMs: 500 };
 * const url = new URL("http://x/api/runs/r1/files");
 * const r = await handler.GET({ req: new Request(url), url, params: { id: "r1" }, state });
 * assert.equal(r instanceof Response && r.status, 404);
 * ```
 */
export const handler: RouteHandler<never> = {
  async GET({ params, state }) {
    const id = params.id!;
    if (!(await runExists(state.runsDir, id))) return notFound(`No run ${id}`);
    return new Response(JSON.stringify(await loadRunFiles(state.runsDir, id)), {
      headers: {
        "content-type": "application/json; charset=utf-8",
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
      },
    });
  },
};
