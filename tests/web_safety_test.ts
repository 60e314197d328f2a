// Route tests of the viewer's safety against the runs directory and the network: links out of
// the runs directory, FIFOs and devices, oversized files, keys such as __proto__ in the files,
// foreign Host headers, methods other than GET and HEAD. Handlers are called with plain
// Requests through app.fetch over a runs directory built here (no network port but the IPv6 one).
import assert from "node:assert/strict";
import { createApp } from "../web/app.ts";
import { startServer } from "../web/server.ts";
import { writeFixtureRun } from "../web/fixtures.ts";
import { runEventStream } from "../web/live.ts";

type App = ReturnType<typeof createApp>;

async function get(app: App, path: string, init?: RequestInit) {
  const res = await app.fetch(new Request(`http://localhost${path}`, init));
  const body = await res.text();
  return { status: res.status, body, headers: res.headers };
}

/** The JSON props of every island `name` on a page. */
function islandProps(html: string, name: string): Record<string, unknown>[] {
  const re = new RegExp(
    `data-island="${name}"><script type="application/json">(.*?)</script>`,
    "g",
  );
  return [...html.matchAll(re)].map((m) => JSON.parse(m[1]!));
}

/**
 * Resolves `work` or, after `ms`, runs `unblock` (so that a hung read ends) and throws: a hang
 * is a failure, not a stuck test run.
 */
async function within<T>(
  ms: number,
  what: string,
  work: Promise<T>,
  unblock?: () => Promise<void>,
) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), ms)));
  const r = await Promise.race([work, late]);
  clearTimeout(timer);
  if (r === "late") {
    if (unblock) {
      await unblock();
      await work.catch(() => {});
    }
    throw new Error(`${what} took more than ${ms} ms`);
  }
  return r as T;
}

async function mkfifo(path: string): Promise<void> {
  const out = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.equal(out.code, 0, "mkfifo failed");
}

/**
 * Opens a FIFO's writing end and closes it, so that a reader blocked in open() sees its end
 * (in a child that gives up after 0.5 s when no reader is there to meet it).
 */
async function release(fifo: string): Promise<void> {
  await new Deno.Command("timeout", { args: ["0.5", "sh", "-c", ': > "$1"', "sh", fifo] })
    .output();
}

