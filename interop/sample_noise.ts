/**
 * Samples a run with the project's sampler from a given x_T (the tensor `noise` of a
 * safetensors file, e.g. the one `interop/sample.py` writes), so that the two sides can be
 * compared on the same noise; writes `samples` (and the noise) to `--out`, and, when the input
 * file also holds PyTorch's `samples`, prints the largest difference.
 *
 * @example
 * ```sh
 * deno run -A interop/sample_noise.ts --run <id> --noise py.safetensors --steps ddim50 --out ts.safetensors
 * ```
 *
 * @module
 */
import { BACKEND_OPTION, callerPath, type OptionTable, runTask } from "../tasks/_cli.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { loadRun, requiredRun, RUN_OPTIONS } from "../tasks/_load_run.ts";
import { tf } from "../lib/tf.ts";
import { createSchedule } from "../lib/schedule.ts";
import { samplingSchedule } from "../lib/respace.ts";
import { sample } from "../lib/sampler.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  f32Tensor,
  float32Of,
} from "../lib/io/safetensors.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";

/** The flags of `interop/sample_noise.ts`. */
export const SAMPLE_NOISE_OPTIONS = {
  ...RUN_OPTIONS,
  noise: { type: "string", help: "safetensors file with the tensor noise (x_T)" },
  steps: { type: "string", default: "ddim50", help: "sampling steps (as deno task sample)" },
  ema: { type: "boolean", default: true, help: "use the EMA weights" },
  clip: { type: "boolean", help: "clip predicted x_0", note: "on for mnist" },
  out: { type: "string", default: "ts_samples.safetensors", help: "output file" },
  backend: BACKEND_OPTION,
} as const satisfies OptionTable;

if (import.meta.main) {
  await runTask(
    "deno run -A interop/sample_noise.ts --run <id> --noise F",
    SAMPLE_NOISE_OPTIONS,
    async (v) => {
      const ref = requiredRun(v.run);
      const backend = await initBackend(v.backend as "auto");
      console.error(`backend: ${backend.detail}`);
      const file = decodeSafetensors(await Deno.readFile(callerPath(v.noise!)));
      const noiseT = file.tensors.get("noise")!;
      const run = await loadRun(callerPath(v.runs!), ref, v.ema!);
      const { config, model } = run;
      const image = config.dataset === "mnist";
      const n = noiseT.shape[0]!;
      const shape = image ? [n, 28, 28, 1] : [n, 2];
      const noise = tf.tensor(float32Of(noiseT, "noise"), shape, "float32");
      const full = createSchedule(config.schedule, { numTimesteps: config.timesteps });
      const { schedule, method } = samplingSchedule(full, v.steps!);
      const t0 = performance.now();
      const out = sample(schedule, (x, t) => model.apply(x, t), shape, {
        method,
        noise,
        variance: config.variance,
        clipDenoised: v.clip ?? image,
      });
      const x = out.sample.dataSync() as Float32Array;
      const secs = (performance.now() - t0) / 1000;
      const theirs = file.tensors.get("samples");
      let diff = "";
      if (theirs) {
        const y = float32Of(theirs, "samples");
        let max = 0;
        for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]! - y[i]!));
        diff = `; largest difference from the file's samples ${max.toExponential(2)}`;
      }
      await writeFileAtomic(
        callerPath(v.out!),
        encodeSafetensors({ samples: f32Tensor(x, noiseT.shape), noise: noiseT }, {
          steps: v.steps!,
        }),
      );
      console.log(`wrote ${v.out} (${n} samples, ${v.steps}, ${secs.toFixed(1)}s${diff})`);
      out.sample.dispose();
      noise.dispose();
      model.dispose();
    },
  );
}
