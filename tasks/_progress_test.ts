import assert from "node:assert/strict";
import { createProgress } from "./_progress.ts";

Deno.test("progress without a terminal: work between steps gets its own lines, quick work none", () => {
  const lines: string[] = [];
  const p = createProgress(0, 10, { tty: false, every: 0, write: (l) => lines.push(l) });
  p.update({ step: 1, loss: 0.5, itemsPerSec: 100 });
  for (let d = 1; d <= 4; d++) p.activity("sampling pictures", d, 4);
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, /^step 1\/10 {2}loss 0\.50000/);
  assert.match(lines[1]!, /^sampling pictures: 25% \(1\/4 model calls, 0 s\)$/);
  assert.match(lines[3]!, /^sampling pictures: 75% \(3\/4 model calls/);

  // With the default 10 s interval, sampling that ends within it prints nothing.
  const quiet: string[] = [];
  const q = createProgress(0, 10, { tty: false, write: (l) => quiet.push(l) });
  for (let d = 1; d <= 50; d++) q.activity("evaluating: sampling digits", d, 50);
  assert.deepEqual(quiet, []);
});
