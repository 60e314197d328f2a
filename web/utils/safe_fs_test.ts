import assert from "node:assert/strict";
import {
  isRunDir,
  openRunsFile,
  readRegularFile,
  readRunsFile,
  resolveEntry,
  resolveInRuns,
} from "./safe_fs.ts";

async function mkfifo(path: string): Promise<void> {
  const out = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.equal(out.code, 0, "mkfifo failed");
}

Deno.test("a FIFO is refused by every reader without being opened", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/r1`);
    await mkfifo(`${dir}/r1/metrics.jsonl`);
    await Deno.writeTextFile(`${dir}/r1/run.json`, "{}");
    // Each of these would block forever in open() if it opened the FIFO.
    const r = await resolveInRuns(dir, "r1/metrics.jsonl");
    assert.equal(!r.ok && r.reason, "not-file");
    const run = await resolveInRuns(dir, "r1", "dir");
    assert.ok(run.ok);
    assert.equal((await resolveEntry(run, "metrics.jsonl")).ok, false);
    assert.equal((await resolveEntry(run, "metrics.jsonl", "any")).ok, true);
    const read = await readRunsFile(dir, "r1/metrics.jsonl");
    assert.deepEqual(read, {
      ok: false,
      reason: "not-file",
      why: "it is not a regular file; not read",
      message: "metrics.jsonl: it is not a regular file; not read",
    });
    await assert.rejects(readRegularFile(`${dir}/r1/metrics.jsonl`), TypeError);
    assert.equal(await openRunsFile(dir, "r1/metrics.jsonl"), null);
    assert.equal(await isRunDir(dir, "r1"), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("links: inside followed, outside, dangling and looping refused", async () => {
  const dir = await Deno.makeTempDir();
  const outside = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/r1`);
    await Deno.writeTextFile(`${dir}/r1/run.json`, '{"a":1}');
    await Deno.writeTextFile(`${outside}/run.json`, '{"secret":1}');
    await Deno.symlink(`${dir}/r1/run.json`, `${dir}/r1/inside.json`);
    await Deno.symlink("../r1/run.json", `${dir}/r1/relative.json`);
    await Deno.symlink(`${outside}/run.json`, `${dir}/r1/out.json`);
    await Deno.symlink(`${dir}/r1/nothing`, `${dir}/r1/dangling.json`);
    await Deno.symlink(`${dir}/r1/loop.json`, `${dir}/r1/loop.json`);
    await Deno.symlink(outside, `${dir}/r1/sub`);
    const reason = async (rel: string) => {
      const r = await resolveInRuns(dir, rel);
      return r.ok ? "ok" : r.reason;
    };
    assert.equal(await reason("r1/inside.json"), "ok");
    assert.equal(await reason("r1/relative.json"), "ok");
    assert.equal(await reason("r1/out.json"), "outside");
    assert.equal(await reason("r1/sub/run.json"), "outside"); // a linked folder on the way
    assert.equal(await reason("r1/dangling.json"), "missing");
    assert.equal(await reason("r1/loop.json"), "missing");
    for (const bad of ["/etc/passwd", "r1/../../x", "", "r1//run.json", "./r1/run.json"]) {
      assert.equal(await reason(bad), "missing", bad);
    }
    const inside = await readRunsFile(dir, "r1/inside.json");
    assert.equal(inside.ok && new TextDecoder().decode(inside.bytes), '{"a":1}');
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("reads are capped, from the start or from the end", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(path, "0123456789");
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    const head = await readRegularFile(path, { maxBytes: 4 });
    assert.deepEqual([text(head.bytes), head.start, head.size, head.truncated], [
      "0123",
      0,
      10,
      true,
    ]);
    const tail = await readRegularFile(path, { maxBytes: 4, fromEnd: true });
    assert.deepEqual([text(tail.bytes), tail.start, tail.truncated], ["6789", 6, true]);
    const rest = await readRegularFile(path, { offset: 8, maxBytes: 4 });
    assert.deepEqual([text(rest.bytes), rest.truncated], ["89", false]);
    const past = await readRegularFile(path, { offset: 20 });
    assert.deepEqual([past.bytes.length, past.truncated], [0, false]);
  } finally {
    await Deno.remove(path);
  }
});
