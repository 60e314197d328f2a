/**
 * What `@tensorflow/tfjs` means in the viewer's browser sampler bundle (`web/build.ts` maps the
 * name here): tfjs-core and its plain JavaScript `cpu` backend, not the umbrella package with
 * its layers, converter, data and WebGL code. `lib/tf.ts` re-exports it as `tf`, so `lib/model`
 * and `lib/sampler.ts` run unchanged; sampling needs no gradients.
 *
 * @example
 * ```ts
 * import * as tf from "./tf_browser.ts";
 * import assert from "node:assert/strict";
 * assert.equal(typeof tf.tidy, "function");
 * ```
 *
 * @module
 */
import "@tensorflow/tfjs-backend-cpu";

export * from "@tensorflow/tfjs-core";
