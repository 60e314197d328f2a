import assert from "node:assert/strict";
import { type Batch, createPipeline, type PipelineOptions } from "../workers/mod.ts";

async function _take(opts: PipelineOptions, count: number): Promise<Batch[]> {
  const p = createPipeline(opts);
  try {
    const out: Batch[] = [];
    for (let i = 0; i < count; i++) out.push(await p.next());
    return out;
  } finally {
    await p.close();
  }
}

function _same(a: Batch[], b: Batch[], what: string): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assert.equal(a[i]!.index, b[i]!.index, `${what}: index of batch ${i}`);
    assert.deepEqual(a[i]!.shape, b[i]!.shape);
    assert.deepEqual(a[i]!.x, b[i]!.x, `${what}: data of batch ${i}`);
    assert.deepEqual(a[i]!.labels, b[i]!.labels, `${what}: labels of batch ${i}`);
  }
}

const mnist: PipelineOptions = {
  dataset: "mnist",
  batchSize: 6,
  seed: 5,
  mnist: { translate: 2, rotate: 10, dequantize: true },
};
const stream: PipelineOptions = {
  dataset: "s-curve",
  batchSize: 16,
  seed: 5,
  sCurve: { mode: "stream", jitter: 0.01 },
};

Deno.test("pipeline: 0, 1 and 2 workers give identical batches (MNIST, augmented)", async () => {
  const [inline, one, two] = await Promise.all(
    [0, 1, 2].map((workers) => _take({ ...mnist, workers }, 7)),
  );
  _same(inline!, one!, "1 worker");
  _same(inline!, two!, "2 workers");
  assert.deepEqual(inline!.map((b) => b.index), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(inline![0]!.shape, [6, 28, 28, 1]);
  assert.notDeepEqual(inline![0]!.x, inline![1]!.x);
  const other = await _take({ ...mnist, workers: 0, seed: 6 }, 1);
  assert.notDeepEqual(other[0]!.x, inline![0]!.x, "the seed matters");
});

Deno.test("pipeline: 0 and 2 workers give identical batches (S-curve stream and fixed)", async () => {
  _same(
    await _take({ ...stream, workers: 0 }, 5),
    await _take({ ...stream, workers: 2 }, 5),
    "stream",
  );
  const fixed: PipelineOptions = { dataset: "s-curve", batchSize: 32, seed: 9, sCurve: { n: 100 } };
  _same(
    await _take({ ...fixed, workers: 0 }, 5),
    await _take({ ...fixed, workers: 2 }, 5),
    "fixed",
  );
});

Deno.test("pipeline: startBatch resumes exactly", async () => {
  const full = await _take({ ...mnist, workers: 0 }, 6);
  const resumed = await _take({ ...mnist, workers: 2, startBatch: 3 }, 3);
  _same(full.slice(3), resumed, "resumed at 3");
});

Deno.test("pipeline: prefetch bounds the batches in flight", async () => {
  const p = createPipeline({ ...stream, workers: 2, prefetch: 3 });
  try {
    assert.equal(p.inFlight, 3);
    for (let i = 0; i < 5; i++) {
      const b = await p.next();
      assert.equal(b.index, i);
      assert.ok(b.waitMs >= 0);
      await new Promise((r) => setTimeout(r, 20)); // give the workers time to run ahead
      assert.ok(p.inFlight <= 3, `in flight ${p.inFlight}`);
    }
    // Concurrent calls still come back in order.
    const many = await Promise.all([p.next(), p.next(), p.next(), p.next(), p.next()]);
    assert.deepEqual(many.map((b) => b.index), [5, 6, 7, 8, 9]);
  } finally {
    await p.close();
  }
  assert.equal(p.inFlight, 0);
});
