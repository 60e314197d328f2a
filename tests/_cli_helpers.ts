/**
 * What the CLI tests share: a task run as its own process (as `deno task` runs it), the
 * contract for bad input (one line, exit 2), and an untrained checkpoint to point tasks at.
 */
import assert from "node:assert/strict";
import { parseOptions } from "../tasks/_cli.ts";
import { resolveTrainConfig, TRAIN_OPTIONS } from "../tasks/_train_options.ts";
import { modelConfigOf } from "../lib/train/recipe.ts";
import { createModel } from "../lib/model/mod.ts";
import { createTrainer, saveCheckpoint } from "../lib/train/mod.ts";
import { toyLoss } from "../lib/train/_testing.ts";
import { Rng } from "../lib/random.ts";

/** What a task printed, and its exit code. */
export interface TaskOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `tasks/<task>.ts` with every permission, colours off, as a child process.
 *
 * @param task The task's file name without `.ts` (`sample`, `eval`, ...).
 * @param args Its flags.
 * @returns Its exit code and output.
 */
export async function runTask(task: string, args: string[]): Promise<TaskOutput> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `tasks/${task}.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * Asserts the CLI's contract for bad input: exit code `code`, one line on stderr (besides the
 * backend line) that starts with `error: ` and matches `pattern`, and no stack trace.
 *
 * @param r What the task printed.
 * @param pattern What the line must say.
 * @param code The exit code. @default 2
 */
export function oneLineError(
  r: TaskOutput | Omit<TaskOutput, "stdout">,
  pattern: RegExp,
  code = 2,
): void {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("backend:"));
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/);
}

/**
 * Saves the checkpoint of an untrained model made from `deno task train` flags (its config in
 * it), for tasks that need a checkpoint but not a trained model.
 *
 * @param path The checkpoint directory to write.
 * @param flags `deno task train` flags (the dataset, `--class-cond`, ...).
 * @returns `path`.
 */
export async function untrainedCheckpoint(path: string, flags: string[]): Promise<string> {
  const cfg = resolveTrainConfig(parseOptions(TRAIN_OPTIONS, flags).values);
  const model = createModel(modelConfigOf(cfg));
  const trainer = createTrainer({ model, loss: toyLoss(new Rng(1), cfg.timesteps) });
  await saveCheckpoint(path, trainer, { config: cfg });
  trainer.dispose();
  model.dispose();
  return path;
}
