import assert from "node:assert/strict";
import { createPipeline } from "../workers/mod.ts";

const root = new URL("../", import.meta.url);
const pipelineUrl = new URL("../workers/mod.ts", import.meta.url).href;

/** Runs `code` in a `deno eval` subprocess, killing it (and failing) if it does not exit. */
async function _run(
  code: string,
  ms = 30_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", "--ext=ts", code],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, ms);
  const out = await child.output();
  clearTimeout(timer);
  assert.ok(!killed, `the subprocess did not exit within ${ms} ms`);
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("a process using the pipeline exits on its own after close()", async () => {
  const r = await _run(`
    import { createPipeline } from "${pipelineUrl}";
    const p = createPipeline({ dataset: "mnist", batchSize: 8, workers: 2, seed: 1 });
    for (let i = 0; i < 3; i++) await p.next();
    await p.close();
    console.log("closed");
  `);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /closed/);
});

Deno.test("a process that leaves a for-await loop exits on its own", async () => {
  const r = await _run(`
    import { createPipeline } from "${pipelineUrl}";
    let n = 0;
    for await (const b of createPipeline({ dataset: "s-curve", batchSize: 8, workers: 2 })) {
      if (++n === 3) break;
    }
    console.log("left after", n);
  `);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /left after 3/);
});

Deno.test("a process whose worker dies exits with a clear error, not a hang", async () => {
  const r = await _run(`
    import { createPipeline } from "${pipelineUrl}";
    const p = createPipeline({ dataset: "s-curve", batchSize: 8, workers: 1, failAtBatch: 1, failMode: "crash" });
    try {
      for (let i = 0; i < 5; i++) await p.next();
    } finally {
      await p.close();
    }
  `);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Data pipeline worker 0 died/);
});

Deno.test("breaking out of for await closes the pipeline", async () => {
  const p = createPipeline({ dataset: "s-curve", batchSize: 8, workers: 1 });
  for await (const b of p) if (b.index === 1) break;
  await assert.rejects(p.next(), /closed/);
});
