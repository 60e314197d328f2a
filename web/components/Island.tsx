/**
 * Server-side wrapper marking an island: its props go into an inert JSON script (escaped
 * so that no `</script>` or `<!--` can appear), and its server rendering into a
 * `data-island` element that the browser entry hydrates.
 * @module
 */
import { h, type VNode } from "preact";
import type { ComponentProps } from "preact";
import { jsonForScript } from "../escape.ts";
import { type IslandName, ISLANDS } from "../island_registry.ts";

/** Props of {@linkcode Island}. */
export interface IslandProps<N extends IslandName> {
  name: N;
  props: ComponentProps<(typeof ISLANDS)[N]>;
}

/**
 * Renders island `name` with `props`, ready for hydration.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderToString } from "preact-render-to-string";
 * import { Island } from "./Island.tsx";
 * const html = renderToString(
 *   <Island name="SampleSlider" props={{ runId: "</script>", samples: [] }} />,
 * );
 * assert.match(html, /data-island="SampleSlider"/);
 * assert.equal(html.includes("</script>\""), false);
 * ```
 */
export function Island<N extends IslandName>({ name, props }: IslandProps<N>): VNode {
  // deno-lint-ignore no-explicit-any
  const component = ISLANDS[name] as any;
  return (
    <div class="island" data-island={name}>
      <script type="application/json" dangerouslySetInnerHTML={{ __html: jsonForScript(props) }} />
      <div data-island-root="">{h(component, props as object)}</div>
    </div>
  );
}
