// The `deno task web` entry: bad flags give one line on stderr and exit code 2.
import assert from "node:assert/strict";

async function run(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      new URL("../tasks/web.ts", import.meta.url).pathname,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("web task: unknown flag and bad port exit 2 with one line", async () => {
  for (const args of [["--bogus"], ["--port", "http"], ["--port", "70000"], ["extra"]]) {
    const r = await run(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /^error: /);
  }
});

Deno.test("web task: --help prints usage", async () => {
  const r = await run(["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--runs .*\(default: runs\)/);
});
