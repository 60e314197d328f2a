/**
 * The one place the project imports TensorFlow.js from.
 *
 * `@tensorflow/tfjs-core`'s Node entry point registers neither the gradients nor the chained
 * ops; the `@tensorflow/tfjs` umbrella does, into the same engine the backends use. Importing
 * it here once keeps every module on one engine.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import assert from "node:assert/strict";
 * const [g] = tf.grads((x: tf.Tensor) => tf.sum(tf.square(x)))([tf.tensor1d([1, 2])]);
 * assert.deepEqual(Array.from(g!.dataSync()), [2, 4]);
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

// The cpu backend prints a banner about tfjs-node on its first write when it believes it runs
// in Node.js; Deno is not Node, and the advice does not apply.
tf.env().set("IS_NODE", false);

export { tf };

/** A diffusion model as the math sees it: noisy input and integer timesteps in, output out. */
export type ModelFn = (x: tf.Tensor, t: tf.Tensor1D) => tf.Tensor;
