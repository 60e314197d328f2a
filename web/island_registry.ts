/**
 * Every island by name: the server renders them through `<Island>`, the browser entry
 * hydrates them from the same table.
 * @module
 */
import BrowserSampler from "./islands/BrowserSampler.tsx";
import LiveCharts from "./islands/LiveCharts.tsx";
import LiveStatus from "./islands/LiveStatus.tsx";
import MetricsChart from "./islands/MetricsChart.tsx";
import RunFiles from "./islands/RunFiles.tsx";
import SampleSlider from "./islands/SampleSlider.tsx";

/**
 * The islands, keyed by the name written into the page.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ISLANDS } from "./island_registry.ts";
 * assert.deepEqual(Object.keys(ISLANDS).sort(), [
 *   "BrowserSampler",
 *   "LiveCharts",
 *   "LiveStatus",
 *   "MetricsChart",
 *   "RunFiles",
 *   "SampleSlider",
 * ]);
 * ```
 */
export const ISLANDS = {
  BrowserSampler,
  LiveCharts,
  LiveStatus,
  MetricsChart,
  RunFiles,
  SampleSlider,
} as const;

/** An island's name. */
export type IslandName = keyof typeof ISLANDS;
