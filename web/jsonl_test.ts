import assert from "node:assert/strict";
import { parseJsonlTable, readFrom, readLastRecord } from "./jsonl.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("parseJsonlTable aligns columns that appear late and skips bad lines", () => {
  const r = parseJsonlTable(
    enc('{"step":0,"loss":1}\r\n[1,2]\n{"step":"x"}\n\n{"step":1,"swd":0.5,"tag":"a"}\n'),
  );
  assert.deepEqual(r.table, { steps: [0, 1], columns: { loss: [1, null], swd: [null, 0.5] } });
  assert.equal(r.malformed, 2);
  assert.equal(r.partialTail, false);
});

Deno.test("parseJsonlTable appends to a given table (live tailing)", () => {
  const first = parseJsonlTable(enc('{"step":0,"loss":1}\n{"step":1,'));
  assert.equal(first.partialTail, true);
  const rest = enc('{"step":1,"loss":0.5}\n');
  const second = parseJsonlTable(rest, first.table);
  assert.deepEqual(second.table.steps, [0, 1]);
  assert.deepEqual(second.table.columns.loss, [1, 0.5]);
});

Deno.test("readLastRecord looks only at the tail and skips a cut first line", async () => {
  const path = await Deno.makeTempFile();
  const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ step: i, loss: i / 10 }));
  await Deno.writeTextFile(path, lines.join("\n") + "\n" + '{"step":5000,"lo');
  assert.deepEqual(await readLastRecord(path, 100), { step: 4999, loss: 499.9 });
  await Deno.writeTextFile(path, "garbage\n");
  assert.equal(await readLastRecord(path), null);
  assert.equal(await readLastRecord(`${path}.missing`), null);
  assert.equal((await readFrom(path, 100)).length, 0);
  await Deno.remove(path);
});
