// Browser test of sampling in the viewer (issue 15): a tiny S-curve run is trained here, the
// viewer serves it, and headless Chromium samples its newest checkpoint's EMA weights (the `ema`
// route: a sampling checkpoint cut from the full one) in the run page (tfjs cpu backend in a
// worker). The samples must equal, to 1e-4, those that the CLI's
// own sampling path (`loadRun` + `generateSamples`, what `deno task sample` runs) gives in Deno
// for the same run, seed and steps. And the bundles: the worker's holds no Deno-only code, the
// page's holds no tfjs. A class-conditional UNet-S (issue 13) samples a class with guidance, and
// every class one row each, as `deno task sample --class 3|all --guidance w` does.
import assert from "node:assert/strict";
import { basename } from "node:path";
import { buildIslands } from "../web/build.ts";
import { startServer } from "../web/server.ts";
import { runTraining } from "../tasks/_train_loop.ts";
import { loadRun } from "../tasks/_load_run.ts";
import { generateSamples } from "../tasks/_evaluate.ts";
import { generateClassSamples } from "../tasks/_class_samples.ts";
import { scheduleOf } from "../lib/train/recipe.ts";
import { loadNewestCheckpoint } from "../lib/run/mod.ts";
import { decodeCheckpoint } from "../lib/train/checkpoint_format.ts";
import { config, quiet } from "./_train_helpers.ts";
import { bounded, CHROMIUM, launchChromium } from "./_browser.ts";
import type { Locator, Page } from "playwright-core";
import { writeFixtureRun } from "../web/fixtures.ts";
import { createModel } from "../lib/model/create_model.ts";
import { createTrainer } from "../lib/train/trainer.ts";
import { saveCheckpoint } from "../lib/train/checkpoint.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { tf } from "../lib/tf.ts";

const FLAGS = [
  ...["--batch", "64", "--workers", "0", "--backend", "wasm", "--timesteps", "50"],
  ...["--steps", "200", "--checkpoint-every", "200", "--log-every", "50"],
  ...["--sample-every", "0", "--eval-every", "0", "--name", "browser-sampler"],
];

/** What the CLI samples from the run: its newest checkpoint, EMA weights, `n` points. */
async function cliSamples(
  runsDir: string,
  id: string,
  steps: string,
  seed: number,
  n: number,
): Promise<Float32Array> {
  const run = await loadRun(runsDir, id, true, () => {});
  try {
    const r = await generateSamples(run.model, scheduleOf(run.config), {
      dataset: run.config.dataset,
      n,
      steps,
      eta: 0,
      variance: run.config.variance,
      seed,
    });
    return r.x;
  } finally {
    run.model.dispose();
  }
}

/**
 * What `deno task sample --class ... --guidance w` samples from the run (`generateClassSamples`,
 * newest checkpoint, EMA weights): `perClass` of each class, class after class.
 */
