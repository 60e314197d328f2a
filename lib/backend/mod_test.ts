import assert from "node:assert/strict";
import { tf } from "../tf.ts";
import {
  BACKEND_NAMES,
  type BackendName,
  initBackend,
  probeWebgpu,
  registerAccelerator,
} from "./mod.ts";
import { findTfjsNode } from "./tensorflow.ts";

Deno.test("initBackend: an unknown name is a RangeError naming the choices", async () => {
  await assert.rejects(
    initBackend("tpu" as BackendName),
    (e: Error) => e instanceof RangeError && /expected one of auto, wasm, cpu/.test(e.message),
  );
});

Deno.test("initBackend('cpu', native off): plain cpu", async () => {
  const info = await initBackend("cpu", { native: false });
  assert.deepEqual([info.name, info.requested, info.accelerated], ["cpu", "cpu", undefined]);
  assert.equal(tf.getBackend(), "cpu");
});

Deno.test("initBackend('wasm', native off): wasm with SIMD and the training kernels", async () => {
  const info = await initBackend("wasm", { native: false });
  assert.equal(info.name, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  assert.match(info.detail, /^wasm \(XNNPACK, SIMD, 1 thread\)$/);
  assert.ok(tf.getKernel("Conv2DBackpropFilter", "wasm"));
  assert.ok(tf.getKernel("UnsortedSegmentSum", "wasm"));
});

Deno.test("initBackend: DIFFUSION_NATIVE=0 disables the native kernels", async () => {
  const prev = Deno.env.get("DIFFUSION_NATIVE");
  Deno.env.set("DIFFUSION_NATIVE", "0");
  try {
    const info = await initBackend("cpu");
    assert.equal(info.accelerated, undefined);
    assert.doesNotMatch(info.detail, /native/);
  } finally {
    if (prev === undefined) Deno.env.delete("DIFFUSION_NATIVE");
    else Deno.env.set("DIFFUSION_NATIVE", prev);
  }
});

Deno.test("initBackend: a registered accelerator is run and reported; a failing one is not fatal", async () => {
  const off1 = registerAccelerator((b) => Promise.resolve(b === "cpu" ? "test-accel" : null));
  const off2 = registerAccelerator(() => Promise.reject(new Error("boom\nsecond line")));
  try {
    const info = await initBackend("cpu", { native: false });
    assert.equal(info.accelerated, true);
    assert.match(info.detail, / \+ test-accel/);
    assert.match(info.detail, /\(boom\)$/);
  } finally {
    off1();
    off2();
  }
});

Deno.test("initBackend('tensorflow') when not installed: one-line install advice", async () => {
  if (findTfjsNode() !== null) return; // installed here: nothing to check
  await assert.rejects(initBackend("tensorflow"), (e: Error) => {
    assert.match(e.message, /npm i @tensorflow\/tfjs-node-gpu/);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
});

Deno.test("initBackend('auto') never picks a software WebGPU adapter and says why", async () => {
  const probe = await probeWebgpu();
  const info = await initBackend("auto", { native: false });
  assert.equal(info.requested, "auto");
  assert.ok(BACKEND_NAMES.includes(info.name));
  if (!probe.hardware) assert.notEqual(info.name, "webgpu");
  if (info.name === "wasm") {
    assert.ok(info.skipped?.some((s) => s.startsWith("webgpu: ")), String(info.skipped));
    assert.ok(info.skipped?.some((s) => s.startsWith("tensorflow: ")), String(info.skipped));
  }
  assert.equal(tf.getBackend(), info.name);
});
