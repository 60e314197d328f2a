/**
 * Synthetic run directories in the trainer's format, for tests and measurements: run.json,
 * metrics.jsonl, eval.jsonl, sample PNGs, forward/trajectory pictures, checkpoints.
 * @module
 */
import { encode } from "fast-png";
import { Rng } from "../lib/random.ts";
import { join } from "node:path";
import {
  CHECKPOINT_FILES,
  type EvalLine,
  type MetricsLine,
  type PictureFrames,
  runPaths,
} from "../lib/run/layout.ts";
import { type RunRecord, writeRunRecord } from "../lib/run/record.ts";
import type { SetMeasures } from "../lib/quality/measures.ts";
import { qualityFields, type QualitySettings } from "../lib/quality/record.ts";
import type { RunStatus } from "./runs.ts";

/**
 * A small RGB PNG: a smooth pattern that changes with `seed`, so pictures differ.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fixturePng } from "./fixtures.ts";
 * const png = fixturePng(8, 4, 1);
 * assert.deepEqual([...png.subarray(1, 4)], [80, 78, 71]); // "PNG"
 * ```
 */
export function fixturePng(width: number, height: number, seed: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 3 * (y * width + x);
      const v = Math.sin((x + seed * 3) / 5) * Math.cos((y - seed) / 7);
      data[i] = Math.round(127 + 120 * v);
      data[i + 1] = Math.round(((x * 255) / width + seed * 40) % 256);
      data[i + 2] = Math.round((y * 255) / height);
    }
  }
  return encode({ width, height, data, channels: 3, depth: 8 });
}

/** Options for {@linkcode writeFixtureRun}. */
export interface FixtureRunOptions {
  /** The run id (folder name). */
  id: string;
  /** Display name. @default the id */
  name?: string;
  /** @default "completed" */
  status?: RunStatus;
  /** @default "s-curve" */
  dataset?: string;
  /** @default "mlp" */
  model?: string;
  /** Metric lines written (one per step). @default 200 */
  metricLines?: number;
  /** An eval line every this many steps (0 for no eval.jsonl). @default 50 */
  evalEvery?: number;
  /** Sample pictures written, evenly over the steps. @default 3 */
  samples?: number;
  /** Write forward.png and trajectory.png. @default true */
  pictures?: boolean;
  /** Checkpoint folders written. @default 2 */
  checkpoints?: number;
  /** Append a partially written line to metrics.jsonl. @default false */
  partialTail?: boolean;
  /** Start time. @default 1 hour before now */
  startedAt?: Date;
  /** Seed for the curves' noise. @default 1 */
  seed?: number;
  /**
   * Quality measures in the eval lines (the trainer's, at n = 256 with 50 steps), and
   * at the last step one `deno task eval --quality` record (n = 1000) and one `deno task eval`
   * record (the same step as the trainer's last evaluation). @default false
   */
  quality?: boolean;
  /** Config entries added to run.json's `config` (e.g. `numClasses`, `labelDropout`). @default none */
  config?: Record<string, unknown>;
}

/** The classifier checksum the fixtures' quality records name. */
export const FIXTURE_CLASSIFIER =
  "f1c7a55e5f1c7a55e5f1c7a55e5f1c7a55e5f1c7a55e5f1c7a55e5f1c7a55e5f";

/**
 * The quality fields of a synthetic record at `step`: measures that improve with training, and
 * floors that depend on `n` only (as the real ones do).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fixtureQuality } from "./fixtures.ts";
 * const q = fixtureQuality(100, { n: 256, steps: "50" });
 * assert.ok(q.frechet > q.frechetFloor);
 * assert.equal(q.quality.sampler, "ancestral");
 * ```
 */
export function fixtureQuality(
  step: number,
  o: { n: number; steps: string; seed?: number },
): ReturnType<typeof qualityFields> {
  const base = Math.exp(-step / 300);
  const set = (frechet: number, far: number): SetMeasures => ({
    n: o.n,
    frechet,
    kid: 0.2 * far,
    kidStderr: 0.003,
    precision: 0.85 - 0.8 * far,
    recall: 0.82 - 0.7 * far,
    classHistogram: Array.from({ length: 10 }, (_, i) => Math.round(o.n / 10) + (i % 2)),
    classEntropyBits: 3.3 - far,
    meanConfidence: 0.92 - 0.3 * far,
  });
  const floorFrechet = 70 / o.n;
  const settings: QualitySettings = {
    n: o.n,
    steps: o.steps,
    sampler: o.steps.startsWith("ddim") ? "ddim" : "ancestral",
    seed: o.seed ?? 0,
    classifier: FIXTURE_CLASSIFIER,
    weights: "ema",
  };
  return qualityFields({
    samples: set(floorFrechet + 90 * base, base),
    floor: set(floorFrechet, 0),
    memorisation: {
      sampleMedian: 9 + 3 * base,
      heldOutMedian: 9.5,
      heldOutP1: 3.05,
      fractionCloser: 0.01,
    },
  }, settings);
}

/**
 * One synthetic metrics line for `step` (loss decaying with noise).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fixtureMetric } from "./fixtures.ts";
 * import { Rng } from "../lib/random.ts";
 * const m = fixtureMetric(10, new Rng(1), new Date(0));
 * assert.equal(m.step, 10);
 * assert.ok(m.loss > 0);
 * ```
 */
