// Route tests of the run viewer: handlers called through app.fetch with plain Requests.
import assert from "node:assert/strict";
import { createApp } from "../web/app.ts";
import { startServer } from "../web/server.ts";
import { writeFixtureRun } from "../web/fixtures.ts";
import { runTraining } from "../tasks/_train_loop.ts";
import { config, quiet, SMALL } from "./_train_helpers.ts";

async function fixtures(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "web-routes-" });
  await writeFixtureRun(dir, { id: "alpha", name: "Alpha run", metricLines: 300, samples: 3 });
  await writeFixtureRun(dir, {
    id: "beta",
    name: "Beta run",
    dataset: "mnist",
    model: "unet-s",
    metricLines: 120,
    seed: 2,
    startedAt: new Date(Date.now() - 7_200_000),
  });
  await writeFixtureRun(dir, {
    id: "xss",
    name: "<script>alert(1)</script>",
    metricLines: 5,
    status: "failed",
  });
  await writeFixtureRun(dir, { id: "partial", metricLines: 20, partialTail: true });
  await Deno.mkdir(`${dir}/no-json`);
  await Deno.writeTextFile(`${dir}/no-json/metrics.jsonl`, '{"step":3,"loss":0.5}\n');
  await writeFixtureRun(dir, { id: "corrupt", metricLines: 10 });
  await Deno.writeTextFile(`${dir}/corrupt/run.json`, '{"id": "corrupt", "stat');
  await Deno.writeFile(
    `${dir}/corrupt/metrics.jsonl`,
    new Uint8Array([0xff, 0xfe, 0x00, 0x7b, 0x0a, 0x5b, 0x5d, 0x0a]),
  );
  await Deno.writeTextFile(`${dir}/corrupt/eval.jsonl`, '{"step":1,"swd":0.1}\ngarbage\n');
  return dir;
}

async function get(app: ReturnType<typeof createApp>, path: string) {
  const res = await app.fetch(new Request(`http://localhost${path}`));
  const body = await res.text();
  return { status: res.status, body, type: res.headers.get("content-type") ?? "" };
}

function islandProps(html: string, name: string): unknown[] {
  const re = new RegExp(
    `data-island="${name}"><script type="application/json">(.*?)</script>`,
    "g",
  );
  return [...html.matchAll(re)].map((m) => JSON.parse(m[1]!));
}

