import assert from "node:assert/strict";
import { parseCursor, runEventStream } from "./live.ts";
import { writeFixtureRun } from "./fixtures.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";

Deno.test("parseCursor prefers a well-formed Last-Event-ID and rejects junk", () => {
  const q = new URLSearchParams("m=5&e=6&s=7");
  assert.deepEqual(parseCursor("1.2.3", q), { metrics: 1, eval: 2, sample: 3 });
  assert.deepEqual(parseCursor("junk", q), { metrics: 5, eval: 6, sample: 7 });
  assert.deepEqual(parseCursor(null, new URLSearchParams("m=-4&e=x")), {
    metrics: 0,
    eval: 0,
    sample: -1,
  });
});

Deno.test("a finished run's stream sends everything after the cursor, then end", async () => {
  const dir = await Deno.makeTempDir();
  await writeFixtureRun(dir, { id: "r", metricLines: 4, samples: 2, evalEvery: 2 });
  const text = await new Response(
    runEventStream(dir, "r", { pollMs: 5, cursor: { metrics: 0, eval: 0, sample: 0 } }),
  ).text();
  const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
  assert.deepEqual(events, ["status", "metrics", "eval", "samples", "end"]);
  assert.match(text, /"step":3,"path":"samples\/step_00000003\.png"/);
  assert.ok(!text.includes("step_00000000.png"), "sample 0 was already known");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cancelling a live stream stops its polling", async () => {
  const dir = await Deno.makeTempDir();
  await writeFixtureRun(dir, { id: "r", status: "running", metricLines: 2, samples: 0 });
  const reader = runEventStream(dir, "r", { pollMs: 10 }).getReader();
  await reader.read();
  await reader.cancel();
  await new Promise((r) => setTimeout(r, 40));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("aborting the signal ends a running run's stream", async () => {
  const dir = await Deno.makeTempDir();
  await writeFixtureRun(dir, { id: "r", status: "running", metricLines: 2, samples: 0 });
  const stop = new AbortController();
  const text = new Response(runEventStream(dir, "r", { pollMs: 10, signal: stop.signal })).text();
  setTimeout(() => stop.abort(), 50);
  // Without the signal this never resolves: the run is still running.
  assert.match(await text, /event: metrics/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a metrics file cut back under the cursor (a resumed run) sends rewind", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeFixtureRun(dir, { id: "r", status: "running", metricLines: 6, samples: 0 });
    const path = `${dir}/r/metrics.jsonl`;
    const lines = (await Deno.readTextFile(path)).split("\n");
    const stream = runEventStream(dir, "r", { pollMs: 10 });
    const text = new Response(stream).text();
    await new Promise((r) => setTimeout(r, 60));
    // Resume cuts the file back to its checkpoint's step (a rename: a new file), then appends.
    await writeFileAtomic(path, lines.slice(0, 3).join("\n") + "\n");
    await Deno.writeTextFile(path, lines.slice(3).join("\n"), { append: true });
    const events = [...(await text).matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    assert.deepEqual(events, ["status", "metrics", "eval", "rewind"]);

    // A reconnect whose cursor is not at a line's end of the file, or past its end.
    for (const metrics of [5, 1e6]) {
      const again = await new Response(
        runEventStream(dir, "r", { pollMs: 10, cursor: { metrics, eval: 0, sample: -1 } }),
      ).text();
      assert.match(again, /event: rewind\n.*\ndata: \{"file":"metrics.jsonl"\}/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
