import { tf } from "../../tf.ts";
import assert from "node:assert/strict";
import { Rng } from "../../random.ts";
import { loadWasmBackend } from "../wasm.ts";
import {
  disableNative,
  enableNative,
  NATIVE_KERNELS,
  type NativeBackendName,
} from "../native/mod.ts";
import { registerKernels } from "./mod.ts";

const rng = new Rng(7, 3);

function rand(shape: number[]): tf.Tensor {
  const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
  rng.fillNormal(v);
  return tf.tensor(v, shape);
}

type Fn = (...xs: tf.Tensor[]) => tf.Tensor[];

/** Runs `f` on the current backend and returns its outputs as arrays. */
function evaluate(f: Fn, inputs: tf.Tensor[]): Float32Array[] {
  // Inputs were made on the cpu backend; their data moves on first use.
  const outs = tf.tidy(() => f(...inputs.map((t) => tf.clone(t))));
  const data = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outs);
  return data;
}

function assertClose(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let scale = 0;
  let err = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]!));
    err = Math.max(err, Math.abs(got[i]! - want[i]!));
  }
  assert.ok(err <= 1e-4 * Math.max(scale, 1e-6), `${what}: max error ${err} vs scale ${scale}`);
}

/**
 * Compares `f` on cpu (reference) with wasm+native and cpu+native, each with oneDNN (when the
 * library is installed) and with OpenBLAS alone.
 */
async function check(name: string, inputs: tf.Tensor[], f: Fn): Promise<void> {
  await loadWasmBackend();
  await tf.setBackend("cpu");
  const want = evaluate(f, inputs);
  for (const backend of ["wasm", "cpu"] as NativeBackendName[]) {
    for (const oneDnn of [true, false]) {
      await tf.setBackend(backend);
      const s = await enableNative(backend, { threads: 1, oneDnn });
      assert.ok(s.enabled, s.detail);
      const engine = /libdnnl/.test(s.detail) ? "oneDNN" : "OpenBLAS";
      if (oneDnn && engine !== "oneDNN" && _dnnlRequired) assert.fail(s.detail);
      try {
        const got = evaluate(f, inputs);
        assert.equal(got.length, want.length);
        got.forEach((g, i) =>
          assertClose(g, want[i]!, `${name} on ${backend}+${engine}, output ${i}`)
        );
      } finally {
        disableNative(backend);
      }
    }
  }
  await tf.setBackend("cpu");
}

/** CI installs libdnnl2: there its absence is a failure, not a skip. */
const _dnnlRequired = Deno.env.get("DIFFUSION_REQUIRE_ONEDNN") === "1";

/** Forward output and gradients w.r.t. every input of a scalar loss sum(y * r). */
function withGrads(fn: (...xs: tf.Tensor[]) => tf.Tensor): (...xs: tf.Tensor[]) => tf.Tensor[] {
  return (...xs) => {
    const y = fn(...xs);
    const r = tf.sin(tf.reshape(tf.range(0, y.size, 1, "float32"), y.shape));
    const g = tf.grads((...ins: tf.Tensor[]) => tf.sum(tf.mul(fn(...ins), r)))(xs);
    return [y, ...g];
  };
}

type Pad = "same" | "valid" | number | [
  [number, number],
  [number, number],
  [number, number],
  [number, number],
];

function convCase(x: number[], f: number[], stride: number, pad: Pad) {
  return async () => {
    await tf.setBackend("cpu");
    const xs = [rand(x), rand(f)];
    await check(
      `conv2d x${x} f${f} s${stride} pad ${JSON.stringify(pad)}`,
      xs,
      withGrads((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad as "same")),
    );
    tf.dispose(xs);
  };
}

const P1: Pad = [[0, 0], [1, 1], [1, 1], [0, 0]];

Deno.test(
  "native conv2d 3x3 stride 1 pad 1 matches cpu (forward, dx, dw)",
  convCase([2, 6, 5, 3], [3, 3, 3, 4], 1, P1),
);
Deno.test(
  "native conv2d 3x3 stride 1 same matches cpu",
  convCase([3, 5, 5, 4], [3, 3, 4, 2], 1, "same"),
);
Deno.test(
  "native conv2d 3x3 stride 2 pad 1 matches cpu",
  convCase([2, 7, 6, 3], [3, 3, 3, 5], 2, P1),
);
Deno.test(
  "native conv2d 3x3 stride 2 same matches cpu",
  convCase([2, 8, 8, 2], [3, 3, 2, 3], 2, "same"),
);
Deno.test("native conv2d 1x1 matches cpu", convCase([2, 4, 5, 6], [1, 1, 6, 3], 1, "valid"));
Deno.test("native conv2d 3x3 valid and 2x2 filter match cpu", async () => {
  await convCase([1, 6, 6, 2], [3, 3, 2, 2], 1, "valid")();
  await convCase([2, 5, 5, 3], [2, 2, 3, 2], 1, "same")();
});
Deno.test(
  "native conv2d covers a chunked im2col (many rows)",
  async () => {
    await convCase([2, 30, 30, 32], [3, 3, 32, 4], 1, P1)();
    await convCase([2, 40, 40, 32], [3, 3, 32, 3], 2, P1)();
  },
);

