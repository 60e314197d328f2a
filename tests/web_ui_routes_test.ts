// Route tests of the viewer's UI additions (issue 14), through app.fetch with plain Requests:
// the runs list's filter and pages, the CSV tables, the files API, the HTML 404 for browsers,
// the loss charts split by scale, pictures with their frame t, and the downloads.
import assert from "node:assert/strict";
import { createApp } from "../web/app.ts";
import { writeFixtureRun } from "../web/fixtures.ts";

async function get(app: ReturnType<typeof createApp>, path: string, accept?: string) {
  const headers: Record<string, string> = accept ? { accept } : {};
  const res = await app.fetch(new Request(`http://localhost${path}`, { headers }));
  return { status: res.status, body: await res.text(), headers: res.headers };
}

function islandProps(html: string, name: string): unknown[] {
  const re = new RegExp(
    `data-island="${name}"><script type="application/json">(.*?)</script>`,
    "g",
  );
  return [...html.matchAll(re)].map((m) => JSON.parse(m[1]!));
}

Deno.test("the runs list filters by words and pages 1,000 runs in small pages", async () => {
  const dir = await Deno.makeTempDir({ prefix: "web-ui-list-" });
  try {
    const record = (i: number) => ({
      id: `run-${i}`,
      name: `run-${i}`,
      status: "completed",
      dataset: i % 4 === 0 ? "mnist" : "s-curve",
      model: "mlp",
      backend: "cpu",
      config: { lr: 1e-3, schedule: i % 2 ? "cosine" : "linear", loss: "hybrid" },
      startedAt: new Date(1e12 + i * 1000).toISOString(),
      step: 10,
      steps: 10,
    });
    await Promise.all(Array.from({ length: 1000 }, async (_, i) => {
      await Deno.mkdir(`${dir}/run-${i}`);
      await Deno.writeTextFile(`${dir}/run-${i}/run.json`, JSON.stringify(record(i)));
    }));
    const app = createApp({ runsDir: dir });
    const first = await get(app, "/");
    assert.equal(first.status, 200);
    assert.equal(first.body.match(/<tr[^>]*data-run=/g)?.length, 100);
    assert.ok(first.body.length < 150_000, `${first.body.length} bytes`);
    assert.match(first.body, /page 1 of 10/);
    assert.match(first.body, /href="\/\?sort=started&amp;dir=desc&amp;page=2"/);
    const mnist = await get(app, "/?q=MNIST+linear&page=3");
    assert.match(mnist.body, /data-matched="250"/);
    assert.match(mnist.body, /page 3 of 3/);
    assert.match(mnist.body, /<td>linear<\/td>/);
    assert.doesNotMatch(mnist.body, /<td>cosine<\/td>/);
    assert.match((await get(app, "/?q=nothing-like-this")).body, /No run matches/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("metrics.csv and eval.csv hold every line; unknown tables and runs are 404", async () => {
  const dir = await Deno.makeTempDir({ prefix: "web-ui-csv-" });
  try {
    await writeFixtureRun(dir, { id: "r1", metricLines: 3000, evalEvery: 1000 });
    const app = createApp({ runsDir: dir, maxPoints: 100 });
    const csv = await get(app, "/runs/r1/metrics.csv");
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get("content-type")!, /^text\/csv/);
    assert.match(csv.headers.get("content-disposition")!, /filename="r1-metrics\.csv"/);
    const lines = csv.body.trim().split("\n");
    assert.equal(lines.length, 3001);
    assert.equal(lines[0], "step,loss,simple,vlb,gradNorm,lr,stepMs,dataWaitMs,itemsPerSec");
    const ev = (await get(app, "/runs/r1/eval.csv")).body.trim().split("\n");
    assert.equal(ev.length, 4);
    assert.match(ev[0]!, /^step,swd@/);
    assert.equal((await get(app, "/runs/r1/other.csv")).status, 404);
    assert.equal((await get(app, "/runs/nope/metrics.csv")).status, 404);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run page: loss charts by scale, pictures with t, downloads; files API; HTML 404", async () => {
  const dir = await Deno.makeTempDir({ prefix: "web-ui-run-" });
  try {
    await writeFixtureRun(dir, { id: "r1", metricLines: 50, checkpoints: 2 });
    await Deno.mkdir(`${dir}/r1/eval_samples/step_00000049-ema-50-seed0`, { recursive: true });
    await Deno.writeFile(
      `${dir}/r1/eval_samples/step_00000049-ema-50-seed0/batch_0000.npy`,
      new Uint8Array(16),
    );
    // An L_simple run: loss is L_simple and L_vlb is 0 throughout.
    await writeFixtureRun(dir, { id: "simple", metricLines: 20, evalEvery: 0 });
    const lines = (await Deno.readTextFile(`${dir}/simple/metrics.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l)).map((m) => ({ ...m, loss: m.simple, vlb: 0 }));
    await Deno.writeTextFile(
      `${dir}/simple/metrics.jsonl`,
      lines.map((m) => JSON.stringify(m)).join("\n") + "\n",
    );
    const app = createApp({ runsDir: dir });

    const { body } = await get(app, "/runs/r1");
    const charts = islandProps(body, "MetricsChart") as { title: string; keys: string[] }[];
    assert.deepEqual(charts.slice(0, 2).map((c) => [c.title, c.keys]), [
      ["Loss", ["loss", "simple"]],
      ["Variational bound term L_vlb", ["vlb"]],
    ]);
    const [files] = islandProps(body, "RunFiles") as {
      files: { pictures: { forward: { t: number[]; width: number } } };
    }[];
    assert.equal(files!.files.pictures.forward.width, 400);
    assert.equal(files!.files.pictures.forward.t.length, 10);
    assert.match(body, /data-t="999"/);
    assert.match(body, /href="\/runs\/r1\/metrics\.csv"/);
    assert.match(body, /href="\/runs\/r1\/files\/checkpoints\/step_00000049\/weights\.bin"/);
    const npy = "/runs/r1/files/eval_samples/step_00000049-ema-50-seed0/batch_0000.npy";
    assert.match(body, new RegExp(`href="${npy}"`));
    for (
      const path of [
        npy,
        "/runs/r1/files/checkpoints/step_00000049/weights.bin",
        "/runs/r1/files/forward.json",
      ]
    ) {
      assert.equal((await get(app, path)).status, 200, path);
    }

    const simple = islandProps((await get(app, "/runs/simple")).body, "MetricsChart") as {
      title: string;
      keys: string[];
    }[];
    assert.deepEqual(simple[0]!.keys, ["simple"]);
    assert.equal(simple.some((c) => c.keys.includes("vlb")), false);

    const api = await get(app, "/api/runs/r1/files");
    assert.match(api.headers.get("content-type")!, /application\/json/);
    assert.equal(JSON.parse(api.body).checkpoints.length, 2);

    const html404 = await get(app, "/runs/nope", "text/html,*/*");
    assert.equal(html404.status, 404);
    assert.match(html404.body, /No run nope/);
    assert.match(html404.body, /href="\/"[^>]*>← back to the runs list/);
    const plain = await get(app, "/nowhere");
    assert.equal(plain.status, 404);
    assert.match(plain.headers.get("content-type")!, /text\/plain/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run page: training charts carry wall times, eval charts their standard errors", async () => {
  const dir = await Deno.makeTempDir({ prefix: "web-ui-wall-" });
  try {
    await writeFixtureRun(dir, { id: "q", metricLines: 30, evalEvery: 10, quality: true });
    const page = await get(createApp({ runsDir: dir }), "/runs/q");
    assert.equal(page.status, 200);
    type Props = {
      title: string;
      keys: string[];
      timeKey?: string;
      stderr?: Record<string, string>;
      table: { steps: number[]; columns: Record<string, (number | null)[]> };
    };
    const charts = islandProps(page.body, "MetricsChart") as Props[];
    const loss = charts.find((c) => c.title === "Loss")!;
    assert.equal(loss.timeKey, "time");
    const time = loss.table.columns.time!;
    assert.equal(time.length, loss.table.steps.length);
    // Every digit of the wall time survives (it is not rounded like the metrics).
    assert.ok(time.every((t) => t !== null && t > 1e12), String(time));
    assert.ok(time[1]! > time[0]!);
    // The wall time is an x axis, never a chart of its own.
    assert.ok(!charts.some((c) => c.keys.includes("time")));
    const kid = charts.find((c) => c.keys.some((k) => k.startsWith("kid@")))!;
    assert.ok(kid.stderr !== undefined);
    for (const [key, err] of Object.entries(kid.stderr)) {
      assert.ok(kid.keys.includes(key));
      assert.match(err, /^kid(Floor)?Stderr@/);
      assert.ok(Object.hasOwn(kid.table.columns, err), err);
    }
    assert.ok(!charts.some((c) => c.keys.some((k) => k.includes("Stderr@"))));
    assert.equal(charts.find((c) => c.title === "Sliced Wasserstein distance")!.stderr, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run page: a class-conditional run says so, captions its class grids, offers classes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "web-ui-class-" });
  try {
    const classCond = { numClasses: 10, labelDropout: 0.1 };
    await writeFixtureRun(dir, { id: "cc", dataset: "mnist", model: "unet-s", config: classCond });
    await writeFixtureRun(dir, { id: "plain", dataset: "mnist", model: "unet-s" });
    const app = createApp({ runsDir: dir });
    const cc = await get(app, "/runs/cc");
    assert.equal(cc.status, 200);
    // The header: the model is class-conditional, with its label dropout.
    const sub = /<p class="sub">([\s\S]*?)<\/p>/.exec(cc.body)?.[1] ?? "";
    assert.match(sub, /class-conditional: 10 classes, label dropout 0\.1/);
    // The training pictures: one row per class, 0 at the top, the trainer's guidance (1).
    const [slider] = islandProps(cc.body, "SampleSlider") as { caption?: string }[];
    assert.match(slider!.caption!, /^One row per class, 0 at the top to 9 at the bottom/);
    assert.match(slider!.caption!, /guidance 1 \(the conditional model\)/);
    assert.match(cc.body, /<p class="note picture-caption">One row per class, 0 at the top/);
    const [files] = islandProps(cc.body, "RunFiles") as { captions?: { trajectory?: string } }[];
    assert.match(files!.captions!.trajectory!, /^Class 0: the top row/);
    assert.match(cc.body, /<p class="note picture-caption">Class 0: the top row/);
    // The browser sampler gets the classes: a class control and a guidance weight.
    const [sampler] = islandProps(cc.body, "BrowserSampler") as { numClasses: number }[];
    assert.equal(sampler!.numClasses, 10);
    assert.match(cc.body, /<select name="class"/);
    assert.match(cc.body, /name="guidance"/);

    // A run without labels: none of it.
    const plain = await get(app, "/runs/plain");
    assert.equal(plain.status, 200);
    assert.doesNotMatch(plain.body, /class-conditional|picture-caption|One row per class/);
    assert.equal(
      (islandProps(plain.body, "SampleSlider")[0] as { caption?: string }).caption,
      undefined,
    );
    assert.equal(
      (islandProps(plain.body, "BrowserSampler")[0] as { numClasses: number }).numClasses,
      0,
    );
    assert.doesNotMatch(plain.body, /name="class"|name="guidance"/);

    // The runs list marks it, and the filter finds it by that word.
    const list = await get(app, "/");
    const row = (id: string) =>
      new RegExp(`<tr[^>]*data-run="${id}"[\\s\\S]*?</tr>`).exec(list.body)?.[0] ?? "";
    assert.match(row("cc"), /unet-s · class-conditional/);
    assert.doesNotMatch(row("plain"), /class-conditional/);
    const found = await get(app, "/?q=class-conditional");
    assert.match(found.body, /data-run="cc"/);
    assert.doesNotMatch(found.body, /data-run="plain"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
