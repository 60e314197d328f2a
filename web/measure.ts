/**
 * Measures the viewer on large fixtures and prints the numbers (no assertions):
 * the runs list with 1,000 runs (cold, then cached), and a run page whose metrics.jsonl has
 * 100,000 lines (cold, cached, appended). Run: `deno run -A web/measure.ts`.
 * @module
 */
import { createApp } from "./app.ts";
import { fixtureMetric, writeFixtureRun } from "./fixtures.ts";
import { Rng } from "../lib/random.ts";

async function timed(label: string, app: ReturnType<typeof createApp>, path: string) {
  const t0 = performance.now();
  const res = await app.fetch(new Request(`http://localhost${path}`));
  const body = await res.text();
  const ms = performance.now() - t0;
  console.log(
    `${label.padEnd(44)} ${ms.toFixed(1).padStart(8)} ms  ${
      (body.length / 1024).toFixed(0).padStart(6)
    } KiB  HTTP ${res.status}`,
  );
  return body;
}

if (import.meta.main) {
  const dir = await Deno.makeTempDir({ prefix: "web-measure-" });
  try {
    let t0 = performance.now();
    for (let i = 0; i < 1000; i++) {
      await writeFixtureRun(dir, {
        id: `run-${String(i).padStart(4, "0")}`,
        metricLines: 100,
        evalEvery: 0,
        samples: 0,
        pictures: false,
        checkpoints: 0,
        seed: i,
      });
    }
    console.log(`wrote 1,000 runs in ${(performance.now() - t0).toFixed(0)} ms`);
    const app = createApp({ runsDir: dir });
    await timed("list of 1,000 runs, cold", app, "/");
    await timed("list of 1,000 runs, cached", app, "/");
    await timed("list of 1,000 runs, cached, sorted by loss", app, "/?sort=loss&dir=asc");

    const big = await Deno.makeTempDir({ prefix: "web-measure-big-" });
    t0 = performance.now();
    const rng = new Rng(1);
    const lines: string[] = [];
    const start = Date.now();
    for (let s = 0; s < 100_000; s++) {
      lines.push(JSON.stringify(fixtureMetric(s, rng, new Date(start + s * 20))));
    }
    await writeFixtureRun(big, { id: "big", metricLines: 0, samples: 20, evalEvery: 0 });
    await Deno.writeTextFile(`${big}/big/metrics.jsonl`, lines.join("\n") + "\n");
    const bytes = (await Deno.stat(`${big}/big/metrics.jsonl`)).size;
    console.log(
      `wrote 100,000 metric lines (${(bytes / 1048576).toFixed(1)} MiB) in ${
        (performance.now() - t0).toFixed(0)
      } ms`,
    );
    const bigApp = createApp({ runsDir: big });
    const html = await timed("run page, 100,000 lines, cold", bigApp, "/runs/big");
    const points = /"title":"Loss","keys":\["loss","simple","vlb"\],"table":\{"steps":\[([^\]]*)\]/
      .exec(html)?.[1]?.split(",").length;
    console.log(`  loss curve sent with ${points} points`);
    await timed("run page, 100,000 lines, cached", bigApp, "/runs/big");
    await Deno.writeTextFile(
      `${big}/big/metrics.jsonl`,
      JSON.stringify(fixtureMetric(100_000, rng, new Date())) + "\n",
      { append: true },
    );
    await timed("run page after 1 appended line (incremental)", bigApp, "/runs/big");
    await Deno.remove(big, { recursive: true });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
