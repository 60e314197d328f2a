/**
 * The command-line plumbing every task shares: one typed table of options is the single source
 * of the parser, the validation and the `--help` text; bad input becomes one line on stderr and
 * exit code 2, never a stack trace.
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { parseArgs } from "node:util";
import { BACKEND_NAMES } from "../lib/backend/mod.ts";

/** A flag's declaration. `default` undefined means "depends on other flags" (see `note`). */
export type OptionSpec =
  | { type: "string"; default?: string; choices?: readonly string[]; help: string; note?: string }
  | {
    type: "number";
    default?: number;
    min?: number;
    max?: number;
    integer?: boolean;
    help: string;
    note?: string;
  }
  | { type: "boolean"; default?: boolean; help: string; note?: string };

/** A table of flags, keyed by their long name. */
export type OptionTable = Record<string, OptionSpec>;

/**
 * The parsed values of a table: strings (one of the `choices` where given), numbers and
 * booleans, undefined where unset.
 */
export type ParsedOptions<T extends OptionTable> = {
  [K in keyof T]: T[K] extends { type: "number" } ? number | undefined
    : T[K] extends { type: "boolean" } ? boolean | undefined
    : T[K] extends { choices: readonly (infer C extends string)[] } ? C | undefined
    : string | undefined;
};

