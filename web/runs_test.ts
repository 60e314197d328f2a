import assert from "node:assert/strict";
import { RunIndex, sortRuns } from "./runs.ts";
import { writeFixtureRun } from "./fixtures.ts";

Deno.test("RunIndex marks a running, recently updated run as live and an old one not", async () => {
  const dir = await Deno.makeTempDir();
  await writeFixtureRun(dir, { id: "now", status: "running", metricLines: 5, samples: 0 });
  await writeFixtureRun(dir, { id: "old", status: "running", metricLines: 5, samples: 0 });
  const index = new RunIndex(dir);
  const later = Date.now() + 10 * 60_000;
  const runs = await index.list();
  assert.equal(runs.find((r) => r.id === "now")?.live, true);
  const runsLater = await index.list(later);
  assert.equal(runsLater.every((r) => !r.live), true);
  assert.equal(runs.find((r) => r.id === "now")?.lastStep, 4);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("RunIndex re-reads a run whose files changed, and forgets removed runs", async () => {
  const dir = await Deno.makeTempDir();
  await writeFixtureRun(dir, { id: "a", metricLines: 3, samples: 0 });
  const index = new RunIndex(dir);
  assert.equal((await index.list())[0]?.lastStep, 2);
  await Deno.writeTextFile(`${dir}/a/metrics.jsonl`, '{"step":3,"loss":0.125}\n', {
    append: true,
  });
  const [a] = await index.list();
  assert.equal(a?.lastStep, 3);
  assert.equal(a?.lastLoss, 0.125);
  await Deno.remove(`${dir}/a`, { recursive: true });
  assert.deepEqual(await index.list(), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("sortRuns orders strings and numbers both ways", async () => {
  const dir = await Deno.makeTempDir();
  await writeFixtureRun(dir, { id: "b", name: "b", metricLines: 30, samples: 0 });
  await writeFixtureRun(dir, { id: "a", name: "a", metricLines: 10, samples: 0 });
  const runs = await new RunIndex(dir).list();
  assert.deepEqual(sortRuns(runs, "name", "asc").map((r) => r.id), ["a", "b"]);
  assert.deepEqual(sortRuns(runs, "step", "desc").map((r) => r.id), ["b", "a"]);
  await Deno.remove(dir, { recursive: true });
});
