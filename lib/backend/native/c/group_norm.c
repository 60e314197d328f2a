/*
 * GroupNorm (+ SiLU) forward and backward on NHWC float32 tensors, parallel over samples with
 * OpenMP: the native side of `lib/model/fused_ops.ts`'s `groupNormSilu`.
 *
 * Every inner loop runs along the channels of one pixel (contiguous in NHWC), so that it
 * vectorises; per-channel sums are kept in float over blocks of pixels and added up in double.
 * `stats` holds, for each (sample, group), the mean and 1/sqrt(var + eps) (biased variance), as
 * the JavaScript kernel writes them. With `silu` set, the forward writes y = silu(z) with
 * z = xhat * gamma + beta, and the backward recomputes z from x and the statistics (nothing but
 * x is saved).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_C 1024
#define BLOCK 64 /* pixels summed in float before the sums go to double */

/*
 * exp(x) as 2^(x log2 e): a degree-6 polynomial for 2^f on [0, 1) times 2^i, with the exponent
 * i clamped to the normal range in integers (a float clamp would keep the loop from
 * vectorising without -ffinite-math-only). Relative error below 1e-5 where exp(x) is a normal
 * float; NaN stays NaN. Unlike libm's expf it vectorises, which keeps the SiLU loops near
 * memory speed.
 */
static inline float exp_approx(float x) {
  const float t = x * 1.44269504088896341f;
  const float fi = floorf(t);
  const float f = t - fi;
  float p = 1.535336188319500e-4f;
  p = p * f + 1.339887440266574e-3f;
  p = p * f + 9.618437357674640e-3f;
  p = p * f + 5.550332471162809e-2f;
  p = p * f + 2.402264791363012e-1f;
  p = p * f + 6.931472028550421e-1f;
  p = p * f + 1.0f;
  int32_t i = (int32_t)fi;
  i = i < -126 ? -126 : i;
  i = i > 127 ? 127 : i;
  const int32_t e = (i + 127) << 23;
  float scale;
  memcpy(&scale, &e, sizeof scale);
  return p * scale;
}

static inline float sigmoid(float z) { return 1.0f / (1.0f + exp_approx(-z)); }

/* Per-channel sums of x and x^2 over the hw pixels of one sample, in double. */
static void channel_sums(const float *x, int64_t hw, int64_t c, double *s1, double *s2) {
  float a[MAX_C], q[MAX_C];
  for (int64_t k = 0; k < c; k++) s1[k] = s2[k] = 0;
  for (int64_t p0 = 0; p0 < hw; p0 += BLOCK) {
    const int64_t p1 = p0 + BLOCK < hw ? p0 + BLOCK : hw;
    for (int64_t k = 0; k < c; k++) a[k] = q[k] = 0;
    for (int64_t p = p0; p < p1; p++) {
      const float *r = x + p * c;
      for (int64_t k = 0; k < c; k++) {
        a[k] += r[k];
        q[k] += r[k] * r[k];
      }
    }
    for (int64_t k = 0; k < c; k++) {
      s1[k] += a[k];
      s2[k] += q[k];
    }
  }
}

/* The (mean, 1/std) of each group of one sample, and per channel z = x * scale + shift. */
static void sample_stats(const float *x, const float *gamma, const float *beta, int64_t hw,
                         int64_t c, int64_t groups, double eps, float *stats, float *scale,
                         float *shift) {
  double s1[MAX_C], s2[MAX_C];
  channel_sums(x, hw, c, s1, s2);
  const int64_t cg = c / groups;
  const double n = (double)(hw * cg);
  for (int64_t g = 0; g < groups; g++) {
    double a = 0, q = 0;
    for (int64_t k = g * cg; k < (g + 1) * cg; k++) {
      a += s1[k];
      q += s2[k];
    }
    const double mean = a / n;
    double var = q / n - mean * mean;
    if (var < 0) var = 0;
    stats[2 * g] = (float)mean;
    stats[2 * g + 1] = (float)(1.0 / __builtin_sqrt(var + eps));
  }
  for (int64_t k = 0; k < c; k++) {
    const float mean = stats[2 * (k / cg)], rstd = stats[2 * (k / cg) + 1];
    scale[k] = rstd * gamma[k];
    shift[k] = beta[k] - mean * rstd * gamma[k];
  }
}