/** What a run's stream sends in its first `ms` (then it is cancelled). */
async function streamFor(app: App, id: string, ms: number): Promise<string> {
  const res = await app.fetch(new Request(`http://localhost/api/runs/${id}/events`));
  assert.equal(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const end = Date.now() + ms;
  let timer: ReturnType<typeof setTimeout> | undefined;
  while (Date.now() < end) {
    const late = new Promise<null>((r) => (timer = setTimeout(() => r(null), end - Date.now())));
    const chunk = await Promise.race([reader.read(), late]);
    clearTimeout(timer);
    if (chunk === null || chunk.done) break;
    text += chunk.value;
  }
  await reader.cancel();
  await new Promise((r) => setTimeout(r, 20)); // the poller sees the cancel
  return text;
}

/** The whole SSE text of a finished run's stream (it ends by itself). */
async function streamText(app: App, id: string): Promise<string> {
  const res = await app.fetch(new Request(`http://localhost/api/runs/${id}/events`));
  assert.equal(res.status, 200);
  return await res.text();
}

async function tempDirs() {
  const runs = await Deno.makeTempDir({ prefix: "web-safety-" });
  const outside = await Deno.makeTempDir({ prefix: "web-outside-" });
  const cleanup = async () => {
    await Deno.remove(runs, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  };
  return { runs, outside, cleanup };
}

Deno.test("run.json linked out of the runs directory is neither shown nor listed as read", async () => {
  const { runs, outside, cleanup } = await tempDirs();
  try {
    await writeFixtureRun(runs, { id: "leak", metricLines: 3, samples: 0 });
    await writeFixtureRun(outside, { id: "src", name: "OUTSIDE-SECRET", metricLines: 1 });
    await Deno.remove(`${runs}/leak/run.json`);
    await Deno.symlink(`${outside}/src/run.json`, `${runs}/leak/run.json`);
    const app = createApp({ runsDir: runs });
    const list = await get(app, "/");
    assert.equal(list.status, 200);
    assert.ok(!list.body.includes("OUTSIDE-SECRET"), "the list showed the linked run.json");
    assert.match(list.body, /run\.json: it is a link out of the runs directory/);
    const page = await get(app, "/runs/leak");
    assert.equal(page.status, 200);
    assert.ok(!page.body.includes("OUTSIDE-SECRET"), "the page showed the linked run.json");
    assert.match(page.body, /run\.json: it is a link out of the runs directory/);
    // Its run.json unread, the run may still be training: the stream stays open.
    const stream = await streamFor(app, "leak", 150);
    assert.match(stream, /event: metrics/);
    assert.ok(!stream.includes("OUTSIDE-SECRET"));
    assert.equal((await get(app, "/runs/leak/files/run.json")).status, 404);
  } finally {
    await cleanup();
  }
});

Deno.test("a run folder linked from outside is not a run; a link inside the runs directory is", async () => {
  const { runs, outside, cleanup } = await tempDirs();
  try {
    await writeFixtureRun(runs, { id: "alpha", name: "Alpha run", metricLines: 3, samples: 0 });
    await writeFixtureRun(outside, { id: "ext", name: "EXTERNAL-RUN", metricLines: 3 });
    await Deno.symlink(`${outside}/ext`, `${runs}/ext`);
    await Deno.symlink(`${runs}/alpha`, `${runs}/alias`);
    const app = createApp({ runsDir: runs });
    const list = await get(app, "/");
    assert.ok(!list.body.includes("EXTERNAL-RUN"), "the list showed a run outside");
    assert.ok(!/data-run="ext"/.test(list.body));
    assert.match(list.body, /data-run="alias"/);
    assert.equal((await get(app, "/runs/ext")).status, 404);
    assert.equal((await get(app, "/api/runs/ext/events")).status, 404);
    assert.equal((await get(app, "/runs/ext/files/run.json")).status, 404);
    const compare = await get(app, "/compare?runs=ext,alpha");
    assert.ok(!compare.body.includes("EXTERNAL-RUN"));
    assert.match(compare.body, /Not found: ext/);
    const alias = await get(app, "/runs/alias");
    assert.equal(alias.status, 200);
    assert.match(alias.body, /Alpha run/);
  } finally {
    await cleanup();
  }
});

Deno.test("metric files linked out of the runs directory reveal neither lines nor sizes", async () => {
  const { runs, outside, cleanup } = await tempDirs();
  try {
    await writeFixtureRun(runs, { id: "r", metricLines: 3, samples: 0, evalEvery: 0 });
    // Like /etc/passwd: seven lines that are not JSON; and JSON lines with a secret metric.
    await Deno.writeTextFile(`${outside}/passwd`, "root:x:0:0:root:/root:/bin/sh\n".repeat(7));
    await Deno.writeTextFile(
      `${outside}/m.jsonl`,
      '{"step":1,"secretMetric":987654.321}\n'.repeat(5),
    );
    await Deno.remove(`${runs}/r/eval.jsonl`).catch(() => {});
    await Deno.symlink(`${outside}/passwd`, `${runs}/r/eval.jsonl`);
    await Deno.remove(`${runs}/r/metrics.jsonl`);
    await Deno.symlink(`${outside}/m.jsonl`, `${runs}/r/metrics.jsonl`);
    const app = createApp({ runsDir: runs });
    const page = await get(app, "/runs/r");
    assert.equal(page.status, 200);
    assert.ok(!page.body.includes("malformed"), "the page counted the lines of a file outside");
    assert.ok(!page.body.includes("secretMetric"), "the page drew a file outside");
    assert.match(
      page.body,
      /eval\.jsonl could not be read: it is a link out of the runs directory/,
    );
    assert.match(page.body, /metrics\.jsonl could not be read: it is a link out/);
    const stream = await streamText(app, "r");
    assert.ok(!stream.includes("secretMetric"), "the stream sent a file outside");
    // The event ids are the byte offsets reached: a file outside is never read, so they stay 0.
    const offsets = [...stream.matchAll(/^id: (\d+)\.(\d+)\./gm)].map((m) => `${m[1]}.${m[2]}`);
    assert.ok(offsets.length > 0 && offsets.every((o) => o === "0.0"), offsets.join(" "));
    const list = await get(app, "/");
    // (a value no page would print by chance: a time or a count might hold "42")
    assert.ok(!list.body.includes("987654"), "the list showed the last line of a file outside");
  } finally {
    await cleanup();
  }
});

Deno.test("a FIFO named metrics.jsonl, eval.jsonl or run.json hangs neither the list, the page nor the stream", async () => {
  const { runs, cleanup } = await tempDirs();
  const fifos: string[] = [];
  const unblock = async () => {
    for (const f of fifos) await release(f).catch(() => {});
  };
  try {
    await writeFixtureRun(runs, { id: "ok", name: "Fine run", metricLines: 3, samples: 0 });
    await writeFixtureRun(runs, { id: "fifo", metricLines: 3, samples: 0 });
    await writeFixtureRun(runs, { id: "fifo-json", metricLines: 3, samples: 0 });
    for (const f of ["fifo/metrics.jsonl", "fifo/eval.jsonl", "fifo-json/run.json"]) {
      await Deno.remove(`${runs}/${f}`).catch(() => {});
      await mkfifo(`${runs}/${f}`);
      fifos.push(`${runs}/${f}`);
    }
    const app = createApp({ runsDir: runs });
    const list = await within(1500, "the list", get(app, "/"), unblock);
    assert.equal(list.status, 200);
    assert.match(list.body, /Fine run/);
    assert.match(list.body, /run\.json: it is not a regular file/);
    const page = await within(1500, "the run page", get(app, "/runs/fifo"), unblock);
    assert.equal(page.status, 200);
    assert.match(page.body, /metrics\.jsonl could not be read: it is not a regular file/);
    const other = await within(1500, "the run page", get(app, "/runs/fifo-json"), unblock);
    assert.match(other.body, /run\.json: it is not a regular file/);
    const stream = await within(1500, "the stream", streamText(app, "fifo"), unblock);
    assert.match(stream, /event: end/);
    const file = await within(
      1500,
      "the file",
      get(app, "/runs/fifo/files/metrics.jsonl"),
      unblock,
    );
    assert.equal(file.status, 404);
  } finally {
    await cleanup();
  }
});

Deno.test("JSON-lines files longer than the cap are read from their end, and the page says so", async () => {
  const { runs, cleanup } = await tempDirs();
  try {
    await writeFixtureRun(runs, { id: "big", metricLines: 300, samples: 0 });
    const size = (await Deno.stat(`${runs}/big/metrics.jsonl`)).size;
    assert.ok(size > 8192, `the fixture is ${size} bytes`);
    const app = createApp({ runsDir: runs, maxFileBytes: 4096 });
    const page = await get(app, "/runs/big");
    assert.equal(page.status, 200);
    assert.match(
      page.body,
      /metrics\.jsonl is longer than a page reads: its first [\d.]+ [KM]?i?B/,
    );
    const [loss] = islandProps(page.body, "MetricsChart") as { table: { steps: number[] } }[];
    const steps = loss!.table.steps;
    assert.equal(steps.at(-1), 299);
    assert.ok(steps[0]! > 0 && steps.length < 300, `${steps.length} points from ${steps[0]}`);
    // Read whole under the default cap.
    const whole = await get(createApp({ runsDir: runs }), "/runs/big");
    assert.ok(!whole.body.includes("longer than a page reads"));
    // A run.json over its cap (1 MiB) is not read; the run is listed with the reason.
    await writeFixtureRun(runs, { id: "fat", name: "FAT-RUN", metricLines: 2, samples: 0 });
    const info = JSON.parse(await Deno.readTextFile(`${runs}/fat/run.json`));
    await Deno.writeTextFile(
      `${runs}/fat/run.json`,
      JSON.stringify({ ...info, notes: "x".repeat(1.1 * 1024 * 1024) }),
    );
    const list = await get(app, "/");
    assert.ok(!list.body.includes("FAT-RUN"));
    assert.match(list.body, /run\.json is larger than 1 MiB; not read/);
  } finally {
    await cleanup();
  }
});

Deno.test("the live stream reads a chunk per poll and skips a line longer than a chunk", async () => {
  const { runs, cleanup } = await tempDirs();
  try {
    await writeFixtureRun(runs, { id: "r", metricLines: 0, samples: 0 });
    const lines = [
      '{"step":1,"loss":1}',
      `{"step":2,"junk":"${"x".repeat(3000)}"}`,
      '{"step":3,"loss":0.5}',
      '{"step":4,"loss":0.25}',
    ];
    await Deno.writeTextFile(`${runs}/r/metrics.jsonl`, lines.join("\n") + "\n");
    const text = await within(
      1500,
      "the stream",
      new Response(runEventStream(runs, "r", { pollMs: 5, maxChunkBytes: 1000 })).text(),
    );
    const ids = [...text.matchAll(/^event: metrics\nid: (\d+)\./gm)].map((m) => Number(m[1]));
    const steps = [...text.matchAll(/^event: metrics\nid: .*\ndata: (.*)$/gm)]
      .flatMap((m) => JSON.parse(m[1]!).steps);
    assert.deepEqual(steps, [1, 3, 4], "the lines after the long one were not sent");
    const size = (await Deno.stat(`${runs}/r/metrics.jsonl`)).size;
    assert.equal(ids.at(-1), size, "the cursor did not reach the end of the file");
    assert.match(text, /event: end/);
  } finally {
    await cleanup();
  }
});

Deno.test("metric and config keys named __proto__, constructor or toString are ordinary keys", async () => {
  const { runs, cleanup } = await tempDirs();
  try {
    await writeFixtureRun(runs, { id: "proto", status: "running", metricLines: 0, samples: 0 });
    await writeFixtureRun(runs, { id: "plain", metricLines: 5, samples: 0 });
    const line = (step: number) =>
      `{"step":${step},"loss":0.5,"__proto__":${step},"constructor":2,"toString":3}`;
    await Deno.writeTextFile(`${runs}/proto/metrics.jsonl`, [1, 2, 3].map(line).join("\n") + "\n");
    await Deno.writeTextFile(
      `${runs}/proto/eval.jsonl`,
      '{"step":3,"__proto__":0.1,"toString":0.2,"constructor":0.3}\n',
    );
    const info = JSON.parse(await Deno.readTextFile(`${runs}/proto/run.json`));
    info.config = JSON.parse('{"__proto__":{"polluted":1},"constructor":"c","toString":"t"}');
    await Deno.writeTextFile(`${runs}/proto/run.json`, JSON.stringify(info));
    const app = createApp({ runsDir: runs, pollMs: 5 });

    const page = await get(app, "/runs/proto");
    assert.equal(page.status, 200, page.body.slice(0, 200));
    const charts = islandProps(page.body, "MetricsChart") as {
      title: string;
      table: { columns: Record<string, unknown> };
    }[];
    const columns = Object.assign({}, ...charts.map((c) => c.table.columns));
    for (const k of ["__proto__", "constructor", "toString"]) {
      assert.ok(charts.some((c) => Object.hasOwn(c.table.columns, k)), `no chart of ${k}`);
    }
    assert.ok(!("polluted" in {}), "Object.prototype was polluted");
    assert.ok(columns);
    assert.ok(page.body.includes("toString@training"));

    // The live stream sends them as columns and goes on.
    const res = await app.fetch(new Request("http://localhost/api/runs/proto/events?m=0"));
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!/event: eval\n/.test(text)) {
      const { value, done } = await within(1500, "the stream", reader.read());
      if (done) throw new Error(`stream ended: ${text}`);
      text += value;
    }
    await reader.cancel();
    const data = JSON.parse(/event: metrics\nid: [^\n]*\ndata: ([^\n]*)/.exec(text)![1]!);
    assert.deepEqual(Object.keys(data.columns).sort(), [
      "__proto__",
      "constructor",
      "loss",
      "toString",
    ]);
    assert.deepEqual(Object.getOwnPropertyDescriptor(data.columns, "__proto__")!.value, [1, 2, 3]);

    const compare = await get(app, "/compare?runs=proto,plain");
    assert.equal(compare.status, 200);
    assert.match(compare.body, /Config differences/);
    await new Promise((r) => setTimeout(r, 20)); // the poller sees the cancel
  } finally {
    await cleanup();
  }
});

Deno.test("a Host header that does not name the viewer gets 403 (DNS rebinding)", async () => {
  const { runs, cleanup } = await tempDirs();
  try {
    await writeFixtureRun(runs, { id: "alpha", metricLines: 3, samples: 0 });
    const app = createApp({ runsDir: runs, bound: { hostname: "127.0.0.1", port: 8123 } });
    const at = (host: string, path = "/") =>
      app.fetch(new Request(`http://127.0.0.1:8123${path}`, { headers: { host } }));
    for (const host of ["localhost:8123", "127.0.0.1:8123", "[::1]:8123", "LOCALHOST:8123"]) {
      const res = await at(host);
      assert.equal(res.status, 200, host);
      await res.body?.cancel();
    }
    for (
      const host of [
        "evil.example:8123",
        "evil.example",
        "localhost:9999",
        "127.0.0.1.evil.io:8123",
      ]
    ) {
      for (
        const path of ["/", "/runs/alpha", "/api/runs/alpha/events", "/runs/alpha/files/run.json"]
      ) {
        const res = await at(host, path);
        assert.equal(res.status, 403, `${host} ${path}`);
        const body = await res.text();
        assert.equal(body.trim().split("\n").length, 1);
        assert.ok(!body.includes("alpha"));
      }
    }
    // The URL's host counts when there is no Host header (a Request made in code).
    const plain = createApp({ runsDir: runs });
    assert.equal((await plain.fetch(new Request("http://evil.example/"))).status, 403);
  } finally {
    await cleanup();
  }
});

Deno.test("methods other than GET and HEAD get 405 with Allow; HEAD is GET without a body", async () => {
  const { runs, cleanup } = await tempDirs();
  try {
    await writeFixtureRun(runs, { id: "alpha", metricLines: 3, samples: 1 });
    await writeFixtureRun(runs, { id: "live", status: "running", metricLines: 3, samples: 0 });
    const app = createApp({ runsDir: runs, pollMs: 5 });
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      for (const path of ["/", "/runs/alpha", "/runs/alpha/files/run.json", "/nope"]) {
        const r = await get(app, path, { method });
        assert.equal(r.status, 405, `${method} ${path}`);
        assert.equal(r.headers.get("allow"), "GET, HEAD");
        assert.equal(r.body.trim().split("\n").length, 1);
      }
    }
    for (
      const path of ["/", "/runs/alpha", "/runs/alpha/files/forward.png", "/api/runs/live/events"]
    ) {
      const head = await app.fetch(new Request(`http://localhost${path}`, { method: "HEAD" }));
      assert.equal(head.status, 200, path);
      assert.equal(head.body, null);
      const res = await app.fetch(new Request(`http://localhost${path}`));
      assert.equal(head.headers.get("content-type"), res.headers.get("content-type"));
      await res.body?.cancel();
    }
    assert.equal(
      (await app.fetch(new Request("http://localhost/nope", { method: "HEAD" }))).status,
      404,
    );
    // Leaves no live-stream poller behind (the test's op sanitizer would see its timer).
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    await cleanup();
  }
});

