import assert from "node:assert/strict";
import { tf } from "../../tf.ts";
import { Rng } from "../../random.ts";
import { groupNorm, silu } from "../../model/layers.ts";
import { groupNormSilu } from "./group_norm_silu.ts";
import { loadWasmBackend } from "../wasm.ts";
import { registerKernels } from "../kernels/mod.ts";
import { disableNative, enableNative, nativeCKernels } from "../native/mod.ts";

await tf.setBackend("cpu");

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    assert.ok(d <= tol * Math.max(1, Math.abs(b[i]!)), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

const CASES = [
  ["cpu", true, "js"],
  ["cpu", false, "js"],
  ["wasm", true, "js"],
  ["cpu", true, "c"],
  ["cpu", false, "c"],
  ["wasm", true, "c"],
  ["wasm", false, "c"],
] as const;

for (const [backend, withSilu, kernels] of CASES) {
  const name = `groupNormSilu (${backend}, silu ${withSilu}, ${kernels} kernels)`;
  Deno.test(`${name}: values, gradients = composition`, async () => {
    if (backend === "wasm") await loadWasmBackend();
    else await tf.setBackend("cpu");
    if (kernels === "c") {
      const s = await enableNative(backend, { cKernels: true });
      assert.ok(nativeCKernels(backend) !== null, s.detail);
    }
    registerKernels(backend);
    assert.ok(tf.getKernel("DiffusionGroupNorm", backend) !== undefined);
    const [B, H, W, C, G] = [3, 5, 4, 12, 3];
    const rng = new Rng(7);
    const x = tf.tensor4d(rng.fillNormal(new Float32Array(B * H * W * C)).map((v) => 2 * v + 1), [
      B,
      H,
      W,
      C,
    ]);
    const p = {
      gamma: tf.variable(tf.tensor1d(rng.fillNormal(new Float32Array(C)).map((v) => 1 + v / 2))),
      beta: tf.variable(tf.tensor1d(rng.fillNormal(new Float32Array(C)))),
      groups: G,
    };
    const r = tf.tensor4d(rng.fillNormal(new Float32Array(B * H * W * C)), [B, H, W, C]);
    const plain = (xx: tf.Tensor) => {
      const y = groupNorm(xx, p);
      return withSilu ? silu(y) : y;
    };
    const fused = (xx: tf.Tensor) => groupNormSilu(xx, p, { silu: withSilu });
    close(fused(x).dataSync(), plain(x).dataSync(), 1e-4, "y");
    const grads = (f: (xx: tf.Tensor) => tf.Tensor) => {
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(f(x), r)) as tf.Scalar, [
        p.gamma,
        p.beta,
      ]);
      const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(f(xx), r)))(x);
      return [dx, grads[p.gamma.name]!, grads[p.beta.name]!].map((t) => t.dataSync());
    };
    const [fx, fg, fb] = grads(fused);
    const [px, pg, pb] = grads(plain);
    close(fx!, px!, 1e-4, "dx");
    close(fg!, pg!, 1e-4, "dgamma");
    close(fb!, pb!, 1e-4, "dbeta");
    tf.dispose([x, r, p.gamma, p.beta]);
    if (backend === "wasm") {
      // The zero-copy Identity: a clone shares the data, and the values stay intact.
      const a = tf.tensor1d([1, 2, 3]);
      const c = tf.clone(a);
      a.dispose();
      assert.deepEqual(Array.from(c.dataSync()), [1, 2, 3]);
      c.dispose();
    }
    if (kernels === "c") disableNative(backend);
    await tf.setBackend("cpu");
  });
}

Deno.test("groupNormSilu leaks nothing, rejects bad shapes", () => {
  const p = { gamma: tf.variable(tf.ones([4])), beta: tf.variable(tf.zeros([4])), groups: 2 };
  const x = tf.ones([1, 2, 2, 4]);
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    tf.grad((xx: tf.Tensor) => tf.sum(groupNormSilu(xx, p)))(x);
  });
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => groupNormSilu(tf.ones([1, 2, 2, 3]), p), TypeError);
  tf.dispose([x, p.gamma, p.beta]);
});