int diffusion_gn_forward(const float *x, const float *gamma, const float *beta, float *y,
                         float *stats, int64_t n, int64_t hw, int64_t c, int64_t groups,
                         float eps, int32_t silu) {
  if (groups <= 0 || c % groups != 0 || c > MAX_C) return 1;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) {
    const float *xi = x + i * hw * c;
    float *yi = y + i * hw * c;
    float scale[MAX_C], shift[MAX_C];
    sample_stats(xi, gamma, beta, hw, c, groups, eps, stats + 2 * i * groups, scale, shift);
    for (int64_t p = 0; p < hw; p++) {
      const float *xr = xi + p * c;
      float *yr = yi + p * c;
      if (silu) {
        for (int64_t k = 0; k < c; k++) {
          const float z = xr[k] * scale[k] + shift[k];
          yr[k] = z * sigmoid(z);
        }
      } else {
        for (int64_t k = 0; k < c; k++) yr[k] = xr[k] * scale[k] + shift[k];
      }
    }
  }
  return 0;
}

/*
 * dx, dgamma, dbeta from dy. `partial` is scratch of 2 * n * c doubles (per-sample sums of
 * dgamma and dbeta, added up in sample order so that the result does not depend on threads).
 */
int diffusion_gn_backward(const float *dy, const float *x, const float *gamma, const float *beta,
                          const float *stats, float *dx, float *dgamma, float *dbeta,
                          double *partial, int64_t n, int64_t hw, int64_t c, int64_t groups,
                          int32_t silu) {
  if (groups <= 0 || c % groups != 0 || c > MAX_C) return 1;
  const int64_t cg = c / groups;
  const double count = (double)(hw * cg);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) {
    const float *xi = x + i * hw * c, *dyi = dy + i * hw * c;
    float *dxi = dx + i * hw * c;
    const float *si = stats + 2 * i * groups;
    double *pg = partial + 2 * i * c, *pb = pg + c;
    float r[MAX_C], m[MAX_C], scale[MAX_C], shift[MAX_C], u[MAX_C], v[MAX_C];
    float ag[MAX_C], ab[MAX_C], aa[MAX_C], aq[MAX_C];
    double sa[MAX_C], sq[MAX_C];
    for (int64_t k = 0; k < c; k++) {
      const float mean = si[2 * (k / cg)], rstd = si[2 * (k / cg) + 1];
      r[k] = rstd;
      m[k] = -mean * rstd; /* xhat = x * r + m */
      scale[k] = rstd * gamma[k];
      shift[k] = beta[k] - mean * rstd * gamma[k];
      pg[k] = pb[k] = sa[k] = sq[k] = 0;
    }
    /* Pass 1: dz (through SiLU), dxhat = dz * gamma into dx, and per-channel sums. */
    for (int64_t p0 = 0; p0 < hw; p0 += BLOCK) {
      const int64_t p1 = p0 + BLOCK < hw ? p0 + BLOCK : hw;
      for (int64_t k = 0; k < c; k++) ag[k] = ab[k] = aa[k] = aq[k] = 0;
      for (int64_t p = p0; p < p1; p++) {
        const float *xr = xi + p * c, *dyr = dyi + p * c;
        float *dxr = dxi + p * c;
        for (int64_t k = 0; k < c; k++) {
          float d = dyr[k];
          if (silu) {
            const float z = xr[k] * scale[k] + shift[k];
            const float s = sigmoid(z);
            d *= s * (1.0f + z * (1.0f - s));
          }
          const float xhat = xr[k] * r[k] + m[k];
          const float dxh = d * gamma[k];
          ag[k] += d * xhat;
          ab[k] += d;
          aa[k] += dxh;
          aq[k] += dxh * xhat;
          dxr[k] = dxh;
        }
      }
      for (int64_t k = 0; k < c; k++) {
        pg[k] += ag[k];
        pb[k] += ab[k];
        sa[k] += aa[k];
        sq[k] += aq[k];
      }
    }
    /* Pass 2: dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) = r*dxhat + x*u + v. */
    for (int64_t g = 0; g < groups; g++) {
      double a = 0, q = 0;
      for (int64_t k = g * cg; k < (g + 1) * cg; k++) {
        a += sa[k];
        q += sq[k];
      }
      const float ma = (float)(a / count), mb = (float)(q / count);
      for (int64_t k = g * cg; k < (g + 1) * cg; k++) {
        u[k] = -r[k] * r[k] * mb;
        v[k] = -r[k] * (ma + m[k] * mb);
      }
    }
    for (int64_t p = 0; p < hw; p++) {
      const float *xr = xi + p * c;
      float *dxr = dxi + p * c;
      for (int64_t k = 0; k < c; k++) dxr[k] = r[k] * dxr[k] + xr[k] * u[k] + v[k];
    }
  }
  for (int64_t k = 0; k < c; k++) {
    double g = 0, b = 0;
    for (int64_t i = 0; i < n; i++) {
      g += partial[2 * i * c + k];
      b += partial[2 * i * c + c + k];
    }
    dgamma[k] = (float)g;
    dbeta[k] = (float)b;
  }
  return 0;
}
