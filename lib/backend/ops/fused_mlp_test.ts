import assert from "node:assert/strict";
import { tf } from "../../tf.ts";
import { Rng } from "../../random.ts";
import { disableNative, enableNative } from "../native/mod.ts";
import { loadWasmBackend } from "../wasm.ts";
import { createMlp } from "../../model/mlp.ts";
import { fusedMlp, fusedMlpAvailable } from "./fused_mlp.ts";

await tf.setBackend("cpu");

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let scale = 1e-3;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d / scale;
}

/** Output and gradients of a weighted squared-error loss, all variables and x. */
function run(outDim: number, batch: number, seed: number) {
  const rng = new Rng(seed);
  const m = createMlp({ kind: "mlp", timesteps: 7, outDim, hidden: 16, seed });
  // Non-zero biases and the output layer, so every term of the gradient is exercised.
  tf.tidy(() =>
    m.variables.forEach((v) =>
      v.assign(tf.add(v, tf.tensor(rng.fillNormal(new Float32Array(v.size)), v.shape).mul(0.3)))
    )
  );
  const x = tf.tensor(rng.fillNormal(new Float32Array(batch * 2)), [batch, 2]);
  const t = tf.tensor1d(Int32Array.from({ length: batch }, () => rng.int(7)), "int32");
  const target = tf.tensor(rng.fillNormal(new Float32Array(batch * outDim)), [batch, outDim]);
  const y = Float32Array.from(m.apply(x, t).dataSync());
  const f = (xx: tf.Tensor) =>
    tf.sum(tf.square(tf.sub(m.apply(xx, t, { training: true }), target))) as tf.Scalar;
  const { value, grads } = tf.variableGrads(() => f(x), m.variables);
  const gx = tf.grad(f)(x);
  const out = {
    y,
    loss: value.dataSync()[0]!,
    grads: m.variables.map((v) => Float32Array.from(grads[v.name]!.dataSync())),
    gx: Float32Array.from(gx.dataSync()),
  };
  tf.dispose([x, t, target, value, gx, ...Object.values(grads)]);
  m.dispose();
  return out;
}

Deno.test("fused MLP: output and gradients match the plain composition (cpu)", async () => {
  for (const [outDim, batch, seed] of [[2, 1, 1], [2, 37, 2], [4, 64, 3]] as const) {
    disableNative("cpu");
    assert.equal(fusedMlpAvailable(), false);
    const plain = run(outDim, batch, seed);
    const on = await enableNative("cpu", { threads: 1 });
    assert.ok(on.enabled, on.detail);
    assert.ok(fusedMlpAvailable());
    const fused = run(outDim, batch, seed);
    disableNative("cpu");
    assert.ok(maxRelDiff(fused.y, plain.y) < 1e-5, "output");
    assert.ok(Math.abs(fused.loss - plain.loss) <= 1e-5 * Math.abs(plain.loss), "loss");
    plain.grads.forEach((g, i) => {
      const d = maxRelDiff(fused.grads[i]!, g);
      assert.ok(d < 1e-4, `gradient ${i} differs by ${d}`);
    });
    assert.ok(maxRelDiff(fused.gx, plain.gx) < 1e-4, "input gradient");
  }
});

Deno.test("fused MLP: no tensor leaks; out-of-range timesteps throw", async () => {
  await enableNative("cpu", { threads: 1 });
  const m = createMlp({ kind: "mlp", timesteps: 5, outDim: 2, hidden: 8 });
  const x = tf.ones([3, 2]);
  const t = tf.tensor1d([0, 4, 2], "int32");
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const { value, grads } = tf.variableGrads(
      () => tf.sum(m.apply(x, t, { training: true })) as tf.Scalar,
      m.variables,
    );
    tf.dispose([value, ...Object.values(grads)]);
  }
  tf.dispose(m.apply(x, tf.tensor1d([1, 1, 1], "float32")));
  assert.equal(tf.memory().numTensors, before + 1); // the float32 t above
  assert.throws(() => m.apply(x, tf.tensor1d([0, 5, 1], "int32")), RangeError);
  disableNative("cpu");
  m.dispose();
});

