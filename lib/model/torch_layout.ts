/**
 * The models' parameters as the PyTorch modules of `interop/unet_s.py` name and lay them out,
 * so that weights travel both ways without a converter on the other side:
 *
 * | here (tfjs)                      | there (PyTorch)            | layout                    |
 * | -------------------------------- | -------------------------- | ------------------------- |
 * | `<layer>.w` `[k, k, in, out]`    | `<layer>.weight`           | OIHW `[out, in, k, k]`    |
 * | `<layer>.w` `[in, out]` (dense)  | `<layer>.weight`           | Linear `[out, in]`        |
 * | `<layer>.w` `[in, out]` (1x1)    | `<layer>.weight`           | Conv1x1 `[out, in, 1, 1]` |
 * | `<layer>.b`                      | `<layer>.bias`             | the same                  |
 * | `<norm>.gamma`, `<norm>.beta`    | `<norm>.weight`, `.bias`   | the same                  |
 * | `embed.table` `[T, 3 * hidden]`  | `embed.weight`             | the same (one Embedding)  |
 * | `label_emb.table` `[n + 1, 128]` | `label_emb.weight`         | the same (an Embedding)   |
 *
 * UNet-S's 1x1 convolutions (a ResBlock's `skip`, an attention's `qkv` and `proj`) are dense
 * layers here and `nn.Conv2d(.., 1)` there; the other rank-2 weights are `nn.Linear`.
 *
 * @module
 */
import type { ModelKind } from "./types.ts";

/** How a parameter's values are rearranged between the two layouts. */
export type TorchLayout = "conv" | "linear" | "conv1x1" | "same";

/** One parameter under both names, with both shapes. */
export interface TorchParam {
  /** The stable name here (`model.names`). */
  name: string;
  /** The PyTorch `state_dict` key. */
  torchName: string;
  /** How the values are rearranged. */
  layout: TorchLayout;
  /** The shape here. */
  shape: number[];
  /** The shape there. */
  torchShape: number[];
}

const _CONV1X1 = /\.(skip|qkv|proj)\.w$/;

/** An embedding table (`nn.Embedding`): the MLP's `embed.table`, UNet-S's `label_emb.table`. */
const _TABLE = /^(.+)\.table$/;

function _torchName(kind: ModelKind, name: string): string {
  const table = _TABLE.exec(name);
  if (table !== null) return `${table[1]}.weight`;
  const m = /^(.+)\.(w|b|gamma|beta)$/.exec(name);
  if (m === null) {
    throw new TypeError(
      `Cannot name parameter "${name}" of a ${kind} model for PyTorch: expected a name ending ` +
        `in .w, .b, .gamma or .beta`,
    );
  }
  const suffix = m[2] === "w" || m[2] === "gamma" ? "weight" : "bias";
  return `${m[1]}.${suffix}`;
}

function _layout(kind: ModelKind, name: string, shape: readonly number[]): TorchLayout {
  switch (shape.length) {
    case 1:
      return "same";
    case 2:
      if (_TABLE.test(name)) return "same";
      return kind === "unet-s" && _CONV1X1.test(name) ? "conv1x1" : "linear";
    case 4:
      return "conv";
    default:
      throw new TypeError(
        `Cannot lay out parameter "${name}" for PyTorch: expected rank 1, 2 or 4, got [${shape}]`,
      );
  }
}

function _torchShape(layout: TorchLayout, shape: readonly number[]): number[] {
  switch (layout) {
    case "same":
      return [...shape];
    case "linear":
      return [shape[1]!, shape[0]!];
    case "conv1x1":
      return [shape[1]!, shape[0]!, 1, 1];
    case "conv":
      return [shape[3]!, shape[2]!, shape[0]!, shape[1]!];
    default: {
      const never: never = layout;
      throw new RangeError(`Unknown layout ${never}`);
    }
  }
}

/**
 * The PyTorch name, layout and shape of each parameter of a model of kind `kind`.
 *
 * @example
 * ```ts
 * import { createModel } from "./create_model.ts";
 * import { torchParams } from "./torch_layout.ts";
 * import assert from "node:assert/strict";
 * const m = createModel({ kind: "unet-s" });
 * const params = torchParams(m.kind, m.names, m.variables.map((v) => v.shape));
 * const byName = new Map(params.map((p) => [p.torchName, p]));
 * assert.deepEqual(byName.get("conv_in.weight")!.torchShape, [32, 1, 3, 3]);
 * assert.deepEqual(byName.get("time.fc1.weight")!.torchShape, [128, 32]);
 * assert.deepEqual(byName.get("down.2.0.attn.qkv.weight")!.torchShape, [192, 64, 1, 1]);
 * assert.equal(byName.get("out.norm.weight")!.name, "out.norm.gamma");
 * m.dispose();
 * const cond = createModel({ kind: "unet-s", numClasses: 10 });
 * const label = torchParams(cond.kind, cond.names, cond.variables.map((v) => v.shape)).at(-1)!;
 * assert.deepEqual([label.torchName, label.layout, label.torchShape], ["label_emb.weight", "same", [11, 128]]);
 * cond.dispose();
 * ```
 *
 * @param kind The model kind.
 * @param names The stable parameter names (`model.names`).
 * @param shapes Their shapes here, parallel to `names`.
 * @returns One entry per parameter, in the same order.
 * @throws {RangeError} For a model kind this mapping does not know.
 * @throws {TypeError} For a parameter it cannot name or lay out.
 */
