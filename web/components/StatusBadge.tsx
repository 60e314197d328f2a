/**
 * A run's status as a coloured badge; a live run shows a pulsing dot.
 * @module
 */
import type { VNode } from "preact";

/**
 * The badge; `status` is any text (shown escaped), `live` adds the live marker.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderToString } from "preact-render-to-string";
 * import { StatusBadge } from "./StatusBadge.tsx";
 * assert.match(renderToString(<StatusBadge status="running" live />), /live/);
 * ```
 */
export function StatusBadge({ status, live }: { status: string; live?: boolean }): VNode {
  const cls = /^[a-z]+$/.test(status) ? status : "unknown";
  if (live) return <span class="badge status-live" title="training now">● live</span>;
  const stale = status === "running";
  return (
    <span
      class={`badge status-${cls}`}
      title={stale ? "status running, but nothing written for a while" : undefined}
    >
      {stale ? "running (stale)" : status}
    </span>
  );
}
