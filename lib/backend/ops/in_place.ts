/**
 * The op behind the optimiser's updates on `wasm` and `cpu`: direct access to the memory of a
 * set of tensors ({@linkcode inPlaceMemory}), so that an update is one JavaScript loop over
 * typed arrays instead of a chain of tfjs ops. A variable is written in place when nothing else
 * shares its data, else through a copy that is assigned back. On other backends (or when a
 * tensor lives on another backend) it is null and callers use tfjs ops.
 *
 * @module
 */
import { tf } from "../../tf.ts";
import { currentStore, type MemoryStore } from "../kernels/_store.ts";

/** Where an update writes: the variable's own memory, or a copy to assign back. */
export interface UpdateTarget {
  /** The values to update. */
  data: Float32Array;
  /** True when `data` is the variable's memory (then nothing is left to do). */
  inPlace: boolean;
}

/** The memory of tensors of the current backend, from {@linkcode inPlaceMemory}. */
export interface InPlaceMemory {
  /**
   * A float32 view of a tensor's data, to read; invalid after any allocation (a growing wasm
   * heap detaches older views), so take it after the targets.
   */
  read(t: tf.Tensor): Float32Array;
  /**
   * The memory to update `v` in. It is `v`'s own only for private state (`owned`: made by the
   * caller and read by no kernel) that no other tensor shares; anything else is updated through
   * a copy, which gives the variable new data. Two reasons: a cpu tensor made by `tf.tensor(a)`
   * shares the caller's array `a`, and kernels may cache what they derive from a tensor's data
   * by its id (the wasm backend's XNNPACK matmul keeps the packed weights of its second
   * operand), so weights changed in place would be read stale.
   */
  target(v: tf.Variable, owned: boolean): UpdateTarget;
  /**
   * Assigns a copied target back to its variable (nothing to do for an in-place one). The new
   * data is a fresh array owned by the backend, so later updates can go in place.
   */
  commit(v: tf.Variable, target: UpdateTarget): void;
}

function _wrap(store: MemoryStore): InPlaceMemory {
  return {
    read: (t) => store.f32(t),
    target(v, owned) {
      const inPlace = owned && store.refCount(v) === 1;
      const view = store.f32(v);
      return inPlace ? { data: view, inPlace } : { data: view.slice(), inPlace };
    },
    commit(v, target) {
      if (target.inPlace) return;
      const t = tf.tensor(target.data, v.shape, "float32");
      v.assign(t);
      t.dispose();
    },
  };
}

/**
 * The memory of `tensors` when the current backend is `wasm` or `cpu` and every one of them
 * lives there (tfjs moves data between backends lazily), else null.
 *
 * @param tensors Every tensor the update reads or writes.
 * @returns The memory, or null (use tfjs ops).
 *
 * @example
 * ```ts
 * import { tf } from "../../tf.ts";
 * import { inPlaceMemory } from "./in_place.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const v = tf.variable(tf.tensor1d([1, 2]));
 * const mem = inPlaceMemory([v])!;
 * const t = mem.target(v, false);
 * t.data[0] = 5;
 * mem.commit(v, t);
 * assert.deepEqual(Array.from(v.dataSync()), [5, 2]);
 * ```
 */
export function inPlaceMemory(tensors: readonly tf.Tensor[]): InPlaceMemory | null {
  const store = currentStore(tensors);
  return store === null ? null : _wrap(store);
}
