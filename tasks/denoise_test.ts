/** `deno task denoise`: bad input is one line, exit 2, nothing written; a digit end to end. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeNpy, encodeNpy } from "../lib/io/npy.ts";
import {
  assertUsageError,
  PRETRAINED,
  runTaskFile,
  sCurveCheckpoint,
  writeInputs,
} from "./inpaint_testing.ts";

Deno.test("denoise: bad input is one line, exit 2, nothing written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = await writeInputs(dir);
    const ckpt = await sCurveCheckpoint(dir);
    const out = join(dir, "out.png");
    const cases: [string[], RegExp][] = [
      [["--run", "x", "--sigma", "0.5", "--out", out], /--image is required/],
      [["--run", "x", "--image", p.png, "--out", out], /--sigma is required/],
      [["--run", "x", "--image", p.png, "--sigma", "0", "--out", out], /--sigma must be above 0/],
      [["--run", "x", "--image", p.png, "--sigma", "-1", "--out", out], /--sigma must be above 0/],
      [
        ["--run", "x", "--image", join(dir, "none.npy"), "--sigma", "1", "--out", out],
        /cannot read it \(no such file\)/,
      ],
      [["--run", "x", "--image", p.big, "--sigma", "1", "--out", out], /got 32x32/],
      [["--run", "x", "--image", p.rgb, "--sigma", "1", "--out", out], /\[H, W\]/],
      [
        ["--run", "x", "--image", p.png, "--sigma", "1", "--sample-steps", "dpm++10", "--out", out],
        /ancestral sampler/,
      ],
      [["--run", ckpt, "--image", p.png, "--sigma", "1", "--out", out], /S-curve run/],
      [
        [...PRETRAINED, "--image", p.png, "--sigma", "1e9", "--out", out],
        /--sigma 1000000000: .*at most .*largest noise level/,
      ],
      [
        [...PRETRAINED, "--image", p.png, "--sigma", "1", "--class", "2", "--out", out],
        /no labels/,
      ],
    ];
    for (const [args, pattern] of cases) {
      await assertUsageError(await runTaskFile("denoise", args), pattern, out);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("denoise: a noisy .npy outside [0, 1], end to end", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const noisy = join(dir, "noisy.npy");
    const x = new Float32Array(784).map((_, i) => (i % 7) / 3 - 0.5); // -0.5 .. 1.5
    await Deno.writeFile(noisy, encodeNpy(x, [28, 28, 1]));
    const out = join(dir, "clean.npy");
    const r = await runTaskFile("denoise", [
      ...PRETRAINED,
      "--image",
      noisy,
      "--sigma",
      "0.05",
      "--n",
      "2",
      "--sample-steps",
      "20",
      "--out",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /sigma 0.05 matched at t = \d+/);
    const { data, shape } = decodeNpy(await Deno.readFile(out));
    assert.deepEqual(shape, [2, 28, 28, 1]);
    assert.ok(data.every((v) => v >= -1 && v <= 1)); // clipped predictions
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
