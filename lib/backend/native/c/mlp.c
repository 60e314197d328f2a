/*
 * The element-wise parts of the fused 2-D MLP (`lib/backend/kernels/mlp_forward.ts`,
 * `mlp_backward.ts`), whose matrix products stay in the BLAS: the embedding rows plus biases
 * that the products accumulate onto, the ReLU and its mask, and the gradients of the embedding
 * table and the biases. Layout as in `kernels/_mlp.ts`: the hidden activations are 3 blocks of
 * [B, H], the table is [T, 3H] (layer l uses columns [lH, (l+1)H)).
 *
 * Each result equals the JavaScript loops' bit for bit: float sums in the same order, the ReLU
 * and its mask on the bits.
 */
#include <stdint.h>
#include <string.h>

/* z[l][b][:] = table[t[b]][lH : (l+1)H] + bias_l, for l = 0, 1, 2. */
void diffusion_mlp_embed(float *z, const float *table, const int32_t *t, const float *b0,
                         const float *b1, const float *b2, int64_t batch, int64_t h) {
  const float *bias[3] = {b0, b1, b2};
  for (int l = 0; l < 3; l++) {
    const float *bl = bias[l];
    for (int64_t b = 0; b < batch; b++) {
      const float *src = table + (int64_t)t[b] * 3 * h + l * h;
      float *dst = z + (l * batch + b) * h;
      for (int64_t j = 0; j < h; j++) dst[j] = src[j] + bl[j];
    }
  }
}

/* The ReLU in place on the bits: a set sign bit (negative values, -0) gives +0. */
void diffusion_relu(float *z, int64_t n) {
  int32_t *zi = (int32_t *)z;
  for (int64_t j = 0; j < n; j++) zi[j] &= ~(zi[j] >> 31);
}

/*
 * The ReLU's derivative: d[j] = 0 where z[j] (a ReLU output: +0, positive or NaN) is +0, i.e.
 * where its bits are 0.
 */
void diffusion_relu_mask(float *d, const float *z, int64_t n) {
  int32_t *di = (int32_t *)d;
  const int32_t *zi = (const int32_t *)z;
  for (int64_t j = 0; j < n; j++) di[j] &= (int32_t)(0u - (uint32_t)zi[j]) >> 31;
}

/*
 * The table's gradient, each example's 3 rows of g added to its timestep's row (examples in
 * order), and the biases' gradients, the column sums of the table's gradient (rows in order).
 */
void diffusion_mlp_embed_grad(float *dtable, float *db0, float *db1, float *db2, const float *g,
                              const int32_t *t, int64_t batch, int64_t h, int64_t steps) {
  const int64_t h3 = 3 * h;
  memset(dtable, 0, sizeof(float) * steps * h3);
  for (int l = 0; l < 3; l++) {
    for (int64_t b = 0; b < batch; b++) {
      float *dst = dtable + (int64_t)t[b] * h3 + l * h;
      const float *src = g + (l * batch + b) * h;
      for (int64_t j = 0; j < h; j++) dst[j] += src[j];
    }
  }
  float *dbs[3] = {db0, db1, db2};
  for (int l = 0; l < 3; l++) {
    float *db = dbs[l];
    for (int64_t j = 0; j < h; j++) db[j] = 0;
    for (int64_t r = 0; r < steps; r++) {
      const float *row = dtable + r * h3 + l * h;
      for (int64_t j = 0; j < h; j++) db[j] += row[j];
    }
  }
}
