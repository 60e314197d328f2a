import assert from "node:assert/strict";
import { parseJsonlTable } from "./jsonl.ts";
import { elapsedMinutes, TIME_COLUMN, wallTimeRows, withTimeMs } from "./wall_time.ts";

Deno.test("metrics lines table their ISO time as ms; minutes count from the first line", () => {
  const lines = [
    { step: 1, time: "2026-11-30T16:26:29.281Z", loss: 1 },
    { step: 2, loss: 0.9 },
    { step: 3, time: "2026-11-30T16:28:29.281Z", loss: 0.8 },
    { step: 4, time: "garbage", loss: 0.7 },
  ];
  const bytes = new TextEncoder().encode(lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
  const { table } = parseJsonlTable(bytes, undefined, withTimeMs);
  const t0 = Date.parse("2026-11-30T16:26:29.281Z");
  assert.deepEqual(table.columns[TIME_COLUMN], [t0, null, t0 + 120_000, null]);
  assert.deepEqual(elapsedMinutes(table.columns[TIME_COLUMN]!), [0, null, 2, null]);
  assert.deepEqual(wallTimeRows(table.columns[TIME_COLUMN]!), { rows: [0, 2], x: [0, 2] });
});

Deno.test("withTimeMs keeps keys from the file plain and leaves other records alone", () => {
  const r = withTimeMs(JSON.parse('{"step":1,"time":"1970-01-01T00:00:01Z","__proto__":5}'));
  assert.equal(Object.getPrototypeOf(r), Object.prototype);
  assert.deepEqual(Object.keys(r as object), ["step", "time", "__proto__"]);
  assert.equal((r as Record<string, unknown>).time, 1000);
  for (const v of [null, 3, [1], { step: 1 }]) assert.deepEqual(withTimeMs(v), v);
});

Deno.test("wallTimeRows: empty, and times that go back are left out", () => {
  assert.deepEqual(wallTimeRows([]), { rows: [], x: [] });
  assert.deepEqual(wallTimeRows([null, null]), { rows: [], x: [] });
  assert.deepEqual(wallTimeRows([0, 60_000, 60_000, 30_000]), { rows: [0, 1, 2], x: [0, 1, 1] });
});
