/*
 * kernels_avx2.c - x86-64 AVX2 + FMA + F16C kernels. Compiled with those ISA
 * flags for this file only; reached only through the table after dispatch_x86.c
 * has checked that the CPU and the OS support them.
 *
 * Every float step is a separate multiply and add, in the canonical order of
 * kernels.h, so the results are bit-identical to kernels_scalar.c (FMA would
 * round differently). The gemm's layout is explained above gemm_q8_0.
 */
#include "kernels_avx2.h"

#include "../formats/fp.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float fp16(uint16_t h) { return _cvtsh_ss(h); }

void ge_avx2_quantize_q8_0(const float *x, block_q8_0 *y, int64_t n) {
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

/*
 * gemm_q8_0. The canonical order (kernels.h) only fixes the float work: one
 * accumulator per output, y = y + (float)isum * (d_w * d_a) per block. The
 * integer block sums are exact in any order, so the int8 work is laid out for
 * the registers: a strip of 8 weight rows is transposed once per token chunk
 * into a small buffer where one 32-byte vector holds 4 bytes (one "group" j)
 * of each of the 8 rows:
 *     strip.wabs[b][j] = | w[r][b].qs[4j..4j+3] |  for r = 0..7, as bytes
 *     strip.wsgn[b][j] =   w[r][b].qs[4j..4j+3]    (the signs, for _mm256_sign_epi8)
 * and 4 activation bytes of a token are broadcast to all 8 lanes. Then
 * maddubs(|w|, sign(a, w)) + madd(., 1) leaves in lane r the sum over group j
 * for row r; adding the 8 groups gives the exact block sum of each row in its
 * own lane, and one convert, multiply and add per block update 8 outputs. No
 * horizontal reductions. (sign/maddubs: u8 x s8 products, at most 2 x 128 x 127
 * per int16, no saturation; activation quants are in [-127, 127].)
 */
#define KC 64     /* blocks per K chunk: the strip buffer stays in L1      */
#define TCH 64    /* tokens per chunk: their scales are converted once     */
#define TT 4      /* tokens per register tile (16 ymm registers on AVX2)  */

typedef struct strip8 {
    __m256i wabs[KC][8], wsgn[KC][8];
    float dw[KC][8];
} strip8;

static inline __m256i load32(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

/* rows 0..7 of W, blocks k0..k0+kc-1 -> strip; the same blocks of the next
 * strip's rows (`next`, or NULL) are prefetched: a strip is a few KB of
 * interleaved streams the hardware prefetcher does not run ahead on. */
static void strip8_fill(strip8 *st, const block_q8_0 *W, const block_q8_0 *next, int64_t nb, int64_t k0, int64_t kc) {
    for (int64_t b = 0; b < kc; b++) {
        __m256i r[8], g[8];
        if (next)
            for (int i = 0; i < 8; i++) _mm_prefetch((const char *)&next[i * nb + k0 + b], _MM_HINT_T0);
        for (int i = 0; i < 8; i++) {
            r[i] = load32(W[i * nb + k0 + b].qs);
            st->dw[b][i] = fp16(W[i * nb + k0 + b].d);
        }
        ge_transpose8x8_epi32(r, g);
        for (int j = 0; j < 8; j++) {
            st->wsgn[b][j] = g[j], st->wabs[b][j] = _mm256_sign_epi8(g[j], g[j]);
        }
    }
}

static inline __m256i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

/* 8 rows x T tokens over blocks k0..k0+kc-1; Y holds the running sums when k0 > 0.
 * A: the tile's first token at block 0, da: scales [TCH][KC] of the tile's tokens. */
static inline __attribute__((always_inline)) void tile8(const int T, const strip8 *st, int64_t kc, int64_t k0,
                                                        const block_q8_0 *A, int64_t nb, const float (*da)[KC],
                                                        float *Y, int64_t ldy) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 f[TT];
    for (int t = 0; t < T; t++) f[t] = k0 ? _mm256_loadu_ps(Y + t * ldy) : _mm256_setzero_ps();
    for (int64_t b = 0; b < kc; b++) {
        __m256i isum[TT];
        for (int t = 0; t < T; t++) isum[t] = _mm256_setzero_si256();
        for (int j = 0; j < 8; j++) {
            const __m256i wa = _mm256_load_si256(&st->wabs[b][j]), ws = _mm256_load_si256(&st->wsgn[b][j]);
            for (int t = 0; t < T; t++) {
                const __m256i a = bcast4(A[t * nb + k0 + b].qs + 4 * j);
                const __m256i p = _mm256_maddubs_epi16(wa, _mm256_sign_epi8(a, ws));
                isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(p, ones));
            }
        }
        const __m256 dw = _mm256_load_ps(st->dw[b]);
        for (int t = 0; t < T; t++) {
            const __m256 s = _mm256_mul_ps(dw, _mm256_set1_ps(da[t][b]));
            f[t] = _mm256_add_ps(f[t], _mm256_mul_ps(_mm256_cvtepi32_ps(isum[t]), s));
        }
    }
    for (int t = 0; t < T; t++) _mm256_storeu_ps(Y + t * ldy, f[t]);
}

