/**
 * `deno task web [--runs runs/] [--port 8000] [--host 127.0.0.1]`: bundles the islands and
 * serves the run viewer, printing its address.
 *
 * @module
 */
import { buildIslands } from "../web/build.ts";
import { startServer } from "../web/server.ts";
import { callerPath, type OptionTable, runTask } from "./_cli.ts";

/**
 * The flags of `deno task web`: the single source of the parser, its checks and `--help`.
 *
 * @example
 * ```ts
 * import { parseOptions } from "./_cli.ts";
 * import { WEB_OPTIONS } from "./web.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseOptions(WEB_OPTIONS, ["--port", "0"]).values, {
 *   runs: "runs",
 *   port: 0,
 *   host: "127.0.0.1",
 * });
 * assert.throws(() => parseOptions(WEB_OPTIONS, ["--port", "65536"]), /at most 65535/);
 * ```
 */
export const WEB_OPTIONS = {
  runs: {
    type: "string",
    default: "runs",
    help: "folder of runs, relative to the current directory",
  },
  port: {
    type: "number",
    integer: true,
    min: 0,
    max: 65535,
    default: 8000,
    help: "port to listen on, 0 for any free one",
  },
  host: {
    type: "string",
    default: "127.0.0.1",
    help: "interface to bind; anything but loopback exposes your runs to the network",
  },
} as const satisfies OptionTable;

if (import.meta.main) {
  await runTask("deno task web [flags]", WEB_OPTIONS, async (v) => {
    const { ms } = await buildIslands();
    console.error(`web: bundled islands in ${ms} ms`);
    startServer({
      runsDir: callerPath(v.runs!),
      hostname: v.host!,
      port: v.port!,
      onListen: (url) => console.log(`Run viewer: ${url} (runs from ${v.runs})`),
    });
  });
}
