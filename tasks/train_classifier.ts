/**
 * `deno task train-classifier`: trains the MNIST classifier whose features the quality measures
 * use (`lib/quality/`), on the 9,001 training digits only (small shifts and rotations as
 * augmentation), reports its accuracy on the 999 test digits after every epoch, and writes its
 * weights with their SHA-256. With the defaults it remakes the shipped weights, and says whether
 * the checksum matches them (the same machine and libraries give the same bits).
 *
 * @example
 * ```sh
 * deno task train-classifier                      # remake lib/quality/weights/mnist_classifier.*
 * deno task train-classifier --out /tmp/clf       # somewhere else
 * ```
 *
 * @module
 */
import { callerPath, type OptionTable, runTask } from "./_cli.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { trainClassifier } from "../lib/quality/classifier_train.ts";
import { accuracy } from "../lib/quality/classifier.ts";
import { saveClassifier, SHIPPED_WEIGHTS } from "../lib/quality/weights.ts";
import { loadMnist } from "../workers/mnist.ts";
import { augmentDigit } from "../workers/augment.ts";

/** The recipe of the shipped weights. */
const RECIPE = {
  epochs: 40,
  batch: 128,
  lr: 2e-3,
  seed: 0,
  translate: 2,
  rotate: 10,
  labelSmoothing: 0.1,
} as const;

/** The flags of `deno task train-classifier`. */
export const TRAIN_CLASSIFIER_OPTIONS = {
  epochs: { type: "number", integer: true, min: 1, default: RECIPE.epochs, help: "epochs" },
  seed: { type: "number", integer: true, min: 0, default: RECIPE.seed, help: "seed" },
  out: {
    type: "string",
    default: "",
    help: "weights path without extension (default: the shipped weights, remade)",
  },
} as const satisfies OptionTable;

if (import.meta.main) {
  await runTask("deno task train-classifier [flags]", TRAIN_CLASSIFIER_OPTIONS, async (v) => {
    const info = await initBackend("auto");
    console.error(`backend: ${info.detail}`);
    const { train, test } = loadMnist();
    const t0 = performance.now();
    const aug = { translate: RECIPE.translate, rotate: RECIPE.rotate };
    const c = trainClassifier({
      train,
      test,
      epochs: v.epochs!,
      batch: RECIPE.batch,
      lr: RECIPE.lr,
      labelSmoothing: RECIPE.labelSmoothing,
      seed: v.seed!,
      augment: (src, out, rng) => augmentDigit(src, out, rng, aug),
      onEpoch: (e) =>
        console.error(
          `epoch ${e.epoch}/${v.epochs}: loss ${e.loss.toFixed(4)}, test accuracy ` +
            `${(100 * e.testAccuracy!).toFixed(1)}% (${
              ((performance.now() - t0) / 1000).toFixed(0)
            } s)`,
        ),
    });
    const acc = accuracy(c, test.images, test.labels);
    const base = v.out ? callerPath(v.out) : SHIPPED_WEIGHTS.pathname;
    let shipped: string | undefined;
    try {
      shipped = JSON.parse(await Deno.readTextFile(`${SHIPPED_WEIGHTS.pathname}.json`)).sha256;
    } catch { /* none shipped yet */ }
    const m = await saveClassifier(c, base, {
      testAccuracy: acc,
      trainedWith: {
        task: "deno task train-classifier",
        ...RECIPE,
        epochs: v.epochs,
        seed: v.seed,
      },
    });
    c.dispose();
    console.log(`test accuracy: ${(100 * acc).toFixed(2)}% on ${test.n} digits`);
    console.log(`weights: ${base}.bin (sha256 ${m.sha256})`);
    if (shipped !== undefined) {
      console.log(
        shipped === m.sha256
          ? "the same bits as the shipped weights"
          : `differs from the shipped weights (sha256 ${
            shipped.slice(0, 16)
          }...): another recipe, machine or library`,
      );
    }
    return 0;
  });
}
