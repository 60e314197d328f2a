/**
 * UNet-S, the reference image model of `spec/unet-s.md` (MNIST, 28x28x1, NHWC): channels
 * [32, 64, 64], two ResBlocks per level, single-head attention at 7x7, a skip stack, a
 * sinusoidal(32) -> 128 -> 128 time MLP, GroupNorm(8) everywhere, improved-diffusion's zero
 * initialisation (last conv, each ResBlock's second conv, each attention output projection).
 *
 * With `numClasses > 0` the model is class-conditional: a label embedding `label_emb.table`
 * (`numClasses + 1` rows, the last the null label, of width 128, N(0, 1) like PyTorch's
 * `nn.Embedding`) is added to the time embedding, as improved-diffusion's `label_emb`. It is
 * created after every other parameter, so the rest of the weights are those of the
 * unconditional model of the same seed.
 *
 * The time projections of all 17 ResBlocks are computed by one matrix product; GroupNorm (with
 * the SiLU that follows it) is one fused op (`groupNormSilu` of `../backend/ops.ts`).
 *
 * @module
 */
import { tf } from "../tf.ts";
import { Rng } from "../random.ts";
import {
  conv1x1,
  conv2d,
  dense,
  dropout,
  embeddingLookup,
  silu,
  timestepEmbedding,
  upsample2x,
} from "./layers.ts";
import { groupNormSilu } from "../backend/ops.ts";
import { type ConvParams, type DenseParams, type GroupNormParams, ParamStore } from "./params.ts";
import type { ApplyOptions, DiffusionModel, ResolvedUnetSConfig, UnetSConfig } from "./types.ts";

const _CHANNELS = [32, 64, 64] as const;
const _GROUPS = 8;
const _TIME_IN = 32;
const _TIME_DIM = 128;
const _SIZE = 28;

interface _ResBlock {
  gn1: GroupNormParams;
  conv1: ConvParams;
  temb: DenseParams;
  gn2: GroupNormParams;
  conv2: ConvParams;
  skip: DenseParams | null;
  cout: number;
}

interface _Attention {
  gn: GroupNormParams;
  qkv: DenseParams;
  proj: DenseParams;
}

type _Stage =
  | { kind: "res"; block: _ResBlock; attn: _Attention | null }
  | { kind: "down"; conv: ConvParams }
  | { kind: "up"; conv: ConvParams };

/**
 * Fills in the defaults of a UNet-S configuration and checks it (`numClasses` is kept only
 * when positive).
 *
 * @example
 * ```ts
 * import { resolveUnetSConfig } from "./unet_s.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(resolveUnetSConfig({ kind: "unet-s" }), {
 *   kind: "unet-s",
 *   outChannels: 1,
 *   dropout: 0.1,
 *   seed: 0,
 * });
 * assert.equal(resolveUnetSConfig({ kind: "unet-s", numClasses: 10 }).numClasses, 10);
 * ```
 *
 * @param config A partial configuration.
 * @returns The full configuration.
 */
export function resolveUnetSConfig(config: UnetSConfig): ResolvedUnetSConfig {
  const numClasses = config.numClasses ?? 0;
  const c: ResolvedUnetSConfig = {
    kind: "unet-s",
    outChannels: config.outChannels ?? 1,
    dropout: config.dropout ?? 0.1,
    seed: config.seed ?? 0,
    ...(numClasses > 0 ? { numClasses } : {}),
  };
  if (!Number.isInteger(numClasses) || numClasses < 0 || numClasses > 65535) {
    throw new RangeError(
      `Cannot build UNet-S: expected numClasses an integer in 0..65535, got ${numClasses}`,
    );
  }
  if (c.outChannels !== 1 && c.outChannels !== 2) {
    throw new RangeError(`Cannot build UNet-S: expected outChannels 1 or 2, got ${c.outChannels}`);
  }
  if (!(c.dropout >= 0 && c.dropout < 1)) {
    throw new RangeError(`Cannot build UNet-S: expected dropout in [0, 1), got ${c.dropout}`);
  }
  return c;
}

