import assert from "node:assert/strict";
import { join } from "node:path";
import { CHECKED_DIRS, findCycles, importGraph, moduleImports } from "./check_imports.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("the repository has no circular imports, type-only ones included", async () => {
  const graph = await importGraph(ROOT, CHECKED_DIRS);
  assert.ok(graph.size > 100, `only ${graph.size} modules read`);
  assert.ok(graph.has("lib/diffusion.ts") && graph.has("web/server.ts"));
  const cycles = findCycles(graph).map((c) => c.join(" -> "));
  assert.deepEqual(cycles, [], `circular imports:\n${cycles.join("\n")}`);
});

Deno.test("importGraph: a type-only import back closes a cycle; --runtime leaves it out", async () => {
  // The shape lib/train/checkpoint.ts and lib/train/trainer.ts had: a value import one way,
  // a type import back.
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "lib"));
    await Deno.writeTextFile(
      join(dir, "lib", "trainer.ts"),
      'import { assertFits } from "./checkpoint.ts";\nexport type Trainer = { n: number };\n',
    );
    await Deno.writeTextFile(
      join(dir, "lib", "checkpoint.ts"),
      'import type { Trainer } from "./trainer.ts";\nexport function assertFits(t: Trainer) {}\n',
    );
    await Deno.writeTextFile(join(dir, "lib", "other.ts"), 'import "./trainer.ts";\n');
    const all = await importGraph(dir, ["lib"]);
    assert.deepEqual(findCycles(all), [[
      "lib/checkpoint.ts",
      "lib/trainer.ts",
      "lib/checkpoint.ts",
    ]]);
    assert.deepEqual(findCycles(await importGraph(dir, ["lib"], { runtime: true })), []);
    assert.deepEqual(all.get("lib/other.ts"), ["lib/trainer.ts"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("moduleImports: multi-line, re-exports, mixed type imports, dynamic imports", () => {
  const src = `
import {
  a,
  type B,
} from "./a.ts";
import { type C } from "../c.ts";
export * from "./all.ts";
export { d } from './d.ts';
export const x = 1;
const lazy = await import("./lazy.ts");
// import { e } from "./commented.ts";
import { tf } from "../tf.ts"; // a trailing comment
`;
  assert.deepEqual(moduleImports(src), [
    { specifier: "./a.ts", typeOnly: false },
    { specifier: "../c.ts", typeOnly: true },
    { specifier: "./all.ts", typeOnly: false },
    { specifier: "./d.ts", typeOnly: false },
    { specifier: "../tf.ts", typeOnly: false },
  ]);
});

Deno.test("findCycles: every strongly connected part once, self-imports too", () => {
  const graph = new Map([
    ["a", ["b"]],
    ["b", ["a", "c"]],
    ["c", ["d"]],
    ["d", ["c"]],
    ["e", ["e"]],
    ["f", ["a", "missing"]],
  ]);
  assert.deepEqual(findCycles(graph), [["a", "b", "a"], ["c", "d", "c"], ["e", "e"]]);
});
