/**
 * The contract between the trainer, which writes `runs/<id>/run.json`, and the viewer, which
 * reads it.
 *
 * @example
 * ```ts
 * import type { RunRecord } from "./run_record.ts";
 * const r: Pick<RunRecord, "id" | "status"> = { id: "20261122-101010-s-curve-mlp", status: "running" };
 * ```
 *
 * @module
 */

/** A run's lifecycle state. */
export type RunStatus = "running" | "completed" | "failed" | "interrupted";

/** The contents of `run.json`. */
export interface RunRecord {
  /** The directory name under the runs directory. */
  id: string;
  name: string;
  status: RunStatus;
  dataset: string;
  model: string;
  /** The backend that ran it (`wasm`, `cpu`, `webgpu`, `tensorflow`). */
  backend: string;
  /** What the backend said of itself at start-up, e.g. its accelerator. */
  backendDetail?: string;
  /** The full training configuration. */
  config: Record<string, unknown>;
  versions: Record<string, unknown>;
  gitCommit: string | null;
  startedAt: string;
  updatedAt: string;
  endedAt?: string;
  /** Steps done. */
  step: number;
  /** Steps planned. */
  steps: number;
  paramCount: number;
  /** Why a failed run failed, one line. */
  error?: string;
  pid?: number;
  /** The name of the newest checkpoint directory. */
  lastCheckpoint?: string;
  /** The steps at which the run was resumed. */
  resumedFrom?: number[];
}