/**
 * Builds UNet-S: 1,623,169 parameters with one output channel, 1,623,458 with two; a
 * class-conditional one has `(numClasses + 1) * 128` more (1,624,577 for ten classes and one
 * output channel).
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { createUnetS } from "./unet_s.ts";
 * import assert from "node:assert/strict";
 * const m = createUnetS({ kind: "unet-s", outChannels: 2 });
 * assert.equal(m.paramCount(), 1623458);
 * const y = m.apply(tf.zeros([1, 28, 28, 1]), tf.tensor1d([10], "int32"));
 * assert.deepEqual(y.shape, [1, 28, 28, 2]);
 * m.dispose();
 * const cond = createUnetS({ kind: "unet-s", numClasses: 10 });
 * assert.equal(cond.paramCount(), 1623169 + 11 * 128);
 * // Label 3 for the first image, the null label (10) for the second.
 * cond.apply(tf.zeros([2, 28, 28, 1]), tf.tensor1d([5, 5], "int32"), {
 *   labels: tf.tensor1d([3, 10], "int32"),
 * }).dispose();
 * cond.dispose();
 * ```
 *
 * @param config The configuration.
 * @returns The model.
 */
export function createUnetS(config: UnetSConfig): DiffusionModel {
  const c = resolveUnetSConfig(config);
  const s = new ParamStore("unet-s", c.seed);
  const blocks: _ResBlock[] = [];

  const resBlock = (name: string, cin: number, cout: number): _ResBlock => {
    const b: _ResBlock = {
      gn1: s.groupNorm(`${name}.norm1`, cin, _GROUPS),
      conv1: s.conv(`${name}.conv1`, 3, cin, cout),
      temb: s.dense(`${name}.temb`, _TIME_DIM, cout),
      gn2: s.groupNorm(`${name}.norm2`, cout, _GROUPS),
      conv2: s.conv(`${name}.conv2`, 3, cout, cout, { zero: true }),
      skip: cin !== cout ? s.dense(`${name}.skip`, cin, cout) : null,
      cout,
    };
    blocks.push(b);
    return b;
  };
  const attention = (name: string, ch: number): _Attention => ({
    gn: s.groupNorm(`${name}.norm`, ch, _GROUPS),
    qkv: s.dense(`${name}.qkv`, ch, 3 * ch),
    proj: s.dense(`${name}.proj`, ch, ch, true),
  });

  const time1 = s.dense("time.fc1", _TIME_IN, _TIME_DIM);
  const time2 = s.dense("time.fc2", _TIME_DIM, _TIME_DIM);
  const convIn = s.conv("conv_in", 3, 1, _CHANNELS[0]);

  const down: _Stage[] = [];
  const skipChannels: number[] = [_CHANNELS[0]];
  let ch: number = _CHANNELS[0];
  for (let level = 0; level < _CHANNELS.length; level++) {
    const cout = _CHANNELS[level]!;
    const withAttn = level === _CHANNELS.length - 1;
    for (let i = 0; i < 2; i++) {
      const block = resBlock(`down.${level}.${i}`, ch, cout);
      ch = cout;
      const attn = withAttn ? attention(`down.${level}.${i}.attn`, ch) : null;
      down.push({ kind: "res", block, attn });
      skipChannels.push(ch);
    }
    if (level < _CHANNELS.length - 1) {
      down.push({ kind: "down", conv: s.conv(`down.${level}.down`, 3, ch, ch, { stride: 2 }) });
      skipChannels.push(ch);
    }
  }
  const mid0 = resBlock("mid.0", ch, ch);
  const midAttn = attention("mid.attn", ch);
  const mid1 = resBlock("mid.1", ch, ch);

  const up: _Stage[] = [];
  for (let level = _CHANNELS.length - 1; level >= 0; level--) {
    const cout = _CHANNELS[level]!;
    const withAttn = level === _CHANNELS.length - 1;
    for (let i = 0; i < 3; i++) {
      const block = resBlock(`up.${level}.${i}`, ch + skipChannels.pop()!, cout);
      ch = cout;
      const attn = withAttn ? attention(`up.${level}.${i}.attn`, ch) : null;
      up.push({ kind: "res", block, attn });
    }
    if (level > 0) up.push({ kind: "up", conv: s.conv(`up.${level}.up`, 3, ch, ch) });
  }
  const outNorm = s.groupNorm("out.norm", ch, _GROUPS);
  const outConv = s.conv("out.conv", 3, ch, c.outChannels, { zero: true });
  const numClasses = c.numClasses ?? 0;
  // Last, so that every other weight is the unconditional model's of the same seed.
  const labelTable = numClasses > 0
    ? s.normal("label_emb.table", [numClasses + 1, _TIME_DIM])
    : null;
  const rng = new Rng(c.seed, 0xd409);
  const couts = blocks.map((b) => b.cout);

  function apply(x: tf.Tensor, t: tf.Tensor1D, options: ApplyOptions = {}): tf.Tensor {
    if (x.rank !== 4 || x.shape[1] !== _SIZE || x.shape[2] !== _SIZE || x.shape[3] !== 1) {
      throw new TypeError(
        `Cannot apply UNet-S: expected x of shape [B, 28, 28, 1], got [${x.shape}]`,
      );
    }
    if (t.rank !== 1 || t.shape[0] !== x.shape[0]) {
      throw new TypeError(
        `Cannot apply UNet-S: expected t of shape [${x.shape[0]}], got [${t.shape}]`,
      );
    }
    const labels = options.labels;
    if (labels !== undefined) _checkLabels(labels, x.shape[0]!, numClasses);
    const drop = options.training === true ? c.dropout : 0;
    const batch = x.shape[0]!;
    return tf.tidy(() => {
      let emb: tf.Tensor2D = dense(silu(dense(timestepEmbedding(t, _TIME_IN), time1)), time2);
      if (labelTable !== null) {
        const y = labels ?? tf.fill([batch], numClasses, "int32") as tf.Tensor1D;
        emb = tf.add(emb, embeddingLookup(labelTable as tf.Tensor2D, y));
      }
      // One product for every ResBlock's Linear(128 -> cout)(SiLU(temb)).
      const w = tf.concat(blocks.map((b) => b.temb.w), 1);
      const bias = tf.concat(blocks.map((b) => b.temb.b), 0);
      const proj = tf.fused.matMul({ a: silu(emb), b: w as tf.Tensor2D, bias });
      const projs = tf.split(proj, couts, 1);
      const tembOf = new Map<_ResBlock, tf.Tensor>();
      blocks.forEach((b, i) => tembOf.set(b, tf.reshape(projs[i]!, [batch, 1, 1, b.cout])));

      const res = (h: tf.Tensor, b: _ResBlock): tf.Tensor => {
        let y: tf.Tensor = conv2d(groupNormSilu(h, b.gn1), b.conv1);
        y = groupNormSilu(tf.add(y, tembOf.get(b)!), b.gn2);
        if (drop > 0) y = dropout(y, drop, rng);
        y = conv2d(y, b.conv2);
        return tf.add(b.skip !== null ? conv1x1(h, b.skip) : h, y);
      };
      const attend = (h: tf.Tensor, a: _Attention): tf.Tensor => {
        const [bn, hh, ww, cc] = h.shape as [number, number, number, number];
        const n = hh * ww;
        const qkv = tf.reshape(
          dense(tf.reshape(groupNormSilu(h, a.gn, { silu: false }), [bn * n, cc]), a.qkv),
          [
            bn,
            n,
            3 * cc,
          ],
        );
        const [q, k, v] = tf.split(qkv, 3, 2) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
        const scores = tf.matMul(tf.mul(q, 1 / Math.sqrt(cc)), k, false, true);
        const av = tf.matMul(tf.softmax(scores), v);
        const o = dense(tf.reshape(av, [bn * n, cc]), a.proj);
        return tf.add(h, tf.reshape(o, [bn, hh, ww, cc]));
      };
      const stage = (h: tf.Tensor, st: _Stage): tf.Tensor => {
        switch (st.kind) {
          case "res": {
            const y = res(h, st.block);
            return st.attn !== null ? attend(y, st.attn) : y;
          }
          case "down":
            return conv2d(h, st.conv);
          case "up":
            return conv2d(upsample2x(h), st.conv);
        }
      };

      let h: tf.Tensor = conv2d(x, convIn);
      const skips: tf.Tensor[] = [h];
      for (const st of down) {
        h = stage(h, st);
        skips.push(h);
      }
      h = res(attend(res(h, mid0), midAttn), mid1);
      for (const st of up) {
        if (st.kind === "res") h = tf.concat([h, skips.pop()!], 3);
        h = stage(h, st);
      }
      return conv2d(groupNormSilu(h, outNorm), outConv);
    });
  }

  return {
    kind: "unet-s",
    config: c,
    variables: s.variables,
    names: s.names,
    rng,
    outDim: c.outChannels,
    numClasses,
    apply,
    paramCount: () => s.count(),
    dispose: () => s.dispose(),
  };
}

function _checkLabels(labels: tf.Tensor, batch: number, numClasses: number): void {
  if (numClasses === 0) {
    throw new TypeError(
      "Cannot apply UNet-S: labels given to a model trained without labels (numClasses 0)",
    );
  }
  if (labels.rank !== 1 || labels.shape[0] !== batch || labels.dtype !== "int32") {
    throw new TypeError(
      `Cannot apply UNet-S: expected labels int32 of shape [${batch}], got ${labels.dtype} [${labels.shape}]`,
    );
  }
}
