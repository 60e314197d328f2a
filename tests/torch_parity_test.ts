/**
 * Parity with PyTorch (issue 15): the TypeScript models and the PyTorch modules of
 * `interop/unet_s.py` give the same output on the same input and weights (to 1e-4), for UNet-S
 * with one and two output channels and for the MLP, the weights travelling through the model
 * file (`lib/model/model_file.ts`) and read by `interop/model_file.py`; and `deno task export`
 * followed by `deno task import` is bit-identical. Needs `python3` with torch (Debian's
 * `python3-torch`; `PYTHON` names another interpreter).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { tf } from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { createModel } from "../lib/model/create_model.ts";
import type { ModelConfig } from "../lib/model/types.ts";
import { encodeModelFile } from "../lib/model/model_file.ts";
import { Rng } from "../lib/random.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  f32Tensor,
  float32Of,
} from "../lib/io/safetensors.ts";
import { runTraining } from "../tasks/_train_loop.ts";
import { createSchedule } from "../lib/schedule.ts";
import { trainingLosses } from "../lib/loss.ts";
import { config, quiet } from "./_train_helpers.ts";

const PYTHON = Deno.env.get("PYTHON") ?? "/usr/bin/python3";
const ROOT = new URL("..", import.meta.url).pathname;

async function _python(args: string[]): Promise<string> {
  const out = await new Deno.Command(PYTHON, {
    args,
    cwd: ROOT,
    env: { OMP_NUM_THREADS: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${PYTHON} ${args.join(" ")} failed:\n${text}`);
  return text;
}

/** Every weight moved off its initial value (zero-initialised layers included). */
function _perturb(m: ReturnType<typeof createModel>, seed: number): void {
  const rng = new Rng(seed);
  m.variables.forEach((v) => {
    const fanIn = v.shape.length > 1 ? v.shape.slice(0, -1).reduce((a, b) => a * b, 1) : 16;
    const noise = rng.fillNormal(new Float32Array(v.size));
    const base = v.dataSync();
    const values = noise.map((z, i) => base[i]! + z / Math.sqrt(fanIn));
    v.assign(tf.tensor(values, v.shape, "float32"));
  });
}

async function _parity(modelConfig: ModelConfig, backend: "cpu" | "wasm"): Promise<number> {
  await initBackend(backend);
  const m = createModel(modelConfig);
  const dir = await Deno.makeTempDir();
  try {
    _perturb(m, 11);
    const image = m.kind === "unet-s";
    const b = image ? 3 : 64;
    const T = image ? 1000 : (modelConfig as { timesteps: number }).timesteps;
    const rng = new Rng(5);
    const x = rng.fillNormal(new Float32Array(b * (image ? 784 : 2)));
    const t = Int32Array.from({ length: b }, () => rng.int(T));
    // A class-conditional model: a digit for each example but the last, which gets the null label.
    const classes = (modelConfig as { numClasses?: number }).numClasses ?? 0;
    const labels = Int32Array.from(
      { length: b },
      (_, i) => (i === b - 1 ? classes : (3 * i + 1) % classes),
    );
    await Deno.writeFile(join(dir, "model.safetensors"), _modelFile(m));
    // [B, 28, 28, 1] and [B, 1, 28, 28] hold the same values in the same order.
    await Deno.writeFile(
      join(dir, "inputs.safetensors"),
      encodeSafetensors({
        x: f32Tensor(x, image ? [b, 1, 28, 28] : [b, 2]),
        t: { dtype: "I32", shape: [b], data: new Uint8Array(t.buffer) },
        ...(classes
          ? { y: { dtype: "I32", shape: [b], data: new Uint8Array(labels.buffer) } }
          : {}),
      }),
    );
    await _python([
      "interop/parity.py",
      join(dir, "model.safetensors"),
      join(dir, "inputs.safetensors"),
      join(dir, "out.safetensors"),
    ]);
    const theirs = decodeSafetensors(await Deno.readFile(join(dir, "out.safetensors")));
    const y = float32Of(theirs.tensors.get("y")!, "y");
    const ours = tf.tidy(() =>
      m.apply(
        tf.tensor(x, image ? [b, 28, 28, 1] : [b, 2]),
        tf.tensor1d(t, "int32"),
        classes ? { labels: tf.tensor1d(labels, "int32") } : {},
      )
    );
    const mine = ours.dataSync();
    assert.deepEqual(ours.shape, theirs.tensors.get("y")!.shape);
    ours.dispose();
    let max = 0, scale = 0;
    for (let i = 0; i < y.length; i++) {
      max = Math.max(max, Math.abs(mine[i]! - y[i]!));
      scale = Math.max(scale, Math.abs(y[i]!));
    }
    assert.ok(scale > 0.1, `outputs of size ${scale}: the test would prove little`);
    console.log(
      `  ${m.kind} out ${m.outDim} on ${backend}: largest difference ${
        max.toExponential(2)
      } (outputs up to ${scale.toFixed(2)})`,
    );
    return max;
  } finally {
    m.dispose();
    await Deno.remove(dir, { recursive: true });
  }
}

