import assert from "node:assert/strict";
import { createBatchSource, epochPermutation } from "./batch_source.ts";
import { MNIST_TRAIN_SIZE } from "./mnist_info.ts";
import { type PipelineOptions, resolveOptions } from "./options.ts";
import { makeSCurve } from "./s_curve.ts";

const opts = (o: Partial<PipelineOptions>) =>
  resolveOptions({ dataset: "s-curve", batchSize: 7, workers: 0, seed: 11, ...o });

/** Checks that positions [0, n·epochs) of the batch sequence visit each example once per epoch. */
function _assertEpochs(all: number[], n: number, epochs: number): void {
  for (let e = 0; e < epochs; e++) {
    const seen = new Uint8Array(n);
    for (const k of all.slice(e * n, (e + 1) * n)) seen[k]!++;
    assert.ok(seen.every((c) => c === 1), `epoch ${e} is not a permutation`);
  }
}

Deno.test("fixed S-curve: every point exactly once per epoch, batches straddle epochs", async () => {
  const n = 50, B = 7;
  const src = await createBatchSource(opts({ sCurve: { n } }));
  assert.equal(src.size, n);
  const data = makeSCurve(n, { seed: 11 });
  const all: number[] = [];
  for (let i = 0; i < 22; i++) { // 154 positions: 3 full epochs
    const b = src.batch(i);
    assert.equal(b.epoch, Math.floor((i * B) / n));
    for (let j = 0; j < B; j++) {
      const k = b.indices![j]!;
      all.push(k);
      assert.equal(b.x[2 * j], data[2 * k]);
      assert.equal(b.x[2 * j + 1], data[2 * k + 1]);
    }
  }
  _assertEpochs(all, n, 3);
  assert.notDeepEqual(all.slice(0, n), all.slice(n, 2 * n), "each epoch has its own order");
});

Deno.test("MNIST train: every digit exactly once per epoch", async () => {
  const B = 1000;
  const src = await createBatchSource(opts({ dataset: "mnist", batchSize: B }));
  assert.equal(src.size, MNIST_TRAIN_SIZE);
  const all: number[] = [];
  for (let i = 0; i < 10; i++) all.push(...src.batch(i).indices!);
  _assertEpochs(all, MNIST_TRAIN_SIZE, 1);
  const b = src.batch(3);
  assert.deepEqual(b.shape, [B, 28, 28, 1]);
  assert.equal(b.labels!.length, B);
});

Deno.test("batches are pure functions of (options, index)", async () => {
  const o = opts({ sCurve: { mode: "stream", jitter: 0.01 } });
  const a = await createBatchSource(o), b = await createBatchSource(o);
  assert.equal(a.size, null);
  const late = b.batch(5);
  assert.deepEqual(a.batch(5).x, late.x);
  assert.notDeepEqual(a.batch(4).x, late.x);
  assert.notDeepEqual((await createBatchSource({ ...o, seed: 12 })).batch(5).x, late.x);
  assert.equal(late.indices, undefined);
  assert.throws(() => a.batch(-1), RangeError);
});

Deno.test("epochPermutation: seeded by (seed, epoch)", () => {
  assert.deepEqual(epochPermutation(1, 2, 100), epochPermutation(1, 2, 100));
  assert.notDeepEqual(epochPermutation(1, 2, 100), epochPermutation(2, 2, 100));
});