/* exact block sum of one row and one token (the edge rows) */
static inline int32_t block_isum(const int8_t *w, const int8_t *a) {
    const __m256i wq = load32(w);
    const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(wq, wq), _mm256_sign_epi8(load32(a), wq));
    const __m256i s8 = _mm256_madd_epi16(p, _mm256_set1_epi16(1));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
    return _mm_cvtsi128_si32(s4);
}

/* rows that do not fill a strip of 8: one output at a time, same float order */
static void gemm_rows_plain(int64_t nb, const block_q8_0 *W, int64_t n_rows, const block_q8_0 *A, int64_t n_tok,
                            float *Y, int64_t ldy) {
    for (int64_t t = 0; t < n_tok; t++)
        for (int64_t r = 0; r < n_rows; r++) {
            const block_q8_0 *w = W + r * nb, *a = A + t * nb;
            float acc = 0.0f;
            for (int64_t b = 0; b < nb; b++)
                acc = acc + (float)block_isum(w[b].qs, a[b].qs) * (fp16(w[b].d) * fp16(a[b].d));
            Y[t * ldy + r] = acc;
        }
}

void ge_avx2_gemm_q8_0(int64_t nb, const block_q8_0 *W, int64_t n_rows, const block_q8_0 *A, int64_t n_tok,
                      float *Y, int64_t ldy) {
    const int64_t n8 = n_rows & ~(int64_t)7;
    strip8 st __attribute__((aligned(32)));
    float da[TCH][KC];
    for (int64_t k0 = 0; k0 < nb; k0 += KC) { /* K chunks: Y carries the sums between them */
        const int64_t kc = nb - k0 < KC ? nb - k0 : KC;
        for (int64_t t0 = 0; t0 < n_tok; t0 += TCH) {
            const int64_t tc = n_tok - t0 < TCH ? n_tok - t0 : TCH;
            for (int64_t t = 0; t < tc; t++)
                for (int64_t b = 0; b < kc; b++) da[t][b] = fp16(A[(t0 + t) * nb + k0 + b].d);
            for (int64_t r = 0; r < n8; r += 8) {
                strip8_fill(&st, W + r * nb, r + 8 < n8 ? W + (r + 8) * nb : NULL, nb, k0, kc);
                int64_t t = 0;
                for (; t + TT <= tc; t += TT)
                    tile8(TT, &st, kc, k0, A + (t0 + t) * nb, nb, da + t, Y + (t0 + t) * ldy + r, ldy);
                const block_q8_0 *At = A + (t0 + t) * nb;
                float *Yt = Y + (t0 + t) * ldy + r;
                switch (tc - t) {
                case 3: tile8(3, &st, kc, k0, At, nb, da + t, Yt, ldy); break;
                case 2: tile8(2, &st, kc, k0, At, nb, da + t, Yt, ldy); break;
                case 1: tile8(1, &st, kc, k0, At, nb, da + t, Yt, ldy); break;
                default: break;
                }
            }
        }
    }
    if (n8 < n_rows) gemm_rows_plain(nb, W + n8 * nb, n_rows - n8, A, n_tok, Y + n8, ldy);
}


/* 8 lanes over the first n - n%8 values, the canonical reduction */
static inline float dot8(int64_t n, const float *x, const float *y) {
    __m256 a = _mm256_setzero_ps();
    for (int64_t i = 0; i + 8 <= n; i += 8) a = _mm256_add_ps(a, _mm256_mul_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    return hsum256(a);
}

float ge_avx2_dot_f32(int64_t n, const float *x, const float *y) {
    float s = dot8(n, x, y);
    for (int64_t i = n - n % 8; i < n; i++) s = s + x[i] * y[i];
    return s;
}

void ge_avx2_axpy_f32(int64_t n, float a, const float *x, float *y) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_mul_ps(va, _mm256_loadu_ps(x + i))));
    for (; i < n; i++) y[i] = y[i] + a * x[i];
}

/* S = scale * Q K^T: tiles of up to 4 queries x 2 keys, each K row loaded once
 * for all the queries of the tile. */
