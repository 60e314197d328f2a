import assert from "node:assert/strict";
import { tf } from "../../tf.ts";
import { loadWasmBackend } from "../wasm.ts";
import { registerKernels } from "./mod.ts";

Deno.test("wasm row gather matches the cpu backend, and other gathers still work", async () => {
  await loadWasmBackend();
  registerKernels("wasm");
  const table = Float32Array.from({ length: 7 * 5 }, (_, i) => Math.sin(i));
  const idx = [3, 0, 6, 3, 1];
  const on = async (backend: string) => {
    await tf.setBackend(backend);
    return tf.tidy(() => {
      const x = tf.tensor2d(table, [7, 5]);
      const rows = tf.gather(x, tf.tensor1d(idx, "int32"));
      const cols = tf.gather(x, tf.tensor1d([4, 0], "int32"), 1);
      const nested = tf.gather(
        tf.reshape(x, [7, 5, 1]),
        tf.tensor2d([[1, 2], [6, 0]], [2, 2], "int32"),
      );
      return [rows, cols, nested].map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) }));
    });
  };
  const wasm = await on("wasm");
  const cpu = await on("cpu");
  assert.deepEqual(wasm, cpu);
  await tf.setBackend("wasm");
  assert.throws(
    () => tf.tidy(() => tf.gather(tf.zeros([2, 2]), tf.tensor1d([5], "int32")).dataSync()),
    /outside/,
  );
});