export function torchParams(
  kind: ModelKind,
  names: readonly string[],
  shapes: readonly (readonly number[])[],
): TorchParam[] {
  if (kind !== "mlp" && kind !== "unet-s") {
    throw new RangeError(`Cannot map a "${kind}" model to PyTorch: expected "mlp" or "unet-s"`);
  }
  if (names.length !== shapes.length) {
    throw new TypeError(`Cannot map parameters: ${names.length} names but ${shapes.length} shapes`);
  }
  const seen = new Set<string>();
  return names.map((name, i) => {
    const shape = [...shapes[i]!];
    const layout = _layout(kind, name, shape);
    const torchName = _torchName(kind, name);
    if (seen.has(torchName)) throw new TypeError(`Two parameters map to "${torchName}"`);
    seen.add(torchName);
    return { name, torchName, layout, shape, torchShape: _torchShape(layout, shape) };
  });
}

/**
 * Rearranges a parameter's values from the layout here to PyTorch's.
 *
 * @example
 * ```ts
 * import { torchParams, toTorch } from "./torch_layout.ts";
 * import assert from "node:assert/strict";
 * const [p] = torchParams("mlp", ["fc0.w"], [[2, 3]]);
 * assert.equal(p!.layout, "linear");
 * // [[1, 2, 3], [4, 5, 6]] (in = 2, out = 3) becomes [[1, 4], [2, 5], [3, 6]].
 * assert.deepEqual(Array.from(toTorch(p!, new Float32Array([1, 2, 3, 4, 5, 6]))), [1, 4, 2, 5, 3, 6]);
 * ```
 *
 * @param param The parameter (from {@linkcode torchParams}).
 * @param values Its values here, in C order.
 * @returns A new array in PyTorch's layout.
 */
export function toTorch(param: TorchParam, values: Float32Array): Float32Array {
  return _rearrange(param, values, true);
}

/**
 * Rearranges a parameter's values from PyTorch's layout to the one here (the inverse of
 * {@linkcode toTorch}, exactly: the values are only moved).
 *
 * @example
 * ```ts
 * import { fromTorch, torchParams, toTorch } from "./torch_layout.ts";
 * import assert from "node:assert/strict";
 * const [p] = torchParams("unet-s", ["conv_in.w"], [[3, 3, 2, 4]]);
 * assert.deepEqual(p!.torchShape, [4, 2, 3, 3]);
 * const x = new Float32Array(72).map((_, i) => i);
 * assert.deepEqual(fromTorch(p!, toTorch(p!, x)), x);
 * ```
 *
 * @param param The parameter (from {@linkcode torchParams}).
 * @param values Its values in PyTorch's layout, in C order.
 * @returns A new array in the layout here.
 */
export function fromTorch(param: TorchParam, values: Float32Array): Float32Array {
  return _rearrange(param, values, false);
}

function _rearrange(param: TorchParam, values: Float32Array, forward: boolean): Float32Array {
  const n = param.shape.reduce((a, b) => a * b, 1);
  if (values.length !== n) {
    throw new TypeError(
      `Cannot rearrange "${param.name}": expected ${n} values, got ${values.length}`,
    );
  }
  const out = new Float32Array(n);
  switch (param.layout) {
    case "same":
      out.set(values);
      return out;
    case "linear":
    case "conv1x1": {
      // here [in, out], there [out, in]
      const [cin, cout] = param.shape as [number, number];
      for (let i = 0; i < cin; i++) {
        for (let o = 0; o < cout; o++) {
          if (forward) out[o * cin + i] = values[i * cout + o]!;
          else out[i * cout + o] = values[o * cin + i]!;
        }
      }
      return out;
    }
    case "conv": {
      // here [kh, kw, in, out] (HWIO), there [out, in, kh, kw] (OIHW)
      const [kh, kw, cin, cout] = param.shape as [number, number, number, number];
      for (let h = 0; h < kh; h++) {
        for (let w = 0; w < kw; w++) {
          for (let i = 0; i < cin; i++) {
            for (let o = 0; o < cout; o++) {
              const here = ((h * kw + w) * cin + i) * cout + o;
              const there = ((o * cin + i) * kh + h) * kw + w;
              if (forward) out[there] = values[here]!;
              else out[here] = values[there]!;
            }
          }
        }
      }
      return out;
    }
    default: {
      const never: never = param.layout;
      throw new RangeError(`Unknown layout ${never}`);
    }
  }
}
