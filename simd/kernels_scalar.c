/* kernels_scalar.c - the reference kernels: portable C, no intrinsics. */
#include "kernels.h"

#include "../formats/fp.h"

#include <math.h>
#include <string.h>

static void quantize_q8_0(const float *x, block_q8_0 *y, int64_t n) {
    for (int64_t b = 0; b < n / QK8_0; b++) {
        const float *xb = x + b * QK8_0;
        float amax = 0.0f;
        for (int j = 0; j < QK8_0; j++) amax = fmaxf(amax, fabsf(xb[j]));
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[b].d = ge_fp32_to_fp16(d);
        for (int j = 0; j < QK8_0; j++) y[b].qs[j] = (int8_t)nearbyintf(xb[j] * id);
    }
}

/* the canonical 8-lane reduction (kernels.h) */
static float reduce8(const float L[8]) {
    return ((L[0] + L[4]) + (L[2] + L[6])) + ((L[1] + L[5]) + (L[3] + L[7]));
}

/* the exact integer dot product of two 32-value blocks (|sum| < 2^20: exact in
 * int32 and in float) */
static int32_t block_isum(const int8_t *w, const int8_t *a) {
    int32_t isum = 0;
    for (int j = 0; j < QK8_0; j++) isum += (int32_t)w[j] * (int32_t)a[j];
    return isum;
}

/* the canonical gemm (kernels.h): per block the exact integer sum, then one
 * float accumulator per output, y = y + (float)isum * (d_w * d_a), blocks in order */
static void gemm_q8_0(int64_t nb, const block_q8_0 *W, int64_t n_rows, const block_q8_0 *A, int64_t n_tok,
                      float *Y, int64_t ldy) {
    for (int64_t t = 0; t < n_tok; t++)
        for (int64_t r = 0; r < n_rows; r++) {
            const block_q8_0 *w = W + r * nb, *a = A + t * nb;
            float acc = 0.0f;
            for (int64_t b = 0; b < nb; b++) {
                const float s = ge_fp16_to_fp32(w[b].d) * ge_fp16_to_fp32(a[b].d);
                acc = acc + (float)block_isum(w[b].qs, a[b].qs) * s;
            }
            Y[t * ldy + r] = acc;
        }
}

/* ggml's quantize_row_q8_K_ref, step for step */
static void quantize_q8_K(const float *x, block_q8_K *y, int64_t n) {
    for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
        float max = 0.0f, amax = 0.0f;
        for (int j = 0; j < QK_K; j++) {
            const float ax = fabsf(x[j]);
            if (ax > amax) {
                amax = ax;
                max = x[j];
            }
        }
        if (amax == 0.0f) {
            memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < QK_K; j++) {
            const int v = ge_nearest_int(iscale * x[j]);
            y[b].qs[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) sum += y[b].qs[j * 16 + i];
            y[b].bsums[j] = (int16_t)sum;
        }
        y[b].d = 1.0f / iscale;
    }
}

/* the canonical K-quant product (kernels.h): per sub-block the exact integer sum, then
 * y = y + (float)isum_j * (ws_j * d_a), sub-blocks in order; with mins, after each
 * super-block y = y + (float)msum * (wd * d_a), msum = sum_j m_j * bsum_j exactly */
