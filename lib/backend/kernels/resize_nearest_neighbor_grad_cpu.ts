/**
 * A correction to tfjs-backend-cpu 4.22.0 that training depends on (registered for cpu whatever
 * backend is chosen, since every backend may fall back on cpu kernels).
 *
 * `ResizeNearestNeighborGrad` (the gradient of nearest-neighbour upsampling) on the cpu backend
 * reads `dy` at the *input* image's batch offset, so for a batch of more than one image every
 * image after the first gets a gradient made of the wrong image's values; it also ignores
 * `halfPixelCenters`. The replacement here scatters each `dy` pixel onto the input pixel the
 * forward kernel read it from, with the forward kernel's exact index arithmetic.
 *
 * @module
 */
import type { tf } from "../../tf.ts";
import type { KernelArgs, KernelSpec } from "./_spec.ts";

interface CpuBackendLike {
  data: { get(dataId: object): { values: tf.backend_util.BackendValues } | undefined };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/** Source index along one axis, as the forward `ResizeNearestNeighbor` of tfjs computes it. */
function _sourceIndex(
  i: number,
  ratio: number,
  oldSize: number,
  alignCorners: boolean,
  halfPixelCenters: boolean,
): number {
  const frac = halfPixelCenters ? ratio * (i + 0.5) : ratio * i;
  let s = Math.min(oldSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
  if (halfPixelCenters) s = Math.max(0, s);
  return s;
}

/**
 * `ResizeNearestNeighborGrad` for the cpu backend: dx[b, sr(r), sc(c), d] += dy[b, r, c, d].
 */
function _resizeNearestNeighborGrad(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as CpuBackendLike;
  const images = args.inputs.images;
  const dy = args.inputs.dy;
  if (images === undefined || dy === undefined) {
    throw new TypeError("ResizeNearestNeighborGrad: expected inputs 'images' and 'dy'");
  }
  const { alignCorners = false, halfPixelCenters = false } = (args.attrs ?? {}) as {
    alignCorners?: boolean;
    halfPixelCenters?: boolean;
  };
  const [batch, oldH, oldW, depth] = images.shape as [number, number, number, number];
  const [, newH, newW] = dy.shape as [number, number, number, number];
  const dyv = backend.data.get(dy.dataId)!.values as Float32Array;
  const out = new Float32Array(batch * oldH * oldW * depth);
  const rowRatio = (alignCorners && newH > 1 ? oldH - 1 : oldH) /
    (alignCorners && newH > 1 ? newH - 1 : newH);
  const colRatio = (alignCorners && newW > 1 ? oldW - 1 : oldW) /
    (alignCorners && newW > 1 ? newW - 1 : newW);
  const srcCol = new Int32Array(newW);
  for (let c = 0; c < newW; c++) {
    srcCol[c] = _sourceIndex(c, colRatio, oldW, alignCorners, halfPixelCenters);
  }
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < newH; r++) {
      const sr = _sourceIndex(r, rowRatio, oldH, alignCorners, halfPixelCenters);
      const rowBase = (b * oldH + sr) * oldW;
      for (let c = 0; c < newW; c++) {
        const dst = (rowBase + srcCol[c]!) * depth;
        for (let d = 0; d < depth; d++) out[dst + d]! += dyv[o++]!;
      }
    }
  }
  return backend.makeTensorInfo(images.shape, "float32", out);
}

/**
 * The `ResizeNearestNeighborGrad` kernel spec for `cpu`.
 *
 * @example
 * ```ts
 * import { tf } from "../../tf.ts";
 * import { registerKernels } from "./mod.ts";
 * import assert from "node:assert/strict";
 * registerKernels("cpu");
 * await tf.setBackend("cpu");
 * // Two 1x1 images upsampled to 2x2: each image's gradient is the sum of its own 4 pixels.
 * const x = tf.zeros([2, 1, 1, 1]);
 * const [g] = tf.grads((a: tf.Tensor) =>
 *   tf.sum(tf.mul(tf.image.resizeNearestNeighbor(a as tf.Tensor4D, [2, 2]), tf.range(0, 8).reshape([2, 2, 2, 1])))
 * )([x]);
 * assert.deepEqual(Array.from(g!.dataSync()), [6, 22]);
 * ```
 */
export const resizeNearestNeighborGradCpu: KernelSpec = {
  kernelName: "ResizeNearestNeighborGrad",
  backends: ["cpu"],
  needs: "none",
  kernelFunc: _resizeNearestNeighborGrad,
};
