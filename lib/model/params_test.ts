import assert from "node:assert/strict";
import { tf } from "../tf.ts";
import { createModel } from "./create_model.ts";

Deno.test("a model's first weights are freed once its variables are assigned new ones", () => {
  const before = tf.memory().numBytes;
  const model = createModel({ kind: "mlp", timesteps: 10, outDim: 2 });
  const bytes = model.variables.reduce((n, v) => n + 4 * v.size, 0);
  assert.equal(tf.memory().numBytes - before, bytes);
  tf.tidy(() => model.variables.forEach((v) => v.assign(tf.zerosLike(v))));
  // Only the variables' current values are held: the initial tensors no longer pin the old ones.
  assert.equal(tf.memory().numBytes - before, bytes);
  model.dispose();
  assert.equal(tf.memory().numBytes, before);
});
