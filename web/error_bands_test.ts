import assert from "node:assert/strict";
import { bandEdges, stderrColumns } from "./error_bands.ts";
import { flattenEvalRecord } from "./eval_series.ts";
import { appendRecords, emptyTable } from "./jsonl.ts";

Deno.test("stderr columns pair with their measure per series, floors included", () => {
  const t = emptyTable();
  appendRecords(t, [
    flattenEvalRecord({ step: 10, bpdMc: 1.2, bpdMcStderr: 0.05, swd: 0.1 }),
    flattenEvalRecord({ step: 20, source: "eval", bpdMc: 1.1, bpdMcStderr: 0.04 }),
  ]);
  const keys = Object.keys(t.columns).filter((k) => !k.includes("Stderr"));
  assert.deepEqual(stderrColumns(keys, t.columns), {
    "bpdMc@training": "bpdMcStderr@training",
    "bpdMc@deno task eval": "bpdMcStderr@deno task eval",
  });
  assert.deepEqual(
    stderrColumns(["kid@s", "kidFloor@s"], {
      "kid@s": [1],
      "kidFloor@s": [0.5],
      "kidStderr@s": [0.1],
      "kidFloorStderr@s": [0.05],
    }),
    { "kid@s": "kidStderr@s", "kidFloor@s": "kidFloorStderr@s" },
  );
});

Deno.test("stderr columns: names from files are own properties only", () => {
  const columns = JSON.parse('{"__proto__@a":[1],"__proto__Stderr@a":[0.1],"x@a":[1]}');
  const out = stderrColumns(["__proto__@a", "x@a", "constructor", "toString@a"], columns);
  assert.deepEqual(Object.keys(out), ["__proto__@a"]);
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  // A plain column with a plain stderr column, too.
  assert.deepEqual(stderrColumns(["kid"], { kid: [1], kidStderr: [0.1] }), { kid: "kidStderr" });
});

Deno.test("band edges: value ∓ stderr where both are known", () => {
  const [lo, hi] = bandEdges([1, null, 3, 4], [0.25, 0.1, null, 1]);
  assert.deepEqual(lo, [0.75, null, null, 3]);
  assert.deepEqual(hi, [1.25, null, null, 5]);
  assert.deepEqual(bandEdges([1], []), [[null], [null]]);
});