Deno.test("fused MLP on wasm matches the plain composition on cpu", async () => {
  disableNative("cpu");
  const plain = run(2, 300, 4);
  await loadWasmBackend();
  const on = await enableNative("wasm", { threads: 1 });
  try {
    assert.ok(on.enabled, on.detail);
    assert.ok(fusedMlpAvailable());
    const fused = run(2, 300, 4);
    assert.ok(maxRelDiff(fused.y, plain.y) < 1e-5, "output");
    plain.grads.forEach((g, i) => {
      const d = maxRelDiff(fused.grads[i]!, g);
      assert.ok(d < 1e-4, `gradient ${i} differs by ${d}`);
    });
  } finally {
    disableNative("wasm");
    await tf.setBackend("cpu");
  }
});

Deno.test("fused MLP: the C loops give the JavaScript loops' bits (cpu and wasm)", async () => {
  for (const backend of ["cpu", "wasm"] as const) {
    if (backend === "wasm") await loadWasmBackend();
    else await tf.setBackend("cpu");
    const runs: ReturnType<typeof run>[] = [];
    for (const cKernels of [false, true]) {
      disableNative(backend);
      const on = await enableNative(backend, { threads: 1, cKernels });
      assert.ok(on.enabled, on.detail);
      if (cKernels && !/C kernels/.test(on.detail)) continue; // no C compiler here
      runs.push(run(2, 45, 5));
    }
    disableNative(backend);
    for (const r of runs.slice(1)) {
      assert.deepEqual(r.y, runs[0]!.y);
      assert.equal(r.loss, runs[0]!.loss);
      r.grads.forEach((g, i) => assert.deepEqual(g, runs[0]!.grads[i], `gradient ${i}`));
      assert.deepEqual(r.gx, runs[0]!.gx);
    }
  }
  await tf.setBackend("cpu");
});

Deno.test("fused MLP: weights made inside the loss (not variables) are saved for the backward pass", async () => {
  await tf.setBackend("cpu");
  const on = await enableNative("cpu", { threads: 1 });
  assert.ok(on.enabled, on.detail);
  try {
    const rng = new Rng(11);
    const H = 8, T = 5, B = 6;
    const r = (s: number[]) =>
      tf.tensor(rng.fillNormal(new Float32Array(s.reduce((a, b) => a * b, 1))), s);
    const [table, w0, b0, w1, b1, w2, b2, wo, bo] = [
      r([T, 3 * H]),
      r([2, H]),
      r([H]),
      r([H, H]),
      r([H]),
      r([H, H]),
      r([H]),
      r([H, 2]),
      r([2]),
    ];
    const x = r([B, 2]), t = tf.tensor1d([0, 4, 2, 1, 3, 0], "int32");
    const loss = (...ws: tf.Tensor[]) =>
      tf.tidy(() => {
        // Scaled by 1 inside this tidy: tensors that are gone before the backward pass runs.
        const [a, c, d, e] = ws.map((w) => tf.mul(w, 1));
        const y = fusedMlp(x, t, { table, w0: a!, b0, w1: c!, b1, w2: d!, b2, wo: e!, bo });
        return tf.sum(tf.square(y)) as tf.Scalar;
      });
    const plain = [w0!, w1!, w2!, wo!];
    const g = tf.grads(loss)(plain);
    const vars = plain.map((w) => tf.variable(w.clone()));
    const { grads } = tf.variableGrads(() => {
      const y = fusedMlp(x, t, {
        table: table!,
        w0: vars[0]!,
        b0: b0!,
        w1: vars[1]!,
        b1: b1!,
        w2: vars[2]!,
        b2: b2!,
        wo: vars[3]!,
        bo: bo!,
      });
      return tf.sum(tf.square(y)) as tf.Scalar;
    }, vars);
    vars.forEach((v, i) => assert.deepEqual(grads[v.name]!.dataSync(), g[i]!.dataSync(), `w${i}`));
  } finally {
    disableNative("cpu");
  }
});
