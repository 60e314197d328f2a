/**
 * Inpainting and denoising with the pretrained MNIST model, measured on test digits; prints JSON.
 *
 * Inpainting: the top half and the left half of `--n` test digits (taken class by class), one
 * draw each, by RePaint and by plain replacement on `--sample-steps` respaced steps: how often the
 * project's digit classifier gives back the original label, and the mean L2 distance to the
 * original (in [-1, 1], over the whole image; the known half is kept exactly). For comparison,
 * the classifier on the originals and on the masked inputs (the unknown half black).
 *
 * Denoising: the same digits with N(0, sigma^2) noise added in [-1, 1] (sigma 0.2, 0.5, 1.0),
 * one posterior draw each: PSNR (peak to peak 2) before and after, and the classifier's accuracy.
 *
 * @example
 * ```sh
 * deno run -A bench/inpaint_denoise.ts --n 50 --sample-steps 50 --jump 10 --resample 10 > inpaint.json
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { tf } from "../lib/tf.ts";
import { Rng } from "../lib/random.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { inpaint, type InpaintMethod } from "../lib/inpaint.ts";
import { denoise } from "../lib/denoise.ts";
import { samplingSchedule } from "../lib/respace.ts";
import { scheduleOf } from "../lib/train/recipe.ts";
import { classProbabilities } from "../lib/quality/classifier.ts";
import { loadClassifier } from "../lib/quality/weights.ts";
import { loadMnist } from "../workers/mnist.ts";
import { loadRun } from "../tasks/_load_run.ts";
import { type HalfMask, halfMask } from "../tasks/inpaint.ts";

/** Measures and prints the JSON (see the module doc). */
async function main(): Promise<void> {
  const { values: a } = parseArgs({
    args: Deno.args,
    options: {
      n: { type: "string", default: "50" },
      "sample-steps": { type: "string", default: "50" },
      jump: { type: "string", default: "10" },
      resample: { type: "string", default: "10" },
      sigmas: { type: "string", default: "0.2,0.5,1.0" },
      masks: { type: "string", default: "top,left" },
      methods: { type: "string", default: "repaint,replace" },
      seed: { type: "string", default: "0" },
      backend: { type: "string", default: "auto" },
    },
  });
  const n = Number(a.n),
    jump = Number(a.jump),
    resample = Number(a.resample),
    seed = Number(a.seed);

  const backend = await initBackend(a.backend as "auto");
  console.error(`backend: ${backend.detail}`);
  const run = await loadRun("pretrained", "mnist-unet-s", true, () => {});
  const { config, model } = run;
  const base = scheduleOf(config);
  const { schedule } = samplingSchedule(base, a["sample-steps"]!);
  const fn = (x: tf.Tensor, t: tf.Tensor1D) => model.apply(x, t, { training: false });
  const { classifier } = await loadClassifier();

  // Test digits class by class (as the pictures take them): digit j has class j % 10.
  const test = loadMnist().test;
  const byClass: number[][] = Array.from({ length: 10 }, () => []);
  test.labels.forEach((label, i) => byClass[label]!.push(i));
  const x0 = new Float32Array(n * 784), labels = new Uint8Array(n);
  for (let j = 0; j < n; j++) {
    const i = byClass[j % 10]![Math.floor(j / 10)]!;
    x0.set(test.images.subarray(i * 784, (i + 1) * 784), j * 784);
    labels[j] = j % 10;
  }

  function accuracy(images: Float32Array): number {
    const p = classProbabilities(classifier, images);
    let right = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let k = 1; k < 10; k++) if (p[i * 10 + k]! > p[i * 10 + best]!) best = k;
      if (best === labels[i]) right++;
    }
    return right / n;
  }

  function meanL2(images: Float32Array): number {
    let s = 0;
    for (let i = 0; i < n; i++) {
      let d = 0;
      for (let p = i * 784; p < (i + 1) * 784; p++) d += (images[p]! - x0[p]!) ** 2;
      s += Math.sqrt(d);
    }
    return s / n;
  }

  function psnr(images: Float32Array): number {
    let mse = 0;
    for (let p = 0; p < images.length; p++) mse += (images[p]! - x0[p]!) ** 2;
    return 10 * Math.log10(4 / (mse / images.length));
  }

  const r3 = (v: number) => Math.round(v * 1000) / 1000;
  const result: Record<string, unknown> = {
    run: "pretrained/mnist-unet-s",
    backend: backend.detail,
    n,
    steps: a["sample-steps"],
    originalAccuracy: accuracy(x0),
    inpaint: [] as unknown[],
    denoise: [] as unknown[],
  };

  const known = tf.tensor4d(x0, [n, 28, 28, 1]);
  for (const half of a.masks!.split(",") as HalfMask[]) {
    const m = halfMask(half, 28);
    const masked = x0.map((v, p) => (m[p % 784]! > 0 ? v : -1));
    const mask = tf.tensor4d(m, [1, 28, 28, 1]);
    for (const method of a.methods!.split(",") as InpaintMethod[]) {
      const t0 = performance.now();
      let calls = 0;
      const out = inpaint(schedule, fn, known, mask, {
        method,
        jumpLength: jump,
        resampleCount: resample,
        seed,
        variance: config.variance,
        clipDenoised: true,
        onStep: (s) => {
          if (s.kind === "reverse") calls++;
        },
      });
      const x = out.dataSync() as Float32Array;
      out.dispose();
      const row = {
        mask: half,
        method,
        ...(method === "repaint" ? { jump, resample } : {}),
        modelCalls: calls,
        accuracy: accuracy(x),
        maskedInputAccuracy: accuracy(masked),
        meanL2: r3(meanL2(x)),
        maskedInputMeanL2: r3(meanL2(masked)),
        seconds: r3((performance.now() - t0) / 1000),
      };
      (result.inpaint as unknown[]).push(row);
      console.error(JSON.stringify(row));
    }
    mask.dispose();
  }
  known.dispose();

  const rng = new Rng(seed, 0xde);
  for (const sigma of a.sigmas!.split(",").map(Number)) {
    const z = rng.fillNormal(new Float32Array(n * 784));
    const y = x0.map((v, p) => v + sigma * z[p]!);
    const yt = tf.tensor4d(y, [n, 28, 28, 1]);
    const t0 = performance.now();
    let calls = 0;
    const out = denoise(base, fn, yt, sigma, {
      steps: a["sample-steps"],
      seed,
      variance: config.variance,
      clipDenoised: true,
      onStep: () => calls++,
    });
    const x = out.dataSync() as Float32Array;
    tf.dispose([out, yt]);
    const clipped = y.map((v) => Math.min(1, Math.max(-1, v)));
    const row = {
      sigma,
      modelCalls: calls,
      psnrBefore: r3(psnr(y)),
      psnrBeforeClipped: r3(psnr(clipped)),
      psnrAfter: r3(psnr(x)),
      accuracyBefore: accuracy(clipped),
      accuracyAfter: accuracy(x),
      seconds: r3((performance.now() - t0) / 1000),
    };
    (result.denoise as unknown[]).push(row);
    console.error(JSON.stringify(row));
  }
  model.dispose();
  classifier.dispose();
  console.log(JSON.stringify(result, null, 2));
}

if (import.meta.main) await main();
