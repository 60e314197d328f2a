/**
 * A sweep's plan: named arms, each a `deno task train` command line and the evaluations to run
 * on it (`deno task eval` command lines), read from a JSON file and checked against the tasks'
 * own option tables before anything runs, so that a typo in arm five does not surface hours in.
 *
 * @module
 */
import { parseOptions, UsageError } from "./_cli.ts";
import { TRAIN_OPTIONS } from "./_train_options.ts";
import { EVAL_OPTIONS } from "./eval.ts";

/** Flags a plan may not give: the sweep decides where runs live and which run is evaluated. */
const _RESERVED = {
  train: ["out", "resume", "name"],
  eval: ["run", "runs", "json", "record"],
} as const;

/** One arm of a sweep: a training command line and its evaluations. */
export interface SweepArm {
  /** The arm's name: its folder and its row in the results (letters, digits, `-`, `_`, `.`). */
  name: string;
  /** The flags of `deno task train` (without `--out`, `--resume` and `--name`). */
  train: string[];
  /** Each evaluation's flags of `deno task eval` (without `--run`, `--runs`, `--json`). */
  eval: string[][];
}

/** A sweep: a name and its arms, run in order. */
export interface SweepPlan {
  /** The sweep's name: the folder under the sweeps directory. */
  name: string;
  /** What the sweep is for (shown at the start and in the results). */
  description: string;
  arms: SweepArm[];
}

const _NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function _flags(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.some((a) => typeof a !== "string")) {
    throw new UsageError(`${where} must be a list of strings (command-line flags)`);
  }
  return value as string[];
}

function _evalList(value: unknown, where: string): string[][] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new UsageError(`${where} must be a list of flag lists`);
  return value.map((e, i) => _flags(e, `${where} ${i + 1}`));
}

function _check(task: "train" | "eval", args: string[], where: string): void {
  const table = task === "train" ? TRAIN_OPTIONS : EVAL_OPTIONS;
  let given: Set<string>;
  try {
    given = parseOptions(table, args).given;
  } catch (e) {
    throw new UsageError(`${where}: ${(e as Error).message}`);
  }
  const reserved = _RESERVED[task].filter((f) => given.has(f));
  if (reserved.length) {
    throw new UsageError(
      `${where}: ${reserved.map((f) => `--${f}`).join(", ")} is set by the sweep, not the plan`,
    );
  }
}

/**
 * Reads a plan from its JSON text and checks it: names, unique arm names, and every command
 * line against the option table of its task. Each arm's evaluations are the plan's common
 * `eval` list followed by the arm's own.
 *
 * @param text The plan file's text: `{ "name", "description"?, "eval"?: [[flags]], "arms":
 *   [{ "name", "train": [flags], "eval"?: [[flags]] }] }`.
 * @returns The plan.
 * @throws {UsageError} With one line saying what is wrong and where.
 *
 * @example
 * ```ts
 * import { parseSweepPlan } from "./_sweep_plan.ts";
 * import assert from "node:assert/strict";
 * const plan = parseSweepPlan(JSON.stringify({
 *   name: "lr", eval: [["--n", "1000"]],
 *   arms: [{ name: "small", train: ["--lr", "1e-4"] }, { name: "big", train: ["--lr", "1e-3"] }],
 * }));
 * assert.deepEqual(plan.arms[1], { name: "big", train: ["--lr", "1e-3"], eval: [["--n", "1000"]] });
 * assert.throws(() => parseSweepPlan('{"name": "x", "arms": [{"name": "a", "train": ["--lr"]}]}'));
 * ```
 */
export function parseSweepPlan(text: string): SweepPlan {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`the plan is not JSON: ${(e as Error).message}`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new UsageError("the plan must be a JSON object with a name and arms");
  }
  const p = raw as Record<string, unknown>;
  const known = new Set(["name", "description", "eval", "arms"]);
  const unknown = Object.keys(p).filter((k) => !known.has(k));
  if (unknown.length) throw new UsageError(`the plan has unknown fields: ${unknown.join(", ")}`);
  if (typeof p.name !== "string" || !_NAME.test(p.name)) {
    throw new UsageError("the plan's name must be letters, digits, '-', '_' or '.'");
  }
  const common = _evalList(p.eval, "the plan's eval");
  common.forEach((args, i) => _check("eval", args, `eval ${i + 1}`));
  if (!Array.isArray(p.arms) || p.arms.length === 0) {
    throw new UsageError("the plan must have a non-empty list of arms");
  }
  const names = new Set<string>();
  const arms = p.arms.map((a: unknown, i: number): SweepArm => {
    const where = `arm ${i + 1}`;
    if (a === null || typeof a !== "object" || Array.isArray(a)) {
      throw new UsageError(`${where} must be an object with a name and train flags`);
    }
    const arm = a as Record<string, unknown>;
    const extra = Object.keys(arm).filter((k) => !["name", "train", "eval"].includes(k));
    if (extra.length) throw new UsageError(`${where} has unknown fields: ${extra.join(", ")}`);
    if (typeof arm.name !== "string" || !_NAME.test(arm.name)) {
      throw new UsageError(`${where}: the name must be letters, digits, '-', '_' or '.'`);
    }
    if (names.has(arm.name)) throw new UsageError(`${where}: the name ${arm.name} is taken`);
    names.add(arm.name);
    const train = _flags(arm.train, `${where} (${arm.name}) train`);
    _check("train", train, `${where} (${arm.name}) train`);
    const own = _evalList(arm.eval, `${where} (${arm.name}) eval`);
    own.forEach((args, j) => _check("eval", args, `${where} (${arm.name}) eval ${j + 1}`));
    return { name: arm.name, train, eval: [...common, ...own] };
  });
  return {
    name: p.name,
    description: typeof p.description === "string" ? p.description : "",
    arms,
  };
}

/**
 * The key of an evaluation in a sweep's results: its flags, so that a result is found again
 * after a stop and a changed evaluation is run anew.
 *
 * @param args The evaluation's flags.
 * @returns The key.
 *
 * @example
 * ```ts
 * import { evalKey } from "./_sweep_plan.ts";
 * import assert from "node:assert/strict";
 * assert.equal(evalKey(["--quality", "--n", "1000"]), "--quality --n 1000");
 * assert.equal(evalKey([]), "(default)");
 * ```
 */
export function evalKey(args: string[]): string {
  return args.length ? args.join(" ") : "(default)";
}
