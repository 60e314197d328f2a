// DiffusionMse and DiffusionMseGrad (through the op meanSquaredError) against the plain tfjs
// composition, values and gradients, on cpu and wasm.
import assert from "node:assert/strict";
import { tf } from "../../tf.ts";
import { Rng } from "../../random.ts";
import { initBackend } from "../mod.ts";
import { meanSquaredError, type MseReduction } from "../ops/mse.ts";

function _plain(a: tf.Tensor, b: tf.Tensor, r: MseReduction): tf.Tensor {
  const sq = tf.squaredDifference(a, b);
  return r === "all"
    ? tf.mean(sq)
    : tf.mean(sq, Array.from({ length: a.rank - 1 }, (_, i) => i + 1));
}

/** Value and gradients of sum(w * mse(a, b)) for a fixed weighting w. */
function _run(
  f: typeof _plain,
  a: Float32Array,
  b: Float32Array,
  shape: number[],
  r: MseReduction,
): Float32Array[] {
  return tf.tidy(() => {
    const at = tf.tensor(a, shape), bt = tf.tensor(b, shape);
    const loss = (x: tf.Tensor, y: tf.Tensor) => {
      const m = f(x, y, r);
      return tf.sum(tf.mul(m, tf.add(tf.range(0, m.size, 1, "float32").reshape(m.shape), 1)));
    };
    const value = loss(at, bt);
    const [ga, gb] = tf.grads(loss)([at, bt]);
    return [f(at, bt, r), value, ga!, gb!].map((t) => t.dataSync() as Float32Array);
  });
}

Deno.test("DiffusionMse and its gradient match the plain composition (cpu, wasm)", async () => {
  const rng = new Rng(9, 4);
  for (const shape of [[128, 2], [3, 4, 5, 2], [7]]) {
    const n = shape.reduce((x, y) => x * y, 1);
    const a = rng.fillNormal(new Float32Array(n)), b = rng.fillNormal(new Float32Array(n));
    for (const r of ["all", "rows"] as const) {
      await initBackend("cpu", { native: false });
      const want = _run(_plain, a, b, shape, r);
      for (const backend of ["cpu", "wasm"] as const) {
        await initBackend(backend, { native: false });
        assert.ok(tf.getKernel("DiffusionMse", backend) !== undefined);
        const before = tf.memory().numTensors;
        const got = _run(meanSquaredError, a, b, shape, r);
        assert.equal(tf.memory().numTensors, before, "no tensor leaks");
        got.forEach((g, k) => {
          assert.equal(g.length, want[k]!.length);
          for (let i = 0; i < g.length; i++) {
            const w = want[k]![i]!;
            assert.ok(
              Math.abs(g[i]! - w) <= 1e-5 * Math.max(1, Math.abs(w)),
              `[${shape}] ${r} on ${backend}, output ${k}[${i}]: ${g[i]} vs ${w}`,
            );
          }
        });
      }
    }
  }
  await initBackend("cpu", { native: false });
  assert.throws(() => meanSquaredError(tf.zeros([2]), tf.zeros([3]), "all"), TypeError);
});