async function cliClassSamples(
  runsDir: string,
  id: string,
  o: { steps: string; seed: number; classes: number[]; perClass: number; guidance: number },
): Promise<Float32Array> {
  const run = await loadRun(runsDir, id, true, () => {});
  try {
    const r = await generateClassSamples(run.model, scheduleOf(run.config), {
      dataset: run.config.dataset,
      variance: run.config.variance,
      eta: 0,
      ...o,
    });
    return r.x;
  } finally {
    run.model.dispose();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

// Playwright owns Chromium's process and pipes (see web_browser_test.ts).
Deno.test({
  name: "browser sampler: the run page samples the EMA weights as the CLI does, and stops",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const stat = await Deno.stat(CHROMIUM).catch(() => null);
  assert.ok(stat?.isFile, `Chromium is required at ${CHROMIUM} (apt-get install chromium)`);
  const runsDir = await Deno.makeTempDir({ prefix: "web-sampler-runs-" });
  const buildDir = await Deno.makeTempDir({ prefix: "web-sampler-build-" });
  let close: (() => Promise<void>) | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  try {
    const trained = await runTraining(config(runsDir, FLAGS), { write: quiet, plain: true });
    assert.equal(trained.status, "completed");
    const id = basename(trained.dir);

    await buildIslands({ outDir: buildDir });
    const worker = await Deno.readTextFile(`${buildDir}/sampler_worker.js`);
    const client = await Deno.readTextFile(`${buildDir}/client.js`);
    const find = (text: string, re: RegExp) => re.exec(text)?.[0] ?? null;
    assert.equal(find(worker, /\bDeno\.\w+|from\s*"node:[\w/]+|require\("node:[\w/]+/), null);
    assert.equal(find(worker, /MathBackendWebGL|tfjs-backend-webgl/), null, "the tfjs umbrella");
    assert.equal(find(client, /kernelName|registerBackend/), null, "tfjs in the page's bundle");

    const expected = await cliSamples(runsDir, id, "10", 1, 1000);
    const expectedDdim = await cliSamples(runsDir, id, "ddim10", 2, 500);

    const server = startServer({ runsDir, buildDir, port: 0, pollMs: 100 });
    close = server.close;

    // The EMA route: a sampling checkpoint a quarter of the full one, decoding to its EMA weights.
    const { found } = await loadNewestCheckpoint(trained.dir);
    assert.ok(found);
    const ema = `${server.url}runs/${id}/ema/${found.dir.name}/`;
    const json = await (await fetch(`${ema}checkpoint.json`)).text();
    const bytes = new Uint8Array(await (await fetch(`${ema}weights.bin`)).arrayBuffer());
    const full = await Deno.stat(`${found.dir.path}/weights.bin`);
    assert.equal(bytes.length * 4, full.size);
    const served = decodeCheckpoint(json, bytes);
    assert.equal(served.emaOnly, true);
    assert.deepEqual(served.ema, found.checkpoint.ema);
    assert.deepEqual(served.extra, found.checkpoint.extra);
    for (const bad of ["step_1/weights.bin", `${found.dir.name}/adam.bin`]) {
      const res = await fetch(`${server.url}runs/${id}/ema/${bad}`);
      assert.equal(res.status, 404, bad);
      await res.body?.cancel();
    }
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(60_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${server.url}runs/${id}`);
    await page.waitForFunction(() => document.documentElement.dataset.hydrated === "true");
    const section = page.locator("section.browser-sampler");
    await section.waitFor();
    assert.match(await page.locator("h2", { hasText: "Sample in the browser" }).innerText(), /./);

    const sampleWith = async (
      backend: string,
      method: string,
      steps: string,
      seed: number,
      n: number,
    ) => {
      await section.locator('select[name="backend"]').selectOption(backend);
      await section.locator('select[name="method"]').selectOption(method);
      await section.locator('select[name="steps"]').selectOption(steps);
      await section.locator('input[name="seed"]').fill(String(seed));
      await section.locator('select[name="count"]').selectOption(String(n));
      await section.locator("button.sampler-start").click();
      await page.locator('section.browser-sampler[data-status="done"]').waitFor();
      return await section.evaluate((el) =>
        Array.from((el as HTMLElement & { samples: Float32Array }).samples)
      );
    };

    const got = await sampleWith("cpu", "ancestral", "10", 1, 1000);
    const d = maxAbsDiff(got, expected);
    assert.ok(d < 1e-4, `cpu, ancestral, 10 steps: max |browser - CLI| = ${d}`);
    assert.match(await section.locator(".sampler-progress").innerText(), /cpu backend/);
    assert.equal(await section.getAttribute("data-done"), "10");
    // The scatter was drawn: some blue points on the canvas.
    const blue = await section.locator("canvas").evaluate((c: HTMLCanvasElement) => {
      const px = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      let k = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i + 2]! > 180 && px[i]! < 150) k++;
      return k;
    });
    assert.ok(blue > 100, `only ${blue} point pixels`);

    // The wasm backend: its binaries come from the build folder.
    const gotDdim = await sampleWith("wasm", "ddim", "10", 2, 500);
    const dd = maxAbsDiff(gotDdim, expectedDdim);
    assert.ok(dd < 1e-4, `wasm, DDIM, 10 steps: max |browser - CLI| = ${dd}`);
    assert.match(await section.locator(".sampler-progress").innerText(), /wasm \(XNNPACK/);
    if (Deno.env.get("SAMPLER_TEST_VERBOSE")) console.error({ cpuAncestral: d, wasmDdim: dd });

    // Stop: a run of 50 steps on 2,000 points (seconds on the cpu backend) is stopped at once; the
    // page says so and can start again.
    await section.locator('select[name="method"]').selectOption("ancestral");
    await section.locator('select[name="steps"]').selectOption("50");
    await section.locator('select[name="count"]').selectOption("2000");
    await section.locator('select[name="backend"]').selectOption("cpu");
    await section.evaluate((el) => {
      el.querySelector<HTMLButtonElement>("button.sampler-start")!.click();
    });
    await section.locator("button.sampler-stop").click();
    await page.locator('section.browser-sampler[data-status="stopped"]').waitFor();
    await section.locator("button.sampler-start").waitFor();
    assert.deepEqual(errors, []);
  } finally {
    if (browser) await bounded("browser.close()", browser.close());
    if (close) await bounded("the server's close()", close());
    await Deno.remove(runsDir, { recursive: true });
    await Deno.remove(buildDir, { recursive: true });
  }
});

/**
 * An MNIST run whose newest checkpoint holds a UNet-S with learned variances and weights moved
 * off their initialisation (whose zero output layers would make every sample the same).
 */
async function writeUnetRun(runsDir: string, id: string, numClasses = 0): Promise<void> {
  const labels = numClasses > 0 ? { numClasses, labelDropout: 0.1 } : {};
  const dir = await writeFixtureRun(runsDir, {
    id,
    dataset: "mnist",
    model: "unet-s",
    checkpoints: 0,
    samples: 0,
    pictures: false,
    config: labels,
  });
  const model = createModel({ kind: "unet-s", outChannels: 2, dropout: 0, seed: 5, ...labels });
  tf.tidy(() =>
    model.variables.forEach((v, i) =>
      v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.05, "float32", 100 + i)))
    )
  );
  const trainer = createTrainer({ model, loss: () => ({ loss: tf.scalar(0) }) });
  const config = {
    dataset: "mnist",
    schedule: "cosine",
    timesteps: 1000,
    variance: "learned-range",
    ...labels,
  };
  await saveCheckpoint(`${dir}/checkpoints/step_00000001`, trainer, { config });
  trainer.dispose();
  model.dispose();
}

/**
 * The viewer serving `runsDir` (its islands built afresh) and headless Chromium on run `id`'s
 * page, hydrated: `body` gets the page and its sampler section; the page must raise no error.
 * The browser, the server and the build are closed after, whatever happens.
 */
async function withSamplerPage(
  runsDir: string,
  id: string,
  timeoutMs: number,
  body: (page: Page, section: Locator) => Promise<void>,
): Promise<void> {
  const buildDir = await Deno.makeTempDir({ prefix: "web-sampler-build-" });
  let close: (() => Promise<void>) | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  try {
    await buildIslands({ outDir: buildDir });
    const server = startServer({ runsDir, buildDir, port: 0, pollMs: 100 });
    close = server.close;
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(timeoutMs);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${server.url}runs/${id}`);
    await page.waitForFunction(() => document.documentElement.dataset.hydrated === "true");
    const section = page.locator("section.browser-sampler");
    await section.waitFor();
    await body(page, section);
    assert.deepEqual(errors, []);
  } finally {
    if (browser) await bounded("browser.close()", browser.close());
    if (close) await bounded("the server's close()", close());
    await Deno.remove(buildDir, { recursive: true });
  }
}

Deno.test({
  name:
    "browser sampler: MNIST digits from a UNet-S with learned variances, as the CLI samples them",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const runsDir = await Deno.makeTempDir({ prefix: "web-sampler-unet-" });
  try {
    await initBackend("wasm");
    await writeUnetRun(runsDir, "unet");
    // Clipped x_0 and learned-range variances on 10 of 1,000 steps, as `deno task sample` does.
    const expected = await cliSamples(runsDir, "unet", "10", 3, 16);
    await withSamplerPage(runsDir, "unet", 120_000, async (page, section) => {
      // A model without labels has no class control.
      assert.equal(
        await section.locator('select[name="class"], input[name="guidance"]').count(),
        0,
      );
      await section.locator('select[name="steps"]').selectOption("10");
      await section.locator('input[name="seed"]').fill("3");
      await section.locator('select[name="count"]').selectOption("16");
      await section.locator("button.sampler-start").click();
      await page.locator('section.browser-sampler[data-status="done"]').waitFor();
      const got = await section.evaluate((el) =>
        Array.from((el as HTMLElement & { samples: Float32Array }).samples)
      );
      const d = maxAbsDiff(got, expected);
      assert.ok(d < 1e-4, `wasm, UNet-S, 16 digits, 10 steps: max |browser - CLI| = ${d}`);
      assert.ok(new Set(got.map((x) => x.toFixed(3))).size > 100, "the digits are all alike");
      if (Deno.env.get("SAMPLER_TEST_VERBOSE")) console.error({ unet: d });
      // The grid: 4 x 4 digits of 28 x 28 pixels.
      const size = await section.locator("canvas").evaluate((c: HTMLCanvasElement) => [
        c.width,
        c.height,
      ]);
      assert.deepEqual(size, [112, 112]);
    });
  } finally {
    await Deno.remove(runsDir, { recursive: true });
  }
});

Deno.test({
  name:
    "browser sampler: a class-conditional UNet-S samples a class with guidance, and all classes a row each, as the CLI does",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const runsDir = await Deno.makeTempDir({ prefix: "web-sampler-class-" });
  try {
    await initBackend("wasm");
    await writeUnetRun(runsDir, "cc", 10);
    // `deno task sample --class 3 --guidance 2 --n 16 --seed 3 --sample-steps 10`, and
    // `--class all --n 2 --guidance 1 --seed 1 --sample-steps 10`.
    const threes = await cliClassSamples(runsDir, "cc", {
      steps: "10",
      seed: 3,
      classes: [3],
      perClass: 16,
      guidance: 2,
    });
    const all = await cliClassSamples(runsDir, "cc", {
      steps: "10",
      seed: 1,
      classes: Array.from({ length: 10 }, (_, c) => c),
      perClass: 2,
      guidance: 1,
    });
    // The labels and the guidance matter for this model: the test can tell a wrong class or w.
    const unconditional = await cliSamples(runsDir, "cc", "10", 3, 16);
    assert.ok(maxAbsDiff(threes, unconditional) > 1e-2, "guided threes = unconditional digits");
    assert.ok(maxAbsDiff(all.subarray(0, 2 * 784), all.subarray(784 * 2, 4 * 784)) > 1e-2);

    await withSamplerPage(runsDir, "cc", 180_000, async (page, section) => {
      // The class control: 0..9 and all; the guidance starts at the CLI's default.
      const options = await section.locator('select[name="class"] option').evaluateAll((os) =>
        os.map((o) => (o as HTMLOptionElement).value)
      );
      assert.deepEqual(options, [...Array.from({ length: 10 }, (_, c) => String(c)), "all"]);
      assert.equal(await section.locator('input[name="guidance"]').inputValue(), "1");
      const run = async (o: { cls: string; guidance: string; seed: string; count: string }) => {
        await section.locator('select[name="steps"]').selectOption("10");
        await section.locator('select[name="class"]').selectOption(o.cls);
        await section.locator('input[name="guidance"]').fill(o.guidance);
        await section.locator('input[name="seed"]').fill(o.seed);
        await section.locator('select[name="count"]').selectOption(o.count);
        await section.locator("button.sampler-start").click();
        await page.locator('section.browser-sampler[data-status="done"]').waitFor();
        return await section.evaluate((el) =>
          Array.from((el as HTMLElement & { samples: Float32Array }).samples)
        );
      };

      const got = await run({ cls: "3", guidance: "2", seed: "3", count: "16" });
      const d = maxAbsDiff(got, threes);
      assert.ok(d < 1e-4, `class 3, guidance 2, 16 digits, 10 steps: max |browser - CLI| = ${d}`);
      assert.match(
        await section.locator("code.sampler-cli").innerText(),
        /--sample-steps 10 --seed 3 --n 16 --class 3 --guidance 2$/,
      );
      assert.equal(await section.getAttribute("data-done"), "10");

      // All: 10 rows of 2 (the count is per class), each row's class beside it.
      await section.locator('select[name="class"]').selectOption("all");
      assert.match(
        await section.locator("label", { has: page.locator('select[name="count"]') })
          .innerText(),
        /per class/,
      );
      const gotAll = await run({ cls: "all", guidance: "1", seed: "1", count: "2" });
      const da = maxAbsDiff(gotAll, all);
      assert.ok(da < 1e-4, `all classes, 2 each, guidance 1: max |browser - CLI| = ${da}`);
      assert.equal(await section.getAttribute("data-done"), "100");
      const size = await section.locator("canvas").evaluate((c: HTMLCanvasElement) => [
        c.width,
        c.height,
      ]);
      assert.deepEqual(size, [2 * 28, 10 * 28]);
      const rows = await section.locator(".class-rows span").evaluateAll((ss) =>
        ss.map((s) => s.textContent)
      );
      assert.deepEqual(rows, Array.from({ length: 10 }, (_, c) => String(c)));
      if (Deno.env.get("SAMPLER_TEST_VERBOSE")) console.error({ threes: d, all: da });
    });
  } finally {
    await Deno.remove(runsDir, { recursive: true });
  }
});
