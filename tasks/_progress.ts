/**
 * Training progress: a live bar (cli-progress) with step, loss, items per second and ETA on a
 * terminal, plain periodic lines when output is not a terminal (CI, files).
 *
 * @module
 */
import cliProgress from "cli-progress";

/** What a progress reporter is told after each step. */
export interface ProgressUpdate {
  /** The step just finished (1-based count of steps done). */
  step: number;
  /** The loss of that step (or a running mean). */
  loss: number;
  /** Items (examples) per second. */
  itemsPerSec: number;
}

/** A progress reporter. */
export interface Progress {
  /** Reports the state after a step. */
  update(u: ProgressUpdate): void;
  /** Prints a message without breaking the bar. */
  log(message: string): void;
  /**
   * Shows work between steps (sampling pictures, evaluating): "sampling pictures 40%" in the
   * bar on a terminal, a plain line at most every interval otherwise; `done === total` ends it.
   */
  activity(label: string, done: number, total: number): void;
  /** Stops the bar. */
  stop(): void;
}

/**
 * Creates a progress reporter for `total` steps starting at `start`.
 *
 * @param start The step the run starts from (non-zero when resuming).
 * @param total The last step.
 * @param options `tty` forces the mode (default: whether stderr is a terminal); `every` is the
 * interval of plain lines in seconds (default 10).
 * @returns The reporter.
 *
 * @example
 * ```ts
 * import { createProgress } from "./_progress.ts";
 * const p = createProgress(0, 10, { tty: false, every: 0, write: () => {} });
 * p.update({ step: 1, loss: 0.5, itemsPerSec: 100 });
 * p.stop();
 * ```
 */
export function createProgress(
  start: number,
  total: number,
  options: { tty?: boolean; every?: number; write?: (line: string) => void } = {},
): Progress {
  const tty = options.tty ?? Deno.stderr.isTerminal();
  const write = options.write ?? ((line: string) => console.error(line));
  if (tty) {
    // A terminal that goes away (SIGHUP) makes writes fail; that must not end the run.
    process.stderr.on("error", () => {});
    const bar = new cliProgress.SingleBar({
      format:
        "{bar} {value}/{total} | loss {loss} | {ips} items/s | ETA {eta_formatted} | {duration_formatted}{activity}",
      hideCursor: true,
      etaBuffer: 50,
      stream: process.stderr,
    }, cliProgress.Presets.shades_classic);
    bar.start(total, start, { loss: "-", ips: "-", activity: "" });
    let shown = "";
    return {
      activity: (label, done, all) => {
        const text = done >= all ? "" : ` | ${label} ${Math.floor((100 * done) / all)}%`;
        if (text === shown) return;
        shown = text;
        bar.update({ activity: text });
      },
      update: (u) =>
        bar.update(u.step, {
          loss: u.loss.toFixed(5),
          ips: Math.round(u.itemsPerSec),
          activity: shown,
        }),
      // cli-progress redraws its line in place: clear it, print the message on its own line,
      // and let the next update draw the bar below it (no "ETA 60s | 34seval @ ..." lines).
      log: (m) => {
        try {
          process.stderr.write("\r\x1b[2K");
          console.error(m);
        } catch { /* the terminal is gone */ }
      },
      stop: () => bar.stop(),
    };
  }
  const every = (options.every ?? 10) * 1000;
  const t0 = performance.now();
  let last = -Infinity;
  let lastActivity = -Infinity;
  let activityStart = 0;
  return {
    activity(label, done, all) {
      const now = performance.now();
      if (done <= 1) activityStart = now;
      // Only work that lasts: a line once it has run for an interval, then every interval.
      if (now - activityStart < every || now - lastActivity < every || done >= all) return;
      lastActivity = now;
      write(
        `${label}: ${Math.floor((100 * done) / all)}% (${done}/${all} model calls, ${
          Math.round((now - activityStart) / 1000)
        } s)`,
      );
    },
    update(u) {
      const now = performance.now();
      if (now - last < every && u.step !== total) return;
      last = now;
      const done = u.step - start;
      const eta = done > 0 ? ((now - t0) / done) * (total - u.step) / 1000 : NaN;
      write(
        `step ${u.step}/${total}  loss ${u.loss.toFixed(5)}  ${
          Math.round(u.itemsPerSec)
        } items/s  ETA ${Number.isFinite(eta) ? `${Math.round(eta)}s` : "-"}`,
      );
    },
    log: (m) => write(m),
    stop() {},
  };
}

/**
 * A sign of life while sampling: "sampling: 40% (400/1000 model calls, 12 s)" on stderr, redrawn
 * in place on a terminal, a line every 10 s otherwise.
 *
 * @param label The words before the percentage.
 * @returns A progress callback: model calls done, and in all.
 *
 * @example
 * ```ts
 * import { progressLine } from "./_progress.ts";
 * const onProgress = progressLine("sampling");
 * onProgress(10, 10); // "sampling: 100% (10/10 model calls, 0 s)"
 * ```
 */
export function progressLine(label: string): (done: number, total: number) => void {
  const tty = Deno.stderr.isTerminal();
  const t0 = performance.now();
  let last = t0;
  const enc = new TextEncoder();
  return (done, total) => {
    const now = performance.now();
    if (done < total && now - last < (tty ? 250 : 10_000)) return;
    last = now;
    const line = `${label}: ${Math.floor((100 * done) / total)}% (${done}/${total} model calls, ${
      Math.round((now - t0) / 1000)
    } s)`;
    try {
      Deno.stderr.writeSync(
        enc.encode(tty ? `\r\x1b[2K${line}${done === total ? "\n" : ""}` : `${line}\n`),
      );
    } catch { /* no terminal */ }
  };
}