function _modelFile(m: ReturnType<typeof createModel>): Uint8Array {
  return encodeModelFile({
    config: m.config,
    step: 0,
    weights: "raw",
    names: [...m.names],
    shapes: m.variables.map((v) => v.shape),
    values: m.variables.map((v) => v.dataSync() as Float32Array),
    metadata: {},
  });
}

/** The per-example hybrid losses of both sides on the same x_0, t, noise and weights. */
async function _lossParity(
  modelConfig: ModelConfig,
  setting: { schedule: "cosine" | "sigmoid"; timesteps: number },
): Promise<number> {
  await initBackend("cpu");
  const m = createModel(modelConfig);
  const dir = await Deno.makeTempDir();
  try {
    _perturb(m, 12);
    const image = m.kind === "unet-s";
    const b = image ? 4 : 64;
    const rng = new Rng(9);
    const x0 = rng.fillNormal(new Float32Array(b * (image ? 784 : 2))).map((v) =>
      image ? Math.max(-1, Math.min(1, v)) : v / 3
    );
    const noise = rng.fillNormal(new Float32Array(x0.length));
    // t = 0 (the decoder's likelihood) and the last step among them.
    const t = Int32Array.from(
      { length: b },
      (_, i) => i === 0 ? 0 : i === 1 ? setting.timesteps - 1 : rng.int(setting.timesteps),
    );
    const shape = image ? [b, 28, 28, 1] : [b, 2];
    await Deno.writeFile(join(dir, "model.safetensors"), _modelFile(m));
    const meta = {
      schedule: setting.schedule,
      timesteps: String(setting.timesteps),
      loss: "hybrid",
      variance: "learned-range",
      data: image ? "image" : "continuous",
    } as const;
    await Deno.writeFile(
      join(dir, "inputs.safetensors"),
      encodeSafetensors({
        x: f32Tensor(x0, image ? [b, 1, 28, 28] : [b, 2]),
        t: { dtype: "I32", shape: [b], data: new Uint8Array(t.buffer) },
        noise: f32Tensor(noise, image ? [b, 1, 28, 28] : [b, 2]),
      }, meta),
    );
    await _python([
      "interop/parity.py",
      join(dir, "model.safetensors"),
      join(dir, "inputs.safetensors"),
      join(dir, "out.safetensors"),
    ]);
    const theirs = decodeSafetensors(await Deno.readFile(join(dir, "out.safetensors")));
    const schedule = createSchedule(setting.schedule, { numTimesteps: setting.timesteps });
    const mine = tf.tidy(() => {
      const r = trainingLosses(
        schedule,
        (x, tt) => m.apply(x, tt),
        tf.tensor(x0, shape),
        tf.tensor1d(t, "int32"),
        {
          loss: "hybrid",
          variance: "learned-range",
          data: meta.data,
          noise: tf.tensor(noise, shape),
        },
      );
      return { loss: r.loss.arraySync(), mse: r.mse.arraySync(), vlb: r.vlb.arraySync() };
    });
    let worst = 0;
    for (const k of ["loss", "mse", "vlb"] as const) {
      const y = float32Of(theirs.tensors.get(k)!, k);
      mine[k].forEach((v, i) => {
        worst = Math.max(worst, Math.abs(v - y[i]!) / Math.max(1, Math.abs(y[i]!)));
      });
    }
    console.log(
      `  ${m.kind} hybrid loss, ${setting.schedule} T=${setting.timesteps}: largest relative ` +
        `difference ${worst.toExponential(2)} (losses ${
          Array.from(mine.loss.slice(0, 3), (v) => v.toPrecision(3)).join(", ")
        }, ...)`,
    );
    return worst;
  } finally {
    m.dispose();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("parity with PyTorch: the hybrid training loss (interop/diffusion.py) to 1e-4", async () => {
  const unet = await _lossParity({ kind: "unet-s", outChannels: 2, seed: 4 }, {
    schedule: "cosine",
    timesteps: 1000,
  });
  assert.ok(unet < 1e-4, `UNet-S: ${unet}`);
  const mlp = await _lossParity({ kind: "mlp", timesteps: 100, outDim: 4, seed: 5 }, {
    schedule: "sigmoid",
    timesteps: 100,
  });
  assert.ok(mlp < 1e-4, `MLP: ${mlp}`);
});

const CASES: [string, ModelConfig][] = [
  ["UNet-S, 1 output channel", { kind: "unet-s", outChannels: 1, seed: 1 }],
  ["UNet-S, 2 output channels", { kind: "unet-s", outChannels: 2, seed: 2 }],
  ["UNet-S, class-conditional", { kind: "unet-s", outChannels: 2, seed: 6, numClasses: 10 }],
  ["MLP, T = 100, out 2", { kind: "mlp", timesteps: 100, outDim: 2, seed: 3 }],
  ["MLP, sinusoidal, out 4", {
    kind: "mlp",
    timesteps: 1000,
    outDim: 4,
    timeEmbedding: "sinusoidal",
  }],
];

for (const [what, modelConfig] of CASES) {
  Deno.test(`parity with PyTorch: ${what}, same output to 1e-4`, async () => {
    for (const backend of ["cpu", "wasm"] as const) {
      assert.ok((await _parity(modelConfig, backend)) < 1e-4, `${what} on ${backend}`);
    }
  });
}

Deno.test("deno task export then deno task import is bit-identical", async () => {
  const out = await Deno.makeTempDir();
  const cli = async (task: string, args: string[]) => {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `tasks/${task}.ts`, ...args],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    return {
      code: r.code,
      out: new TextDecoder().decode(r.stdout),
      err: new TextDecoder().decode(r.stderr),
    };
  };
  try {
    const cfg = config(out, [
      ...["--steps", "4", "--batch", "8", "--workers", "0", "--backend", "cpu"],
      ...["--timesteps", "10", "--log-every", "1", "--sample-every", "0", "--eval-every", "0"],
      ...["--loss", "hybrid", "--name", "src"],
    ]);
    const trained = await runTraining(cfg, { write: quiet, plain: true, progressEvery: 0 });
    const file = join(out, "all.safetensors");
    const e = await cli("export", [
      "--runs",
      out,
      "--run",
      trained.id,
      "--weights",
      "all",
      "--out",
      file,
    ]);
    assert.equal(e.code, 0, e.err);
    const i = await cli("import", ["--file", file, "--out", out, "--name", "back"]);
    assert.equal(i.code, 0, i.err);
    const id = /as run (\S+)/.exec(i.out)![1]!;
    const ckpt = (dir: string) =>
      Deno.readFile(join(out, dir, "checkpoints", "step_00000004", "weights.bin"));
    assert.deepEqual(await ckpt(id), await ckpt(trained.id), "weights, EMA and Adam's moments");
    const record = JSON.parse(await Deno.readTextFile(join(out, id, "run.json")));
    assert.equal(record.status, "completed");
    assert.equal(record.config.loss, "hybrid");

    // Bad input: one line, exit 2, nothing written.
    await Deno.writeTextFile(join(out, "text.safetensors"), "not a tensor file at all");
    const bytes = await Deno.readFile(file);
    const parsed = decodeSafetensors(bytes);
    const renamed = new Map(
      [...parsed.tensors].map(([k, v]) => [k === "fc0.weight" ? "fc9.weight" : k, v]),
    );
    await Deno.writeFile(
      join(out, "renamed.safetensors"),
      encodeSafetensors(renamed, parsed.metadata),
    );
    await Deno.writeFile(
      join(out, "kind.safetensors"),
      encodeSafetensors(parsed.tensors, { ...parsed.metadata, model: '{"kind":"dit"}' }),
    );
    const before = [...Deno.readDirSync(out)].length;
    for (
      const [name, message] of [
        ["text.safetensors", /Not a safetensors file/],
        ["renamed.safetensors", /tensor "fc0.weight" \[128,2\] is missing/],
        ["kind.safetensors", /unknown model kind "dit"/],
        ["missing.safetensors", /cannot read/],
      ] as const
    ) {
      const r = await cli("import", ["--file", join(out, name), "--out", out]);
      assert.equal(r.code, 2, name);
      assert.match(r.err, message, name);
      assert.equal(r.err.trim().split("\n").length, 1, `${name}: one line`);
    }
    assert.equal([...Deno.readDirSync(out)].length, before, "nothing written");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
