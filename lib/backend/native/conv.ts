/**
 * 2-D convolution (NHWC) and its two gradients as im2col + GEMM on plain `Float32Array`s.
 *
 * The filter `[kh, kw, cin, cout]` is read as a row-major `[kh·kw·cin, cout]` matrix, and an
 * im2col row holds, for one output pixel, the `kh·kw·cin` input values under the filter in the
 * same order. Rows are processed in chunks so that the scratch matrix stays cache-sized; a 1x1
 * convolution with stride 1 and no padding needs no im2col at all.
 *
 * @module
 */
import type { Blas } from "./blas.ts";

/** The geometry of one convolution (sizes in elements). */
export interface ConvGeometry {
  /** Batch size. */
  n: number;
  /** Input height. */
  h: number;
  /** Input width. */
  w: number;
  /** Input channels. */
  cin: number;
  /** Filter height. */
  kh: number;
  /** Filter width. */
  kw: number;
  /** Output channels. */
  cout: number;
  /** Vertical stride. */
  sh: number;
  /** Horizontal stride. */
  sw: number;
  /** Vertical dilation. */
  dh: number;
  /** Horizontal dilation. */
  dw: number;
  /** Top padding. */
  padTop: number;
  /** Left padding. */
  padLeft: number;
  /** Output height. */
  ho: number;
  /** Output width. */
  wo: number;
}

/** A grow-only scratch buffer, shared by every convolution of a process. */
export class Scratch {
  #buf = new Float32Array(0);

  /**
   * A buffer of at least `size` elements (contents unspecified).
   *
   * @example
   * ```ts
   * import { Scratch } from "./conv.ts";
   * import assert from "node:assert/strict";
   * const s = new Scratch();
   * assert.ok(s.get(10).length >= 10);
   * ```
   */
  get(size: number): Float32Array {
    if (this.#buf.length < size) this.#buf = new Float32Array(size);
    return this.#buf;
  }
}

/** The scratch elements an im2col chunk may use (about 1 MiB). */
const _CHUNK_ELEMENTS = 1 << 18;

function _chunkRows(g: ConvGeometry): number {
  const k = g.kh * g.kw * g.cin;
  return Math.max(16, Math.floor(_CHUNK_ELEMENTS / k));
}

/** True when the convolution is a plain matrix product (1x1, stride 1, no padding). */
export function isPointwise(g: ConvGeometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.padTop === 0 &&
    g.padLeft === 0 && g.ho === g.h && g.wo === g.w;
}

/**
 * Writes the im2col rows `r0 ≤ r < r1` (output pixels in NHWC order) into `cols`.
 *
 * @example
 * ```ts
 * import { im2col } from "./conv.ts";
 * import assert from "node:assert/strict";
 * // 1x3x1 image, 1x2 filter, stride 1, no padding: rows [x0, x1], [x1, x2]
 * const g = { n: 1, h: 1, w: 3, cin: 1, kh: 1, kw: 2, cout: 1, sh: 1, sw: 1, dh: 1, dw: 1,
 *   padTop: 0, padLeft: 0, ho: 1, wo: 2 };
 * const cols = new Float32Array(4);
 * im2col(new Float32Array([1, 2, 3]), g, 0, 2, cols);
 * assert.deepEqual(Array.from(cols), [1, 2, 2, 3]);
 * ```
 */
export function im2col(
  x: Float32Array,
  g: ConvGeometry,
  r0: number,
  r1: number,
  cols: Float32Array,
): void {
  const { h, w, cin, kh, kw, sh, sw, dh, dw, padTop, padLeft } = g;
  const rowLen = kw * cin;
  const contiguous = dw === 1;
  _forEachPixel(g, r0, r1, (d0, n, oy, ox) => {
    let d = d0;
    const ix0 = ox * sw - padLeft;
    const inside = contiguous && ix0 >= 0 && ix0 + kw <= w;
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * sh - padTop + ky * dh;
      if (iy < 0 || iy >= h) {
        cols.fill(0, d, d + rowLen);
        d += rowLen;
        continue;
      }
      const base = (n * h + iy) * w;
      if (inside) {
        const s = (base + ix0) * cin;
        cols.set(x.subarray(s, s + rowLen), d);
        d += rowLen;
        continue;
      }
      for (let kx = 0; kx < kw; kx++, d += cin) {
        const ix = ix0 + kx * dw;
        if (ix < 0 || ix >= w) {
          cols.fill(0, d, d + cin);
        } else {
          const s = (base + ix) * cin;
          for (let c = 0; c < cin; c++) cols[d + c] = x[s + c]!;
        }
      }
    }
  });
}

