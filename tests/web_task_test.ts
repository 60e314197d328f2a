// The `deno task web` entry: bad flags give one line on stderr and exit code 2.
import assert from "node:assert/strict";

async function run(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
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

Deno.test("web task: a --host that is not loopback prints a one-line warning first", async () => {
  // Without --allow-run the task stops at bundling, right after its warnings.
  const wide = await run(["--host", "0.0.0.0", "--port", "0", "--runs", "/nonexistent"]);
  const first = wide.stderr.split("\n")[0]!;
  assert.match(first, /^warning: --host 0\.0\.0\.0 is not loopback: .*reached from the network/);
  const local = await run(["--host", "127.0.0.1", "--port", "0", "--runs", "/nonexistent"]);
  assert.doesNotMatch(local.stderr, /warning/);
});

Deno.test("web task: its permissions let it bind IPv6 loopback, printed as http://[::1]:port/", async () => {
  const config = new URL("../deno.json", import.meta.url);
  const task: string = JSON.parse(await Deno.readTextFile(config)).tasks.web;
  const flags = task.split(/\s+/).filter((a) => a.startsWith("--allow-"));
  const runs = await Deno.makeTempDir();
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    const server = new URL("../web/server.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { startServer } from ${JSON.stringify(server)};
const { url, close } = startServer({ runsDir: ${JSON.stringify(runs)}, hostname: "::1", port: 0 });
console.log(url);
const res = await fetch(url);
console.log(res.status);
await res.body?.cancel();
await close();
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--config", config.pathname, ...flags, script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    assert.equal(out.code, 0, dec.decode(out.stderr));
    assert.match(dec.decode(out.stdout), /^http:\/\/\[::1\]:\d+\/\n200\n$/);
  } finally {
    await Deno.remove(runs, { recursive: true });
    await Deno.remove(script);
  }
});
