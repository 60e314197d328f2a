/**
 * `deno task web [--runs runs/] [--port 8000] [--host 127.0.0.1]`: bundles the islands and
 * serves the run viewer, printing its address.
 * @module
 */
import { parseArgs } from "node:util";
import { buildIslands } from "../web/build.ts";
import { startServer } from "../web/server.ts";
import { callerPath } from "./_cli.ts";

/** The options of `deno task web` and their defaults (the single source of `--help`). */
export const WEB_DEFAULTS = {
  /** Folder holding one sub-folder per run. */
  runs: "runs",
  /** Port to listen on (0 picks a free one). */
  port: 8000,
  /** Interface to bind; anything but loopback exposes your runs to the network. */
  host: "127.0.0.1",
} as const;

const HELP = `Usage: deno task web [--runs ${WEB_DEFAULTS.runs}] [--port ${WEB_DEFAULTS.port}] \
[--host ${WEB_DEFAULTS.host}]

Serves the diffusion run viewer.
  --runs DIR    folder of runs, relative to the current directory (default ${WEB_DEFAULTS.runs})
  --port N      port, 0 for any free one (default ${WEB_DEFAULTS.port})
  --host ADDR   interface to bind (default ${WEB_DEFAULTS.host})
  -h, --help    this text`;

/** Parsed options of the web task. */
export interface WebArgs {
  runs: string;
  port: number;
  host: string;
  help: boolean;
}

/**
 * Parses the command line; throws TypeError for unknown flags and RangeError for a bad port.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWebArgs } from "./web.ts";
 * assert.deepEqual(parseWebArgs(["--port", "0"]), { runs: "runs", port: 0, host: "127.0.0.1", help: false });
 * assert.throws(() => parseWebArgs(["--bogus"]), TypeError);
 * assert.throws(() => parseWebArgs(["--port", "x"]), RangeError);
 * ```
 */
export function parseWebArgs(args: string[]): WebArgs {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      runs: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (positionals.length > 0) {
    throw new TypeError(`Unexpected argument '${positionals[0]}' (see --help)`);
  }
  const portText = values.port ?? String(WEB_DEFAULTS.port);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new RangeError(`--port must be an integer in 0..65535, got '${portText}'`);
  }
  return {
    runs: values.runs ?? WEB_DEFAULTS.runs,
    port,
    host: values.host ?? WEB_DEFAULTS.host,
    help: values.help ?? false,
  };
}

if (import.meta.main) {
  let args: WebArgs;
  try {
    args = parseWebArgs(Deno.args);
  } catch (e) {
    console.error(`web: ${e instanceof Error ? e.message : e}`);
    Deno.exit(2);
  }
  if (args.help) {
    console.log(HELP);
    Deno.exit(0);
  }
  try {
    const { ms } = await buildIslands();
    console.error(`web: bundled islands in ${ms} ms`);
    startServer({
      runsDir: callerPath(args.runs),
      hostname: args.host,
      port: args.port,
      onListen: (url) => console.log(`Run viewer: ${url} (runs from ${args.runs})`),
    });
  } catch (e) {
    console.error(`web: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}
