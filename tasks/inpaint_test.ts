/** `deno task inpaint`: bad input is one line, exit 2, nothing written; a small run end to end. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { halfMask } from "./inpaint.ts";
import { decodeNpy } from "../lib/io/npy.ts";
import {
  assertUsageError,
  PRETRAINED,
  runTaskFile,
  sCurveCheckpoint,
  writeInputs,
} from "./inpaint_testing.ts";

Deno.test("inpaint: bad input is one line, exit 2, nothing written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = await writeInputs(dir);
    const ckpt = await sCurveCheckpoint(dir);
    const out = join(dir, "out.png");
    const cases: [string[], RegExp][] = [
      [["--run", "x", "--out", out], /--image and --mask .* or --x .* is required/],
      [["--run", "x", "--image", p.png, "--x", "0", "--out", out], /exclude each other/],
      [["--run", "x", "--image", p.png, "--out", out], /--mask is required with --image/],
      [
        ["--run", "x", "--x", "0", "--mask", "top", "--out", out],
        /--mask applies only with --image/,
      ],
      [
        ["--run", "x", "--image", join(dir, "none.png"), "--mask", "top", "--out", out],
        /--image .*none\.png: cannot read it \(no such file\)/,
      ],
      [
        ["--run", "x", "--image", p.big, "--mask", "top", "--out", out],
        /--image: .*expected a 28x28 grey image, got 32x32/,
      ],
      [
        ["--run", "x", "--image", p.rgb, "--mask", "top", "--out", out],
        /shape \[H, W\] or \[H, W, 1\]/,
      ],
      [
        ["--run", "x", "--image", p.png, "--mask", p.smallMask, "--out", out],
        /--mask: .*expected a 28x28 grey image, got 14x14/,
      ],
      [
        ["--run", "x", "--image", p.png, "--mask", "middle", "--out", out],
        /--mask must be a \.png or \.npy file or one of top, bottom, left, right; got "middle"/,
      ],
      [["--run", "x", "--image", p.png, "--mask", "top", "--out", join(dir, "a.gif")], /extension/],
      [
        ["--run", "x", "--image", p.png, "--mask", "top", "--sample-steps", "ddim10", "--out", out],
        /ancestral sampler/,
      ],
      [["--run", ckpt, "--image", p.png, "--mask", "top", "--out", out], /S-curve run \(use --x\)/],
      [
        ["--run", ckpt, "--x", "0", "--sample-steps", "500", "--out", out],
        /does not fit a model of 100/,
      ],
      [["--run", ckpt, "--x", "0", "--class", "3", "--out", out], /class-conditional model/],
      [[...PRETRAINED, "--x", "0.5", "--out", out], /MNIST run \(use --image\)/],
    ];
    for (const [args, pattern] of cases) {
      await assertUsageError(await runTaskFile("inpaint", args), pattern, out);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inpaint: an S-curve run's --x, and a digit, end to end", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = await writeInputs(dir);
    const ckpt = await sCurveCheckpoint(dir);
    const npy = join(dir, "x2.npy");
    const r = await runTaskFile("inpaint", [
      "--run",
      ckpt,
      "--x",
      "0.05",
      "--n",
      "20",
      "--sample-steps",
      "10",
      "--jump",
      "3",
      "--resample",
      "2",
      "--out",
      npy,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /x2 \| x1 = 0.05: mean/);
    const { data, shape } = decodeNpy(await Deno.readFile(npy));
    assert.deepEqual(shape, [20, 2]);
    for (let i = 0; i < 20; i++) assert.equal(data[2 * i], Math.fround(0.05));
    // A digit with a mask file: the known pixels come back as they were.
    const out = join(dir, "result.npy");
    const d = await runTaskFile("inpaint", [
      ...PRETRAINED,
      "--image",
      p.npy,
      "--mask",
      p.mask,
      "--n",
      "2",
      "--sample-steps",
      "2",
      "--method",
      "replace",
      "--out",
      out,
    ]);
    assert.equal(d.code, 0, d.stderr);
    const res = decodeNpy(await Deno.readFile(out));
    assert.deepEqual(res.shape, [2, 28, 28, 1]);
    const image = decodeNpy(await Deno.readFile(p.npy)).data;
    const known = halfMask("bottom", 28);
    for (let k = 0; k < 2; k++) {
      for (let i = 0; i < 784; i++) {
        if (known[i]) assert.equal(res.data[k * 784 + i], Math.fround(image[i]! * 2 - 1));
      }
    }
    const png = join(dir, "digit.png.out.png");
    const e = await runTaskFile("inpaint", [
      ...PRETRAINED,
      "--image",
      p.png,
      "--mask",
      "left",
      "--n",
      "1",
      "--sample-steps",
      "2",
      "--out",
      png,
    ]);
    assert.equal(e.code, 0, e.stderr);
    assert.ok((await Deno.stat(png)).size > 100);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inpaint -h and denoise -h print the help", async () => {
  for (const task of ["inpaint", "denoise"]) {
    const r = await runTaskFile(task, ["-h"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Usage: deno task ${task} `));
  }
});
