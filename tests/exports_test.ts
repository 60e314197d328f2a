// The package's public surface: every subpath export of deno.json resolves and documents
// itself, `./diffusion` re-exports all of the flat maths modules, the root `mod.ts` stays a
// short list of essentials, and every exported value or function carries an @example (checked
// by `deno test --doc`).
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
const EXPORTS: Record<string, string> = config.exports;

/**
 * Exported values without an @example when this test was written, each in a module another
 * engineer was rewriting; write the example and remove the entry. A new export without an
 * example fails the last test.
 */
const KNOWN_GAPS = new Set([
  "lib/backend/mod.ts BACKEND_NAMES",
  "lib/quality/classifier.ts accuracy",
  "lib/quality/classifier.ts CLASSIFIER_FEATURES",
  "lib/quality/classifier.ts classifierFeatures",
  "lib/quality/classifier.ts classProbabilities",
  "lib/quality/measures.ts realDigits",
  "lib/quality/weights.ts saveClassifier",
  "lib/quality/weights.ts SHIPPED_WEIGHTS",
  "lib/quality/evaluator.ts FLOOR_SEED",
  "lib/quality/record.ts QUALITY_KEYS",
  "lib/quality/record.ts QUALITY_MEASURES",
]);

Deno.test("deno.json: the subpath exports", async () => {
  for (const name of [".", "./diffusion", "./model", "./train", "./data", "./run", "./quality"]) {
    assert.ok(EXPORTS[name], `no export ${name}`);
  }
  for (const [name, path] of Object.entries(EXPORTS)) {
    const text = await Deno.readTextFile(new URL(path, ROOT));
    assert.match(text, /@module/, `${name} (${path}) has no module doc`);
    const mod = await import(new URL(path, ROOT).href);
    assert.ok(Object.keys(mod).length > 0, `${name} exports nothing`);
  }
});

Deno.test("./diffusion re-exports every export of the maths modules", async () => {
  const diffusion = await import(new URL(EXPORTS["./diffusion"]!, ROOT).href);
  for (
    const file of [
      "tf",
      "random",
      "schedule",
      "respace",
      "gaussian",
      "diffusion",
      "loss",
      "timestep_sampler",
      "sampler",
      "bpd",
    ]
  ) {
    const mod = await import(new URL(`lib/${file}.ts`, ROOT).href);
    for (const [name, value] of Object.entries(mod)) {
      assert.equal(diffusion[name], value, `./diffusion lacks ${name} of lib/${file}.ts`);
    }
  }
});

Deno.test("the root mod.ts is a short list, each name also in a subpath export", async () => {
  const root = await import(new URL("mod.ts", ROOT).href);
  const names = Object.keys(root);
  assert.ok(names.length <= 30, `mod.ts exports ${names.length} values: ${names}`);
  const subpaths = await Promise.all(
    Object.entries(EXPORTS).filter(([n]) => n !== ".").map(([, p]) =>
      import(new URL(p, ROOT).href)
    ),
  );
  for (const name of names) {
    assert.ok(subpaths.some((m) => m[name] === root[name]), `${name} is in no subpath export`);
  }
});

Deno.test("every exported value and function has an @example", async () => {
  const missing = new Set<string>();
  for (const path of Object.values(EXPORTS)) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["doc", "--json", path],
      cwd: ROOT,
      stdout: "piped",
      stderr: "null",
    }).output();
    assert.ok(out.success, `deno doc ${path} failed`);
    const doc = JSON.parse(new TextDecoder().decode(out.stdout));
    for (const m of Object.values(doc.nodes) as { symbols?: DocSymbol[] }[]) {
      for (const s of m.symbols ?? []) {
        for (const d of s.declarations) {
          if (["interface", "typeAlias", "import", "namespace"].includes(d.kind)) continue;
          if ((d.jsDoc?.tags ?? []).some((t) => t.kind === "example")) continue;
          missing.add(`${d.location.filename.slice(ROOT.href.length)} ${s.name}`);
        }
      }
    }
  }
  const unexpected = [...missing].filter((m) => !KNOWN_GAPS.has(m));
  assert.deepEqual(unexpected, [], `exports without an @example:\n${unexpected.join("\n")}`);
});

interface DocSymbol {
  name: string;
  declarations: {
    kind: string;
    location: { filename: string };
    jsDoc?: { tags?: { kind: string }[] };
  }[];
}
