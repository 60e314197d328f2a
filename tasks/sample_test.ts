import assert from "node:assert/strict";
import { helpText } from "./_cli.ts";
import { SAMPLE_COUNTS, SAMPLE_OPTIONS } from "./sample.ts";
import { DATASETS } from "../workers/options.ts";

Deno.test("sample --help: the default counts come from SAMPLE_COUNTS", () => {
  const line = helpText("sample", SAMPLE_OPTIONS).split("\n").find((l) => l.startsWith("  --n "));
  for (const d of DATASETS) assert.ok(line?.includes(`${d}: ${SAMPLE_COUNTS[d]}`), line);
});
