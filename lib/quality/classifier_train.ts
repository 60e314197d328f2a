/**
 * Training the MNIST classifier of `classifier.ts`: Adam with a cosine-decayed learning rate,
 * cross-entropy, seeded batch order and augmentation, so that the same call on the same machine
 * gives the same weights.
 *
 * @module
 */
import { tf } from "../tf.ts";
import { Rng } from "../random.ts";
import { accuracy, createClassifier, type DigitClassifier } from "./classifier.ts";

/** A labelled set of 28x28 digits in [-1, 1]. */
export interface LabelledDigits {
  /** `n * 784` values. */
  images: Float32Array;
  /** `n` digits 0..9. */
  labels: ArrayLike<number>;
}

/** Options of {@linkcode trainClassifier}. */
export interface TrainClassifierOptions {
  /** Training digits. */
  train: LabelledDigits;
  /** Held-out digits, for the accuracy reported after each epoch (never trained on). */
  test?: LabelledDigits;
  /** Epochs. @default {12} */
  epochs?: number;
  /** Batch size. @default {128} */
  batch?: number;
  /** Peak learning rate. @default {2e-3} */
  lr?: number;
  /** Seed of the initialisation, batch order, augmentation and dropout. @default {0} */
  seed?: number;
  /**
   * Decay of the exponential moving average of the weights that is returned (and measured after
   * each epoch): averaging smooths the epoch-to-epoch wander of held-out accuracy.
   * @default {0.998}
   */
  ema?: number;
  /** Label smoothing of the cross-entropy. @default {0} */
  labelSmoothing?: number;
  /** Writes an augmented copy of `src` into `out` (e.g. small shifts and rotations). */
  augment?: (src: Float32Array, out: Float32Array, rng: Rng) => void;
  /** Called after each epoch. */
  onEpoch?: (e: { epoch: number; loss: number; testAccuracy?: number }) => void;
}

/**
 * Trains a classifier from a seeded initialisation; returns the moving average of its weights.
 *
 * @param o Data and settings.
 * @returns The trained classifier.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend/mod.ts";
 * import { trainClassifier } from "./classifier_train.ts";
 * await initBackend("wasm"); // convolutions on the plain cpu backend take minutes
 * // Two kinds of "digits" (blank and full), one epoch.
 * const images = new Float32Array(64 * 784).map((_, i) => (Math.floor(i / 784) % 2 ? 1 : -1));
 * const labels = Array.from({ length: 64 }, (_, i) => i % 2);
 * const c = trainClassifier({ train: { images, labels }, epochs: 1, batch: 32 });
 * c.dispose();
 * ```
 */
export function trainClassifier(o: TrainClassifierOptions): DigitClassifier {
  const epochs = o.epochs ?? 12, batch = o.batch ?? 128, lr = o.lr ?? 2e-3, seed = o.seed ?? 0;
  const n = o.train.labels.length;
  const c = createClassifier(seed);
  const decay = o.ema ?? 0.998;
  const avg = createClassifier(c.variables.map((v) => v.dataSync() as Float32Array));
  const rng = new Rng(seed, 0x7a1);
  const opt = tf.train.adam(lr);
  const steps = epochs * Math.ceil(n / batch);
  const x = new Float32Array(batch * 784);
  const y = new Float32Array(batch * 10);
  let step = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let lossSum = 0, batches = 0;
    for (let s = 0; s < n; s += batch) {
      const b = Math.min(batch, n - s);
      y.fill(0);
      for (let k = 0; k < b; k++) {
        const idx = order[s + k]!;
        const src = o.train.images.subarray(idx * 784, (idx + 1) * 784);
        const dst = x.subarray(k * 784, (k + 1) * 784);
        if (o.augment) o.augment(src, dst, rng);
        else dst.set(src);
        y[k * 10 + o.train.labels[idx]!] = 1;
      }
      // Cosine decay from lr to lr/20 over the run.
      (opt as unknown as { learningRate: number }).learningRate = lr *
        (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * step / steps)));
      const loss = tf.tidy(() => {
        const xs = tf.tensor4d(x.subarray(0, b * 784), [b, 28, 28, 1]);
        const ys = tf.tensor2d(y.subarray(0, b * 10), [b, 10]);
        return opt.minimize(
          () =>
            tf.losses.softmaxCrossEntropy(
              ys,
              c.logits(xs, true, rng),
              undefined,
              o.labelSmoothing ?? 0,
            ) as tf.Scalar,
          true,
          c.variables,
        )!;
      });
      lossSum += loss.dataSync()[0]!;
      loss.dispose();
      // The average, with improved-diffusion's warm-up: min(decay, (1 + step) / (10 + step)).
      const rate = Math.min(decay, (1 + step) / (10 + step));
      tf.tidy(() => {
        avg.variables.forEach((a, i) =>
          a.assign(tf.add(tf.mul(a, rate), tf.mul(c.variables[i]!, 1 - rate)))
        );
      });
      batches++;
      step++;
    }
    const testAccuracy = o.test ? accuracy(avg, o.test.images, o.test.labels) : undefined;
    o.onEpoch?.({ epoch: epoch + 1, loss: lossSum / batches, testAccuracy });
  }
  opt.dispose();
  c.dispose();
  return avg;
}