/** An error meant for the user: printed as one line, exit code 2. */
export class UsageError extends Error {
  /**
   * @param message One line saying what was expected and what came.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Parses `args` against `table`. Unknown flags, missing values, bad numbers and values outside
 * `choices` throw {@linkcode UsageError}. Unset flags take their `default`.
 *
 * @param table The flags.
 * @param args The command-line arguments.
 * @returns The values, plus `help` when `--help` was given.
 *
 * @example
 * ```ts
 * import { parseOptions } from "./_cli.ts";
 * import assert from "node:assert/strict";
 * const table = { steps: { type: "number", default: 10, integer: true, help: "steps" } } as const;
 * assert.equal(parseOptions(table, ["--steps", "5"]).values.steps, 5);
 * assert.throws(() => parseOptions(table, ["--steps", "x"]));
 * assert.throws(() => parseOptions(table, ["--nope"]));
 * assert.throws(() => parseOptions(table, ["--steps", "0x10"]), /must be a number/);
 * assert.equal(parseOptions(table, ["--steps", "-5"]).values.steps, -5);
 * assert.equal(parseOptions(table, ["-h"]).help, true);
 * ```
 */
export function parseOptions<T extends OptionTable>(
  table: T,
  args: string[],
): { values: ParsedOptions<T>; help: boolean; given: Set<string> } {
  const parseSpec: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, spec] of Object.entries(table)) {
    parseSpec[name] = { type: spec.type === "boolean" ? "boolean" : "string" };
    if (spec.type === "boolean") parseSpec[`no-${name}`] = { type: "boolean" };
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: _joinNegativeNumbers(table, args),
      options: parseSpec,
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new UsageError(_cleanParseError(e instanceof Error ? e.message : String(e), table));
  }
  const raw = parsed.values as Record<string, string | boolean | undefined>;
  const values: Record<string, string | number | boolean | undefined> = {};
  const given = new Set<string>();
  for (const [name, spec] of Object.entries(table)) {
    let v = raw[name];
    if (spec.type === "boolean" && raw[`no-${name}`]) v = false;
    if (v === undefined) {
      values[name] = spec.default;
      continue;
    }
    given.add(name);
    switch (spec.type) {
      case "boolean":
        values[name] = v === true;
        break;
      case "string": {
        const s = String(v);
        if (spec.choices && !spec.choices.includes(s)) {
          throw new UsageError(
            `--${name} must be one of ${spec.choices.join(", ")}; got "${s}"`,
          );
        }
        values[name] = s;
        break;
      }
      case "number": {
        const s = String(v).trim();
        // Decimal only: Number() would also take "0x10", "0b1", "Infinity" and "".
        const n = _DECIMAL.test(s) ? Number(s) : NaN;
        if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number; got "${s}"`);
        if (spec.integer && !Number.isInteger(n)) {
          throw new UsageError(`--${name} must be a whole number; got "${s}"`);
        }
        if (spec.min !== undefined && n < spec.min) {
          throw new UsageError(`--${name} must be at least ${spec.min}; got ${n}`);
        }
        if (spec.max !== undefined && n > spec.max) {
          throw new UsageError(`--${name} must be at most ${spec.max}; got ${s}`);
        }
        if (spec.integer && !Number.isSafeInteger(n)) {
          throw new UsageError(`--${name} is too large; got ${s}`);
        }
        values[name] = n;
        break;
      }
    }
  }
  return { values: values as ParsedOptions<T>, help: raw.help === true, given };
}

const _DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * `--seed -7` as `--seed=-7`, so that a negative number is not taken for a flag (for a string
 * flag too: `--steps -5` is then refused by the flag's own check, in its own words).
 */
/**
 * The flag a typo away from `name` (one edit or swap; two for names of 8 letters or more), or
 * the one flag whose last word it is (`--steps` of `sample` is `--sample-steps`).
 */
function _nearestFlag(name: string, flags: string[]): string | undefined {
  const tails = flags.filter((f) => f.endsWith(`-${name}`));
  if (tails.length === 1) return tails[0];
  let best: string | undefined, bestD = name.length >= 8 ? 3 : 2;
  for (const f of flags) {
    const d = _editDistance(name, f);
    if (d < bestD) [best, bestD] = [f, d];
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function _editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function _joinNegativeNumbers(table: OptionTable, args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!, next = args[i + 1];
    const spec = a.startsWith("--") ? table[a.slice(2)] : undefined;
    if (spec && spec.type !== "boolean" && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

function _cleanParseError(message: string, table: OptionTable): string {
  const unknown = message.match(/Unknown option '([^']+)'/);
  if (unknown) {
    const near = _nearestFlag(unknown[1]!.replace(/^-+/, ""), Object.keys(table));
    return `unknown flag ${unknown[1]}${near ? `; did you mean --${near}?` : " (see --help)"}`;
  }
  const missing = message.match(/Option '([^']+)' argument missing/);
  if (missing) return `${missing[1]!.split(" ")[0]} needs a value`;
  const ambiguous = message.match(/Option '([^' ]+)[^']*' argument is ambiguous/);
  if (ambiguous) {
    const flag = ambiguous[1]!;
    return `${flag} needs a value (for one that starts with "-", write ${flag}=VALUE)`;
  }
  const valued = message.match(/Option '(?:-\w, )?(--[^' ]+)' does not take an argument/);
  if (valued) return `${valued[1]} is a switch and takes no value`;
  const positional = message.match(/Unexpected argument '([^']+)'/);
  if (positional) {
    return `unexpected argument "${positional[1]}" (flags take the form --name value)`;
  }
  return message.split("\n")[0]!;
}

/**
 * Renders the `--help` text of a table: each flag with its default (or note) and choices.
 *
 * @param usage The first line, e.g. `deno task train [flags]`.
 * @param table The flags.
 * @returns The help text.
 *
 * @example
 * ```ts
 * import { helpText } from "./_cli.ts";
 * import assert from "node:assert/strict";
 * const text = helpText("x", { n: { type: "number", default: 3, help: "count" } });
 * assert.match(text, /--n .*count.*default: 3/);
 * ```
 */
export function helpText(usage: string, table: OptionTable): string {
  const lines = [`Usage: ${usage}`, "", "Flags:"];
  // Wide enough for "-h, --help" too.
  const width = Math.max(8, ...Object.keys(table).map((k) => k.length)) + 4;
  for (const [name, spec] of Object.entries(table)) {
    const def = spec.default !== undefined ? `default: ${spec.default}` : spec.note ?? "";
    const choices = spec.type === "string" && spec.choices ? ` [${spec.choices.join("|")}]` : "";
    lines.push(`  --${name.padEnd(width)}${spec.help}${choices}${def ? ` (${def})` : ""}`);
  }
  lines.push(`  ${"-h, --help".padEnd(width + 2)}show this text`);
  return lines.join("\n");
}

/**
 * Runs a task's main function: a {@linkcode UsageError} prints one line and exits 2, any other
 * error prints one line and exits 1 (set `DIFFUSION_DEBUG=1` for the stack).
 *
 * @param main The task.
 *
 * @example
 * ```ts ignore
 * import { runMain } from "./_cli.ts";
 * await runMain(async () => { console.log("hello"); });
 * ```
 */
export async function runMain(main: () => Promise<number | void>): Promise<void> {
  try {
    const code = await main();
    if (typeof code === "number" && code !== 0) Deno.exit(code);
  } catch (e) {
    const message = e instanceof Error ? e.message.split("\n")[0] : String(e);
    console.error(`error: ${message}`);
    if (Deno.env.get("DIFFUSION_DEBUG")) console.error(e);
    Deno.exit(e instanceof UsageError ? 2 : 1);
  }
}

/**
 * The `--backend` flag of `train`, `sample` and `eval`.
 *
 * @example
 * ```ts
 * import { BACKEND_OPTION, parseOptions } from "./_cli.ts";
 * import assert from "node:assert/strict";
 * const table = { backend: BACKEND_OPTION };
 * assert.equal(parseOptions(table, []).values.backend, "auto");
 * assert.throws(() => parseOptions(table, ["--backend", "gpu"]));
 * ```
 */
export const BACKEND_OPTION = {
  type: "string",
  choices: BACKEND_NAMES,
  default: "auto",
  help: "compute backend",
} as const satisfies OptionSpec;

/**
 * Runs a task (see {@linkcode runMain}) on the command line parsed against `table`; `--help`
 * prints the help text of `table` instead.
 *
 * @param usage The first line of the help text, e.g. `deno task eval --run <id> [flags]`.
 * @param table The flags.
 * @param main The task, given the parsed flags and the names of those on the command line.
 *
 * @example
 * ```ts ignore
 * import { runTask } from "./_cli.ts";
 * const table = { name: { type: "string", default: "world", help: "who to greet" } } as const;
 * await runTask("deno run hello.ts [flags]", table, async (v) => { console.log(`hello ${v.name}`); });
 * ```
 */
export async function runTask<T extends OptionTable>(
  usage: string,
  table: T,
  main: (values: ParsedOptions<T>, given: Set<string>) => Promise<number | void>,
): Promise<void> {
  await runMain(async () => {
    const { values, help, given } = parseOptions(table, Deno.args);
    if (help) {
      console.log(helpText(usage, table));
      return 0;
    }
    return await main(values, given);
  });
}

/**
 * A path from the command line, resolved against the caller's working directory: `deno task`
 * runs tasks in the project's root and names the directory it was called from in `INIT_CWD`,
 * so that is used when set; otherwise the current directory. Absolute paths stay as they are.
 *
 * @param path A path as the user typed it.
 * @returns An absolute path.
 *
 * @example
 * ```ts
 * import { callerPath } from "./_cli.ts";
 * import assert from "node:assert/strict";
 * assert.equal(callerPath("/tmp/runs"), "/tmp/runs");
 * assert.ok(callerPath("runs").endsWith("/runs"));
 * ```
 */
export function callerPath(path: string): string {
  if (isAbsolute(path)) return path;
  let base = Deno.cwd();
  try {
    const init = Deno.env.get("INIT_CWD");
    if (init && isAbsolute(init)) base = init;
  } catch { /* no --allow-env: the current directory */ }
  return resolve(base, path);
}
