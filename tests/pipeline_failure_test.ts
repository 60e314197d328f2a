import assert from "node:assert/strict";
import { createPipeline, type PipelineOptions } from "../workers/mod.ts";

/** Fails the test instead of hanging if `p` does not settle in time (generous: under `deno test` a first worker start includes type-checking it). */
async function _settles<T>(p: Promise<T>, ms = 60_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

const opts: PipelineOptions = { dataset: "s-curve", batchSize: 4, seed: 1, failAtBatch: 3 };

for (const workers of [0, 2]) {
  Deno.test(`pipeline (${workers} workers): a worker that throws rejects next() at that batch`, async () => {
    const p = createPipeline({ ...opts, workers });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await _settles(p.next())).index, i);
      await assert.rejects(_settles(p.next()), /failed on batch 3/);
      await assert.rejects(_settles(p.next()), /failed on batch 3/, "failures are sticky");
    } finally {
      await p.close();
    }
  });
}

Deno.test("pipeline: a worker that dies rejects next(), never hangs", async () => {
  const p = createPipeline({ ...opts, workers: 2, failMode: "crash", prefetch: 2 });
  try {
    let error: Error | undefined;
    for (let i = 0; i < 10 && !error; i++) {
      try {
        await _settles(p.next());
      } catch (e) {
        error = e as Error;
      }
    }
    assert.ok(error, "expected a rejection");
    assert.match(error.message, /worker \d died: .*failed at batch 3/);
    await assert.rejects(_settles(p.next()), /died/);
  } finally {
    await p.close();
  }
});

Deno.test("pipeline: closing rejects pending and later calls", async () => {
  const p = createPipeline({ dataset: "mnist", batchSize: 4, workers: 1, seed: 1 });
  const pending = p.next();
  await p.close();
  await assert.rejects(_settles(pending), /closed/);
  await assert.rejects(_settles(p.next()), /closed/);
  await p.close(); // idempotent
});

Deno.test("pipeline: invalid options throw synchronously, before any worker starts", () => {
  assert.throws(() => createPipeline({ dataset: "s-curve", batchSize: 0 }), RangeError);
  assert.throws(
    () => createPipeline({ dataset: "s-curve", batchSize: 8, workers: 99 }),
    RangeError,
  );
  assert.throws(
    () =>
      createPipeline({ dataset: "mnist", batchSize: 8, mnist: { shear: 3 } } as PipelineOptions),
    TypeError,
  );
});
