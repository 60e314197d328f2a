/**
 * A small, seedable, serialisable pseudo-random generator (xoshiro128**), used wherever the
 * project needs reproducible randomness: noise in training and sampling, parameter
 * initialisation, data augmentation and timestep sampling.
 *
 * Every stream is fully described by its {@linkcode RngState}, so a checkpoint can store it and a
 * resumed run continues the exact same sequence.
 *
 * @module
 */

/** The serialisable state of an {@linkcode Rng}: four 32-bit words and a cached normal. */
export interface RngState {
  /** The xoshiro128** state words. */
  s: [number, number, number, number];
  /** A second Box–Muller normal kept for the next call, or `null`. */
  spare: number | null;
}

function _splitmix32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function _hash2(a: number, b: number): number {
  let h = Math.imul((a >>> 0) ^ 0x27d4eb2d, 0x165667b1) >>> 0;
  h = Math.imul(h ^ (b >>> 0) ^ (h >>> 15), 0x85ebca77) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae3d) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A seeded pseudo-random generator with uniform, integer and standard-normal draws.
 *
 * @example
 * ```ts
 * import { Rng } from "./random.ts";
 * import assert from "node:assert/strict";
 * const a = new Rng(42), b = new Rng(42);
 * assert.deepEqual(a.uniform(), b.uniform());
 * const saved = a.getState();
 * const x = a.normal();
 * a.setState(saved);
 * assert.deepEqual(a.normal(), x);
 * ```
 */
export class Rng {
  #s: Uint32Array = new Uint32Array(4);
  #spare: number | null = null;

  /**
   * Creates a generator from a seed; `stream` selects an independent stream of the same seed.
   *
   * @param seed Any integer.
   * @param stream An integer naming a sub-stream (a batch index, a worker, a purpose).
   */
  constructor(seed: number, stream = 0) {
    const next = _splitmix32(_hash2(seed, stream));
    for (let i = 0; i < 4; i++) this.#s[i] = next();
    if ((this.#s[0]! | this.#s[1]! | this.#s[2]! | this.#s[3]!) === 0) this.#s[0] = 1;
  }

  /**
   * Returns the next raw 32-bit unsigned integer.
   *
   * @returns An integer in [0, 2^32).
   */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(_rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = _rotl(s[3]!, 11);
    return result;
  }

  /**
   * Returns a uniform draw in [0, 1) with 32 bits of resolution.
   *
   * @returns A number in [0, 1).
   */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /**
   * Returns a uniform integer in [0, n).
   *
   * @param n The exclusive upper bound, a positive integer.
   * @returns An integer in [0, n).
   */
  int(n: number): number {
    if (!(n > 0)) throw new RangeError(`Cannot draw an integer below ${n}: expected n > 0`);
    return Math.floor(this.uniform() * n);
  }

  /**
   * Returns a standard-normal draw (Box–Muller; the second value is kept for the next call).
   *
   * @returns A draw from N(0, 1).
   */
  normal(): number {
    if (this.#spare !== null) {
      const v = this.#spare;
      this.#spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * Fills an array with standard-normal draws.
   *
   * @param out The array to fill.
   * @returns The same array.
   */
  fillNormal<T extends Float32Array | Float64Array>(out: T): T {
    for (let i = 0; i < out.length; i++) out[i] = this.normal();
    return out;
  }

  /**
   * Fills an array with uniform draws in [0, 1).
   *
   * @param out The array to fill.
   * @returns The same array.
   */
  fillUniform<T extends Float32Array | Float64Array>(out: T): T {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform();
    return out;
  }

  /**
   * Shuffles an array in place (Fisher–Yates).
   *
   * @param a The array to shuffle.
   * @returns The same array.
   */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
    return a;
  }

  /**
   * Returns a copy of the state, to store in a checkpoint.
   *
   * @returns The state.
   */
  getState(): RngState {
    const s = this.#s;
    return { s: [s[0]!, s[1]!, s[2]!, s[3]!], spare: this.#spare };
  }

  /**
   * Restores a state returned by {@linkcode Rng.getState}.
   *
   * @param state The state to restore.
   */
  setState(state: RngState): void {
    if (!Array.isArray(state?.s) || state.s.length !== 4) {
      throw new TypeError("Cannot restore the random state: expected { s: [4 numbers], spare }");
    }
    this.#s.set(state.s);
    this.#spare = state.spare ?? null;
  }
}

function _rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
