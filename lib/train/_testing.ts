/**
 * Test helpers (not exported from mod.ts).
 *
 * @module
 */
import { tf } from "../tf.ts";
import type { Rng } from "../random.ts";
import type { LossFn } from "./trainer.ts";

/** An epsilon-style toy loss with its own seeded stream (and per-example extras). */
export function toyLoss(rng: Rng, timesteps: number): LossFn {
  return (apply, x0) => {
    const b = x0.shape[0]!;
    const t = tf.tensor1d(Array.from({ length: b }, () => rng.int(timesteps)), "int32");
    const noise = tf.tensor(rng.fillNormal(new Float32Array(x0.size)), x0.shape);
    const out = apply(tf.add(tf.mul(x0, 0.8), tf.mul(noise, 0.6)), t);
    const perExample = tf.mean(tf.reshape(tf.square(tf.sub(out, noise)), [b, -1]), 1);
    return { loss: tf.mean(perExample) as tf.Scalar, extras: { perExample } };
  };
}
