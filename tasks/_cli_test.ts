import assert from "node:assert/strict";
import { BACKEND_OPTION, helpText, parseOptions, UsageError } from "./_cli.ts";
import { BACKEND_NAMES } from "../lib/backend/mod.ts";

const TABLE = {
  n: { type: "number", integer: true, min: -10, default: 1, help: "a count" },
  x: { type: "number", help: "a real" },
  kind: { type: "string", choices: ["a", "b"], help: "a kind" },
} as const;

Deno.test("parseOptions: negative values where valid, decimal only", () => {
  assert.equal(parseOptions(TABLE, ["--n", "-7"]).values.n, -7);
  assert.equal(parseOptions(TABLE, ["--x", "-.5"]).values.x, -0.5);
  assert.equal(parseOptions(TABLE, ["--x", "-1e-3"]).values.x, -1e-3);
  assert.throws(() => parseOptions(TABLE, ["--n", "-11"]), /--n must be at least -10; got -11/);
  for (const bad of ["0x10", "0b1", "0o7", "Infinity", "", "1_000", "ten"]) {
    assert.throws(() => parseOptions(TABLE, ["--x", bad]), UsageError, bad);
  }
});

Deno.test("parseOptions: -h is --help", () => {
  assert.equal(parseOptions(TABLE, ["-h"]).help, true);
  assert.equal(parseOptions(TABLE, ["--help"]).help, true);
  assert.equal(parseOptions(TABLE, []).help, false);
});

Deno.test("helpText: -h, --help lines up with the flags, also in a table of short names", () => {
  const text = helpText("x", TABLE);
  const lines = text.split("\n");
  const columns = [
    ...Object.values(TABLE).map((spec) =>
      lines.find((l) => l.includes(spec.help))!.indexOf(spec.help)
    ),
    lines.find((l) => l.includes("-h, --help"))!.indexOf("show this text"),
  ];
  assert.equal(new Set(columns).size, 1, `help columns differ:\n${text}`);
  assert.match(text, /^ {2}-h, --help +show this text$/m);
});

Deno.test("BACKEND_OPTION offers lib's backends", () => {
  assert.equal(BACKEND_OPTION.choices, BACKEND_NAMES);
  assert.throws(() => parseOptions({ backend: BACKEND_OPTION }, ["--backend", "gpu"]), UsageError);
});

Deno.test("parseOptions: a string flag followed by something that starts with a dash", () => {
  const table = {
    steps: { type: "string", help: "steps" },
    seed: { type: "number", help: "s" },
  } as const;
  // A negative number is the value; the flag's own check judges it.
  assert.equal(parseOptions(table, ["--steps", "-5"]).values.steps, "-5");
  // Anything else is a missing value, said in our words, not Node's.
  for (const args of [["--steps", "-x"], ["--steps", "--seed", "3"]]) {
    assert.throws(
      () => parseOptions(table, args),
      /^UsageError: --steps needs a value \(for one that starts with "-", write --steps=VALUE\)$/,
    );
  }
  assert.equal(parseOptions(table, ["--steps=-x"]).values.steps, "-x");
});

Deno.test("parseOptions: a value given to a switch is a one-line error of our own", () => {
  const table = { fast: { type: "boolean", default: false, help: "f" } } as const;
  assert.equal(parseOptions(table, ["--no-fast"]).values.fast, false);
  assert.throws(
    () => parseOptions(table, ["--fast=yes"]),
    /^UsageError: --fast is a switch and takes no value$/,
  );
  assert.throws(
    () => parseOptions(table, ["--help=3"]),
    /^UsageError: --help is a switch and takes no value$/,
  );
});

Deno.test("an unknown flag: the flag a typo away, or the one whose last word it is", () => {
  const table = {
    "sample-steps": { type: "string", help: "sampling steps" },
    seed: { type: "number", help: "seed" },
    "noise-seed": { type: "number", help: "noise seed" },
  } as const;
  assert.throws(
    () => parseOptions(table, ["--sede", "1"]),
    /unknown flag --sede; did you mean --seed\?/,
  );
  assert.throws(
    () => parseOptions(table, ["--steps", "50"]),
    /unknown flag --steps; did you mean --sample-steps\?/,
  );
  assert.throws(() => parseOptions(table, ["--zzz", "1"]), /unknown flag --zzz \(see --help\)$/);
});
