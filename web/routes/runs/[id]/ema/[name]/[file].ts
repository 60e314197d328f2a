/**
 * `/runs/:id/ema/:name/checkpoint.json` and `/runs/:id/ema/:name/weights.bin`: the sampling
 * checkpoint inside checkpoint `:name` of a run (its EMA weights alone, a quarter of the full
 * file), as `lib/train/checkpoint_format.ts` describes it; what the browser sampler fetches.
 * The files are read through the files route's allow-list; nothing is decoded here.
 * `sampler_protocol.ts`'s `emaFileUrl` makes these URLs.
 * @module
 */
import {
  CheckpointError,
  parseCheckpointManifest,
  samplingManifest,
} from "../../../../../../lib/train/checkpoint_format.ts";
import { CHECKPOINTS_DIR, parseStepName } from "../../../../../../lib/run/layout.ts";
import { notFound, type RouteHandler } from "../../../../../route.ts";
import { isServableFile } from "../../../../../run_files.ts";
import { readRunsFile } from "../../../../../utils/safe_fs.ts";

/** The most bytes of a `checkpoint.json` read. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

function _unreadable(message: string): Response {
  return new Response(message + "\n", {
    status: 422,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/**
 * GET: the file; 404 for an unknown run, checkpoint or file name, 422 when the checkpoint
 * cannot be read (corrupt manifest, short weights file).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { handler } from "./[file].ts";
 * import { RunIndex } from "../../../../../runs.ts";
 * const state = { runsDir: "/tmp", index: new RunIndex("/tmp"), maxPoints: 1500, pollMs: 500 };
 * const url = new URL("http://x/runs/r1/ema/step_1/weights.bin");
 * const params = { id: "r1", name: "step_1", file: "weights.bin" };
 * const r = await handler.GET({ req: new Request(url), url, params, state });
 * assert.equal(r instanceof Response && r.status, 404);
 * ```
 */
export const handler: RouteHandler<never> = {
  async GET({ params, state }) {
    const { id, name, file } = params;
    if (!id || !name || parseStepName(name, "") === null) return notFound();
    if (file !== "checkpoint.json" && file !== "weights.bin") return notFound();
    const dir = `${CHECKPOINTS_DIR}/${name}`;
    const jsonRel = `${dir}/checkpoint.json`, binRel = `${dir}/weights.bin`;
    if (!isServableFile(jsonRel) || !isServableFile(binRel)) return notFound();
    const read = await readRunsFile(state.runsDir, `${id}/${jsonRel}`, {
      maxBytes: MAX_MANIFEST_BYTES,
    });
    if (!read.ok) return read.reason === "unreadable" ? _unreadable(read.message) : notFound();
    if (read.truncated) return _unreadable(`${jsonRel} is over ${MAX_MANIFEST_BYTES} bytes`);
    let sampling;
    try {
      const manifest = parseCheckpointManifest(new TextDecoder().decode(read.bytes), jsonRel);
      sampling = samplingManifest(manifest);
    } catch (e) {
      if (e instanceof CheckpointError) return _unreadable(e.message);
      throw e;
    }
    const headers = { "cache-control": "no-cache", "x-content-type-options": "nosniff" };
    if (file === "checkpoint.json") {
      return new Response(JSON.stringify(sampling.json), {
        headers: { ...headers, "content-type": "application/json; charset=utf-8" },
      });
    }
    const total = sampling.ranges.reduce((a, r) => a + r.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const r of sampling.ranges) {
      const part = await readRunsFile(state.runsDir, `${id}/${binRel}`, {
        offset: r.start,
        maxBytes: r.length,
      });
      if (!part.ok) return part.reason === "unreadable" ? _unreadable(part.message) : notFound();
      if (part.bytes.length !== r.length) {
        return _unreadable(`${binRel} is shorter than its manifest says (${part.size} bytes)`);
      }
      out.set(part.bytes, at);
      at += r.length;
    }
    return new Response(out, {
      headers: { ...headers, "content-type": "application/octet-stream" },
    });
  },
};
