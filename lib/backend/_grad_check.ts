/**
 * Test support: run the same function and its gradients on two backends and compare.
 *
 * @module
 */
import { tf } from "../tf.ts";
import { Rng } from "../random.ts";

/** A scalar function of some tensors, as `tf.grads` takes it. */
export type ScalarFn = (...xs: tf.Tensor[]) => tf.Tensor;

/** Values and gradients of a {@linkcode ScalarFn} on one backend, as plain arrays. */
export interface GradResult {
  value: number;
  grads: Float32Array[];
}

/** Seeded standard-normal inputs of the given shapes (values, not tensors: backend-neutral). */
export function randomInputs(shapes: number[][], seed: number): Float32Array[] {
  const rng = new Rng(seed, 0);
  return shapes.map((s) => {
    const a = new Float32Array(s.reduce((x, y) => x * y, 1));
    rng.fillNormal(a);
    return a;
  });
}

/**
 * Evaluates `f` and its gradients with respect to every input on `backend`.
 * The backend must be registered and initialised; it is selected for the call.
 */
export async function gradsOn(
  backend: string,
  f: ScalarFn,
  shapes: number[][],
  values: Float32Array[],
): Promise<GradResult> {
  await tf.setBackend(backend);
  const xs = shapes.map((s, i) => tf.tensor(values[i]!, s));
  try {
    const { value, grads } = tf.valueAndGrads(f)(xs);
    const out: GradResult = {
      value: (await value.data())[0]!,
      grads: await Promise.all(grads.map(async (g) => new Float32Array(await g.data()))),
    };
    value.dispose();
    tf.dispose(grads);
    return out;
  } finally {
    tf.dispose(xs);
  }
}

/** The largest |a − b| / (1 + |b|) over two arrays of the same length. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new TypeError(`Cannot compare: lengths ${a.length} and ${b.length} differ`);
  }
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!));
    if (!(d <= m)) m = d; // NaN propagates
  }
  return m;
}

/** ‖a − b‖₂ / (‖b‖₂ + 1e-12): the error of a whole gradient, robust to cancellation. */
export function normRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new TypeError(`Cannot compare: lengths ${a.length} and ${b.length} differ`);
  }
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num) / (Math.sqrt(den) + 1e-12);
}

/**
 * Computes `f` and its gradients on `backend` and on `reference`, and returns the largest
 * difference over the value and all gradients: elementwise |a − b| / (1 + |b|), or per tensor
 * ‖a − b‖ / ‖b‖ (`metric: "norm"`, for deeper nets whose small gradient entries carry
 * float32 cancellation).
 */
export async function compareBackends(
  backend: string,
  reference: string,
  f: ScalarFn,
  shapes: number[][],
  seed = 1,
  metric: "elementwise" | "norm" = "elementwise",
): Promise<{ diff: number; worst: string }> {
  const values = randomInputs(shapes, seed);
  const a = await gradsOn(backend, f, shapes, values);
  const b = await gradsOn(reference, f, shapes, values);
  const cmp = metric === "norm" ? normRelDiff : maxRelDiff;
  let diff = cmp([a.value], [b.value]);
  let worst = "value";
  a.grads.forEach((g, i) => {
    const d = cmp(g, b.grads[i]!);
    if (!(d <= diff)) {
      diff = d;
      worst = `grad ${i}`;
    }
  });
  return { diff, worst };
}
