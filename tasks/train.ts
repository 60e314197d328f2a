/**
 * `deno task train`: trains a diffusion model and writes a run directory under `--out`.
 * With no flags it trains the embedded default, the S-curve MLP.
 *
 * @example
 * ```sh
 * deno task train                                  # the S-curve default, a few minutes on 2 cores
 * deno task train --dataset mnist --steps 1500     # UNet-S on MNIST (L_hybrid, learned variance)
 * deno task train --resume <run id>                # continue an interrupted run
 * deno task train --resume <run id> --steps 3000   # train it on to a new target
 * ```
 *
 * @module
 */
import { callerPath, runTask } from "./_cli.ts";
import {
  checkDatasetFlags,
  resolveTrainConfig,
  RESUME_OVERRIDES,
  TRAIN_OPTIONS,
} from "./_train_options.ts";
import { runTraining, stopExitCode, type TrainResult } from "./_train_loop.ts";
import { ensureFastPath } from "./_system_packages.ts";

if (import.meta.main) {
  await runTask("deno task train [flags]", TRAIN_OPTIONS, async (values, given) => {
    const config = resolveTrainConfig(values);
    if (!values.resume) checkDatasetFlags(config.dataset, given);
    const out = values.out!;
    config.out = callerPath(out);
    if (values.resume) {
      const ignored = [...given].filter((f) =>
        f !== "resume" && !(RESUME_OVERRIDES as readonly string[]).includes(f)
      );
      if (ignored.length) {
        console.error(
          `note: ${
            ignored.map((f) => `--${f}`).join(", ")
          } ignored: a resumed run keeps its saved config`,
        );
      }
    }
    // The CPU backends' fast path: oneDNN, installed here when possible (root and apt-get).
    if (config.backend !== "webgpu" && config.backend !== "tensorflow") await ensureFastPath();
    const result = await runTraining(config, { resume: values.resume, given });
    try {
      _hints(result, out);
    } catch { /* no terminal left (SIGHUP) */ }
    return result.status === "interrupted" ? stopExitCode(result.stoppedBy) : 0;
  });
}

/** What to do next, naming --runs/--out only when not the default, as typed. */
function _hints(result: TrainResult, out: string): void {
  const runsFlag = out === TRAIN_OPTIONS.out.default ? "" : ` --runs ${out}`;
  console.log(`run: ${result.dir}`);
  console.log(`view it: deno task web${runsFlag}   (then open http://127.0.0.1:8000)`);
  if (result.status === "interrupted") {
    const outFlag = runsFlag ? ` --out ${out}` : "";
    console.log(`resume it: deno task train --resume ${result.id}${outFlag}`);
  } else {
    console.log(`sample it: deno task sample --run ${result.id}${runsFlag} --out samples.png`);
  }
}
