/**
 * Helpers for optimiser updates that write variables' memory directly (see
 * `../backend/native/tensor_memory.ts`): a variable is updated in place when nothing else
 * shares its data, else through a copy that is assigned back.
 *
 * @module
 */
import { tf } from "../tf.ts";
import type { MemoryStore } from "../backend/native/tensor_memory.ts";

/** Where an update writes: the variable's own memory, or a copy to assign back. */
export interface UpdateTarget {
  /** The values to update. */
  data: Float32Array;
  /** True when `data` is the variable's memory (then nothing is left to do). */
  inPlace: boolean;
}

/**
 * The memory to update `v` in. It is `v`'s own only for private state (`owned`: made by the
 * caller and read by no kernel) that no other tensor shares; anything else is updated through a
 * copy, which gives the variable new data. Two reasons: a cpu tensor made by `tf.tensor(a)`
 * shares the caller's array `a`, and kernels may cache what they derive from a tensor's data by
 * its id (the wasm backend's XNNPACK matmul keeps the packed weights of its second operand), so
 * weights changed in place would be read stale.
 *
 * @param store The backend's memory.
 * @param v The variable.
 * @param owned True for private state: the caller made `v`'s data and no kernel reads it.
 * @returns The target.
 */
export function updateTarget(store: MemoryStore, v: tf.Variable, owned: boolean): UpdateTarget {
  const inPlace = owned && store.refCount(v) === 1;
  const view = store.f32(v);
  return inPlace ? { data: view, inPlace } : { data: view.slice(), inPlace };
}

/**
 * Assigns a copied target back to its variable (nothing to do for an in-place one). The new
 * data is a fresh array owned by the backend, so later updates can go in place.
 *
 * @param v The variable.
 * @param target Its target from {@linkcode updateTarget}.
 */
export function commitTarget(v: tf.Variable, target: UpdateTarget): void {
  if (target.inPlace) return;
  const t = tf.tensor(target.data, v.shape, "float32");
  v.assign(t);
  t.dispose();
}