Deno.test("native fused conv2d with bias and relu matches cpu", async () => {
  await tf.setBackend("cpu");
  const xs = [rand([2, 6, 6, 3]), rand([3, 3, 3, 4]), rand([4])];
  for (const activation of ["linear", "relu"] as const) {
    await check(
      `fused conv2d ${activation}`,
      xs,
      withGrads((x, w, b) =>
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: w as tf.Tensor4D,
          strides: 1,
          pad: P1,
          bias: b,
          activation,
        })
      ),
    );
  }
  tf.dispose(xs);
});

function matCase(a: number[], b: number[], tA: boolean, tB: boolean, grads = true) {
  return async () => {
    await tf.setBackend("cpu");
    const xs = [rand(a), rand(b)];
    const fn = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, tA, tB);
    // tfjs has no gradient for a matMul whose batch dimensions broadcast.
    await check(
      `matMul ${a} ${b} ${tA} ${tB}`,
      xs,
      grads ? withGrads((x, y) => fn(x!, y!)) : (x, y) => [fn(x!, y!)],
    );
    tf.dispose(xs);
  };
}

Deno.test("native matMul 2-D in all transpose combinations matches cpu", async () => {
  await matCase([3, 4], [4, 5], false, false)();
  await matCase([4, 3], [4, 5], true, false)();
  await matCase([3, 4], [5, 4], false, true)();
  await matCase([4, 3], [5, 4], true, true)();
});

Deno.test("native batched matMul (with transposes and broadcast) matches cpu", async () => {
  await matCase([3, 4, 5], [3, 5, 2], false, false)();
  await matCase([3, 5, 4], [3, 2, 5], true, true)();
  await matCase([2, 3, 4, 5], [5, 6], false, false, false)();
  await matCase([4, 5], [3, 5, 2], false, false, false)();
  await matCase([3, 5, 4], [5, 2], true, false, false)();
  await matCase([3, 4, 5], [1, 2, 5], false, true, false)();
});

Deno.test("native fused matMul with bias and relu matches cpu", async () => {
  await tf.setBackend("cpu");
  const xs = [rand([5, 4]), rand([4, 3]), rand([3])];
  await check(
    "fused matMul",
    xs,
    withGrads((a, b, bias) => tf.fused.matMul({ a: a!, b: b!, bias, activation: "relu" })),
  );
  tf.dispose(xs);
});

Deno.test("native kernels fall back for unsupported cases (sigmoid epilogue)", async () => {
  await tf.setBackend("cpu");
  const xs = [rand([5, 4]), rand([4, 3]), rand([3])];
  await check(
    "fused matMul sigmoid",
    xs,
    (a, b, bias) => [tf.fused.matMul({ a: a!, b: b!, bias, activation: "sigmoid" })],
  );
  tf.dispose(xs);
});

Deno.test("enableNative registers its kernels and disableNative restores the originals", async () => {
  await loadWasmBackend();
  registerKernels("wasm");
  const before = NATIVE_KERNELS.map((k) => tf.getKernel(k, "wasm")?.kernelFunc);
  const s = await enableNative("wasm");
  assert.ok(s.enabled, s.detail);
  assert.match(s.detail, /wasm/);
  assert.equal((await enableNative("wasm")).enabled, true);
  NATIVE_KERNELS.forEach((k, i) =>
    assert.notEqual(tf.getKernel(k, "wasm")?.kernelFunc, before[i], k)
  );
  assert.equal(disableNative("wasm"), true);
  NATIVE_KERNELS.forEach((k, i) => assert.equal(tf.getKernel(k, "wasm")?.kernelFunc, before[i], k));
  assert.equal(disableNative("wasm"), false);
});

Deno.test("enableNative with a bogus library reports why instead of throwing", async () => {
  const s = await enableNative("cpu", { libraries: ["/nonexistent/libnope.so"] });
  assert.equal(s.enabled, false);
  assert.match(s.detail, /no CBLAS library found.*libnope/);
  assert.equal(s.detail.includes("\n"), false);
});

Deno.test("native sum and mean over any axes match cpu", async () => {
  await tf.setBackend("cpu");
  const xs = [rand([3, 4, 5, 6, 2])];
  const cases: [number[] | number, boolean][] = [
    [[0, 1, 2], false],
    [[1, 2, 4], true],
    [[4], false],
    [[0, 4], true],
    [[0, 1, 2, 3, 4], false],
    [2, false],
  ];
  for (const [axis, keepDims] of cases) {
    await check(`sum/mean ${axis} ${keepDims}`, xs, (x) => [
      tf.sum(x!, axis, keepDims),
      tf.mean(x!, axis, keepDims),
    ]);
  }
  await check("sum of a size-1 tensor", [tf.ones([1, 1])], (x) => [tf.sum(x!), tf.mean(x!, 0)]);
  tf.dispose(xs);
});

Deno.test("native split matches cpu", async () => {
  await tf.setBackend("cpu");
  const xs = [rand([2, 3, 4, 40])];
  await check("split last axis", xs, (x) => tf.split(x!, [8, 32], 3));
  await check("split axis 1 in three", xs, (x) => tf.split(x!, 3, 1));
  await check("split axis 0 with -1", xs, (x) => tf.split(x!, [1, -1], 0));
  await check("split gradient", xs, withGrads((x) => tf.split(x!, [30, 10], 3)[0]!));
  tf.dispose(xs);
});