void ge_avx2_scores_f32(int64_t m, int64_t n, int64_t d, const float *Q, int64_t ldq, const float *K, int64_t ldk,
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
void ge_avx2_pv_f32(int64_t m, int64_t n, int64_t d, const float *P, int64_t ldp, const float *V, int64_t ldv,
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

/* F16C converts 8 values at once (round to nearest even, as ge_fp32_to_fp16)
 * and one gather reads their table entries. */
void ge_avx2_gelu_mul_f32(int64_t n, float *g, const float *u, const float *table) {
    const __m256 lo = _mm256_set1_ps(-10.0f), hi = _mm256_set1_ps(10.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_loadu_ps(g + i);
        const __m256i idx = _mm256_cvtepu16_epi32(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        __m256 t = _mm256_i32gather_ps(table, idx, 4);
        t = _mm256_blendv_ps(t, x, _mm256_cmp_ps(x, hi, _CMP_GE_OQ));
        t = _mm256_andnot_ps(_mm256_cmp_ps(x, lo, _CMP_LE_OQ), t);
        _mm256_storeu_ps(g + i, _mm256_mul_ps(t, _mm256_loadu_ps(u + i)));
    }
    for (; i < n; i++) {
        const float x = g[i];
        const float gx = x <= -10.0f ? 0.0f : x >= 10.0f ? x : table[_cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT)];
        g[i] = gx * u[i];
    }
}

/* ge_expf (formats/fp.h) on 8 lanes, step for step: Cody-Waite reduction, the
 * degree-7 polynomial, and the exact two-step scaling by 2^k of ge_scale2. */
void ge_avx2_exp_sub_f32(int64_t n, float *x, float m) {
    const __m256 vm = _mm256_set1_ps(m);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i), vm);
        const __m256 kf = _mm256_floor_ps(_mm256_add_ps(_mm256_mul_ps(d, _mm256_set1_ps(1.44269504088896341f)),
                                                        _mm256_set1_ps(0.5f)));
        const __m256 r = _mm256_sub_ps(_mm256_sub_ps(d, _mm256_mul_ps(kf, _mm256_set1_ps(0.693145751953125f))),
                                       _mm256_mul_ps(kf, _mm256_set1_ps(1.428606765330187e-06f)));
        __m256 p = _mm256_set1_ps(1.98412698e-4f);
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.38888889e-3f));
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(8.33333333e-3f));
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(4.16666667e-2f));
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.66666667e-1f));
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(0.5f));
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
        /* k > 127: p * 2^127 * 2; k < -126: p * 2^(k+64) * 2^-64; else p * 2^k */
        const __m256i k = _mm256_cvttps_epi32(kf);
        const __m256i hi = _mm256_cmpgt_epi32(k, _mm256_set1_epi32(127));
        const __m256i lo = _mm256_cmpgt_epi32(_mm256_set1_epi32(-126), k);
        const __m256i k1 = _mm256_add_epi32(_mm256_add_epi32(k, _mm256_and_si256(lo, _mm256_set1_epi32(64))), hi);
        const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, _mm256_set1_epi32(127)), 23));
        __m256 s2 = _mm256_blendv_ps(_mm256_set1_ps(1.0f), _mm256_set1_ps(2.0f), _mm256_castsi256_ps(hi));
        s2 = _mm256_blendv_ps(s2, _mm256_set1_ps(5.42101086e-20f /* 2^-64 */), _mm256_castsi256_ps(lo));
        __m256 e = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
        e = _mm256_andnot_ps(_mm256_cmp_ps(d, _mm256_set1_ps(-103.9f), _CMP_LT_OQ), e);
        e = _mm256_blendv_ps(e, _mm256_set1_ps((float)HUGE_VAL), _mm256_cmp_ps(d, _mm256_set1_ps(88.72f), _CMP_GT_OQ));
        e = _mm256_blendv_ps(e, d, _mm256_cmp_ps(d, d, _CMP_UNORD_Q)); /* NaN stays NaN */
        _mm256_storeu_ps(x + i, e);
    }
    for (; i < n; i++) x[i] = ge_expf(x[i] - m);
}

const ge_kernels ge_kernels_avx2 = {
    .name = "avx2",
    .quantize_q8_0 = ge_avx2_quantize_q8_0,
    .gemm_q8_0 = ge_avx2_gemm_q8_0,
    .scores_f32 = ge_avx2_scores_f32,
    .pv_f32 = ge_avx2_pv_f32,
    .dot_f32 = ge_avx2_dot_f32,
    .axpy_f32 = ge_avx2_axpy_f32,
    .gelu_mul_f32 = ge_avx2_gelu_mul_f32,
    .exp_sub_f32 = ge_avx2_exp_sub_f32,
    .quantize_q8_K = ge_scalar_quantize_q8_K,
    .gemm_q8_K = ge_scalar_gemm_q8_K,
    .pack_rows = 0, /* no packed layout */
};
