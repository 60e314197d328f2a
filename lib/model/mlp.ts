/**
 * The 2-D MLP of the S-curve demo: three hidden layers `relu(Linear(h) + E_i[t])` of width 128
 * with a learned per-layer timestep embedding, then a linear read-out.
 *
 * @module
 */
import { tf } from "../tf.ts";
import { Rng } from "../random.ts";
import { dense, dropout, embeddingLookup, timestepEmbedding } from "./layers.ts";
import { type DenseParams, ParamStore } from "./params.ts";
import { fusedMlp, fusedMlpAvailable } from "../backend/ops.ts";
import {
  type ApplyOptions,
  type DiffusionModel,
  MLP_TIME_EMBEDDINGS,
  type MlpConfig,
  type MlpTimeEmbedding,
} from "./types.ts";

/**
 * Fills in the defaults of an MLP configuration and checks it.
 *
 * @example
 * ```ts
 * import { resolveMlpConfig } from "./mlp.ts";
 * import assert from "node:assert/strict";
 * const c = resolveMlpConfig({ kind: "mlp", timesteps: 100, outDim: 2 });
 * assert.equal(c.hidden, 128);
 * assert.equal(c.timeEmbedding, "learned");
 * ```
 *
 * @param config A partial configuration.
 * @returns The full configuration.
 */
export function resolveMlpConfig(config: MlpConfig): Required<MlpConfig> {
  const c: Required<MlpConfig> = {
    kind: "mlp",
    timesteps: config.timesteps,
    outDim: config.outDim,
    hidden: config.hidden ?? 128,
    timeEmbedding: config.timeEmbedding ?? "learned",
    dropout: config.dropout ?? 0,
    seed: config.seed ?? 0,
  };
  if (!Number.isInteger(c.timesteps) || c.timesteps < 1) {
    throw new RangeError(`Cannot build the MLP: expected timesteps >= 1, got ${c.timesteps}`);
  }
  if (c.outDim !== 2 && c.outDim !== 4) {
    throw new RangeError(`Cannot build the MLP: expected outDim 2 or 4, got ${c.outDim}`);
  }
  if (!Number.isInteger(c.hidden) || c.hidden < 1 || c.hidden % 2 !== 0) {
    throw new RangeError(`Cannot build the MLP: expected an even hidden width, got ${c.hidden}`);
  }
  if (!(c.dropout >= 0 && c.dropout < 1)) {
    throw new RangeError(`Cannot build the MLP: expected dropout in [0, 1), got ${c.dropout}`);
  }
  _checkEmbedding(c.timeEmbedding);
  return c;
}

function _checkEmbedding(e: MlpTimeEmbedding): void {
  switch (e) {
    case "learned":
    case "sinusoidal":
      return;
    default: {
      const never: never = e;
      throw new RangeError(
        `Cannot build the MLP: expected timeEmbedding one of ${
          MLP_TIME_EMBEDDINGS.join(", ")
        }, got ${never}`,
      );
    }
  }
}

/**
 * Builds the 2-D MLP. With `timeEmbedding: "learned"` (default) the three layers' embedding
 * tables `Embedding(T, hidden)` are stored side by side in one `[T, 3 * hidden]` variable
 * (`embed.table`; one lookup serves all three). With `"sinusoidal"` a fixed sinusoidal
 * embedding of size `hidden` goes through a learned `Linear(hidden -> 3 * hidden)` instead.
 * At T = 100, out 2, hidden 128 the learned model has 72,066 parameters.
 *
 * With learned embeddings and no active dropout, on `wasm`/`cpu` with the native BLAS kernels,
 * the whole network runs as one fused op with a hand-written gradient (`fusedMlp` of `../backend/ops.ts`); the
 * result agrees with the plain composition to float32 rounding.
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { createMlp } from "./mlp.ts";
 * import assert from "node:assert/strict";
 * const m = createMlp({ kind: "mlp", timesteps: 100, outDim: 2 });
 * assert.equal(m.paramCount(), 72066);
 * const y = m.apply(tf.zeros([3, 2]), tf.tensor1d([0, 5, 99], "int32"));
 * assert.deepEqual(y.shape, [3, 2]);
 * m.dispose();
 * ```
 *
 * @param config The configuration.
 * @returns The model.
 */
export function createMlp(config: MlpConfig): DiffusionModel {
  const c = resolveMlpConfig(config);
  const store = new ParamStore("mlp", c.seed);
  const H = c.hidden;
  const layers: DenseParams[] = [
    store.dense("fc0", 2, H),
    store.dense("fc1", H, H),
    store.dense("fc2", H, H),
  ];
  let table: tf.Variable | null = null;
  let timeProj: DenseParams | null = null;
  switch (c.timeEmbedding) {
    case "learned":
      table = store.normal("embed.table", [c.timesteps, 3 * H]);
      break;
    case "sinusoidal":
      timeProj = store.dense("embed.proj", H, 3 * H);
      break;
  }
  const out = store.dense("out", H, c.outDim);
  const rng = new Rng(c.seed, 0xd409);

  function apply(x: tf.Tensor, t: tf.Tensor1D, options: ApplyOptions = {}): tf.Tensor {
    if (x.rank !== 2 || x.shape[1] !== 2) {
      throw new TypeError(`Cannot apply the MLP: expected x of shape [B, 2], got [${x.shape}]`);
    }
    if (t.rank !== 1 || t.shape[0] !== x.shape[0]) {
      throw new TypeError(
        `Cannot apply the MLP: expected t of shape [${x.shape[0]}], got [${t.shape}]`,
      );
    }
    if (options.labels !== undefined) {
      throw new TypeError("Cannot apply the MLP: it takes no class labels");
    }
    const drop = options.training === true ? c.dropout : 0;
    if (table !== null && drop === 0 && x.dtype === "float32" && fusedMlpAvailable()) {
      const [l0, l1, l2] = layers as [DenseParams, DenseParams, DenseParams];
      return tf.tidy(() =>
        fusedMlp(x, t, {
          table: table!,
          w0: l0.w,
          b0: l0.b,
          w1: l1.w,
          b1: l1.b,
          w2: l2.w,
          b2: l2.b,
          wo: out.w,
          bo: out.b,
        })
      );
    }
    return tf.tidy(() => {
      const emb = table !== null
        ? embeddingLookup(table as tf.Tensor2D, tf.cast(t, "int32"))
        : dense(timestepEmbedding(t, H), timeProj!);
      const embs = tf.split(emb, 3, 1);
      let h: tf.Tensor = x;
      for (let i = 0; i < 3; i++) {
        h = tf.relu(tf.add(dense(h, layers[i]!), embs[i]!));
        if (drop > 0) h = dropout(h, drop, rng);
      }
      return dense(h, out);
    });
  }

  return {
    kind: "mlp",
    config: c,
    variables: store.variables,
    names: store.names,
    rng,
    outDim: c.outDim,
    numClasses: 0,
    apply,
    paramCount: () => store.count(),
    dispose: () => store.dispose(),
  };
}
