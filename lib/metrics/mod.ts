/**
 * Sample-quality metrics.
 *
 * @module
 */
export { slicedWasserstein, type SwdOptions } from "./swd.ts";
