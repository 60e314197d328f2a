import assert from "node:assert/strict";
import { tf } from "../../tf.ts";
import { loadWasmBackend } from "../wasm.ts";
import { _setIm2colLimit } from "./_wasm.ts";
import { KERNELS, registerKernels } from "./mod.ts";
import { compareBackends, gradsOn, maxRelDiff, randomInputs } from "../_grad_check.ts";

await loadWasmBackend();
registerKernels("wasm");
registerKernels("cpu");
const WASM_TRAINING_KERNELS = KERNELS
  .filter((k) => k.needs === "none" && k.backends.includes("wasm"))
  .map((k) => k.kernelName);
const TOL = 1e-4;

type Pad = "same" | "valid" | [
  [number, number],
  [number, number],
  [number, number],
  [number, number],
];
const P1: Pad = [[0, 0], [1, 1], [1, 1], [0, 0]];

function convLoss(stride: number | [number, number], pad: Pad) {
  // A weighted sum, so that dy is not constant.
  return (x: tf.Tensor, w: tf.Tensor) => {
    const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad);
    return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape))));
  };
}

const convCases: [string, number[], number[], number | [number, number], Pad][] = [
  ["3x3 stride 1 pad 1", [2, 6, 6, 3], [3, 3, 3, 4], 1, P1],
  ["3x3 stride 2 pad 1 (PyTorch style)", [2, 7, 7, 3], [3, 3, 3, 4], 2, P1],
  ["3x3 stride 2 same", [2, 8, 8, 3], [3, 3, 3, 4], 2, "same"],
  ["3x3 valid, non-square", [1, 5, 7, 2], [3, 3, 2, 5], 1, "valid"],
  ["1x1", [2, 4, 4, 6], [1, 1, 6, 3], 1, "valid"],
  ["2x3 filter, strides [2,1]", [2, 7, 6, 3], [2, 3, 3, 2], [2, 1], "same"],
  ["pad 3 > filter − 1 (input gradient falls back)", [1, 4, 4, 2], [3, 3, 2, 3], 1, [
    [0, 0],
    [
      3,
      3,
    ],
    [3, 3],
    [0, 0],
  ]],
];

for (const [name, xs, ws, stride, pad] of convCases) {
  Deno.test(`conv2d gradients (both) on wasm match cpu: ${name}`, async () => {
    const { diff, worst } = await compareBackends("wasm", "cpu", convLoss(stride, pad), [xs, ws]);
    assert.ok(diff < TOL, `${worst} differs by ${diff}`);
  });
}

Deno.test("Conv2DBackpropFilter on wasm: chunked im2col gives the same result", async () => {
  const f = convLoss(1, P1);
  const shapes = [[5, 6, 6, 3], [3, 3, 3, 4]];
  const values = randomInputs(shapes, 7);
  const whole = await gradsOn("wasm", f, shapes, values);
  const prev = _setIm2colLimit(2 * 36 * 27); // two images per chunk: chunks of 2, 2, 1
  try {
    const chunked = await gradsOn("wasm", f, shapes, values);
    const d = maxRelDiff(chunked.grads[1]!, whole.grads[1]!);
    assert.ok(d < 1e-5, `chunked differs by ${d}`);
  } finally {
    _setIm2colLimit(prev);
  }
});

Deno.test("Conv2DBackpropFilter on wasm rejects NCHW", async () => {
  await tf.setBackend("wasm");
  const x = tf.ones([1, 2, 4, 4]);
  const dy = tf.ones([1, 2, 4, 4]);
  assert.throws(
    () =>
      tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
        strides: 1,
        pad: "same",
        dataFormat: "NCHW",
        filterShape: [3, 3, 2, 2],
      }),
    /expected dataFormat NHWC/,
  );
  tf.dispose([x, dy]);
});

Deno.test("UnsortedSegmentSum on wasm matches cpu, ids out of range dropped", async () => {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const x = tf.tensor(randomInputs([[6, 2, 3]], 3)[0]!, [6, 2, 3]);
    const ids = tf.tensor1d([0, 3, 3, -1, 9, 1], "int32");
    const y = tf.unsortedSegmentSum(x, ids, 4);
    const out = { shape: y.shape, v: await y.data() };
    tf.dispose([x, ids, y]);
    return out;
  };
  const w = await run("wasm");
  const c = await run("cpu");
  assert.deepEqual(w.shape, [4, 2, 3]);
  assert.ok(maxRelDiff(w.v, c.v) < 1e-6);
});

Deno.test("UnsortedSegmentSum on wasm: int32 values and 2-D ids", async () => {
  await tf.setBackend("wasm");
  const x = tf.tensor2d([[1, 2], [3, 4]], [2, 2], "int32");
  const ids = tf.tensor2d([[0, 2], [2, 0]], [2, 2], "int32");
  const y = tf.engine().runKernel("UnsortedSegmentSum", { x, segmentIds: ids }, {
    numSegments: 3,
  }) as tf.Tensor;
  assert.deepEqual(Array.from(await y.data()), [5, 0, 5]);
  tf.dispose([x, ids, y]);
});

Deno.test("gather's gradient (embedding) on wasm matches cpu", async () => {
  const f = (e: tf.Tensor) => {
    const idx = tf.tensor1d([1, 4, 1, 0, 4, 4], "int32");
    return tf.sum(tf.square(tf.gather(e, idx)));
  };
  const { diff, worst } = await compareBackends("wasm", "cpu", f, [[5, 3]]);
  assert.ok(diff < TOL, `${worst} differs by ${diff}`);
});

Deno.test("registerKernels('wasm'): all kernels present, second call is a no-op", () => {
  for (const k of WASM_TRAINING_KERNELS) assert.ok(tf.getKernel(k, "wasm"), k);
  assert.deepEqual(registerKernels("wasm"), []);
});

Deno.test("wasm training kernels leak no tensors", async () => {
  await tf.setBackend("wasm");
  const before = tf.memory().numTensors;
  const bytes = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
  const x = tf.ones([2, 5, 5, 3]);
  const w = tf.ones([3, 3, 3, 2]);
  const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, P1))
  )([x, w]);
  tf.dispose([x, w, gx!, gw!]);
  assert.equal(tf.memory().numTensors, before);
  assert.equal((tf.backend() as unknown as { numDataIds(): number }).numDataIds(), bytes);
});
