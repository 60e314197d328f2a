/**
 * Writes a training set as a NumPy `.npy` file for `interop/train_ddp.py` (there is no download
 * on the Python side): the MNIST training split as the project trains on it (`[n, 28, 28]`,
 * values in [-1, 1], the fixed train/test split of `workers/mnist.ts`), or the S-curve's fixed
 * set (`[n, 2]`, `makeSCurve(n, { seed })` as the pipeline makes it).
 *
 * @example
 * ```sh
 * deno run --allow-read --allow-write interop/export_data.ts --dataset mnist --out mnist_train.npy
 * ```
 *
 * @module
 */
import { callerPath, type OptionTable, runTask } from "../tasks/_cli.ts";
import { encodeNpy } from "../lib/io/npy.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";

/** The flags of `interop/export_data.ts`. */
export const EXPORT_DATA_OPTIONS = {
  dataset: { type: "string", choices: ["mnist", "s-curve"], default: "mnist", help: "data set" },
  n: { type: "number", integer: true, min: 1, default: 10000, help: "s-curve: points" },
  seed: { type: "number", integer: true, default: 0, help: "s-curve: the run's seed" },
  out: { type: "string", default: "train.npy", help: "the .npy file to write" },
} as const satisfies OptionTable;

if (import.meta.main) {
  await runTask("deno run -A interop/export_data.ts [flags]", EXPORT_DATA_OPTIONS, async (v) => {
    let data: Float32Array, shape: number[];
    if (v.dataset === "mnist") {
      const { loadMnist } = await import("../workers/mnist.ts");
      const { train } = loadMnist();
      data = train.images;
      shape = [train.n, 28, 28];
    } else {
      const { makeSCurve } = await import("../workers/s_curve.ts");
      data = makeSCurve(v.n!, { seed: v.seed! });
      shape = [v.n!, 2];
    }
    await writeFileAtomic(callerPath(v.out!), encodeNpy(data, shape));
    console.log(`wrote ${v.out} (${v.dataset}, [${shape}])`);
  });
}
