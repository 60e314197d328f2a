import assert from "node:assert/strict";
import { createModel } from "./create_model.ts";
import {
  decodeModelFile,
  encodeModelFile,
  ModelFileError,
  type ModelFileState,
} from "./model_file.ts";
import { decodeSafetensors, encodeSafetensors, f32Tensor } from "../io/safetensors.ts";
import type { ModelConfig } from "./types.ts";

function _state(config: ModelConfig, weights: "ema" | "all"): ModelFileState {
  const m = createModel(config);
  const values = m.variables.map((v) => v.dataSync().slice() as Float32Array);
  const names = [...m.names], shapes = m.variables.map((v) => [...v.shape]);
  m.dispose();
  const noisy = (k: number) => values.map((a) => a.map((x, i) => x + Math.sin(i + k) * 0.01));
  const state: ModelFileState = {
    config,
    step: 123,
    weights,
    names,
    shapes,
    values,
    metadata: { schedule: '{"name":"cosine","timesteps":1000}' },
  };
  if (weights === "all") {
    state.ema = noisy(1);
    state.adam = { step: 120, m: noisy(2), v: noisy(3).map((a) => a.map(Math.abs)) };
  }
  return state;
}

Deno.test("model file: encode then decode is bit-identical (UNet-S with everything, MLP)", () => {
  for (
    const [config, weights] of [
      [{ kind: "unet-s", outChannels: 2, dropout: 0.1, seed: 3 }, "all"],
      [{ kind: "mlp", timesteps: 10, outDim: 4, timeEmbedding: "sinusoidal" }, "ema"],
    ] as const
  ) {
    const s = _state(config, weights);
    const back = decodeModelFile(encodeModelFile(s));
    assert.equal(back.step, 123);
    assert.equal(back.weights, weights);
    assert.deepEqual(back.names, s.names);
    assert.deepEqual(back.values, s.values);
    assert.deepEqual(back.ema, s.ema);
    assert.deepEqual(back.adam, s.adam);
    assert.equal(back.metadata.schedule, s.metadata.schedule);
    assert.equal(back.config.kind, config.kind);
  }
});

Deno.test("model file: wrong names, shapes, kinds and files are refused in one line", () => {
  const good = encodeModelFile(_state({ kind: "mlp", timesteps: 10, outDim: 2 }, "ema"));
  const { tensors, metadata } = decodeSafetensors(good);
  const without = new Map(tensors);
  without.delete("fc1.weight");
  const renamed = new Map([...tensors].map(([k, v]) => [k === "out.bias" ? "out.b" : k, v]));
  const reshaped = new Map(tensors);
  reshaped.set("out.weight", f32Tensor(new Float32Array(256), [128, 2]));
  const extra = new Map(tensors);
  extra.set("fc3.weight", f32Tensor(new Float32Array(4), [2, 2]));
  const nan = new Map(tensors);
  nan.set("out.bias", f32Tensor(new Float32Array([0, NaN]), [2]));
  const cases: [string, Uint8Array, RegExp][] = [
    ["not safetensors", new TextEncoder().encode("hello, this is text"), /Not a safetensors file/],
    ["missing", encodeSafetensors(without, metadata), /tensor "fc1.weight" \[128,128\] is missing/],
    ["renamed", encodeSafetensors(renamed, metadata), /"out.bias" \[2\] is missing/],
    [
      "reshaped",
      encodeSafetensors(reshaped, metadata),
      /"out.weight" has shape \[128,2\], expected \[2,128\]/,
    ],
    [
      "extra",
      encodeSafetensors(extra, metadata),
      /1 tensor\(s\) that a mlp model does not have: "fc3.weight"/,
    ],
    ["NaN", encodeSafetensors(nan, metadata), /"out.bias" holds NaN at index 1/],
    ["no config", encodeSafetensors(tensors, {}), /no model configuration/],
    [
      "unknown kind",
      encodeSafetensors(tensors, { ...metadata, model: '{"kind":"dit"}' }),
      /unknown model kind "dit": expected "mlp" or "unet-s"/,
    ],
    [
      "bad config",
      encodeSafetensors(tensors, {
        ...metadata,
        model: '{"kind":"mlp","timesteps":10,"outDim":3}',
      }),
      /invalid model configuration: .*outDim 2 or 4/,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    assert.throws(() => decodeModelFile(bytes), (e: Error) => {
      assert.ok(e instanceof ModelFileError, `${what}: ${e}`);
      assert.match(e.message, message, what);
      assert.ok(!e.message.includes("\n"), what);
      return true;
    });
  }
});
