/*
 * The optimiser's updates over lists of float32 tensors, one call per list: the sum of squares
 * behind the global gradient norm, Adam (PyTorch's formula) and the EMA of the weights. The
 * native side of the kernels `DiffusionGlobalNorm`, `DiffusionAdamUpdate` and
 * `DiffusionEmaUpdate` (`lib/backend/kernels/`).
 *
 * Every result equals the JavaScript kernels' bit for bit, in the same order of operations and
 * with no contraction into fused multiply-adds (the flags are ISO C, where GCC keeps
 * -ffp-contract=off): Adam in float32, each operation rounded (as tfjs's ops compute it, so that
 * it also equals their composition); the EMA in double, rounded once when stored; the sum of
 * squares in double in 8 lanes (element i of a tensor into lane i % 8), added up as
 * ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)). No FTZ/DAZ here: JavaScript keeps
 * subnormals too.
 *
 * Tensors come as arrays of addresses (uint64) and element counts (int64). An update reads a
 * tensor from `src` and writes it to `dst`, which are equal for an update in place.
 */
#include <math.h>
#include <stdint.h>

#define LANES 8

static inline float *_f(const uint64_t *ptrs, int64_t i) { return (float *)(uintptr_t)ptrs[i]; }

/* The sum of the squares of every value of the `count` tensors `xs[t]` of `ns[t]` values. */
double diffusion_sum_squares(const uint64_t *xs, const int64_t *ns, int64_t count) {
  double s[LANES] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t t = 0; t < count; t++) {
    const float *x = _f(xs, t);
    const int64_t n = ns[t];
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES) {
      for (int k = 0; k < LANES; k++) s[k] += (double)x[i + k] * (double)x[i + k];
    }
    for (; i < n; i++) s[i % LANES] += (double)x[i] * (double)x[i];
  }
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/*
 * One Adam update of `count` parameters, in float32 arithmetic with every operation rounded as
 * tfjs's ops (and PyTorch's) round it. `ptrs` holds 7 arrays of `count` addresses, in order:
 * w src, w dst, m src, m dst, v src, v dst, g. For each value:
 *   m' = m b1 + g c1;  v' = v b2 + (g g) c2;  w' = w - (m' step) / (sqrt(v') + eps_hat).
 * The hyper-parameters come as doubles holding float32 values.
 */
void diffusion_adam(const uint64_t *ptrs, const int64_t *ns, int64_t count, double beta1,
                    double beta2, double c1d, double c2d, double stepd, double epsd) {
  const float b1 = (float)beta1, b2 = (float)beta2, c1 = (float)c1d, c2 = (float)c2d;
  const float step = (float)stepd, eps_hat = (float)epsd;
  for (int64_t t = 0; t < count; t++) {
    const float *ws = _f(ptrs, t), *ms = _f(ptrs, 2 * count + t), *vs = _f(ptrs, 4 * count + t);
    float *wd = _f(ptrs, count + t), *md = _f(ptrs, 3 * count + t), *vd = _f(ptrs, 5 * count + t);
    const float *g = _f(ptrs, 6 * count + t);
    const int64_t n = ns[t];
    /* Each value is read before it is written, and only at its own index. */
#pragma GCC ivdep
    for (int64_t j = 0; j < n; j++) {
      const float gj = g[j];
      const float mj = ms[j] * b1 + gj * c1;
      const float vj = vs[j] * b2 + (gj * gj) * c2;
      md[j] = mj;
      vd[j] = vj;
      wd[j] = ws[j] - (mj * step) / (sqrtf(vj) + eps_hat);
    }
  }
}

/*
 * One EMA update of `count` tensors: e' = decay e + d1 w. `ptrs` holds 3 arrays of `count`
 * addresses: e src, e dst, w.
 */
void diffusion_ema(const uint64_t *ptrs, const int64_t *ns, int64_t count, double decay,
                   double d1) {
  for (int64_t t = 0; t < count; t++) {
    const float *es = _f(ptrs, t), *w = _f(ptrs, 2 * count + t);
    float *ed = _f(ptrs, count + t);
    const int64_t n = ns[t];
#pragma GCC ivdep
    for (int64_t j = 0; j < n; j++) ed[j] = (float)(decay * es[j] + d1 * w[j]);
  }
}
