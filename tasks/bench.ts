/**
 * `deno task bench`: speed of the standard shapes of `shared/spec/unet-s.md` on every backend
 * that loads (milliseconds per step: median, min, max over at least 5 timed runs after warm-up,
 * and items per second), and of the data pipeline (batches per second, inline and with
 * workers). Prints one JSON document on stdout; progress goes to stderr.
 *
 * @example
 * ```sh
 * deno task bench                       # everything
 * deno task bench --only models --backends wasm
 * ```
 *
 * @module
 */
import { helpText, type OptionTable, parseOptions, runMain, UsageError } from "./_cli.ts";
import { benchModels } from "../lib/backend/bench.ts";
import { BACKEND_NAMES, type ConcreteBackendName } from "../lib/backend/mod.ts";
import { benchPipeline } from "../workers/bench.ts";

/** The flags of `deno task bench`. */
export const BENCH_OPTIONS = {
  only: {
    type: "string",
    choices: ["all", "models", "data"],
    default: "all",
    help: "what to measure",
  },
  backends: {
    type: "string",
    default: "wasm,cpu",
    help: "comma-separated backends to try (auto, wasm, cpu, webgpu, tensorflow)",
  },
  runs: { type: "number", integer: true, min: 5, default: 5, help: "timed runs per shape" },
} as const satisfies OptionTable;

if (import.meta.main) {
  await runMain(async () => {
    const { values: v, help } = parseOptions(BENCH_OPTIONS, Deno.args);
    if (help) {
      console.log(helpText("deno task bench [flags]", BENCH_OPTIONS));
      return 0;
    }
    const backends = v.backends!.split(",").map((b) => b.trim());
    for (const b of backends) {
      if (!BACKEND_NAMES.includes(b as ConcreteBackendName) || b === "auto") {
        throw new UsageError(`--backends takes wasm, cpu, webgpu or tensorflow; got "${b}"`);
      }
    }
    const result: Record<string, unknown> = {
      machine: {
        cores: navigator.hardwareConcurrency,
        deno: Deno.version.deno,
        os: Deno.build.os,
        arch: Deno.build.arch,
      },
      reference: {
        pytorch: {
          unetTrainStepMs: 1350,
          unetForwardMs: 540,
          mlpStep128Ms: 3,
          note: "PyTorch 1.13 CPU, 2 threads, this machine",
        },
      },
    };
    if (v.only === "all" || v.only === "models") {
      result.models = await benchModels({
        backends: backends as ConcreteBackendName[],
        runs: v.runs!,
      });
    }
    if (v.only === "all" || v.only === "data") result.data = await benchPipeline();
    console.log(JSON.stringify(result, null, 2));
    return 0;
  });
}
