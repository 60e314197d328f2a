/**
 * Named, seeded parameter creation for the models: PyTorch-default-like fan-in uniform
 * initialisation, zero-initialised layers, GroupNorm ones/zeros and N(0, 1) embeddings.
 *
 * @module
 */
import { tf } from "../tf.ts";
import { Rng } from "../random.ts";

/** A dense (or 1x1 convolution) layer: `w` is `[in, out]`, `b` is `[out]`. */
export interface DenseParams {
  /** Weight `[in, out]`. */
  w: tf.Variable;
  /** Bias `[out]`. */
  b: tf.Variable;
}

/** A k x k convolution: `w` is `[k, k, in, out]`, `b` is `[out]`; `stride` and `pad` are fixed. */
export interface ConvParams {
  /** Filter `[k, k, in, out]`. */
  w: tf.Variable;
  /** Bias `[out]`. */
  b: tf.Variable;
  /** The stride (1 or 2). */
  stride: number;
  /** Symmetric zero padding on each side (k // 2). */
  pad: number;
}

/** A GroupNorm layer's learned per-channel scale and shift. */
export interface GroupNormParams {
  /** Scale `[c]`, initialised to 1. */
  gamma: tf.Variable;
  /** Shift `[c]`, initialised to 0. */
  beta: tf.Variable;
  /** The number of groups. */
  groups: number;
}

let _instances = 0;

/**
 * Creates and remembers a model's variables in creation order, drawing initial values from
 * one seeded stream so that a seed always gives identical weights. The tfjs registry names
 * carry a per-instance prefix (tfjs requires unique names); `names` holds the stable ones.
 *
 * @example
 * ```ts
 * import { ParamStore } from "./params.ts";
 * import assert from "node:assert/strict";
 * const a = new ParamStore("demo", 7), b = new ParamStore("demo", 7);
 * const da = a.dense("fc", 3, 2), db = b.dense("fc", 3, 2);
 * assert.deepEqual(da.w.dataSync(), db.w.dataSync());
 * assert.deepEqual(a.names, ["fc.w", "fc.b"]);
 * a.dispose();
 * b.dispose();
 * ```
 */
export class ParamStore {
  /** Stable names, in creation order. */
  readonly names: string[] = [];
  /** The variables, parallel to `names`. */
  readonly variables: tf.Variable[] = [];
  #prefix: string;
  #rng: Rng;

  /**
   * @param kind A label for the registry prefix.
   * @param seed The initialisation seed.
   */
  constructor(kind: string, seed: number) {
    this.#prefix = `${kind}#${++_instances}/`;
    this.#rng = new Rng(seed, 0x1517);
  }

  /**
   * Adds a variable initialised from a Float32Array.
   *
   * @param name The stable name (unique within the model).
   * @param shape The shape.
   * @param values The initial values (length = product of shape).
   * @returns The variable.
   */
  add(name: string, shape: number[], values: Float32Array): tf.Variable {
    if (this.names.includes(name)) {
      throw new TypeError(`Cannot add parameter "${name}": the name is already used`);
    }
    // The variable shares the initial tensor's data; the tensor itself is dropped at once, or
    // it would keep the first weights alive after the variable's first update.
    const initial = tf.tensor(values, shape, "float32");
    const v = tf.variable(initial, true, this.#prefix + name);
    initial.dispose();
    this.names.push(name);
    this.variables.push(v);
    return v;
  }

  /**
   * A uniform(-bound, bound) variable.
   *
   * @param name The stable name.
   * @param shape The shape.
   * @param bound The half-width.
   * @returns The variable.
   */
  uniform(name: string, shape: number[], bound: number): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    const f = new Float32Array(n);
    for (let i = 0; i < n; i++) f[i] = (2 * this.#rng.uniform() - 1) * bound;
    return this.add(name, shape, f);
  }

  /**
   * A constant variable.
   *
   * @param name The stable name.
   * @param shape The shape.
   * @param value The fill value.
   * @returns The variable.
   */
  constant(name: string, shape: number[], value: number): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    return this.add(name, shape, new Float32Array(n).fill(value));
  }

  /**
   * A standard-normal variable (PyTorch's `nn.Embedding` default).
   *
   * @param name The stable name.
   * @param shape The shape.
   * @returns The variable.
   */
  normal(name: string, shape: number[]): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    return this.add(name, shape, this.#rng.fillNormal(new Float32Array(n)));
  }

  /**
   * A dense layer with PyTorch's default init (weight and bias uniform in ±1/sqrt(fanIn)),
   * or all zeros with `zero`.
   *
   * @param name The layer name (parameters `<name>.w`, `<name>.b`).
   * @param fanIn Input features.
   * @param fanOut Output features.
   * @param zero Zero-initialise (improved-diffusion's `zero_module`).
   * @returns The layer's parameters.
   */
  dense(name: string, fanIn: number, fanOut: number, zero = false): DenseParams {
    const bound = zero ? 0 : 1 / Math.sqrt(fanIn);
    return {
      w: this.uniform(`${name}.w`, [fanIn, fanOut], bound),
      b: this.uniform(`${name}.b`, [fanOut], bound),
    };
  }

  /**
   * A k x k convolution with padding k // 2, PyTorch's default init (fan-in = in * k * k),
   * or all zeros with `zero`.
   *
   * @param name The layer name.
   * @param k The kernel size.
   * @param cin Input channels.
   * @param cout Output channels.
   * @param options Stride (default 1) and zero init (default false).
   * @returns The layer's parameters.
   */
  conv(
    name: string,
    k: number,
    cin: number,
    cout: number,
    options: { stride?: number; zero?: boolean } = {},
  ): ConvParams {
    const bound = options.zero ? 0 : 1 / Math.sqrt(cin * k * k);
    return {
      w: this.uniform(`${name}.w`, [k, k, cin, cout], bound),
      b: this.uniform(`${name}.b`, [cout], bound),
      stride: options.stride ?? 1,
      pad: Math.floor(k / 2),
    };
  }

  /**
   * A GroupNorm layer (scale 1, shift 0).
   *
   * @param name The layer name.
   * @param c Channels.
   * @param groups Groups (must divide c).
   * @returns The layer's parameters.
   */
  groupNorm(name: string, c: number, groups: number): GroupNormParams {
    if (c % groups !== 0) {
      throw new RangeError(`Cannot build GroupNorm "${name}": ${groups} groups do not divide ${c}`);
    }
    return {
      gamma: this.constant(`${name}.gamma`, [c], 1),
      beta: this.constant(`${name}.beta`, [c], 0),
      groups,
    };
  }

  /**
   * The number of scalar parameters.
   *
   * @returns The sum of the variables' sizes.
   */
  count(): number {
    return this.variables.reduce((a, v) => a + v.size, 0);
  }

  /** Disposes every variable. */
  dispose(): void {
    for (const v of this.variables) v.dispose();
    this.variables.length = 0;
    this.names.length = 0;
  }
}
