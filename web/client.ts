/**
 * The browser entry, bundled by `deno bundle --platform browser`: it
 * hydrates every `data-island` element of the page with its JSON props.
 * @module
 */
import { h, hydrate } from "preact";
import { ISLANDS } from "./island_registry.ts";

/**
 * Hydrates the islands under `root`; returns how many were hydrated. Unknown names and
 * unreadable props are skipped with a console warning.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hydrateIslands } from "./client.ts";
 * assert.equal(typeof hydrateIslands, "function");
 * ```
 */
export function hydrateIslands(root: ParentNode): number {
  let n = 0;
  for (const el of root.querySelectorAll<HTMLElement>("[data-island]")) {
    const name = el.dataset.island as keyof typeof ISLANDS;
    const component = ISLANDS[name];
    const script = el.querySelector(":scope > script[type='application/json']");
    const mount = el.querySelector(":scope > [data-island-root]");
    if (!component || !script || !mount) {
      console.warn(`island ${name}: not found or malformed`);
      continue;
    }
    try {
      const props = JSON.parse(script.textContent ?? "{}");
      // deno-lint-ignore no-explicit-any
      hydrate(h(component as any, props), mount);
      n++;
    } catch (e) {
      console.warn(`island ${name}: could not hydrate`, e);
    }
  }
  return n;
}

if (typeof document !== "undefined") {
  hydrateIslands(document);
  document.documentElement.dataset.hydrated = "true";
}
