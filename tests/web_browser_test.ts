// Browser test of the run viewer: headless Chromium (Debian's /usr/bin/chromium) driven by
// playwright-core against a real server on 127.0.0.1. Fails, never skips, without Chromium.
// WEB_SCREENSHOTS=1 also saves /tmp/web_list.png, /tmp/web_run.png and /tmp/web_quality.png.
import assert from "node:assert/strict";
import { buildIslands } from "../web/build.ts";
import { fixtureMetric, writeFixtureRun } from "../web/fixtures.ts";
import { startServer } from "../web/server.ts";
import { Rng } from "../lib/random.ts";
import { bounded, CHROMIUM, launchChromium } from "./_browser.ts";

// Playwright owns Chromium's process and pipes, which the test cannot always see closed: the ops
// and resources it leaves when a teardown step is cut short are not the code under test.
Deno.test({
  name: "browser: list, run page, chart, slider, a live point and quality charts with floors",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const stat = await Deno.stat(CHROMIUM).catch(() => null);
  assert.ok(stat?.isFile, `Chromium is required at ${CHROMIUM} (apt-get install chromium)`);
  const shots = Deno.env.get("WEB_SCREENSHOTS") === "1";

  const runsDir = await Deno.makeTempDir({ prefix: "web-browser-runs-" });
  const buildDir = await Deno.makeTempDir({ prefix: "web-browser-build-" });
  await writeFixtureRun(runsDir, {
    id: "live-run",
    name: "Live run",
    status: "running",
    metricLines: 50,
    samples: 3,
  });
  await writeFixtureRun(runsDir, { id: "done-run", name: "Finished run", metricLines: 400 });
  await writeFixtureRun(runsDir, {
    id: "mnist-run",
    name: "MNIST small",
    dataset: "mnist",
    model: "unet-s",
    status: "interrupted",
    metricLines: 150,
    seed: 3,
  });
  await writeFixtureRun(runsDir, {
    id: "quality-run",
    name: "MNIST with quality",
    dataset: "mnist",
    model: "unet-s",
    metricLines: 200,
    evalEvery: 50,
    quality: true,
  });
  await buildIslands({ outDir: buildDir });
  const { url, close } = startServer({ runsDir, buildDir, port: 0, pollMs: 100 });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(20_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));

    await page.goto(url);
    await page.getByRole("link", { name: "Live run" }).waitFor();
    assert.equal(await page.locator("tr[data-run]").count(), 4);
    assert.equal(await page.locator("tr.live").count(), 1);
    if (shots) await page.screenshot({ path: "/tmp/web_list.png", fullPage: true });

    await page.getByRole("link", { name: "Live run" }).click();
    await page.waitForURL(/\/runs\/live-run$/);
    const loss = page.locator('.plot[data-chart="Loss"]');
    await loss.locator("canvas").waitFor();
    assert.equal(await loss.getAttribute("data-points"), "50");

    const img = page.locator("img.sample-img");
    await img.waitFor();
    // Waits (with Playwright's timeout) for the picture to be decoded; a broken one fails here.
    await page.waitForFunction(() => {
      const el = document.querySelector<HTMLImageElement>("img.sample-img");
      return el !== null && el.complete && el.naturalWidth > 0;
    });
    assert.equal(await img.evaluate((el: HTMLImageElement) => el.naturalWidth), 64);
    const before = await img.getAttribute("src");
    assert.match(before!, /step_00000049\.png$/);
    await page.locator("input.sample-slider").evaluate((el: HTMLInputElement) => {
      el.value = "0";
      el.dispatchEvent(new Event("input", { bubbles: true }));
    });
    await page.waitForFunction(
      () => document.querySelector("img.sample-img")?.getAttribute("src")?.endsWith("00.png"),
    );
    assert.match((await img.getAttribute("src"))!, /step_00000000\.png$/);

    // A new metrics line arrives while the page is open: the counter and the chart follow.
    assert.equal(await page.locator("[data-step]").getAttribute("data-step"), "49");
    const line = JSON.stringify(fixtureMetric(50, new Rng(9), new Date()));
    await Deno.writeTextFile(`${runsDir}/live-run/metrics.jsonl`, line + "\n", { append: true });
    await page.locator('[data-step="50"]').waitFor({ timeout: 10_000 });
    await page.locator('.plot[data-chart="Loss"][data-points="51"]').waitFor({ timeout: 10_000 });
    if (shots) await page.screenshot({ path: "/tmp/web_run.png", fullPage: true });

    // A run with quality records: each measure drawn with its floor, per setting; the trainer's
    // and deno task eval's records at one step do not blank the chart.
    await page.goto(`${url}runs/quality-run`);
    const fid = page.locator('.plot[data-chart="Fréchet distance (classifier features)"]');
    await fid.locator("canvas").waitFor();
    const legend = await fid.locator(".u-legend").innerText();
    assert.match(legend, /floor \(n=256 · 50 steps · ancestral · EMA/);
    assert.match(legend, /floor \(n=1000 · 50 steps/);
    const swd = page.locator('.plot[data-chart="Sliced Wasserstein distance"]');
    await swd.locator("canvas").waitFor();
    assert.equal(await swd.getAttribute("data-points"), "4");
    // The first series' colour (#2563eb) is on both canvases: their lines were drawn.
    for (const chart of [fid, swd]) {
      const drawn = await chart.locator("canvas").evaluate((c: HTMLCanvasElement) => {
        const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
          if (Math.abs(d[i]! - 37) + Math.abs(d[i + 1]! - 99) + Math.abs(d[i + 2]! - 235) < 60) n++;
        }
        return n;
      });
      assert.ok(drawn > 50, `only ${drawn} pixels of the first series`);
    }
    assert.equal(await page.locator('.plot[data-chart="seconds"]').count(), 0);
    if (shots) await page.screenshot({ path: "/tmp/web_quality.png", fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await bounded("browser.close()", browser.close());
    // Ends the page's event stream too: a bare server.shutdown() would wait for it.
    await bounded("the server's close()", close());
    await Deno.remove(runsDir, { recursive: true });
    await Deno.remove(buildDir, { recursive: true });
  }
});
