/**
 * Run directories: their layout, creation and record (`run.json`), their checkpoints (latest,
 * newest loadable, retention), the lock that keeps two trainers out of one run, and cutting the
 * JSON-lines files back to a step, and training a run in its directory (`trainRun`).
 *
 * @example
 * ```ts
 * import { runPaths, stepName } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(runPaths("r").checkpoint(5), `r/checkpoints/${stepName(5, "")}`);
 * ```
 *
 * @module
 */
export {
  CHECKPOINT_FILES,
  CHECKPOINTS_DIR,
  EVAL_FILE,
  type EvalLine,
  FORWARD_FILE,
  FORWARD_FRAMES_FILE,
  LOCK_FILE,
  METRICS_FILE,
  type MetricsLine,
  parseStepName,
  type PictureFrames,
  RUN_FILE,
  type RunPaths,
  runPaths,
  SAMPLES_DIR,
  stepName,
  TRAJECTORY_FILE,
  TRAJECTORY_FRAMES_FILE,
} from "./layout.ts";
export {
  type CheckpointDir,
  latestCheckpoint,
  listCheckpointDirs,
  pruneCheckpoints,
} from "./checkpoints.ts";
export { loadNewestCheckpoint, type NewestCheckpoint, type SkippedCheckpoint } from "./load.ts";
export {
  acquireRunLock,
  type LockInfo,
  processExists,
  type RunLock,
  RunLockedError,
} from "./lock.ts";
export { cutJsonlAfter, filterJsonl } from "./jsonl.ts";
export {
  createRunDir,
  readRunRecord,
  type RunRecord,
  type RunStatus,
  writeRunRecord,
  writeRunRecordSync,
} from "./record.ts";
export {
  defaultRunConfig,
  markInterruptedSync,
  RUN_DEFAULTS,
  type RunConfig,
  type RunContext,
  RunUsageError,
  trainRun,
  type TrainRunHooks,
  type TrainRunOptions,
  type TrainRunResult,
} from "./train_run.ts";