/** Adds the im2col rows `r0 ≤ r < r1` of `cols` back into the image `dx` (the adjoint). */
export function col2imAdd(
  cols: Float32Array,
  g: ConvGeometry,
  r0: number,
  r1: number,
  dx: Float32Array,
): void {
  const { h, w, cin, kh, kw, sh, sw, dh, dw, padTop, padLeft } = g;
  _forEachPixel(g, r0, r1, (d0, n, oy, ox) => {
    let d = d0;
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * sh - padTop + ky * dh;
      if (iy < 0 || iy >= h) {
        d += kw * cin;
        continue;
      }
      const base = (n * h + iy) * w;
      for (let kx = 0; kx < kw; kx++, d += cin) {
        const ix = ox * sw - padLeft + kx * dw;
        if (ix < 0 || ix >= w) continue;
        const s = (base + ix) * cin;
        for (let c = 0; c < cin; c++) dx[s + c]! += cols[d + c]!;
      }
    }
  });
}

/**
 * Calls `visit` for each im2col row `r0 ≤ r < r1` in order, with the row's offset in a chunk that
 * starts at row `r0` and the row's output pixel: image `n`, row `oy`, column `ox`.
 */
function _forEachPixel(
  g: ConvGeometry,
  r0: number,
  r1: number,
  visit: (d: number, n: number, oy: number, ox: number) => void,
): void {
  const { ho, wo } = g;
  const k = g.kh * g.kw * g.cin;
  let ox = r0 % wo;
  const t = (r0 - ox) / wo;
  let oy = t % ho;
  let n = (t - oy) / ho;
  for (let r = r0, d = 0; r < r1; r++, d += k) {
    visit(d, n, oy, ox);
    if (++ox === wo) {
      ox = 0;
      if (++oy === ho) {
        oy = 0;
        n++;
      }
    }
  }
}

/**
 * Runs `body` over the im2col matrix of a convolution in chunks of rows `r0 ≤ r < r1`, held in a
 * cache-sized scratch `cols`. With "im2col", `cols` holds the chunk's rows of the image `x`; with
 * "col2im", `body` writes them and their adjoint is added into `x`, which starts at zero. The
 * im2col matrix of a pointwise convolution is the image itself, passed as one chunk.
 */
function _chunked(
  x: Float32Array,
  g: ConvGeometry,
  scratch: Scratch,
  direction: "im2col" | "col2im",
  body: (r0: number, r1: number, cols: Float32Array) => void,
): void {
  const m = g.n * g.ho * g.wo;
  if (isPointwise(g)) return body(0, m, x);
  if (direction === "col2im") x.fill(0);
  const rows = _chunkRows(g);
  const cols = scratch.get(Math.min(rows, m) * g.kh * g.kw * g.cin);
  for (let r0 = 0; r0 < m; r0 += rows) {
    const r1 = Math.min(m, r0 + rows);
    if (direction === "im2col") im2col(x, g, r0, r1, cols);
    body(r0, r1, cols);
    if (direction === "col2im") col2imAdd(cols, g, r0, r1, x);
  }
}

/**
 * Row-major `c = op(a)·op(b) + beta·c` for packed matrices (`op(a)` is `m × k`, `op(b)` is
 * `k × n`): the row strides follow from the shapes.
 */
function _gemm(
  blas: Blas,
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  b: Float32Array,
  beta: number,
  c: Float32Array,
): void {
  blas.sgemm(transA, transB, m, n, k, 1, a, transA ? m : k, b, transB ? k : n, beta, c, n);
}

