// The marks of xnnpack_packed_wasm.ts: weights that XNNPACK packed are never written in place
// by the optimiser's kernels, so a later product sees the new weights; others are.
import assert from "node:assert/strict";
import { tf } from "../../tf.ts";
import { initBackend } from "../mod.ts";
import { fusedEmaUpdate } from "../ops/optimizer.ts";
import { currentStore } from "./_store.ts";

Deno.test("weights read by wasm's XNNPACK products are marked and updated through new data", async () => {
  for (const native of [false, true]) {
    await initBackend("wasm", { native });
    const variable = (a: number[]) => tf.tidy(() => tf.variable(tf.tensor2d(a, [2, 2]), false));
    const w = variable([1, 2, 3, 4]), spare = variable([1, 2, 3, 4]);
    const x = tf.tensor2d([[1, 0], [0, 1]]);
    const mm = (b: tf.Tensor) => tf.matMul(x, b as tf.Tensor2D);
    tf.dispose(mm(w));
    const store = currentStore([w, spare])!;
    // With the native kernels on, the product is oneDNN's or OpenBLAS's: nothing is packed.
    assert.equal(store.writable(w, false), native, `native ${native}`);
    assert.ok(store.writable(spare, false));
    assert.ok(fusedEmaUpdate([w, spare], [tf.zeros([2, 2]), tf.zeros([2, 2])], 0.5));
    assert.deepEqual(Array.from(mm(w).dataSync()), [0.5, 1, 1.5, 2]);
    assert.deepEqual(Array.from(spare.dataSync()), [0.5, 1, 1.5, 2]);
    tf.dispose([w, spare, x]);
  }
  await initBackend("cpu", { native: false });
});
