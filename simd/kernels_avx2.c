/*
 * kernels_avx2.c - x86-64 AVX2 + FMA + F16C kernels. Compiled with those ISA
 * flags for this file only; reached only through the table after dispatch_x86.c
 * has checked that the CPU and the OS support them.
 *
 * Q8_0 dot products: int8 x int8 has no direct AVX2 instruction, so use the sign
 * trick: maddubs(|a|, sign(w, a)) multiplies u8 x s8 into pairs of int16 (no
 * overflow: |w|,|a| <= 128 and two products fit in int16), madd(., 1) widens to
 * eight int32 sums (lane k = values 4k..4k+3, the canonical lanes of kernels.h).
 * Every float step is a separate multiply and add, in the canonical order, so the
 * results are bit-identical to kernels_scalar.c (FMA would round differently).
 */
#include "kernels.h"

#include "../core/util.h"

#include <immintrin.h>
#include <math.h>

static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float fp16(uint16_t h) { return _cvtsh_ss(h); }

static void quantize_q8_0(const float *x, block_q8_0 *y, int64_t n) {
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < n / QK8_0; b++) {
        const float *xb = x + b * QK8_0;
        __m256 v0 = _mm256_loadu_ps(xb), v1 = _mm256_loadu_ps(xb + 8);
        __m256 v2 = _mm256_loadu_ps(xb + 16), v3 = _mm256_loadu_ps(xb + 24);
        __m256 m = _mm256_andnot_ps(sign_bit, v0);
        m = _mm256_max_ps(m, _mm256_andnot_ps(sign_bit, v1));
        m = _mm256_max_ps(m, _mm256_andnot_ps(sign_bit, v2));
        m = _mm256_max_ps(m, _mm256_andnot_ps(sign_bit, v3));
        __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(m, 1), _mm256_castps256_ps128(m));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[b].d = ge_fp32_to_fp16(d);
        const __m256 mul = _mm256_set1_ps(id);
        __m256i q[4];
        const __m256 v[4] = {v0, v1, v2, v3};
        for (int k = 0; k < 4; k++)
            q[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[k], mul), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        /* 32 x int32 -> 32 x int8, undoing the lane interleave of the packs */
        __m256i p01 = _mm256_packs_epi32(q[0], q[1]);
        __m256i p23 = _mm256_packs_epi32(q[2], q[3]);
        __m256i p = _mm256_packs_epi16(p01, p23);
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)y[b].qs, p);
    }
}

/* sum over one block of w[i]*a[i] as 8 int32 lanes converted to float:
 * |w| x sign(a, w) keeps maddubs' unsigned operand non-negative */
static inline __m256 block_dot(__m256i w_abs, __m256i w, __m256i a) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i prod16 = _mm256_maddubs_epi16(w_abs, _mm256_sign_epi8(a, w));
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(prod16, ones));
}

#define KMAX 512 /* blocks per row (16384 inputs) whose scales fit the stack arrays */

/* Edge tiles: R rows x C tokens (R <= 4, C <= 2). ws: scales [4][KMAX]. */
static void tile_edge(int64_t nb, const block_q8_0 *W, int64_t ldw, const float *ws, int R, const block_q8_0 *A,
                      int64_t lda, int C, float *Y, int64_t ldy) {
    __m256 acc[4][2];
    for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        for (int c = 0; c < C; c++) {
            const __m256i a = _mm256_loadu_si256((const __m256i *)A[c * lda + b].qs);
            const float da = fp16(A[c * lda + b].d);
            for (int r = 0; r < R; r++) {
                const __m256i wq = _mm256_loadu_si256((const __m256i *)W[r * ldw + b].qs);
                acc[r][c] = _mm256_add_ps(acc[r][c], _mm256_mul_ps(block_dot(_mm256_sign_epi8(wq, wq), wq, a),
                                                                   _mm256_set1_ps(ws[r * KMAX + b] * da)));
            }
        }
    }
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) Y[c * ldy + r] = hsum256(acc[r][c]);
}

