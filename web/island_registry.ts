/**
 * Every island by name: the server renders them through `<Island>`, the browser entry
 * hydrates them from the same table.
 * @module
 */
import LiveStatus from "./islands/LiveStatus.tsx";
import MetricsChart from "./islands/MetricsChart.tsx";
import SampleSlider from "./islands/SampleSlider.tsx";

/**
 * The islands, keyed by the name written into the page.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ISLANDS } from "./island_registry.ts";
 * assert.deepEqual(Object.keys(ISLANDS).sort(), ["LiveStatus", "MetricsChart", "SampleSlider"]);
 * ```
 */
export const ISLANDS = { LiveStatus, MetricsChart, SampleSlider } as const;

/** An island's name. */
export type IslandName = keyof typeof ISLANDS;