Deno.test("runs list shows every run, escapes names, and reports broken run.json", async () => {
  const dir = await fixtures();
  const app = createApp({ runsDir: dir });
  const { status, body, type } = await get(app, "/");
  assert.equal(status, 200);
  assert.match(type, /text\/html/);
  for (const name of ["Alpha run", "Beta run", "partial", "corrupt"]) {
    assert.ok(body.includes(name), `missing ${name}`);
  }
  // A folder without run.json is not a run: not listed (README, "Run viewer").
  assert.ok(!body.includes("no-json"));
  assert.ok(body.includes("&lt;script>alert(1)&lt;/script>"));
  assert.ok(!body.includes("<script>alert(1)"));
  assert.match(body, /run\.json is not valid JSON/);
  assert.match(body, /mnist/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("runs list sorts by the query's column and direction", async () => {
  const dir = await fixtures();
  const app = createApp({ runsDir: dir });
  const order = (html: string) =>
    [...html.matchAll(/<tr[^>]*data-run="([^"]+)"/g)].map((m) => m[1]);
  const asc = order((await get(app, "/?sort=name&dir=asc")).body);
  assert.equal(asc.indexOf("alpha") < asc.indexOf("beta"), true);
  const desc = order((await get(app, "/?sort=name&dir=desc")).body);
  assert.equal(desc.indexOf("alpha") > desc.indexOf("beta"), true);
  const started = order((await get(app, "/?sort=started&dir=asc")).body);
  assert.equal(started[0], "beta"); // started two hours ago, the others one
  await Deno.remove(dir, { recursive: true });
});

Deno.test("run page has its config, charts, samples, pictures and checkpoints", async () => {
  const dir = await fixtures();
  const app = createApp({ runsDir: dir });
  const { status, body } = await get(app, "/runs/alpha");
  assert.equal(status, 200);
  assert.match(body, /<h1>Alpha run<\/h1>/);
  const charts = islandProps(body, "MetricsChart") as {
    title: string;
    table: { steps: number[] };
  }[];
  assert.deepEqual(charts.map((c) => c.title).slice(0, 1), ["Loss"]);
  assert.ok(charts.some((c) => c.title === "Sliced Wasserstein distance"));
  assert.equal(charts[0]!.table.steps.length, 300);
  assert.match(body, /src="\/runs\/alpha\/files\/samples\/step_00000299\.png"/);
  assert.match(body, /src="\/runs\/alpha\/files\/forward\.png"/);
  assert.match(body, /src="\/runs\/alpha\/files\/trajectory\.png"/);
  assert.match(body, /step_00000299<\/code>/);
  assert.match(body, />latest</);
  assert.match(body, /batchSize/);
  assert.equal((await get(app, "/runs/nope")).status, 404);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("island props cannot close their script element", async () => {
  const dir = await fixtures();
  const app = createApp({ runsDir: dir });
  const { body } = await get(app, "/runs/xss");
  assert.ok(!body.includes("<script>alert(1)"));
  assert.ok(body.includes("&lt;script>alert(1)&lt;/script>"));
  // Only the module script and JSON props scripts open; nothing else.
  const opens = [...body.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
  for (const attrs of opens) {
    assert.ok(/type="(module|application\/json)"/.test(attrs!), `unexpected <script${attrs}>`);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("bad files make their part of the page say so, and the server keeps serving", async () => {
  const dir = await fixtures();
  const app = createApp({ runsDir: dir });
  const partial = await get(app, "/runs/partial");
  assert.equal(partial.status, 200);
  assert.match(partial.body, /last line of metrics\.jsonl is partly written/);
  assert.equal((await get(app, "/runs/no-json")).status, 404); // not a run
  const corrupt = await get(app, "/runs/corrupt");
  assert.equal(corrupt.status, 200);
  assert.match(corrupt.body, /run\.json is not valid JSON/);
  assert.match(corrupt.body, /malformed line\(s\) in metrics\.jsonl/);
  assert.match(corrupt.body, /1 malformed line\(s\) in eval\.jsonl/);
  assert.equal((await get(app, "/")).status, 200);
  assert.equal((await get(app, "/runs/alpha")).status, 200);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("only allow-listed files under the runs directory are served", async () => {
  const dir = await fixtures();
  await Deno.writeTextFile(`${dir}/secret.txt`, "TOPSECRET");
  const app = createApp({ runsDir: dir });
  const png = await app.fetch(new Request("http://localhost/runs/alpha/files/forward.png"));
  assert.equal(png.status, 200);
  assert.equal(png.headers.get("content-type"), "image/png");
  const bytes = new Uint8Array(await png.arrayBuffer());
  assert.deepEqual(bytes, await Deno.readFile(`${dir}/alpha/forward.png`));
  const sample = await get(app, "/runs/alpha/files/samples/step_00000000.png");
  assert.equal(sample.status, 200);
  const bad = [
    "/runs/alpha/files/../../secret.txt",
    "/runs/alpha/files/..%2f..%2fsecret.txt",
    "/runs/alpha/files/%2e%2e/%2e%2e/secret.txt",
    "/runs/alpha/files/samples%2fstep_00000000.png",
    "/runs/%2e%2e/files/secret.txt",
    "/runs/..%2fsecret.txt",
    "/runs/alpha/files//etc/passwd",
    "/runs/alpha/files/%2fetc%2fpasswd",
    "/runs/alpha/files/checkpoints/latest",
    "/runs/alpha/files/samples/../../../secret.txt",
    "/runs/.hidden/files/run.json",
    "/runs/alpha/files/samples/step_1.png",
    "/runs/alpha%00/files/run.json",
    "/static/..%2f..%2fdeno.json",
    "/static/build/..%2fstyle.css",
    "/runs/alpha/files/run.json%00.png",
    "/runs/alpha\\..\\..\\secret.txt",
  ];
  for (const path of bad) {
    const r = await get(app, path);
    assert.equal(r.status, 404, `${path} gave ${r.status}`);
    assert.ok(!r.body.includes("TOPSECRET"), path);
  }
  assert.equal((await get(app, "/static/style.css")).status, 200);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("symlinks that leave the runs directory are not followed", async () => {
  const dir = await fixtures();
  const outside = await Deno.makeTempDir({ prefix: "web-outside-" });
  await Deno.writeTextFile(`${outside}/forward.png`, "outside");
  await Deno.remove(`${dir}/beta/forward.png`);
  await Deno.symlink(`${outside}/forward.png`, `${dir}/beta/forward.png`);
  const app = createApp({ runsDir: dir });
  assert.equal((await get(app, "/runs/beta/files/forward.png")).status, 404);
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(outside, { recursive: true });
});

Deno.test("compare overlays the runs' curves and lists config differences", async () => {
  const dir = await fixtures();
  const app = createApp({ runsDir: dir });
  const { status, body } = await get(app, "/compare?runs=alpha,beta&runs=..%2Fx");
  assert.equal(status, 200);
  const charts = islandProps(body, "MetricsChart") as {
    title: string;
    keys: string[];
    table: { columns: Record<string, unknown[]> };
  }[];
  const loss = charts.find((c) => c.title === "loss")!;
  assert.deepEqual(Object.keys(loss.table.columns).sort(), ["alpha", "beta"]);
  assert.match(body, /Config differences/);
  assert.match(body, /Not found: \.\.\/x/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a long metrics file is downsampled on the server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "web-long-" });
  await writeFixtureRun(dir, { id: "long", metricLines: 6000, samples: 1, checkpoints: 0 });
  const app = createApp({ runsDir: dir, maxPoints: 1000 });
  const { body } = await get(app, "/runs/long");
  const [loss] = islandProps(body, "MetricsChart") as { table: { steps: number[] } }[];
  assert.equal(loss!.table.steps.length, 1000);
  assert.equal(loss!.table.steps[0], 0);
  assert.equal(loss!.table.steps.at(-1), 5999);
  assert.match(body, /6,000 lines, drawn as 1000 points/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the events endpoint streams lines appended to metrics.jsonl", async () => {
  const dir = await Deno.makeTempDir({ prefix: "web-sse-" });
  await writeFixtureRun(dir, { id: "live", status: "running", metricLines: 10, samples: 1 });
  const app = createApp({ runsDir: dir, pollMs: 20 });
  const size = (await Deno.stat(`${dir}/live/metrics.jsonl`)).size;
  const res = await app.fetch(
    new Request(`http://localhost/api/runs/live/events?m=${size}&s=9`),
  );
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const until = async (re: RegExp) => {
    while (!re.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before ${re}: ${text}`);
      text += value;
    }
  };
  await until(/event: status/);
  assert.ok(!/event: metrics/.test(text), "nothing new yet");
  await Deno.writeTextFile(`${dir}/live/metrics.jsonl`, '{"step":10,"loss":0.25}\n{"step":11,', {
    append: true,
  });
  await until(/event: metrics\nid: [^\n]*\ndata: [^\n]*\n\n/);
  const data = JSON.parse(/event: metrics\nid: [^\n]*\ndata: ([^\n]*)/.exec(text)![1]!);
  assert.deepEqual(data, { steps: [10], columns: { loss: [0.25] } });
  await Deno.writeFile(`${dir}/live/samples/step_00000010.png`, new Uint8Array(8));
  await until(/event: samples/);
  assert.match(text, /"path":"samples\/step_00000010\.png"/);
  await reader.cancel();
  await new Promise((r) => setTimeout(r, 60)); // let the poller see the cancel
  assert.equal((await get(app, "/api/runs/nope/events")).status, 404);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the list is cached by mtime and sees new runs", async () => {
  const dir = await fixtures();
  const app = createApp({ runsDir: dir });
  assert.ok(!(await get(app, "/")).body.includes("gamma"));
  await writeFixtureRun(dir, { id: "gamma", metricLines: 3 });
  assert.ok((await get(app, "/")).body.includes("gamma"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("server close() ends open event streams instead of waiting for them", async () => {
  const dir = await Deno.makeTempDir();
  await writeFixtureRun(dir, { id: "live", status: "running", metricLines: 3, samples: 0 });
  const { url, close } = startServer({ runsDir: dir, port: 0, pollMs: 20 });
  const res = await fetch(`${url}api/runs/live/events`);
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  await reader.read();
  // Without the fix close() never returns (the run is still running): fail instead of hanging.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("close() waited for the event stream")), 10_000);
  });
  try {
    await Promise.race([close(), hung]);
    // The client sees the stream end (or the connection go, as the server stops).
    await (async () => {
      while (!(await reader.read()).done);
    })().catch(() => {});
  } finally {
    clearTimeout(timer);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("run page of a real trained run marks its newest checkpoint latest", async () => {
  const dir = await Deno.makeTempDir({ prefix: "web-real-" });
  try {
    const r = await runTraining(
      config(dir, [...SMALL, "--steps", "4", "--checkpoint-every", "2", "--name", "real"]),
      { write: quiet, plain: true },
    );
    const app = createApp({ runsDir: dir });
    const { status, body } = await get(app, `/runs/${r.id}`);
    assert.equal(status, 200);
    const rows = body.split("<tr>").filter((row) => /step_0000000\d<\/code>/.test(row));
    assert.equal(rows.length, 2);
    assert.doesNotMatch(rows[0]!, />latest</);
    assert.match(rows[1]!, /step_00000004<\/code>[\s\S]*>latest</);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
