/**
 * The shipped weights of the MNIST classifier: `weights/mnist_classifier.bin` (little-endian
 * float32, the parameters in `CLASSIFIER_SHAPES` order) and `weights/mnist_classifier.json`
 * (shapes, SHA-256 of the `.bin`, how it was trained and its accuracy). The loader refuses a
 * file whose checksum differs, in one line.
 *
 * @module
 */
import { CLASSIFIER_SHAPES, createClassifier, type DigitClassifier } from "./classifier.ts";

/** The manifest beside the weights. */
export interface ClassifierManifest {
  format: "diffusion-ts-mnist-classifier";
  version: 1;
  /** Parameter names and shapes, in file order. */
  shapes: [string, number[]][];
  /** SHA-256 of the `.bin`, hex. */
  sha256: string;
  /** Accuracy on the 999 held-out test digits. */
  testAccuracy: number;
  /** How the weights were made (the command and its settings). */
  trainedWith: Record<string, unknown>;
}

/** Where the shipped weights live. */
export const SHIPPED_WEIGHTS: URL = new URL("./weights/mnist_classifier", import.meta.url);

async function _sha256(bytes: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function _read(url: URL): Promise<Uint8Array> {
  if (url.protocol === "file:") return await Deno.readFile(url);
  const r = await fetch(url);
  if (!r.ok) throw new Error(`cannot read ${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/**
 * The classifier's parameters as the bytes of the weights file.
 *
 * @param c The classifier.
 * @returns The `.bin` contents.
 */
export function classifierBytes(c: DigitClassifier): Uint8Array {
  const parts = c.variables.map((v) => v.dataSync() as Float32Array);
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return new Uint8Array(out.buffer);
}

/**
 * Writes the classifier's weights and manifest (`<base>.bin`, `<base>.json`).
 *
 * @param c The classifier.
 * @param base The path without extension.
 * @param meta Accuracy and how it was trained.
 * @returns The manifest written.
 */
export async function saveClassifier(
  c: DigitClassifier,
  base: string | URL,
  meta: { testAccuracy: number; trainedWith: Record<string, unknown> },
): Promise<ClassifierManifest> {
  const bytes = classifierBytes(c);
  const manifest: ClassifierManifest = {
    format: "diffusion-ts-mnist-classifier",
    version: 1,
    shapes: CLASSIFIER_SHAPES.map(([n, s]) => [n, [...s]]),
    sha256: await _sha256(bytes),
    testAccuracy: meta.testAccuracy,
    trainedWith: meta.trainedWith,
  };
  const b = base instanceof URL ? base.pathname : base;
  await Deno.writeFile(`${b}.bin`, bytes);
  await Deno.writeTextFile(`${b}.json`, JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}

/**
 * Loads the classifier, checking the weights' SHA-256 against the manifest.
 *
 * @param base The path or URL without extension. @default {SHIPPED_WEIGHTS}
 * @returns The classifier and its manifest.
 *
 * @example
 * ```ts
 * import { loadClassifier } from "./weights.ts";
 * import assert from "node:assert/strict";
 * const { classifier, manifest } = await loadClassifier();
 * assert.ok(manifest.testAccuracy >= 0.99);
 * classifier.dispose();
 * ```
 */
export async function loadClassifier(
  base: string | URL = SHIPPED_WEIGHTS,
): Promise<{ classifier: DigitClassifier; manifest: ClassifierManifest }> {
  const url = base instanceof URL ? base : new URL(`file://${base}`);
  const jsonUrl = new URL(`${url.href}.json`), binUrl = new URL(`${url.href}.bin`);
  const manifest = JSON.parse(new TextDecoder().decode(await _read(jsonUrl))) as ClassifierManifest;
  const bytes = await _read(binUrl);
  const sum = await _sha256(bytes);
  if (sum !== manifest.sha256) {
    throw new Error(
      `the classifier weights ${binUrl.pathname} are damaged (SHA-256 ${sum.slice(0, 12)}..., ` +
        `expected ${manifest.sha256.slice(0, 12)}...)`,
    );
  }
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const values: Float32Array[] = [];
  let o = 0;
  for (const [, shape] of CLASSIFIER_SHAPES) {
    const size = shape.reduce((a, b) => a * b, 1);
    values.push(all.slice(o, o + size));
    o += size;
  }
  if (o !== all.length) {
    throw new Error(`the classifier weights hold ${all.length} values, expected ${o}`);
  }
  return { classifier: createClassifier(values), manifest };
}
