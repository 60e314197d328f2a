/** The CLI's contract for bad input: one line on stderr, exit code 2, no stack trace. */
import assert from "node:assert/strict";

async function run(task: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `tasks/${task}.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

const cases: [string, string[], RegExp][] = [
  ["train", ["--nope"], /unknown flag --nope/],
  ["train", ["--steps", "abc"], /--steps must be a number/],
  ["train", ["--steps", "0"], /--steps must be at least 1/],
  ["train", ["--batch", "1.5"], /--batch must be a whole number/],
  ["train", ["--schedule", "quadratic"], /--schedule must be one of linear, cosine, sigmoid/],
  ["train", ["--dataset", "mnist", "--model", "mlp"], /--model mlp works on 2-D points only/],
  ["train", ["--loss", "hybrid", "--variance", "fixed-small"], /needs --variance learned-range/],
  ["train", ["--sample-steps", "fast"], /--sample-steps must be/],
  ["train", ["--resume", "no-such-run", "--out", "/nonexistent-runs"], /No run "no-such-run"/],
  ["sample", [], /--run is required/],
  ["sample", ["--run", "x", "--out", "a.gif"], /extension must be one of/],
  ["sample", ["--run", "x", "--out", "/no/such/dir/a.png"], /does not exist/],
  [
    "sample",
    ["--run", "no-such-run", "--runs", "/nonexistent-runs", "--out", "/tmp/x.png"],
    /No run "no-such-run"/,
  ],
  ["eval", ["--run"], /--run needs a value/],
];

for (const [task, args, pattern] of cases) {
  Deno.test(`${task} ${args.join(" ") || "(no flags)"}: one-line error`, async () => {
    const r = await run(task, args);
    assert.notEqual(r.code, 0);
    const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("backend:"));
    assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
    assert.match(lines[0]!, /^error: /);
    assert.match(lines[0]!, pattern);
    assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/);
  });
}

Deno.test("usage errors exit with code 2", async () => {
  assert.equal((await run("train", ["--nope"])).code, 2);
  assert.equal((await run("sample", [])).code, 2);
});

Deno.test("--help lists every flag with its default", async () => {
  const r = await run("train", ["--help"]);
  assert.equal(r.code, 0);
  for (const flag of ["--dataset", "--schedule", "--t-sampler", "--checkpoint-every", "--resume"]) {
    assert.match(r.stdout, new RegExp(flag));
  }
  assert.match(r.stdout, /--clip\s+.*\(default: 1\)/);
});
