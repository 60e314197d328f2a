// Route tests of the run page's evaluation charts: quality measures beside their floors, series
// of different settings kept apart, `deno task eval` records beside the trainer's at one step,
// durations not drawn, and the live stream sending eval lines in the same series columns.
import assert from "node:assert/strict";
import { createApp } from "../web/app.ts";
import { fixtureQuality, writeFixtureRun } from "../web/fixtures.ts";
import { qualitySeries } from "../web/eval_series.ts";
import { runEventStream } from "../web/live.ts";
import { runPaths } from "../lib/run/layout.ts";
import { appendJsonl } from "../lib/io/atomic.ts";

interface ChartProps {
  title: string;
  keys: string[];
  labels?: Record<string, string>;
  dashed?: string[];
  spanGaps?: boolean;
  table: { steps: number[]; columns: Record<string, (number | null)[]> };
}

function charts(html: string): ChartProps[] {
  const re = /data-island="MetricsChart"><script type="application\/json">(.*?)<\/script>/g;
  return [...html.matchAll(re)].map((m) => JSON.parse(m[1]!) as ChartProps);
}

const series = (n: number) => qualitySeries(fixtureQuality(0, { n, steps: "50" }).quality);

Deno.test("run page: each quality measure per setting, with its floor dashed and labelled", async () => {
  const dir = await Deno.makeTempDir({ prefix: "web-eval-" });
  try {
    await writeFixtureRun(dir, {
      id: "q",
      dataset: "mnist",
      model: "unet-s",
      metricLines: 200,
      evalEvery: 50,
      quality: true,
    });
    const res = await createApp({ runsDir: dir }).fetch(new Request("http://localhost/runs/q"));
    assert.equal(res.status, 200);
    const html = await res.text();
    const all = charts(html);
    // Six eval lines at four steps: merged into rows, not "downsampled".
    assert.ok(!html.includes("drawn as"), "a note says the eval lines were downsampled");
    const fid = all.find((c) => c.title === "Fréchet distance (classifier features)");
    assert.ok(fid, all.map((c) => c.title).join(", "));
    const [s256, s1000] = [series(256), series(1000)];
    assert.deepEqual(fid.keys, [
      `frechet@${s256}`,
      `frechetFloor@${s256}`,
      `frechet@${s1000}`,
      `frechetFloor@${s1000}`,
    ]);
    assert.deepEqual(fid.dashed, [`frechetFloor@${s256}`, `frechetFloor@${s1000}`]);
    assert.equal(fid.labels![`frechetFloor@${s256}`], `floor (${s256})`);
    assert.equal(fid.spanGaps, true);
    // The trainer's four evaluations at n = 256, eval --quality's one at n = 1000.
    const col = (k: string) => fid.table.columns[k]!.filter((v) => v !== null);
    assert.equal(col(`frechet@${s256}`).length, 4);
    assert.equal(col(`frechet@${s1000}`).length, 1);
    assert.ok(col(`frechetFloor@${s256}`).every((v) => Math.abs(v! - 70 / 256) < 1e-4));
    for (const title of ["KID", "Precision", "Recall", "Class entropy (bits)"]) {
      const c = all.find((c) => c.title === title);
      assert.ok(c && c.dashed!.length === 2, title);
    }

    // deno task eval's record at the trainer's last step: one row, two series, no `seconds`.
    const swd = all.find((c) => c.title === "Sliced Wasserstein distance")!;
    const steps = swd.table.steps;
    assert.deepEqual(steps, [0, 50, 100, 150]);
    assert.deepEqual(swd.keys, ["swd@training", "swdFloor@training", "swd@deno task eval"]);
    assert.deepEqual(swd.table.columns["swd@deno task eval"], [null, null, null, 0.01]);
    for (const c of all) {
      assert.ok(!c.keys.some((k) => /seconds/i.test(k)), `${c.title}: ${c.keys}`);
      assert.ok(!/seconds|Stderr/i.test(c.title), c.title);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the live stream sends a new quality record in its series' columns", async () => {
  const dir = await Deno.makeTempDir({ prefix: "web-eval-live-" });
  try {
    const path = await writeFixtureRun(dir, { id: "q", metricLines: 10, evalEvery: 0 });
    await appendJsonl(runPaths(path).eval, {
      step: 9,
      time: new Date().toISOString(),
      simple: 0.05,
      ...fixtureQuality(9, { n: 256, steps: "50" }),
      qualitySeconds: 12,
    });
    const text = await new Response(runEventStream(dir, "q", { pollMs: 10 })).text();
    const data = text.split("\n\n").find((e) => e.startsWith("event: eval"))!;
    const table = JSON.parse(data.split("\ndata: ")[1]!);
    const s = series(256);
    assert.deepEqual(table.steps, [9]);
    assert.ok(table.columns[`frechet@${s}`][0] > table.columns[`frechetFloor@${s}`][0]);
    assert.deepEqual(table.columns["simple@training"], [0.05]);
    assert.ok(!Object.keys(table.columns).some((k) => k.startsWith("qualitySeconds")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
