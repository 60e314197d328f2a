/**
 * `deno task eval`: measures a trained run. S-curve: the sliced Wasserstein-1 distance (256
 * fixed directions) between 10,000 samples and 10,000 data points, beside the same distance
 * between two fresh data sets (the noise floor). MNIST: the full variational bound in bits per
 * dimension (all T terms plus the prior) on the first `--digits` test digits, and L_simple on
 * the whole test split.
 *
 * @example
 * ```sh
 * deno task eval --run <run id>
 * deno task eval --run <run id> --digits 64 --json
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { BACKEND_OPTION, callerPath, type OptionTable, runTask } from "./_cli.ts";
import { checkSampleSteps, SEED_RANGE } from "./_train_options.ts";
import { appendJsonl } from "../lib/io/atomic.ts";
import { evaluate } from "./_evaluate.ts";
import { openRun, RUN_OPTIONS } from "./_load_run.ts";
import { findRunDir } from "./_run_dir.ts";

/** The flags of `deno task eval`. */
export const EVAL_OPTIONS = {
  ...RUN_OPTIONS,
  ema: {
    type: "boolean",
    default: true,
    help: "evaluate the EMA weights (--no-ema for the raw ones)",
  },
  n: {
    type: "number",
    integer: true,
    min: 100,
    default: 10000,
    help: "s-curve: samples and data points compared",
  },
  steps: { type: "string", default: "all", help: "s-curve: sampling steps (all, 50, ddim50, ...)" },
  bound: {
    type: "string",
    choices: ["full", "mc"],
    default: "full",
    help: "mnist: the full T-term bound, or only its Monte Carlo estimate (one t per digit, fast)",
  },
  digits: {
    type: "number",
    integer: true,
    min: 1,
    max: 999,
    default: 64,
    help: "mnist: test digits in the full bound",
  },
  seed: { type: "number", integer: true, ...SEED_RANGE, default: 0, help: "seed" },
  json: { type: "boolean", default: false, help: "print one JSON object instead of text" },
  record: { type: "boolean", default: true, help: "append the result to the run's eval.jsonl" },
  backend: BACKEND_OPTION,
} as const satisfies OptionTable;

if (import.meta.main) {
  await runTask("deno task eval --run <id> [flags]", EVAL_OPTIONS, async (v) => {
    checkSampleSteps("--steps", v.steps!);
    const { config, model, step, checkpoint, schedule } = await openRun(v);
    try {
      checkSampleSteps("--steps", v.steps!, config.timesteps);
    } catch (e) {
      model.dispose();
      throw e;
    }
    console.error(`evaluating ${checkpoint} (step ${step}, ${v.ema ? "EMA" : "raw"} weights)`);
    const t0 = performance.now();
    let lastPct = -1;
    const metrics = await evaluate(model, schedule, {
      dataset: config.dataset,
      variance: config.variance,
      seed: v.seed!,
      n: v.n,
      sampleSteps: v.steps,
      bpdDigits: v.digits,
      quick: v.bound === "mc" && config.dataset === "mnist",
      onProgress: (done, total) => {
        const pct = Math.floor((100 * done) / total);
        if (pct % 10 === 0 && pct !== lastPct) {
          lastPct = pct;
          console.error(`  bound: ${done}/${total} timesteps`);
        }
      },
    });
    const secs = (performance.now() - t0) / 1000;
    const result = { step, ema: v.ema, ...metrics, seconds: Math.round(secs * 10) / 10 };
    if (v.json) console.log(JSON.stringify(result));
    else {
      for (const [k, val] of Object.entries(result)) console.log(`${k.padEnd(12)} ${val}`);
    }
    if (v.record) {
      try {
        const dir = await findRunDir(callerPath(v.runs!), v.run!);
        await appendJsonl(join(dir, "eval.jsonl"), {
          time: new Date().toISOString(),
          source: "eval",
          ...result,
        });
      } catch { /* a bare checkpoint: nowhere to record */ }
    }
    model.dispose();
    return 0;
  });
}