/* The main tile: 4 rows x 2 tokens. Per block, the 8 scale products
 * dw[r] * da[t] are made with one multiply ([dw0..dw3, dw0..dw3] x
 * [da0 x4, da1 x4]) and stored, so each pair then costs sign, maddubs, madd,
 * convert, multiply and add with a broadcast load. wsb: scales as [KMAX][4]. */
static void tile_4x2(int64_t nb, const block_q8_0 *W, int64_t ldw, const float *wsb, const block_q8_0 *A,
                     int64_t lda, float *Y, int64_t ldy) {
    float as[2][KMAX];
    for (int64_t b = 0; b < nb; b++) {
        as[0][b] = fp16(A[b].d);
        as[1][b] = fp16(A[lda + b].d);
    }
    __m256 acc[8];
    for (int i = 0; i < 8; i++) acc[i] = _mm256_setzero_ps();
    float prod[8] __attribute__((aligned(32)));
    for (int64_t b = 0; b < nb; b++) {
        const __m256 dwv = _mm256_broadcast_ps((const __m128 *)&wsb[b * 4]);
        const __m256 dav = _mm256_set_m128(_mm_broadcast_ss(&as[1][b]), _mm_broadcast_ss(&as[0][b]));
        _mm256_store_ps(prod, _mm256_mul_ps(dwv, dav)); /* prod[c*4 + r] */
        const __m256i a0 = _mm256_loadu_si256((const __m256i *)A[b].qs);
        const __m256i a1 = _mm256_loadu_si256((const __m256i *)A[lda + b].qs);
        for (int r = 0; r < 4; r++) {
            const __m256i wq = _mm256_loadu_si256((const __m256i *)W[r * ldw + b].qs);
            const __m256i wabs = _mm256_sign_epi8(wq, wq);
            acc[r] = _mm256_add_ps(acc[r], _mm256_mul_ps(block_dot(wabs, wq, a0), _mm256_broadcast_ss(&prod[r])));
            acc[4 + r] =
                _mm256_add_ps(acc[4 + r], _mm256_mul_ps(block_dot(wabs, wq, a1), _mm256_broadcast_ss(&prod[4 + r])));
        }
    }
    for (int c = 0; c < 2; c++)
        for (int r = 0; r < 4; r++) Y[c * ldy + r] = hsum256(acc[c * 4 + r]);
}

/* Tokens in chunks of TCHUNK so a chunk's activations stay in L1/L2; inside a
 * chunk, rows in strips of 4 (scales converted once per strip) while every
 * token pair of the chunk streams past. */
#define TCHUNK 32
static void gemm_q8_0(int64_t nb, const block_q8_0 *W, int64_t n_rows, const block_q8_0 *A, int64_t n_tok,
                      float *Y, int64_t ldy) {
    if (nb > KMAX) { /* rows over 16384 values: no such model yet; exact but slow */
        ge_kernels_scalar.gemm_q8_0(nb, W, n_rows, A, n_tok, Y, ldy);
        return;
    }
    float ws[4 * KMAX], wsb[KMAX * 4] __attribute__((aligned(32)));
    for (int64_t t0 = 0; t0 < n_tok; t0 += TCHUNK) {
        const int64_t t1 = t0 + TCHUNK < n_tok ? t0 + TCHUNK : n_tok;
        for (int64_t r = 0; r < n_rows; r += 4) {
            const int R = n_rows - r >= 4 ? 4 : (int)(n_rows - r);
            const block_q8_0 *Wr = W + r * nb;
            for (int i = 0; i < R; i++)
                for (int64_t b = 0; b < nb; b++) ws[i * KMAX + b] = wsb[b * 4 + i] = fp16(Wr[i * nb + b].d);
            int64_t t = t0;
            if (R == 4)
                for (; t + 2 <= t1; t += 2) tile_4x2(nb, Wr, nb, wsb, A + t * nb, nb, Y + t * ldy + r, ldy);
            for (; t < t1; t++) tile_edge(nb, Wr, nb, ws, R, A + t * nb, nb, 1, Y + t * ldy + r, ldy);
        }
    }
}