Deno.test("the server binds IPv6 loopback and prints its URL in brackets", async () => {
  const { runs, cleanup } = await tempDirs();
  try {
    for (const hostname of ["::1", "[::1]"]) {
      const { url, close } = startServer({ runsDir: runs, hostname, port: 0 });
      try {
        assert.match(url, /^http:\/\/\[::1\]:\d+\/$/);
        const res = await fetch(url);
        assert.equal(res.status, 200);
        await res.body?.cancel();
      } finally {
        await close();
      }
    }
  } finally {
    await cleanup();
  }
});

// Last: against a viewer that reads /dev/zero this grows the process until the timeout.
Deno.test("metrics.jsonl linked to /dev/zero is refused at once by the page, the list and the stream", async () => {
  const { runs, cleanup } = await tempDirs();
  try {
    await writeFixtureRun(runs, { id: "zero", metricLines: 3, samples: 0 });
    await Deno.remove(`${runs}/zero/metrics.jsonl`);
    await Deno.symlink("/dev/zero", `${runs}/zero/metrics.jsonl`);
    const app = createApp({ runsDir: runs });
    const page = await within(1500, "the run page", get(app, "/runs/zero"));
    assert.equal(page.status, 200);
    assert.match(page.body, /metrics\.jsonl could not be read: it is a link out of the runs/);
    assert.equal((await within(1500, "the list", get(app, "/"))).status, 200);
    assert.match(await within(1500, "the stream", streamText(app, "zero")), /event: end/);
  } finally {
    await cleanup();
  }
});