export function fixtureMetric(step: number, rng: Rng, time: Date): MetricsLine {
  const base = 0.05 + 0.95 * Math.exp(-step / 300);
  const simple = base * (1 + 0.15 * rng.normal() ** 2);
  const vlb = 0.01 * base * (1 + 0.5 * rng.uniform());
  const stepMs = 20 + 5 * rng.uniform();
  return {
    step,
    time: time.toISOString(),
    loss: simple + vlb,
    simple,
    vlb,
    gradNorm: 1 + rng.uniform(),
    lr: 1e-3 * Math.min(1, (step + 1) / 100),
    stepMs,
    dataWaitMs: rng.uniform(),
    itemsPerSec: 128_000 / stepMs,
  };
}

/**
 * Writes a run folder under `runsDir`; returns its path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFixtureRun } from "./fixtures.ts";
 * const dir = await Deno.makeTempDir();
 * const path = await writeFixtureRun(dir, { id: "r1", metricLines: 10, samples: 2 });
 * const lines = (await Deno.readTextFile(`${path}/metrics.jsonl`)).trim().split("\n");
 * assert.equal(lines.length, 10);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFixtureRun(runsDir: string, o: FixtureRunOptions): Promise<string> {
  const dir = `${runsDir}/${o.id}`;
  const paths = runPaths(dir);
  const lines = o.metricLines ?? 200;
  const evalEvery = o.evalEvery ?? 50;
  const nSamples = o.samples ?? 3;
  const rng = new Rng(o.seed ?? 1);
  const started = o.startedAt ?? new Date(Date.now() - 3_600_000);
  const status = o.status ?? "completed";
  await Deno.mkdir(paths.samples, { recursive: true });
  const at = (step: number) => new Date(started.getTime() + step * 25);
  const lastStep = Math.max(0, lines - 1);
  const info: RunRecord = {
    id: o.id,
    name: o.name ?? o.id,
    status,
    dataset: o.dataset ?? "s-curve",
    model: o.model ?? "mlp",
    backend: "cpu",
    config: {
      lr: 1e-3,
      batchSize: 128,
      timesteps: 1000,
      schedule: "cosine",
      seed: o.seed ?? 1,
      ...o.config,
    },
    versions: { deno: "2.9.6", tfjs: "4.22.0" },
    gitCommit: "0123456789abcdef0123456789abcdef01234567",
    startedAt: started.toISOString(),
    updatedAt: (status === "running" ? new Date() : at(lastStep)).toISOString(),
    ...(status === "running" ? {} : { endedAt: at(lastStep).toISOString() }),
    step: lastStep,
    steps: Math.max(lines, 1000),
    paramCount: 12_345,
  };
  await writeRunRecord(dir, info);
  const parts: string[] = [];
  for (let s = 0; s < lines; s++) parts.push(JSON.stringify(fixtureMetric(s, rng, at(s))));
  let text = parts.length > 0 ? parts.join("\n") + "\n" : "";
  if (o.partialTail) text += '{"step":' + lines + ',"loss":0.1';
  await Deno.writeTextFile(paths.metrics, text);
  if (evalEvery > 0) {
    const ev: EvalLine[] = [];
    let last = 0;
    for (let s = 0; s < lines; s += evalEvery) {
      const base = 0.05 + Math.exp(-s / 300);
      ev.push({
        step: s,
        time: at(s).toISOString(),
        swd: base * 0.3,
        swdFloor: 0.02,
        bpd: 4 * base + 1,
        ...(o.quality ? fixtureQuality(s, { n: 256, steps: "50", seed: o.seed ?? 1 }) : {}),
      });
      last = s;
    }
    if (o.quality) {
      const time = at(last).toISOString();
      ev.push({ step: last, time, source: "eval", ema: true, swd: 0.01, bpd: 1.2, seconds: 40 });
      ev.push({
        step: last,
        time,
        source: "eval-quality",
        ema: true,
        ...fixtureQuality(last, { n: 1000, steps: "50" }),
        qualitySeconds: 600,
      });
    }
    await Deno.writeTextFile(paths.eval, ev.map((e) => JSON.stringify(e)).join("\n") + "\n");
  }
  for (let i = 0; i < nSamples; i++) {
    const step = nSamples === 1 ? lastStep : Math.round((i * lastStep) / (nSamples - 1));
    await Deno.writeFile(paths.sample(step), fixturePng(64, 64, i));
  }
  if (o.pictures ?? true) {
    await Deno.writeFile(paths.forward, fixturePng(400, 40, 7));
    await Deno.writeFile(paths.trajectory, fixturePng(400, 40, 9));
    const forward: PictureFrames = { t: Array.from({ length: 10 }, (_, i) => i * 111) };
    await Deno.writeTextFile(paths.forwardFrames, JSON.stringify(forward));
    const trajectory: PictureFrames = { t: Array.from({ length: 10 }, (_, i) => 999 - i * 111) };
    await Deno.writeTextFile(paths.trajectoryFrames, JSON.stringify(trajectory));
  }
  const nCk = o.checkpoints ?? 2;
  for (let i = 1; i <= nCk; i++) {
    const step = Math.round((i * lastStep) / nCk);
    const ckpt = paths.checkpoint(step);
    await Deno.mkdir(ckpt, { recursive: true });
    const [manifest, weights] = CHECKPOINT_FILES;
    await Deno.writeTextFile(join(ckpt, manifest), JSON.stringify({ step }));
    await Deno.writeFile(join(ckpt, weights), new Uint8Array(4096));
  }
  return dir;
}
