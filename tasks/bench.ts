/**
 * `deno task bench`: speed of the standard shapes of `shared/spec/unet-s.md` on every backend
 * asked for (milliseconds per step: median, min, max of the timed runs after a warm-up, items
 * per second, and for UNet-S the peak memory), PyTorch's time for the same steps on the same
 * machine measured in alternating rounds (`--pytorch`), where a training step of the first
 * shape measured spends its time (`--profile`), and the data pipeline. Prints one JSON document on stdout; progress goes to
 * stderr.
 *
 * @example
 * ```sh
 * deno task bench                                   # everything, with PyTorch when installed
 * deno task bench --only models --backends wasm --profile
 * deno task bench --only models --shapes mlp --backends wasm --rounds 5 --profile
 * ```
 *
 * @module
 */
import { helpText, type OptionTable, parseOptions, runMain, UsageError } from "./_cli.ts";
import {
  BENCH_SHAPES,
  benchModels,
  type BenchRecord,
  type BenchShape,
  median,
  profileShape,
  REFERENCE_RUNS,
} from "../bench/models.ts";
import { DEFAULT_PYTHON, type PytorchResult, runPytorchReference } from "../bench/pytorch.ts";
import { BACKEND_NAMES, type ConcreteBackendName, initBackend } from "../lib/backend/mod.ts";
import { benchPipeline } from "../workers/bench.ts";

const _CONCRETE = BACKEND_NAMES.filter((b) => b !== "auto");

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
    help: `comma-separated backends to try (${_CONCRETE.join(", ")})`,
  },
  repeats: {
    type: "number",
    integer: true,
    min: 1,
    default: 5,
    help: "timed runs per shape and round (the MLP shapes: at least PyTorch's 200 and 20)",
  },
  rounds: {
    type: "number",
    integer: true,
    min: 1,
    default: 2,
    help: "rounds of measurements, alternating with PyTorch's (the machine's speed drifts)",
  },
  pytorch: {
    type: "string",
    default: "auto",
    help:
      `PyTorch beside the project: auto (${DEFAULT_PYTHON} when it has torch), off, or a python`,
  },
  shapes: {
    type: "string",
    choices: ["all", "unet", "mlp"],
    default: "all",
    help: "which model shapes: all, the UNet-S ones or the MLP ones",
  },
  profile: {
    type: "boolean",
    default: false,
    help: "add the kernels of one training step of the first shape measured, slowest first",
  },
} as const satisfies OptionTable;

/** A shape's time on a backend against PyTorch's, from the same rounds. */
interface Ratio {
  backend: string;
  shape: string;
  msMedian: number;
  pytorchMsMedian: number;
  ratio: number;
}

function _combine(rounds: BenchRecord[][]): BenchRecord[] {
  const out: BenchRecord[] = [];
  for (const r of rounds[0] ?? []) {
    const same = rounds.map((rs) => rs.find((x) => x.backend === r.backend && x.shape === r.shape))
      .filter((x): x is BenchRecord => x !== undefined && x.skipped === undefined);
    const times = same.flatMap((x) => x.timesMs ?? []);
    if (r.skipped !== undefined || times.length === 0) {
      out.push(r);
      continue;
    }
    const ms = median(times);
    out.push({
      ...r,
      msMedian: ms,
      msMin: Math.min(...times),
      msMax: Math.max(...times),
      runs: times.length,
      timesMs: times,
      itemsPerSec: r.itemsPerSec * r.msMedian / ms,
    });
  }
  return out;
}

if (import.meta.main) {
  await runMain(async () => {
    const { values: v, help } = parseOptions(BENCH_OPTIONS, Deno.args);
    if (help) {
      console.log(helpText("deno task bench [flags]", BENCH_OPTIONS));
      return 0;
    }
    const backends = v.backends!.split(",").map((b) => b.trim());
    for (const b of backends) {
      if (!_CONCRETE.includes(b as ConcreteBackendName)) {
        throw new UsageError(`--backends takes ${_CONCRETE.join(", ")}; got "${b}"`);
      }
    }
    const result: Record<string, unknown> = {
      machine: {
        cores: navigator.hardwareConcurrency,
        deno: Deno.version.deno,
        os: Deno.build.os,
        arch: Deno.build.arch,
      },
    };
    if (v.only === "all" || v.only === "models") {
      const torchWanted = v.pytorch !== "off";
      const python = v.pytorch === "auto" || v.pytorch === "off" ? DEFAULT_PYTHON : v.pytorch!;
      const only = v.shapes as "all" | "unet" | "mlp";
      const shapes: BenchShape[] = BENCH_SHAPES.filter((s) =>
        only === "all" || s.toLowerCase().startsWith(only)
      );
      const ours: BenchRecord[][] = [];
      const theirs: PytorchResult[] = [];
      let torchSkipped: string | undefined;
      for (let round = 0; round < v.rounds!; round++) {
        console.error(`round ${round + 1}/${v.rounds}: this project`);
        ours.push(
          await benchModels({
            backends: backends as ConcreteBackendName[],
            shapes,
            runs: (s) => Math.max(v.repeats!, REFERENCE_RUNS[s].min),
            warmup: (s) => REFERENCE_RUNS[s].warmup,
          }),
        );
        if (!torchWanted || torchSkipped !== undefined) continue;
        console.error(`round ${round + 1}/${v.rounds}: PyTorch`);
        try {
          theirs.push(await runPytorchReference({ python, runs: v.repeats!, only }));
        } catch (e) {
          torchSkipped = e instanceof Error ? e.message : String(e);
          if (v.pytorch !== "auto") throw new UsageError(`--pytorch: ${torchSkipped}`);
        }
      }
      const models = _combine(ours);
      result.models = models;
      if (theirs.length > 0) {
        const records = shapes.map((shape) => {
          const times = theirs.flatMap((t) => t.records.filter((r) => r.shape === shape))
            .map((r) => r.msMedian);
          return { shape, msMedian: median(times), roundMedians: times };
        });
        result.pytorch = { torch: theirs[0]!.torch, threads: theirs[0]!.threads, records };
        const ratios: Ratio[] = [];
        for (const m of models) {
          const ref = records.find((r) => r.shape === m.shape);
          if (ref === undefined || m.skipped !== undefined) continue;
          ratios.push({
            backend: m.backend,
            shape: m.shape,
            msMedian: m.msMedian,
            pytorchMsMedian: ref.msMedian,
            ratio: Math.round(m.msMedian / ref.msMedian * 100) / 100,
          });
        }
        result.ratios = ratios;
      } else if (torchWanted) {
        result.pytorch = { skipped: torchSkipped };
      }
      if (v.profile) {
        await initBackend(backends[0] as ConcreteBackendName);
        result.profile = {
          backend: backends[0],
          shape: shapes[0],
          kernels: await profileShape(shapes[0]!),
        };
      }
    }
    if (v.only === "all" || v.only === "data") result.data = await benchPipeline();
    console.log(JSON.stringify(result, null, 2));
    return 0;
  });
}
