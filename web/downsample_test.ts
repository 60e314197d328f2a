import assert from "node:assert/strict";
import { downsampleMinMax, roundTable } from "./downsample.ts";

Deno.test("downsampleMinMax keeps each column's extremes, first and last step", () => {
  const n = 10_001;
  const steps = Array.from({ length: n }, (_, i) => i);
  const a = steps.map((i) => Math.sin(i / 50));
  const b = steps.map((i) => (i === 7777 ? 100 : i % 2 ? null : -i));
  a[4242] = -5;
  const d = downsampleMinMax({ steps, columns: { a, b } }, 1000);
  assert.equal(d.steps.length, 1000);
  assert.equal(d.steps[0], 0);
  assert.equal(d.steps.at(-1), n - 1);
  const finite = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
  assert.equal(Math.min(...finite(d.columns.a!)), -5);
  assert.equal(Math.max(...finite(d.columns.b!)), 100);
  assert.equal(Math.min(...finite(d.columns.b!)), -10_000);
  for (let i = 1; i < d.steps.length; i++) assert.ok(d.steps[i]! >= d.steps[i - 1]!);
});

Deno.test("downsampleMinMax returns small tables unchanged and rejects bad sizes", () => {
  const t = { steps: [1, 2], columns: { x: [1, 2] } };
  assert.equal(downsampleMinMax(t, 10), t);
  assert.throws(() => downsampleMinMax(t, 1), RangeError);
  assert.throws(() => downsampleMinMax(t, 2.5), RangeError);
});

Deno.test("downsampleMinMax gives null pairs for all-null buckets", () => {
  const t = { steps: [0, 1, 2, 3, 4, 5], columns: { x: [null, null, null, null, 2, 1] } };
  assert.deepEqual(downsampleMinMax(t, 4).columns.x, [null, null, 2, 1]);
  assert.deepEqual(downsampleMinMax(t, 2).columns.x, [2, 1]); // one bucket of all six
});

Deno.test("roundTable keeps nulls and zeros", () => {
  assert.deepEqual(roundTable({ steps: [0], columns: { x: [null], y: [0] } }).columns, {
    x: [null],
    y: [0],
  });
});