/**
 * `out = conv2d(x, filter)`; `out` must hold `n·ho·wo·cout` elements.
 *
 * @example
 * ```ts
 * import { conv2dForward, Scratch } from "./conv.ts";
 * import { openBlas } from "./blas.ts";
 * import assert from "node:assert/strict";
 * const blas = openBlas({ threads: 1 });
 * const g = { n: 1, h: 1, w: 3, cin: 1, kh: 1, kw: 2, cout: 1, sh: 1, sw: 1, dh: 1, dw: 1,
 *   padTop: 0, padLeft: 0, ho: 1, wo: 2 };
 * const out = new Float32Array(2);
 * conv2dForward(blas, new Scratch(), new Float32Array([1, 2, 3]), new Float32Array([1, 10]), out, g);
 * assert.deepEqual(Array.from(out), [21, 32]);
 * blas.close();
 * ```
 */
export function conv2dForward(
  blas: Blas,
  scratch: Scratch,
  x: Float32Array,
  filter: Float32Array,
  out: Float32Array,
  g: ConvGeometry,
): void {
  const k = g.kh * g.kw * g.cin;
  _chunked(x, g, scratch, "im2col", (r0, r1, cols) => {
    _gemm(blas, false, false, r1 - r0, g.cout, k, cols, filter, 0, out.subarray(r0 * g.cout));
  });
}

/**
 * `dx = ∂conv2d/∂x (dy)`; `dx` must hold `n·h·w·cin` elements (its contents are overwritten).
 *
 * Stride-1 convolutions are computed as a forward convolution of `dy` with the flipped,
 * transposed filter (no scatter); other strides as GEMM then col2im.
 */
export function conv2dBackpropInput(
  blas: Blas,
  scratch: Scratch,
  dy: Float32Array,
  filter: Float32Array,
  dx: Float32Array,
  g: ConvGeometry,
): void {
  const k = g.kh * g.kw * g.cin;
  if (g.sh === 1 && g.sw === 1 && !isPointwise(g)) {
    const flipped = _flipScratch.get(k * g.cout);
    _flipTranspose(filter, g, flipped);
    const gt: ConvGeometry = {
      n: g.n,
      h: g.ho,
      w: g.wo,
      cin: g.cout,
      kh: g.kh,
      kw: g.kw,
      cout: g.cin,
      sh: 1,
      sw: 1,
      dh: g.dh,
      dw: g.dw,
      padTop: (g.kh - 1) * g.dh - g.padTop,
      padLeft: (g.kw - 1) * g.dw - g.padLeft,
      ho: g.h,
      wo: g.w,
    };
    conv2dForward(blas, scratch, dy, flipped, dx, gt);
    return;
  }
  _chunked(dx, g, scratch, "col2im", (r0, r1, cols) => {
    _gemm(blas, false, true, r1 - r0, k, g.cout, dy.subarray(r0 * g.cout), filter, 0, cols);
  });
}

const _flipScratch = new Scratch();

/** `out[ky', kx', co, ci] = filter[kh-1-ky', kw-1-kx', ci, co]`. */
function _flipTranspose(filter: Float32Array, g: ConvGeometry, out: Float32Array): void {
  const { kh, kw, cin, cout } = g;
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const src = ((kh - 1 - ky) * kw + (kw - 1 - kx)) * cin * cout;
      const dst = (ky * kw + kx) * cout * cin;
      for (let ci = 0; ci < cin; ci++) {
        for (let co = 0; co < cout; co++) out[dst + co * cin + ci] = filter[src + ci * cout + co]!;
      }
    }
  }
}

/** `dfilter = ∂conv2d/∂filter (x, dy)`; `dfilter` must hold `kh·kw·cin·cout` elements. */
export function conv2dBackpropFilter(
  blas: Blas,
  scratch: Scratch,
  x: Float32Array,
  dy: Float32Array,
  dfilter: Float32Array,
  g: ConvGeometry,
): void {
  const k = g.kh * g.kw * g.cin;
  if (g.n * g.ho * g.wo === 0) {
    dfilter.fill(0);
    return;
  }
  _chunked(x, g, scratch, "im2col", (r0, r1, cols) => {
    const beta = r0 === 0 ? 0 : 1; // the first chunk overwrites, the others add
    _gemm(blas, true, false, k, g.cout, r1 - r0, cols, dy.subarray(r0 * g.cout), beta, dfilter);
  });
}

