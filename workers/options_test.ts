import assert from "node:assert/strict";
import { defaultWorkers, MAX_WORKERS, type PipelineOptions, resolveOptions } from "./options.ts";

const base: PipelineOptions = { dataset: "s-curve", batchSize: 8 };

function _throws(opts: unknown, type: ErrorConstructor, pattern: RegExp): void {
  assert.throws(() => resolveOptions(opts as PipelineOptions), (e: unknown) => {
    assert.ok(e instanceof type, `expected a ${type.name}, got ${e}`);
    assert.match((e as Error).message, pattern);
    assert.ok(!(e as Error).message.includes("\n"), "one-line message");
    return true;
  });
}

Deno.test("resolveOptions: defaults", () => {
  const o = resolveOptions(base);
  assert.equal(o.workers, defaultWorkers());
  assert.ok(o.workers >= 1 && o.workers <= MAX_WORKERS);
  assert.equal(o.prefetch, 2 * o.workers + 2);
  assert.equal(o.seed, 0);
  assert.equal(o.startBatch, 0);
  assert.deepEqual(o.sCurve, { mode: "fixed", n: 10_000, noise: 0.1, jitter: 0 });
  assert.deepEqual(o.mnist, { split: "train", translate: 0, rotate: 0, dequantize: false });
  assert.equal(o.failAtBatch, null);
  assert.equal(resolveOptions({ ...base, workers: 0 }).prefetch, 2);
});

Deno.test("resolveOptions: out-of-range values are RangeErrors", () => {
  _throws({ ...base, batchSize: 0 }, RangeError, /batchSize.*got 0/);
  _throws({ ...base, batchSize: -4 }, RangeError, /batchSize.*got -4/);
  _throws({ ...base, batchSize: 2.5 }, RangeError, /batchSize/);
  _throws({ ...base, workers: MAX_WORKERS + 1 }, RangeError, /workers.*0\.\.16.*got 17/);
  _throws({ ...base, workers: -1 }, RangeError, /workers/);
  _throws({ ...base, prefetch: 0 }, RangeError, /prefetch/);
  _throws({ ...base, startBatch: -1 }, RangeError, /startBatch/);
  _throws({ ...base, sCurve: { jitter: -0.1 } }, RangeError, /sCurve\.jitter/);
  _throws({ ...base, sCurve: { n: 0 } }, RangeError, /sCurve\.n/);
  _throws({ ...base, mnist: { translate: 1.5 } }, RangeError, /mnist\.translate/);
  _throws({ ...base, mnist: { rotate: 200 } }, RangeError, /mnist\.rotate/);
});

Deno.test("resolveOptions: unknown names and wrong types", () => {
  _throws(
    { ...base, dataset: "cifar" },
    RangeError,
    /dataset: expected "s-curve" \| "mnist", got "cifar"/,
  );
  _throws({ batchSize: 8 }, RangeError, /dataset/);
  _throws({ ...base, sCurve: { mode: "endless" } }, RangeError, /sCurve\.mode/);
  _throws({ ...base, mnist: { split: "val" } }, RangeError, /mnist\.split/);
  _throws(
    { ...base, mnist: { flip: true } },
    TypeError,
    /Unknown MNIST augmentation option "flip"/,
  );
  _throws({ ...base, sCurve: { scale: 2 } }, TypeError, /Unknown S-curve option "scale"/);
  _throws({ ...base, batchsize: 8 }, TypeError, /Unknown pipeline option "batchsize"/);
  _throws({ ...base, batchSize: "8" }, TypeError, /batchSize: expected a number, got string/);
  _throws({ ...base, mnist: { dequantize: 1 } }, TypeError, /dequantize/);
  _throws({ ...base, failMode: "explode" }, RangeError, /failMode/);
  _throws(null, TypeError, /expected an object/);
});
