// The layering of lib/: the models and the optimiser call named ops (`lib/backend/ops.ts`) and
// import nothing of `backend/native/` or `backend/kernels/`; kernels do not reach up into the
// ops, the models or `native/mod.ts`; and no module of lib/ imports itself through a cycle.
import assert from "node:assert/strict";

const LIB = new URL("../", import.meta.url);

async function* _files(dir: URL): AsyncGenerator<URL> {
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) yield* _files(new URL(`${e.name}/`, dir));
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) yield new URL(e.name, dir);
  }
}

/** The relative run-time imports of every non-test module of lib/, resolved, static ones only. */
async function _graph(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  const re = /^(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/gms;
  for await (const f of _files(LIB)) {
    const text = await Deno.readTextFile(f);
    // Doc examples import too; only code outside comments counts.
    const code = text.replace(/\/\*[\s\S]*?\*\//g, "");
    const deps: string[] = [];
    for (const m of code.matchAll(re)) {
      // Type-only imports vanish at run time: they make no cycle.
      if (/^(?:import|export)\s+type\s/.test(m[0])) continue;
      deps.push(new URL(m[1]!, f).href);
    }
    graph.set(f.href, deps);
  }
  return graph;
}

function _rel(href: string): string {
  return href.slice(LIB.href.length);
}

Deno.test("lib/model and lib/train import nothing of backend/native or backend/kernels", async () => {
  for (const [file, deps] of await _graph()) {
    const f = _rel(file);
    if (!f.startsWith("model/") && !f.startsWith("train/")) continue;
    for (const d of deps.map(_rel)) {
      assert.ok(
        !d.startsWith("backend/native/") && !d.startsWith("backend/kernels/"),
        `${f} imports ${d}`,
      );
    }
  }
});

Deno.test("kernels import neither the ops, the models nor native/mod.ts", async () => {
  for (const [file, deps] of await _graph()) {
    const f = _rel(file);
    if (!f.startsWith("backend/kernels/")) continue;
    for (const d of deps.map(_rel)) {
      assert.ok(
        !d.startsWith("backend/ops") && !d.startsWith("model/") &&
          d !== "backend/native/mod.ts",
        `${f} imports ${d}`,
      );
    }
  }
});

Deno.test("lib/ has no circular run-time imports", async () => {
  const graph = await _graph();
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 1);
    stack.push(n);
    for (const d of graph.get(n) ?? []) {
      if (!graph.has(d)) continue;
      if (state.get(d) === 1) {
        const cycle = [...stack.slice(stack.indexOf(d)), d].map(_rel).join(" -> ");
        assert.fail(`circular import: ${cycle}`);
      }
      if (state.get(d) === undefined) visit(d);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of graph.keys()) if (state.get(n) === undefined) visit(n);
});