/**
 * Sums `x` (of `shape`) over `axes` into `out` (the kept dimensions, in order).
 *
 * Dimensions are merged into alternating kept/reduced runs, and each run of the innermost
 * dimension is walked contiguously, so no transpose is needed.
 *
 * @example
 * ```ts
 * import { reduceSum } from "./conv.ts";
 * import assert from "node:assert/strict";
 * const out = new Float32Array(3);
 * reduceSum(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3], [0], out);
 * assert.deepEqual(Array.from(out), [5, 7, 9]);
 * ```
 */
export function reduceSum(
  x: Float32Array,
  shape: readonly number[],
  axes: readonly number[],
  out: Float32Array,
  blas?: Blas,
): void {
  // Merge adjacent dimensions of the same kind; size-1 dimensions join any run.
  const sizes: number[] = [];
  const reduced: boolean[] = [];
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d]!;
    if (size === 1) continue;
    const r = axes.includes(d);
    if (reduced.length > 0 && reduced[reduced.length - 1] === r) sizes[sizes.length - 1]! *= size;
    else {
      sizes.push(size);
      reduced.push(r);
    }
  }
  out.fill(0);
  if (sizes.length === 0) {
    out[0] = x[0] ?? 0;
    return;
  }
  // Strides of each run in x and (for kept runs) in out.
  const xStride: number[] = new Array(sizes.length);
  const oStride: number[] = new Array(sizes.length);
  let xs = 1;
  let os = 1;
  for (let i = sizes.length - 1; i >= 0; i--) {
    xStride[i] = xs;
    xs *= sizes[i]!;
    oStride[i] = reduced[i] ? 0 : os;
    if (!reduced[i]) os *= sizes[i]!;
  }
  const last = sizes.length - 1;
  // A reduced run followed by the kept innermost run is a row vector of ones times a matrix.
  const gemmLevel = blas !== undefined && last >= 1 && reduced[last - 1] && !reduced[last]
    ? last - 1
    : -1;
  const ones = gemmLevel >= 0 ? _ones(sizes[gemmLevel]!) : null;
  const walk = (level: number, xo: number, oo: number): void => {
    if (level === gemmLevel) {
      const r = sizes[level]!;
      const c = sizes[last]!;
      _gemm(blas!, false, false, 1, c, r, ones!, x.subarray(xo), 1, out.subarray(oo));
      return;
    }
    if (level === last - 1) {
      // The two innermost runs in flat loops (no call per innermost run).
      const n1 = sizes[level]!;
      const n2 = sizes[last]!;
      const so = oStride[level]!;
      if (reduced[last]) {
        for (let i = 0; i < n1; i++) {
          let s = 0;
          const b = xo + i * n2;
          for (let j = 0; j < n2; j++) s += x[b + j]!;
          out[oo + i * so]! += s;
        }
      } else {
        for (let i = 0; i < n1; i++) {
          const b = xo + i * n2;
          const ob = oo + i * so;
          for (let j = 0; j < n2; j++) out[ob + j]! += x[b + j]!;
        }
      }
      return;
    }
    if (level === last) {
      const n = sizes[last]!;
      if (reduced[last]) {
        let s = 0;
        for (let i = 0; i < n; i++) s += x[xo + i]!;
        out[oo]! += s;
      } else {
        for (let i = 0; i < n; i++) out[oo + i]! += x[xo + i]!;
      }
      return;
    }
    const n = sizes[level]!;
    const sx = xStride[level]!;
    const so = oStride[level]!;
    for (let i = 0; i < n; i++) walk(level + 1, xo + i * sx, oo + i * so);
  };
  walk(0, 0, 0);
}

let _onesBuf = new Float32Array(0);

function _ones(n: number): Float32Array {
  if (_onesBuf.length < n) _onesBuf = new Float32Array(n).fill(1);
  return _onesBuf;
}
