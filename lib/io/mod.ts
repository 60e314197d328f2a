/**
 * File output: atomic writes, JSON lines, and NumPy's `.npy` format.
 *
 * @module
 */
export { appendJsonl, writeFileAtomic, writeJsonAtomic } from "./atomic.ts";
export { encodeNpy } from "./npy.ts";
