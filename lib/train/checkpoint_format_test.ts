import assert from "node:assert/strict";
import { createModel } from "../model/create_model.ts";
import { createTrainer } from "./trainer.ts";
import { loadCheckpoint, saveCheckpoint, saveEmaCheckpoint } from "./checkpoint.ts";
import {
  CheckpointError,
  decodeCheckpoint,
  parseCheckpointManifest,
  samplingManifest,
} from "./checkpoint_format.ts";
import { modelFromCheckpoint } from "./checkpoint_model.ts";
import { tf } from "../tf.ts";

async function _files(dir: string): Promise<{ text: string; bytes: Uint8Array }> {
  return {
    text: await Deno.readTextFile(`${dir}/checkpoint.json`),
    bytes: await Deno.readFile(`${dir}/weights.bin`),
  };
}

Deno.test("decodeCheckpoint of the two files equals loadCheckpoint, float32 and float16", async () => {
  const model = createModel({ kind: "mlp", timesteps: 10, outDim: 2, seed: 4 });
  const trainer = createTrainer({
    model,
    loss: (apply, x0) => ({
      loss: tf.mean(tf.square(apply(x0, tf.zeros([x0.shape[0]!], "int32") as tf.Tensor1D))),
    }),
  });
  const dir = await Deno.makeTempDir();
  try {
    await trainer.step(tf.ones([4, 2]));
    await saveCheckpoint(`${dir}/full`, trainer, { config: { dataset: "s-curve" } });
    const loaded = await loadCheckpoint(`${dir}/full`);
    const full = await _files(`${dir}/full`);
    assert.deepEqual(decodeCheckpoint(full.text, full.bytes, `${dir}/full`), loaded);

    // The sampling checkpoint cut out of the full one (as the viewer serves it) decodes to the
    // EMA weights, as the one saveEmaCheckpoint writes.
    const { json, ranges } = samplingManifest(parseCheckpointManifest(full.text, "full"));
    const cut = new Uint8Array(ranges.reduce((a, r) => a + r.length, 0));
    let at = 0;
    for (const r of ranges) {
      cut.set(full.bytes.subarray(r.start, r.start + r.length), at);
      at += r.length;
    }
    assert.equal(cut.length * 4, full.bytes.length);
    const served = decodeCheckpoint(JSON.stringify(json), cut);
    assert.equal(served.emaOnly, true);
    assert.deepEqual(served.ema, loaded.ema);
    await saveEmaCheckpoint(`${dir}/ema`, loaded);
    const saved = await _files(`${dir}/ema`);
    assert.deepEqual(JSON.parse(saved.text), json);
    assert.deepEqual(saved.bytes, cut);

    await saveEmaCheckpoint(`${dir}/half`, loaded, { dtype: "float16" });
    const half = await _files(`${dir}/half`);
    const h = decodeCheckpoint(half.text, half.bytes);
    assert.deepEqual(h, await loadCheckpoint(`${dir}/half`));
    h.ema.forEach((a, i) =>
      a.forEach((x, j) => assert.ok(Math.abs(x - loaded.ema[i]![j]!) <= 1e-3 * Math.abs(x) + 1e-7))
    );
    // A sampling checkpoint is its own: one range, the whole file.
    const again = samplingManifest(parseCheckpointManifest(half.text, "half"));
    assert.deepEqual(again.ranges, [{ start: 0, length: half.bytes.length }]);

    const ema = modelFromCheckpoint(h);
    assert.equal(ema.paramCount(), model.paramCount());
    ema.dispose();
    assert.throws(() => modelFromCheckpoint(h, { weights: "model" }), CheckpointError);
  } finally {
    trainer.dispose();
    model.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decodeCheckpoint: wrong sizes and non-finite values are one-line CheckpointErrors", () => {
  const text = JSON.stringify({
    format: "diffusion-ts-checkpoint",
    version: 1,
    step: 1,
    emaOnly: true,
    model: { kind: "mlp", timesteps: 10, outDim: 2 },
    weightsManifest: [{
      paths: ["weights.bin"],
      weights: [
        { name: "w", shape: [2], dtype: "float32", group: "ema" },
      ],
    }],
  });
  assert.throws(
    () => decodeCheckpoint(text, new Uint8Array(4), "c1"),
    /^CheckpointError: Cannot load checkpoint c1: weights.bin has 4 bytes, the manifest needs 8$/,
  );
  const nan = new Uint8Array(new Float32Array([1, NaN]).buffer);
  assert.throws(() => decodeCheckpoint(text, nan), /tensor "w" \(model\) holds NaN at index 1/);
  assert.throws(
    () => parseCheckpointManifest(text.replace('"float32"', '"int8"'), "c1"),
    /tensor w has dtype int8, not float32/,
  );
});

Deno.test("float16 weights decode without Float16Array as with it", () => {
  const values = new Float16Array([0, -0, 1, -2.5, 65504, 6.1e-5, 5.96e-8, -3e-6, 0.1, Infinity]);
  const text = JSON.stringify({
    format: "diffusion-ts-checkpoint",
    version: 1,
    step: 1,
    emaOnly: true,
    model: { kind: "mlp", timesteps: 10, outDim: 2 },
    weightsManifest: [{
      paths: ["weights.bin"],
      weights: [{ name: "w", shape: [9], dtype: "float16", group: "ema" }],
    }],
  });
  const bytes = new Uint8Array(values.buffer, 0, 18);
  const native = decodeCheckpoint(text, bytes).ema[0]!;
  const g = globalThis as { Float16Array?: unknown };
  const saved = g.Float16Array;
  try {
    delete g.Float16Array;
    assert.equal(typeof Float16Array, "undefined");
    assert.deepEqual(decodeCheckpoint(text, bytes).ema[0], native);
  } finally {
    g.Float16Array = saved;
  }
  assert.deepEqual(Array.from(native), Array.from(values.subarray(0, 9)));
});
