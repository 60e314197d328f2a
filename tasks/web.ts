/**
 * `deno task web [--runs runs/] [--port 8000] [--host 127.0.0.1]`: bundles the islands and
 * serves the run viewer, printing its address.
 *
 * @module
 */
import { buildIslands } from "../web/build.ts";
import { startServer } from "../web/server.ts";
import { isLoopbackHost } from "../web/utils/host.ts";
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

/**
 * The one line `deno task web` prints when `--host` is not loopback: the runs are then open to
 * anyone on the network.
 *
 * @param host The `--host` value.
 * @returns The warning.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { networkWarning } from "./web.ts";
 * assert.match(networkWarning("0.0.0.0"), /^warning: --host 0\.0\.0\.0 is not loopback/);
 * ```
 */
export function networkWarning(host: string): string {
  return `warning: --host ${host} is not loopback: the viewer (and every run in it) can be ` +
    `reached from the network; use --host 127.0.0.1 to keep it to this machine`;
}

if (import.meta.main) {
  await runTask("deno task web [flags]", WEB_OPTIONS, async (v) => {
    if (!isLoopbackHost(v.host!)) console.error(networkWarning(v.host!));
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
