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
import { runTask } from "./_cli.ts";
import { resolveTrainConfig, TRAIN_OPTIONS } from "./_train_options.ts";
import { runTraining } from "./_train_loop.ts";

if (import.meta.main) {
  await runTask("deno task train [flags]", TRAIN_OPTIONS, async (values, given) => {
    const config = resolveTrainConfig(values);
    const result = await runTraining(config, {
      resume: values.resume,
      // `--steps` given with `--resume` sets the new target (else the saved one stands).
      resumeSteps: given.has("steps"),
    });
    console.log(`run: ${result.dir}`);
    console.log(`view it: deno task web --runs ${config.out}   (then open http://127.0.0.1:8000)`);
    console.log(`sample it: deno task sample --run ${result.id} --out samples.png`);
    return result.status === "interrupted" ? 130 : 0;
  });
}
