// Browser test of the run viewer's UI (issue 14), in headless Chromium through playwright-core:
// wall time on a chart's x axis, an evaluation section with an error band, pictures and a checkpoint that appear while a live run writes them, a
// picture drawn at a whole-number scale with its t labels and enlarged in a dialog, the runs
// filter, and the metrics CSV download. Fails, never skips, without Chromium.
import assert from "node:assert/strict";
import { buildIslands } from "../web/build.ts";
import { writeFixtureRun } from "../web/fixtures.ts";
import { startServer } from "../web/server.ts";
import { bounded, CHROMIUM, launchChromium } from "./_browser.ts";

Deno.test({
  name:
    "browser: live eval charts, pictures and checkpoints, enlarged picture, filter, CSV download",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const stat = await Deno.stat(CHROMIUM).catch(() => null);
  assert.ok(stat?.isFile, `Chromium is required at ${CHROMIUM} (apt-get install chromium)`);
  const runsDir = await Deno.makeTempDir({ prefix: "web-ui-runs-" });
  const buildDir = await Deno.makeTempDir({ prefix: "web-ui-build-" });
  await writeFixtureRun(runsDir, {
    id: "live-no-eval",
    name: "Live without evaluations",
    status: "running",
    metricLines: 40,
    evalEvery: 0,
    pictures: false,
    checkpoints: 0,
  });
  for (
    const [id, dataset] of [["mnist-a", "mnist"], ["mnist-b", "mnist"], ["curve-c", "s-curve"]]
  ) {
    await writeFixtureRun(runsDir, { id: id!, dataset, metricLines: 20, samples: 1 });
  }
  await buildIslands({ outDir: buildDir });
  const { url, close } = startServer({ runsDir, buildDir, port: 0, pollMs: 100 });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(15_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));

    // The filter: the words are sent as ?q= and only the matching runs are listed.
    await page.goto(url);
    await page.locator("tr[data-run]").first().waitFor();
    assert.equal(await page.locator("tr[data-run]").count(), 4);
    await page.getByRole("searchbox", { name: "filter runs" }).fill("mnist");
    await page.getByRole("searchbox", { name: "filter runs" }).press("Enter");
    await page.waitForURL(/[?&]q=mnist/);
    await page.locator("[data-matched='2']").waitFor();
    const shown = await page.locator("tr[data-run]").evaluateAll((rows) =>
      rows.map((r) => r.getAttribute("data-run"))
    );
    assert.deepEqual(shown.sort(), ["mnist-a", "mnist-b"]);

    // A live run without eval.jsonl: the section says so, then draws the first line's charts.
    await page.goto(`${url}runs/live-no-eval`);
    const section = page.locator('[data-live-charts="eval"]');
    await section.waitFor();
    assert.match(await section.innerText(), /No eval\.jsonl yet/);
    await page.locator("html[data-hydrated]").waitFor({ state: "attached" });
    // Zoom by dragging across the loss chart: a new smoothing keeps it, the button resets it.
    const loss = page.locator("section.chart", { has: page.locator('.plot[data-chart="Loss"]') });
    const over = loss.locator(".u-over");
    await over.waitFor();
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    const reset = loss.getByRole("button", { name: "reset zoom" });
    await reset.waitFor();
    await loss.getByRole("slider", { name: "smoothing of Loss" }).fill("0.9");
    await loss.locator("text=0.90").waitFor();
    assert.equal(await reset.isVisible(), true);
    await reset.click();
    await reset.waitFor({ state: "hidden" });

    // Wall time on the x axis: minutes since the first line (the fixture logs a step each
    // 25 ms); a line appended meanwhile lands at its minute; back to steps.
    const plot = loss.locator(".plot");
    assert.equal(await plot.getAttribute("data-x-last"), "39");
    const xAxis = loss.getByRole("combobox", { name: "x axis of Loss" });
    await xAxis.selectOption("time");
    await loss.locator('.plot[data-x-axis="time"][data-x-last="0.016"]').waitFor();
    await loss.locator(".u-legend .u-series", { hasText: "minutes" }).waitFor();
    const metricsPath = `${runsDir}/live-no-eval/metrics.jsonl`;
    const first = JSON.parse((await Deno.readTextFile(metricsPath)).split("\n")[0]!);
    const later = new Date(Date.parse(first.time) + 30 * 60_000).toISOString();
    await Deno.writeTextFile(
      metricsPath,
      JSON.stringify({ step: 40, time: later, loss: 0.5, simple: 0.5, vlb: 0.01 }) + "\n",
      { append: true },
    );
    await loss.locator('.plot[data-x-axis="time"][data-x-last="30"][data-points="41"]').waitFor();
    await xAxis.selectOption("step");
    await loss.locator('.plot[data-x-axis="step"][data-x-last="40"]').waitFor();
    assert.equal(await reset.isVisible(), false);

    // An evaluation with a standard error: its chart draws a band x ± stderr.
    const line = {
      step: 40,
      time: new Date().toISOString(),
      swd: 0.2,
      swdFloor: 0.02,
      bpdMc: 1.3,
      bpdMcStderr: 0.05,
    };
    await Deno.writeTextFile(`${runsDir}/live-no-eval/eval.jsonl`, JSON.stringify(line) + "\n");
    const swd = page.locator('.plot[data-chart="Sliced Wasserstein distance"]');
    await swd.locator("canvas").waitFor({ timeout: 10_000 });
    assert.equal(await swd.getAttribute("data-points"), "1");
    assert.equal(await swd.getAttribute("data-bands"), "0");
    await page.locator('.plot[data-chart="Bits per dimension"][data-bands-drawn="1"]').waitFor();

    // Pictures and a checkpoint written after the page loaded appear once run.json changes.
    await page.getByText("No trajectory picture (trajectory.png) for this run yet").waitFor();
    const fixture = await Deno.makeTempDir({ dir: runsDir, prefix: "x" });
    await writeFixtureRun(fixture, { id: "src", metricLines: 40, checkpoints: 1 });
    for (const f of ["forward.png", "forward.json", "trajectory.png", "trajectory.json"]) {
      await Deno.copyFile(`${fixture}/src/${f}`, `${runsDir}/live-no-eval/${f}`);
    }
    await Deno.rename(`${fixture}/src/checkpoints`, `${runsDir}/live-no-eval/checkpoints`);
    await Deno.remove(fixture, { recursive: true });
    const record = JSON.parse(await Deno.readTextFile(`${runsDir}/live-no-eval/run.json`));
    record.updatedAt = new Date().toISOString();
    await Deno.writeTextFile(`${runsDir}/live-no-eval/run.json`, JSON.stringify(record));
    await page.locator('[data-picture="trajectory.png"] img').first().waitFor({ timeout: 10_000 });
    await page.locator("[data-checkpoint='step_00000039']").waitFor();
    await page.getByRole("link", { name: "weights.bin" }).waitFor();

    // The forward picture: a whole-number scale, a t under each frame, enlarged by a click.
    const forward = page.locator('[data-picture="forward.png"]');
    const img = forward.locator("img").first();
    await page.waitForFunction(() => {
      const el = document.querySelector<HTMLImageElement>('[data-picture="forward.png"] img');
      return el !== null && el.complete && el.naturalWidth > 0;
    });
    const { natural, drawn, scale } = await img.evaluate((el: HTMLImageElement) => ({
      natural: el.naturalWidth,
      drawn: el.getBoundingClientRect().width,
      scale: Number(el.dataset.scale),
    }));
    assert.ok(Number.isInteger(scale) && scale >= 1, `scale ${scale}`);
    assert.equal(drawn, natural * scale);
    const labels = await forward.locator(".frame-labels").first().locator("span").allInnerTexts();
    assert.equal(labels.length, 10);
    assert.deepEqual([labels[0], labels[9]], ["0", "999"]);
    await forward.locator("button.zoomable").click();
    const dialog = forward.locator("dialog.lightbox");
    await dialog.and(page.locator("dialog[open]")).waitFor();
    const big = await dialog.locator("img").evaluate((el: HTMLImageElement) =>
      el.getBoundingClientRect().width / el.naturalWidth
    );
    assert.ok(Number.isInteger(big) && big >= scale, `enlarged ${big}x`);
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => document.querySelector("dialog[open]") === null);

    // The metrics as CSV: every step, one column per metric.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "metrics.csv" }).click(),
    ]);
    assert.equal(download.suggestedFilename(), "live-no-eval-metrics.csv");
    const csv = (await Deno.readTextFile(await download.path())).trim().split("\n");
    assert.match(csv[0]!, /^step,loss,simple,vlb,gradNorm,lr/);
    assert.equal(csv.length, 1 + 41);
    assert.match(csv[1]!, /^0,/);
    assert.deepEqual(errors, []);
  } finally {
    await bounded("browser.close()", browser.close());
    await bounded("the server's close()", close());
    await Deno.remove(runsDir, { recursive: true });
    await Deno.remove(buildDir, { recursive: true });
  }
});