static void gemm_q8_K(int64_t n, int sub, const int8_t *Wq, const float *Ws, const int8_t *Wm, const float *Wd,
                      int64_t n_rows, const block_q8_K *A, int64_t n_tok, float *Y, int64_t ldy) {
    const int64_t ns = n / sub, nsb = n / QK_K, per = QK_K / sub;
    for (int64_t t = 0; t < n_tok; t++)
        for (int64_t r = 0; r < n_rows; r++) {
            const int8_t *w = Wq + r * n;
            const float *ws = Ws + r * ns;
            const block_q8_K *a = A + t * nsb;
            float acc = 0.0f;
            for (int64_t b = 0; b < nsb; b++) {
                for (int64_t jj = 0; jj < per; jj++) {
                    const int64_t j = b * per + jj;
                    const int8_t *aq = a[b].qs + jj * sub;
                    int32_t isum = 0;
                    for (int i = 0; i < sub; i++) isum += (int32_t)w[j * sub + i] * (int32_t)aq[i];
                    acc = acc + (float)isum * (ws[j] * a[b].d);
                }
                if (Wm) {
                    int32_t msum = 0;
                    for (int64_t jj = 0; jj < per; jj++) {
                        const int32_t bsum = sub == 16 ? a[b].bsums[jj] : a[b].bsums[2 * jj] + a[b].bsums[2 * jj + 1];
                        msum += (int32_t)Wm[r * ns + b * per + jj] * bsum;
                    }
                    acc = acc + (float)msum * (Wd[r * nsb + b] * a[b].d);
                }
            }
            Y[t * ldy + r] = acc;
        }
}

/* 8 lanes over the first n - n%8 values */
static float dot8(int64_t n, const float *x, const float *y) {
    float L[8] = {0};
    for (int64_t i = 0; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) L[k] = L[k] + x[i + k] * y[i + k];
    return reduce8(L);
}

static float dot_f32(int64_t n, const float *x, const float *y) {
    float s = dot8(n, x, y);
    for (int64_t i = n - n % 8; i < n; i++) s = s + x[i] * y[i];
    return s;
}

static void axpy_f32(int64_t n, float a, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = y[i] + a * x[i];
}

static void scores_f32(int64_t m, int64_t n, int64_t d, const float *Q, int64_t ldq, const float *K, int64_t ldk,
                       float scale, float *S, int64_t lds) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) S[i * lds + j] = scale * dot8(d, Q + i * ldq, K + j * ldk);
}

static void pv_f32(int64_t m, int64_t n, int64_t d, const float *P, int64_t ldp, const float *V, int64_t ldv,
                   float *O, int64_t ldo) {
    for (int64_t i = 0; i < m; i++) {
        float *o = O + i * ldo;
        for (int64_t c = 0; c < d; c++) o[c] = 0.0f;
        for (int64_t j = 0; j < n; j++) axpy_f32(d, P[i * ldp + j], V + j * ldv, o);
    }
}

static void gelu_mul_f32(int64_t n, float *g, const float *u, const float *table) {
    for (int64_t i = 0; i < n; i++) {
        const float x = g[i];
        const float gx = x <= -10.0f ? 0.0f : x >= 10.0f ? x : table[ge_fp32_to_fp16(x)];
        g[i] = gx * u[i];
    }
}

static void exp_sub_f32(int64_t n, float *x, float m) {
    for (int64_t i = 0; i < n; i++) x[i] = ge_expf(x[i] - m);
}

/* the reference kernels, exported for the SIMD tables' slots they do not replace */
void ge_scalar_quantize_q8_K(const float *x, block_q8_K *y, int64_t n) { quantize_q8_K(x, y, n); }
void ge_scalar_gemm_q8_K(int64_t n, int sub, const int8_t *Wq, const float *Ws, const int8_t *Wm, const float *Wd,
                         int64_t n_rows, const block_q8_K *A, int64_t n_tok, float *Y, int64_t ldy) {
    gemm_q8_K(n, sub, Wq, Ws, Wm, Wd, n_rows, A, n_tok, Y, ldy);
}

const ge_kernels ge_kernels_scalar = {
    .name = "scalar",
    .quantize_q8_0 = quantize_q8_0,
    .gemm_q8_0 = gemm_q8_0,
    .scores_f32 = scores_f32,
    .pv_f32 = pv_f32,
    .dot_f32 = dot_f32,
    .axpy_f32 = axpy_f32,
    .gelu_mul_f32 = gelu_mul_f32,
    .exp_sub_f32 = exp_sub_f32,
    .quantize_q8_K = quantize_q8_K,
    .gemm_q8_K = gemm_q8_K,
    .pack_rows = 0, /* no packed layout */
};
