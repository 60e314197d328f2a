// The README's screenshots of the run viewer, taken in headless Chromium from the shipped run:
//   deno run -A tests/_viewer_screenshots.ts   (writes docs/viewer_*.png)
import { buildIslands } from "../web/build.ts";
import { startServer } from "../web/server.ts";
import { bounded, launchChromium } from "./_browser.ts";

const root = new URL("..", import.meta.url).pathname;
const buildDir = await Deno.makeTempDir({ prefix: "web-shots-" });
await buildIslands({ outDir: buildDir });
Deno.chdir(root);
const { url, close } = startServer({ runsDir: "pretrained", buildDir, port: 0 });
const browser = await launchChromium();
try {
  const light = await browser.newPage({ viewport: { width: 1200, height: 760 } });
  await light.goto(`${url}runs/mnist-unet-s`);
  await light.locator(".charts.main .plot canvas").first().waitFor();
  await light.locator(".charts.main .plot canvas").nth(1).waitFor();
  await light.screenshot({ path: `${root}docs/viewer_run.png` });
  const narrow = await browser.newPage({ viewport: { width: 900, height: 800 } });
  await narrow.goto(`${url}runs/mnist-unet-s`);
  const trajectory = narrow.locator('[data-picture="trajectory.png"]');
  await narrow.waitForFunction(() => {
    const img = document.querySelector<HTMLImageElement>('[data-picture="trajectory.png"] img');
    return img !== null && img.complete && img.naturalWidth > 0;
  });
  await trajectory.screenshot({ path: `${root}docs/viewer_trajectory.png` });
  const dark = await browser.newPage({
    viewport: { width: 1280, height: 420 },
    colorScheme: "dark",
  });
  await dark.goto(`${url}?q=mnist`);
  await dark.locator("tr[data-run]").first().waitFor();
  await dark.screenshot({ path: `${root}docs/viewer_list_dark.png` });
} finally {
  await bounded("browser.close()", browser.close());
  await bounded("close()", close());
  await Deno.remove(buildDir, { recursive: true });
}
