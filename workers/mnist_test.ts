import assert from "node:assert/strict";
import {
  loadMnist,
  MNIST_CLASS_COUNTS,
  MNIST_TEST_CLASS_COUNTS,
  MNIST_TEST_SIZE,
  MNIST_TRAIN_SIZE,
} from "./mnist.ts";

function _counts(labels: Uint8Array): number[] {
  const c = new Array(10).fill(0);
  for (const l of labels) c[l]++;
  return c;
}

Deno.test("loadMnist: split sizes and stratification by digit", () => {
  const { train, test } = loadMnist();
  assert.equal(MNIST_TRAIN_SIZE, 9001);
  assert.equal(MNIST_TEST_SIZE, 999);
  assert.equal(train.n, MNIST_TRAIN_SIZE);
  assert.equal(test.n, MNIST_TEST_SIZE);
  assert.equal(train.images.length, train.n * 784);
  assert.equal(test.labels.length, test.n);
  assert.deepEqual(_counts(test.labels), MNIST_TEST_CLASS_COUNTS);
  assert.deepEqual(
    _counts(train.labels),
    MNIST_CLASS_COUNTS.map((c, d) => c - MNIST_TEST_CLASS_COUNTS[d]!),
  );
  for (let d = 0; d < 10; d++) {
    const frac = MNIST_TEST_CLASS_COUNTS[d]! / MNIST_CLASS_COUNTS[d]!;
    assert.ok(Math.abs(frac - 0.1) < 0.006, `digit ${d}: test fraction ${frac}`);
  }
});

Deno.test("loadMnist: values are the 256 grey levels scaled to [-1, 1]", () => {
  const { train } = loadMnist();
  let min = Infinity, max = -Infinity, offGrid = 0;
  for (let i = 0; i < train.images.length; i += 7) {
    const v = train.images[i]!;
    min = Math.min(min, v);
    max = Math.max(max, v);
    const k = ((v + 1) / 2) * 255;
    if (Math.abs(k - Math.round(k)) > 1e-3) offGrid++;
  }
  assert.equal(min, -1);
  assert.equal(max, 1);
  assert.equal(offGrid, 0);
});

Deno.test("loadMnist: train and test are disjoint, and the split is pinned", () => {
  const { train, test } = loadMnist();
  const key = (img: Float32Array, i: number) => img.subarray(i * 784, (i + 1) * 784).join(",");
  const seen = new Set<string>();
  for (let i = 0; i < train.n; i++) seen.add(key(train.images, i));
  let shared = 0;
  for (let i = 0; i < test.n; i++) if (seen.has(key(test.images, i))) shared++;
  assert.equal(shared, 0);
  // A checksum of the test images: changes if the split (or the scaling) changes.
  let sum = 0;
  for (let i = 0; i < test.images.length; i++) sum += test.images[i]! * ((i % 97) + 1);
  assert.equal(Math.round(sum), _PINNED_TEST_CHECKSUM);
});

const _PINNED_TEST_CHECKSUM = -28195274;
