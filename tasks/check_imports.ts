/**
 * `deno run --allow-read tasks/check_imports.ts [--runtime] [paths...]`: the repository's
 * circular-import check, run by `deno task check`. It reads the relative imports of every
 * TypeScript module under `lib/`, `tasks/`, `web/`, `workers/`, `bench/`, `interop/` and
 * `tests/` (and `mod.ts`), and fails, naming each cycle, when modules import each other. Type-only
 * imports count too: they make no cycle at run time, but two modules that need each other are
 * one module in two files (or want a third that both import). `--runtime` leaves them out.
 *
 * @example
 * ```sh
 * deno run --allow-read tasks/check_imports.ts            # every import: exit 1 on a cycle
 * deno run --allow-read tasks/check_imports.ts --runtime  # run-time imports only
 * ```
 *
 * @module
 */
import { join, relative, resolve } from "node:path";

/** The folders checked when none are given, relative to the repository's root. */
export const CHECKED_DIRS: readonly string[] = [
  "lib",
  "tasks",
  "web",
  "workers",
  "bench",
  "interop",
  "tests",
  "mod.ts",
];

/** Folders never read (generated or scratch). */
const _SKIPPED = new Set(["node_modules", "build", "runs", ".scratch"]);

/** One relative import of a module. */
export interface ModuleImport {
  /** The specifier as written, e.g. `./schedule.ts`. */
  specifier: string;
  /** True for `import type`, `export type` and imports whose every name is a type. */
  typeOnly: boolean;
}

/**
 * The relative static imports and re-exports of a module's source (side-effect imports
 * included; dynamic `import()` excluded: it runs later and makes no cycle at load time).
 * Comments are skipped, so the imports of doc examples do not count.
 *
 * @param source A module's text.
 * @returns Its relative imports, in order.
 *
 * @example
 * ```ts
 * import { moduleImports } from "./check_imports.ts";
 * import assert from "node:assert/strict";
 * const src = [
 *   'import { a } from "./a.ts";',
 *   'import type { B } from "./b.ts";',
 *   'export { type C, type D } from "./c.ts";',
 *   'import "./side_effect.ts";',
 *   'import { tf } from "@tensorflow/tfjs";',
 *   '/** import { x } from "./doc_example.ts"; *\/',
 * ].join("\n");
 * assert.deepEqual(moduleImports(src), [
 *   { specifier: "./a.ts", typeOnly: false },
 *   { specifier: "./b.ts", typeOnly: true },
 *   { specifier: "./c.ts", typeOnly: true },
 *   { specifier: "./side_effect.ts", typeOnly: false },
 * ]);
 * ```
 */
export function moduleImports(source: string): ModuleImport[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out: ModuleImport[] = [];
  const re =
    /^\s*(import|export)\s+(?:(type)\s+)?(?:([^;"']*?)\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/gm;
  for (const m of code.matchAll(re)) {
    const [, kind, type, clause, specifier] = m;
    if (kind === "export" && clause === undefined) continue; // not a re-export
    out.push({ specifier: specifier!, typeOnly: type !== undefined || _allTypes(clause) });
  }
  return out;
}

/** `{ type A, type B }` (and nothing else): every name is a type. */
function _allTypes(clause: string | undefined): boolean {
  const braces = clause?.trim().match(/^\{([\s\S]*)\}$/);
  if (!braces) return false;
  const names = braces[1]!.split(",").map((n) => n.trim()).filter((n) => n !== "");
  return names.length > 0 && names.every((n) => /^type\s/.test(n));
}

/**
 * The cycles of a directed graph: each strongly connected component of more than one node (or a
 * node that imports itself), as one cycle through it, starting at its first node in sorted order.
 *
 * @param graph Each node's successors.
 * @returns The cycles, each closed (its first node repeated at the end), sorted.
 *
 * @example
 * ```ts
 * import { findCycles } from "./check_imports.ts";
 * import assert from "node:assert/strict";
 * const graph = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
 * assert.deepEqual(findCycles(graph), [["a", "b", "c", "a"]]);
 * assert.deepEqual(findCycles(new Map([["a", ["b"]], ["b", []]])), []);
 * ```
 */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  // Tarjan's strongly connected components, iterative over a sorted node list.
  const index = new Map<string, number>(), low = new Map<string, number>();
  const onStack = new Set<string>(), stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = component.length === 1 && (graph.get(v) ?? []).includes(v);
      if (component.length > 1 || selfLoop) components.push(component);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  return components.map((c) => _cycleThrough(graph, new Set(c))).sort((a, b) =>
    a[0]!.localeCompare(b[0]!)
  );
}

/** A shortest cycle from the first (sorted) node of a component back to it, within it. */
function _cycleThrough(graph: ReadonlyMap<string, readonly string[]>, nodes: Set<string>) {
  const start = [...nodes].sort()[0]!;
  const from = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!nodes.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(from.get(path[0]!)!);
        return [...path, start];
      }
      if (!from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/**
 * The import graph of the TypeScript modules under `paths` (files or folders), keyed by path
 * relative to `root`.
 *
 * @param root The repository's root.
 * @param paths Folders or files, relative to `root`.
 * @param options `runtime`: leave out type-only imports.
 * @returns Each module's imports of other modules.
 */
export async function importGraph(
  root: string,
  paths: readonly string[],
  options: { runtime?: boolean } = {},
): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for (const p of paths) {
    for await (const file of _modules(join(root, p))) {
      const deps = moduleImports(await Deno.readTextFile(file))
        .filter((i) => !(options.runtime && i.typeOnly))
        .map((i) => relative(root, resolve(file, "..", i.specifier)));
      graph.set(relative(root, file), deps);
    }
  }
  return graph;
}

async function* _modules(path: string): AsyncGenerator<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    return;
  }
  if (info.isFile) {
    if (/\.tsx?$/.test(path)) yield path;
    return;
  }
  const entries = await Array.fromAsync(Deno.readDir(path));
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isDirectory && !_SKIPPED.has(e.name)) yield* _modules(join(path, e.name));
    else if (e.isFile && /\.tsx?$/.test(e.name)) yield join(path, e.name);
  }
}

if (import.meta.main) {
  const runtime = Deno.args.includes("--runtime");
  const paths = Deno.args.filter((a) => !a.startsWith("--"));
  const root = resolve(new URL("..", import.meta.url).pathname);
  const graph = await importGraph(root, paths.length > 0 ? paths : CHECKED_DIRS, { runtime });
  const cycles = findCycles(graph);
  const what = runtime ? "run-time import" : "import";
  if (cycles.length === 0) {
    console.log(`check_imports: ${graph.size} modules, no circular ${what}`);
  } else {
    for (const c of cycles) console.error(`circular ${what}: ${c.join(" -> ")}`);
    console.error(`check_imports: ${cycles.length} cycle(s) in ${graph.size} modules`);
    Deno.exit(1);
  }
}
