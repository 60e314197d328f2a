/**
 * Adam as PyTorch's `torch.optim.Adam` computes it, with state (m, v, step) that can be read
 * out and restored for checkpoints, and an optional gradient scale (the clipping factor)
 * folded into the moment updates.
 *
 * On the `wasm` and `cpu` backends the update of all the parameters is one kernel call
 * (`fusedAdamUpdate`, in C or JavaScript); elsewhere it is composed of tfjs ops. Both compute in
 * float32 with the same operations in the same order, and give the same bits.
 *
 * @module
 */
import { tf } from "../tf.ts";
import { fusedAdamUpdate, hostScalar } from "../backend/ops.ts";

/** Adam's hyper-parameters. */
export interface AdamOptions {
  /** First-moment decay. @default {0.9} */
  beta1?: number;
  /** Second-moment decay. @default {0.999} */
  beta2?: number;
  /** Added to the bias-corrected sqrt(v). @default {1e-8} */
  eps?: number;
}

/** Adam's state as plain arrays, parallel to the parameters. */
export interface AdamState {
  /** Updates done so far. */
  step: number;
  /** First moments. */
  m: Float32Array[];
  /** Second moments. */
  v: Float32Array[];
}

/**
 * Adam over a fixed list of variables. The update for each parameter is
 * `w -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)` with `bc_i = 1 - beta_i^step`.
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { Adam } from "./adam.ts";
 * import assert from "node:assert/strict";
 * const w = tf.variable(tf.tensor1d([1]));
 * const adam = new Adam([w]);
 * adam.update([tf.tensor1d([0.5])], 0.1);
 * assert.ok(Math.abs(w.dataSync()[0]! - 0.9) < 1e-6);
 * assert.equal(adam.step, 1);
 * adam.dispose();
 * ```
 */
export class Adam {
  /** The first moments (one per parameter). */
  readonly m: tf.Variable[];
  /** The second moments. */
  readonly v: tf.Variable[];
  /** Updates done so far. */
  step = 0;
  readonly #params: tf.Variable[];
  readonly #beta1: number;
  readonly #beta2: number;
  readonly #eps: number;

  /**
   * @param params The variables to optimise.
   * @param options Hyper-parameters.
   */
  constructor(params: tf.Variable[], options: AdamOptions = {}) {
    this.#params = params;
    this.#beta1 = options.beta1 ?? 0.9;
    this.#beta2 = options.beta2 ?? 0.999;
    this.#eps = options.eps ?? 1e-8;
    for (const [k, b] of [["beta1", this.#beta1], ["beta2", this.#beta2]] as const) {
      if (!(b >= 0 && b < 1)) throw new RangeError(`Cannot build Adam: expected ${k} in [0, 1)`);
    }
    this.m = params.map((p) => _zeroVariable(p));
    this.v = params.map((p) => _zeroVariable(p));
  }

  /**
   * Applies one update.
   *
   * @param grads Gradients, parallel to the parameters.
   * @param lr The learning rate of this step.
   * @param gradScale A scalar the gradients are multiplied by first (e.g. the clip factor).
   */
  update(grads: tf.Tensor[], lr: number, gradScale?: tf.Scalar): void {
    if (grads.length !== this.#params.length) {
      throw new TypeError(
        `Cannot update Adam: expected ${this.#params.length} gradients, got ${grads.length}`,
      );
    }
    this.step++;
    const bc1 = 1 - Math.pow(this.#beta1, this.step);
    const bc2 = 1 - Math.pow(this.#beta2, this.step);
    const scale = gradScale === undefined ? 1 : hostScalar(gradScale);
    // The factors as the ops below round them: (1 - beta) times the scale, or its square.
    const f = Math.fround;
    if (
      scale !== null &&
      fusedAdamUpdate(this.#params, this.m, this.v, grads, {
        beta1: this.#beta1,
        beta2: this.#beta2,
        c1: f(f(1 - this.#beta1) * scale),
        c2: f(f(1 - this.#beta2) * f(scale * scale)),
        stepSize: lr * Math.sqrt(bc2) / bc1,
        epsHat: this.#eps * Math.sqrt(bc2),
      })
    ) {
      return;
    }
    tf.tidy(() => {
      const b1 = tf.scalar(this.#beta1);
      const b2 = tf.scalar(this.#beta2);
      let c1: tf.Scalar = tf.scalar(1 - this.#beta1);
      let c2: tf.Scalar = tf.scalar(1 - this.#beta2);
      if (gradScale !== undefined) {
        c1 = tf.mul(c1, gradScale);
        c2 = tf.mul(c2, tf.square(gradScale));
      }
      const stepSize = tf.scalar(lr * Math.sqrt(bc2) / bc1);
      const epsHat = tf.scalar(this.#eps * Math.sqrt(bc2));
      this.#params.forEach((p, i) => {
        const g = grads[i]!;
        const m = this.m[i]!, v = this.v[i]!;
        m.assign(tf.add(tf.mul(m, b1), tf.mul(g, c1)));
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), c2)));
        p.assign(tf.sub(p, tf.div(tf.mul(m, stepSize), tf.add(tf.sqrt(v), epsHat))));
      });
    });
  }

  /**
   * Reads the state out (for a checkpoint).
   *
   * @returns Copies of m, v and the step.
   */
  getState(): AdamState {
    return {
      step: this.step,
      m: this.m.map((t) => t.dataSync() as Float32Array).map((a) => a.slice()),
      v: this.v.map((t) => t.dataSync() as Float32Array).map((a) => a.slice()),
    };
  }

  /**
   * Restores a state from {@linkcode Adam.getState} (or a checkpoint).
   *
   * @param state The state; sizes must match the parameters.
   */
  setState(state: AdamState): void {
    for (const key of ["m", "v"] as const) {
      const arr = state[key];
      if (arr.length !== this.#params.length) {
        throw new TypeError(
          `Cannot restore Adam: expected ${this.#params.length} ${key} tensors, got ${arr.length}`,
        );
      }
      arr.forEach((a, i) => {
        const target = this[key][i]!;
        if (a.length !== target.size) {
          throw new TypeError(
            `Cannot restore Adam: ${key}[${i}] has ${a.length} values, expected ${target.size}`,
          );
        }
        // A copy: the cpu backend would otherwise share the caller's array.
        tf.tidy(() => target.assign(tf.tensor(a.slice(), target.shape, "float32")));
      });
    }
    this.step = state.step;
  }

  /** Frees the moment variables. */
  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}

function _zeroVariable(p: tf.Variable): tf.Variable {
  const z = tf.zerosLike(p);
  const v = tf.variable(z, false);
  z.dispose();
  return v;
}
