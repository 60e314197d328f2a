// Shared by the browser tests: Chromium (Debian's /usr/bin/chromium) launched headless through
// playwright-core, with launches and teardown steps that cannot hang a test.
import { type Browser, chromium } from "playwright-core";

/** Where the tests expect Chromium (apt-get install chromium). */
export const CHROMIUM = "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/**
 * Waits for a teardown step at most `ms`, then goes on (saying so on stderr) rather than hang:
 * under the full parallel suite, one run in several never saw a teardown step return after
 * Chromium had exited (a half-closed connection stayed in CLOSE_WAIT).
 */
export async function bounded(what: string, step: Promise<unknown>, ms = 15_000): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), ms)));
  try {
    const r = await Promise.race([step.then(() => "done", () => "done"), late]);
    if (r === "late") console.error(`web_browser_test: ${what} took over ${ms} ms; going on`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Launches Chromium, retrying a launch that does not return: under the full parallel suite one
 * launch in several never came back (no Chromium process left, an empty profile directory) and
 * Playwright's own launch timeout did not fire either.
 */
export async function launchChromium(): Promise<Browser> {
  for (let attempt = 1;; attempt++) {
    const launching = chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((r) => (timer = setTimeout(() => r(null), 40_000)));
    try {
      const browser = await Promise.race([launching, late]);
      if (browser !== null) return browser;
    } finally {
      clearTimeout(timer);
    }
    launching.then((b) => b.close(), () => {});
    if (attempt === 3) throw new Error("Chromium did not start in 3 attempts of 40 s");
    console.error(`web_browser_test: Chromium launch ${attempt} did not return in 40 s; retrying`);
  }
}
