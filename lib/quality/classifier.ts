/**
 * The MNIST digit classifier whose features the quality measures compare (a Fréchet distance
 * on a classifier trained on the same data is the practice for MNIST; Inception features mean
 * little on 28x28 grey digits).
 *
 * A small convolutional network, NHWC, inputs in [-1, 1]: conv3x3(1→32), conv3x3/2(32→32),
 * conv3x3(32→64), conv3x3/2(64→64), each with ReLU, then Linear(7·7·64→128) with ReLU: the 128
 * features; dropout, then Linear(128→10). 467,818 parameters. Its weights ship in `weights/`
 * with a SHA-256 the loader checks.
 *
 * @module
 */
import { tf } from "../tf.ts";
import { Rng } from "../random.ts";

/** The feature dimension (the penultimate layer). */
export const CLASSIFIER_FEATURES = 128;

/** The parameter shapes, in order (the order of the weights file). */
export const CLASSIFIER_SHAPES: readonly (readonly [string, readonly number[]])[] = [
  ["conv1.w", [3, 3, 1, 32]],
  ["conv1.b", [32]],
  ["conv2.w", [3, 3, 32, 32]],
  ["conv2.b", [32]],
  ["conv3.w", [3, 3, 32, 64]],
  ["conv3.b", [64]],
  ["conv4.w", [3, 3, 64, 64]],
  ["conv4.b", [64]],
  ["fc1.w", [3136, 128]],
  ["fc1.b", [128]],
  ["fc.w", [128, 10]],
  ["fc.b", [10]],
];

const _STRIDES = [1, 2, 1, 2];

/** The classifier: its variables, logits and features. */
export interface DigitClassifier {
  /** The variables, in {@linkcode CLASSIFIER_SHAPES} order. */
  variables: tf.Variable[];
  /** Logits `[N, 10]` of images `[N, 28, 28, 1]` (dropout when `training`). */
  logits(x: tf.Tensor, training?: boolean, rng?: Rng): tf.Tensor2D;
  /** The 128 penultimate features `[N, 128]`. */
  features(x: tf.Tensor): tf.Tensor2D;
  /** Frees the variables. */
  dispose(): void;
}

/**
 * A classifier with He-initialised weights (seeded), or with the given values.
 *
 * @param init A seed, or the parameter values in {@linkcode CLASSIFIER_SHAPES} order.
 * @returns The classifier.
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { createClassifier } from "./classifier.ts";
 * import assert from "node:assert/strict";
 * const c = createClassifier(0);
 * assert.equal(c.variables.reduce((s, v) => s + v.size, 0), 467818);
 * assert.deepEqual(c.features(tf.zeros([2, 28, 28, 1])).shape, [2, 128]);
 * c.dispose();
 * ```
 */
export function createClassifier(init: number | readonly Float32Array[] = 0): DigitClassifier {
  const rng = typeof init === "number" ? new Rng(init, 0xc1a5) : null;
  const variables = CLASSIFIER_SHAPES.map(([name, shape], i) => {
    const size = shape.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (rng === null) {
      values = (init as readonly Float32Array[])[i]!;
      if (values === undefined || values.length !== size) {
        throw new RangeError(`Cannot build the classifier: ${name} needs ${size} values`);
      }
    } else if (name.endsWith(".b")) {
      values = new Float32Array(size);
    } else {
      const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      values = rng.fillNormal(new Float32Array(size)).map((v) => v * Math.sqrt(2 / fanIn));
    }
    return tf.variable(tf.tensor(values, shape as number[]), true);
  });
  const trunk = (x: tf.Tensor): tf.Tensor2D =>
    tf.tidy(() => {
      let h = x as tf.Tensor4D;
      for (let l = 0; l < 4; l++) {
        h = tf.fused.conv2d({
          x: h,
          filter: variables[2 * l] as tf.Tensor4D,
          strides: _STRIDES[l]!,
          pad: "same",
          bias: variables[2 * l + 1],
          activation: "relu",
        });
      }
      const flat = tf.reshape(h, [h.shape[0], 7 * 7 * 64]) as tf.Tensor2D;
      return tf.fused.matMul({
        a: flat,
        b: variables[8] as tf.Tensor2D,
        bias: variables[9],
        activation: "relu",
      }) as tf.Tensor2D;
    });
  return {
    variables,
    features: trunk,
    logits(x, training = false, dropRng) {
      return tf.tidy(() => {
        let f: tf.Tensor2D = trunk(x);
        if (training && dropRng !== undefined) {
          const keep = 0.5;
          const mask = dropRng.fillUniform(new Float32Array(f.size)).map((u) =>
            u < keep ? 1 / keep : 0
          );
          f = tf.mul(f, tf.tensor(mask, f.shape)) as tf.Tensor2D;
        }
        return tf.add(tf.matMul(f, variables[10]!), variables[11]!) as tf.Tensor2D;
      });
    },
    dispose() {
      tf.dispose(variables);
    },
  };
}

/** Runs `fn` over `images` (`[n·784]`) in batches, concatenating its `[b, k]` outputs. */
export function batched(
  images: Float32Array,
  k: number,
  fn: (x: tf.Tensor) => tf.Tensor,
  batch = 500,
): Float32Array {
  const n = images.length / 784;
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i += batch) {
    const b = Math.min(batch, n - i);
    const y = tf.tidy(() =>
      fn(tf.tensor4d(images.subarray(i * 784, (i + b) * 784), [b, 28, 28, 1]))
    );
    out.set(y.dataSync() as Float32Array, i * k);
    y.dispose();
  }
  return out;
}

/**
 * Class probabilities `[n, 10]` of `n` images.
 *
 * @param c The classifier.
 * @param images `n * 784` values in [-1, 1].
 * @returns Softmax probabilities, row-major.
 */
export function classProbabilities(c: DigitClassifier, images: Float32Array): Float32Array {
  return batched(images, 10, (x) => tf.softmax(c.logits(x)));
}

/**
 * The penultimate features `[n, 128]` of `n` images.
 *
 * @param c The classifier.
 * @param images `n * 784` values in [-1, 1].
 * @returns Features, row-major.
 */
export function classifierFeatures(c: DigitClassifier, images: Float32Array): Float32Array {
  return batched(images, CLASSIFIER_FEATURES, (x) => c.features(x));
}

/**
 * The fraction of `images` whose most probable class is their label.
 *
 * @param c The classifier.
 * @param images `n * 784` values in [-1, 1].
 * @param labels `n` digits.
 * @returns Accuracy in [0, 1].
 */
export function accuracy(
  c: DigitClassifier,
  images: Float32Array,
  labels: ArrayLike<number>,
): number {
  const p = classProbabilities(c, images);
  let right = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let k = 1; k < 10; k++) if (p[i * 10 + k]! > p[i * 10 + best]!) best = k;
    if (best === labels[i]) right++;
  }
  return right / labels.length;
}
