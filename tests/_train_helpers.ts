/** What the training tests share: small configs, stopping a run at a step, reading its files. */
import { join } from "node:path";
import { parseOptions } from "../tasks/_cli.ts";
import { resolveTrainConfig, TRAIN_OPTIONS, type TrainConfig } from "../tasks/_train_options.ts";

/**
 * A resolved config for `out` and `flags`.
 *
 * @example
 * ```ts
 * import { config } from "./_train_helpers.ts";
 * import assert from "node:assert/strict";
 * assert.equal(config("/tmp/x", ["--steps", "3"]).steps, 3);
 * ```
 */
export function config(out: string, flags: string[]): TrainConfig {
  return resolveTrainConfig(parseOptions(TRAIN_OPTIONS, ["--out", out, ...flags]).values);
}

/** A small, fast S-curve run: inline data, wasm, T = 10, a metrics line every step. */
export const SMALL: readonly string[] = [
  ...["--batch", "32", "--workers", "0", "--backend", "wasm", "--timesteps", "10"],
  ...["--log-every", "1", "--sample-every", "0", "--eval-every", "0"],
];

/** Discards progress lines. */
export const quiet = (): void => {};

/**
 * Options that stop a run after step `n` (as Ctrl-C would), from its plain progress lines.
 *
 * @example
 * ```ts ignore
 * const r = await runTraining(cfg, stopAt(5));
 * ```
 */
export function stopAt(
  n: number,
  lines: string[] = [],
): { signal: AbortSignal; write: (line: string) => void; plain: true; progressEvery: 0 } {
  const stop = new AbortController();
  return {
    signal: stop.signal,
    plain: true,
    progressEvery: 0,
    write: (line) => {
      lines.push(line);
      const m = /^step (\d+)/.exec(line);
      if (m && Number(m[1]) >= n) stop.abort();
    },
  };
}

/**
 * A JSON-lines file with the wall-clock values masked (`time`, `stepMs`, `dataWaitMs`,
 * `itemsPerSec` are measurements, the same in no two runs); everything else byte for byte.
 *
 * @example
 * ```ts ignore
 * assert.equal(await masked(a), await masked(b));
 * ```
 */
export async function masked(path: string): Promise<string> {
  return (await Deno.readTextFile(path))
    .replace(/"time":"[^"]*"/g, '"time":"T"')
    .replace(/"(stepMs|dataWaitMs|itemsPerSec)":[^,}]*/g, '"$1":0');
}

/**
 * A run's `run.json`.
 *
 * @example
 * ```ts ignore
 * assert.equal((await record(dir)).status, "completed");
 * ```
 */
export async function record(dir: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(join(dir, "run.json")));
}

/**
 * The names in a run's `checkpoints/` folder, sorted.
 *
 * @example
 * ```ts ignore
 * assert.deepEqual(await checkpointNames(dir), ["step_00000010"]);
 * ```
 */
export async function checkpointNames(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(join(dir, "checkpoints")))).map((e) => e.name).sort();
}

/**
 * Whether a path exists.
 *
 * @example
 * ```ts
 * import { exists } from "./_train_helpers.ts";
 * import assert from "node:assert/strict";
 * assert.equal(await exists("/nonexistent"), false);
 * ```
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
