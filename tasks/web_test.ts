import assert from "node:assert/strict";
import { helpText, parseOptions, UsageError } from "./_cli.ts";
import { WEB_OPTIONS } from "./web.ts";

Deno.test("web: flags through the shared parser, bad values a UsageError", () => {
  assert.deepEqual(parseOptions(WEB_OPTIONS, []).values, {
    runs: "runs",
    port: 8000,
    host: "127.0.0.1",
  });
  assert.equal(parseOptions(WEB_OPTIONS, ["-h"]).help, true);
  assert.equal(parseOptions(WEB_OPTIONS, ["--port", "0"]).values.port, 0);
  for (
    const [args, message] of [
      [["--port", "0x10"], /--port must be a number; got "0x10"/],
      [["--port", "65536"], /--port must be at most 65535/],
      [["--port", "-1"], /--port must be at least 0; got -1/],
      [["--port", "80.5"], /--port must be a whole number/],
      [["--bogus"], /unknown flag --bogus/],
      [["runs"], /unexpected argument "runs"/],
    ] as const
  ) {
    assert.throws(() => parseOptions(WEB_OPTIONS, [...args]), UsageError);
    assert.throws(() => parseOptions(WEB_OPTIONS, [...args]), message);
  }
});

Deno.test("web: the help lists every flag with its default", () => {
  const text = helpText("deno task web [flags]", WEB_OPTIONS);
  assert.match(text, /--port\s+port to listen on.*\(default: 8000\)/);
  assert.match(text, /--host\s+.*\(default: 127\.0\.0\.1\)/);
  assert.match(text, /^ {2}-h, --help\s+show this text$/m);
});

Deno.test("web: a bad flag is one line on stderr and exit code 2", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./web.ts", import.meta.url).pathname, "--port", "0x10"],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  assert.equal(out.code, 2);
  assert.equal(stderr, `error: --port must be a number; got "0x10"`);
});