/* 8 lanes over the first n - n%8 values, the canonical reduction */
static inline float dot8(int64_t n, const float *x, const float *y) {
    __m256 a = _mm256_setzero_ps();
    for (int64_t i = 0; i + 8 <= n; i += 8) a = _mm256_add_ps(a, _mm256_mul_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    return hsum256(a);
}

static float dot_f32(int64_t n, const float *x, const float *y) {
    float s = dot8(n, x, y);
    for (int64_t i = n - n % 8; i < n; i++) s = s + x[i] * y[i];
    return s;
}

static void axpy_f32(int64_t n, float a, const float *x, float *y) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_mul_ps(va, _mm256_loadu_ps(x + i))));
    for (; i < n; i++) y[i] = y[i] + a * x[i];
}

/* S = scale * Q K^T: tiles of up to 4 queries x 2 keys, each K row loaded once
 * for all the queries of the tile. */
static void scores_f32(int64_t m, int64_t n, int64_t d, const float *Q, int64_t ldq, const float *K, int64_t ldk,
                       float scale, float *S, int64_t lds) {
    for (int64_t i0 = 0; i0 < m; i0 += 4) {
        const int64_t mi = m - i0 < 4 ? m - i0 : 4;
        const float *q[4];
        for (int64_t i = 0; i < 4; i++) q[i] = Q + (i0 + (i < mi ? i : 0)) * ldq;
        int64_t j = 0;
        for (; j + 2 <= n; j += 2) {
            const float *k0 = K + j * ldk, *k1 = k0 + ldk;
            __m256 a[4][2];
            for (int i = 0; i < 4; i++) a[i][0] = a[i][1] = _mm256_setzero_ps();
            for (int64_t c = 0; c < d; c += 8) {
                const __m256 kv0 = _mm256_loadu_ps(k0 + c), kv1 = _mm256_loadu_ps(k1 + c);
                for (int i = 0; i < 4; i++) {
                    const __m256 qv = _mm256_loadu_ps(q[i] + c);
                    a[i][0] = _mm256_add_ps(a[i][0], _mm256_mul_ps(qv, kv0));
                    a[i][1] = _mm256_add_ps(a[i][1], _mm256_mul_ps(qv, kv1));
                }
            }
            for (int64_t i = 0; i < mi; i++) {
                S[(i0 + i) * lds + j] = scale * hsum256(a[i][0]);
                S[(i0 + i) * lds + j + 1] = scale * hsum256(a[i][1]);
            }
        }
        for (; j < n; j++)
            for (int64_t i = 0; i < mi; i++) S[(i0 + i) * lds + j] = scale * dot8(d, q[i], K + j * ldk);
    }
}

/* O = P V: tiles of up to 8 query rows x 8 output columns accumulate in
 * registers while the keys' V rows stream past, each V load serving 8 rows. */
static void pv_f32(int64_t m, int64_t n, int64_t d, const float *P, int64_t ldp, const float *V, int64_t ldv,
                   float *O, int64_t ldo) {
    for (int64_t i0 = 0; i0 < m; i0 += 8) {
        const int64_t mi = m - i0 < 8 ? m - i0 : 8;
        for (int64_t c = 0; c < d; c += 8) {
            __m256 a[8];
            for (int i = 0; i < 8; i++) a[i] = _mm256_setzero_ps();
            if (mi == 8) {
                for (int64_t j = 0; j < n; j++) {
                    const __m256 v = _mm256_loadu_ps(V + j * ldv + c);
                    for (int i = 0; i < 8; i++)
                        a[i] = _mm256_add_ps(a[i], _mm256_mul_ps(_mm256_broadcast_ss(&P[(i0 + i) * ldp + j]), v));
                }
            } else {
                for (int64_t j = 0; j < n; j++) {
                    const __m256 v = _mm256_loadu_ps(V + j * ldv + c);
                    for (int64_t i = 0; i < mi; i++)
                        a[i] = _mm256_add_ps(a[i], _mm256_mul_ps(_mm256_broadcast_ss(&P[(i0 + i) * ldp + j]), v));
                }
            }
            for (int64_t i = 0; i < mi; i++) _mm256_storeu_ps(O + (i0 + i) * ldo + c, a[i]);
        }
    }
}

const ge_kernels ge_kernels_avx2 = {
    "avx2", quantize_q8_0, gemm_q8_0, scores_f32, pv_f32, dot_f32, axpy_f32,
};
