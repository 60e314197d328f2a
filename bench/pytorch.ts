/**
 * PyTorch's time for the standard shapes on the same machine, for `deno task bench --pytorch`:
 * runs `bench/pytorch_reference.py` (the spec's UNet-S and MLP in PyTorch, the same steps as
 * `models.ts` measures) and reads its JSON.
 *
 * @module
 */

/** One PyTorch measurement. */
export interface PytorchRecord {
  /** The shape, named as in `models.ts`'s `BENCH_SHAPES`. */
  shape: string;
  /** Median, fastest and slowest time of one step, in milliseconds. */
  msMedian: number;
  msMin: number;
  msMax: number;
  /** Timed runs. */
  runs: number;
}

/** What one run of the reference printed. */
export interface PytorchResult {
  /** PyTorch's version. */
  torch: string;
  /** Intra-op threads used. */
  threads: number;
  /** One record per shape. */
  records: PytorchRecord[];
}

/** Options of {@linkcode runPytorchReference}. */
export interface PytorchOptions {
  /** The Python interpreter with torch installed. @default {"/usr/bin/python3"} (Debian's `python3-torch`) */
  python?: string;
  /** PyTorch threads. @default {navigator.hardwareConcurrency} */
  threads?: number;
  /** Timed runs per shape. @default {5} */
  runs?: number;
  /** Which shapes: "all", "unet" or "mlp". @default {"all"} */
  only?: "all" | "unet" | "mlp";
}

/** The interpreter tried when none is given: Debian's, where `apt-get install python3-torch` puts torch. */
export const DEFAULT_PYTHON = "/usr/bin/python3";

/**
 * Runs the PyTorch reference once. Rejects with a one-line reason when Python or torch is
 * missing.
 *
 * @param options Interpreter, threads, runs and shapes.
 * @returns PyTorch's records.
 *
 * @example
 * ```ts ignore
 * import { runPytorchReference } from "./pytorch.ts";
 * const r = await runPytorchReference({ only: "mlp", runs: 5 });
 * console.log(r.records[0]!.msMedian);
 * ```
 */
export async function runPytorchReference(options: PytorchOptions = {}): Promise<PytorchResult> {
  const python = options.python ?? DEFAULT_PYTHON;
  const script = new URL("./pytorch_reference.py", import.meta.url);
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(python, {
      args: [
        script.pathname,
        "--threads",
        String(options.threads ?? navigator.hardwareConcurrency),
        "--runs",
        String(options.runs ?? 5),
        "--only",
        options.only ?? "all",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    throw new Error(`cannot run ${python}: ${e instanceof Error ? e.message : e}`);
  }
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1) ?? "";
    throw new Error(
      /No module named 'torch'/.test(err)
        ? `${python} has no torch (apt-get install python3-torch)`
        : `the PyTorch reference failed: ${err}`,
    );
  }
  return JSON.parse(new TextDecoder().decode(out.stdout)) as PytorchResult;
}
