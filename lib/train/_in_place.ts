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
 * The memory to update `v` in. It is `v`'s own when no other tensor shares the data and the
 * memory is the backend's alone: always on wasm (the heap holds copies), on cpu only for
 * variables whose data the caller created (`owned`), since a cpu tensor made by `tf.tensor(a)`
 * shares the caller's array `a`.
 *
 * @param store The backend's memory.
 * @param v The variable.
 * @param owned True when the caller made `v`'s data (so no user array can alias it).
 * @returns The target.
 */
export function updateTarget(store: MemoryStore, v: tf.Variable, owned: boolean): UpdateTarget {
  const inPlace = (owned || store.name === "wasm") && store.refCount(v) === 1;
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
