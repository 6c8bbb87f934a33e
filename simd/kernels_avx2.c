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

/*
 * quantize_q8_K: ggml's quantize_row_q8_K_ref (kernels.h), 8 values at a time. The
 * max is the first value of largest |x| (the scalar loop's strict `>` keeps the first
 * one; NaN never wins: max_ps returns its second operand, the running max, when the
 * first is NaN), and the rounding is ge_nearest_int's own bit trick on 8 lanes (add
 * 1.5 * 2^23 in float, keep the low mantissa bits), so even inf / NaN inputs give the
 * scalar bytes; min(127, .) and the int8 conversion keep the low byte, as the C cast.
 */
void ge_avx2_quantize_q8_K(const float *x, block_q8_K *y, int64_t n) {
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
        __m256 m = _mm256_setzero_ps();
        for (int i = 0; i < QK_K; i += 8) m = _mm256_max_ps(_mm256_andnot_ps(sign_bit, _mm256_loadu_ps(x + i)), m);
        __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(m, 1), _mm256_castps256_ps128(m));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        if (amax == 0.0f) {
            memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        const __m256 vamax = _mm256_set1_ps(amax);
        int first = 0;
        for (int i = 0; i < QK_K; i += 8) {
            const int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign_bit, _mm256_loadu_ps(x + i)), vamax, _CMP_EQ_OQ));
            if (mask) {
                first = i + __builtin_ctz((unsigned)mask);
                break;
            }
        }
        const float iscale = -127.0f / x[first];
        const __m256 vis = _mm256_set1_ps(iscale), magic = _mm256_set1_ps(12582912.0f);
        const __m256i mant = _mm256_set1_epi32(0x007fffff), half = _mm256_set1_epi32(0x00400000);
        const __m256i q127 = _mm256_set1_epi32(127), low = _mm256_set1_epi32(0xff);
        for (int i = 0; i < QK_K; i += 32) {
            __m256i q[4];
            for (int k = 0; k < 4; k++) {
                const __m256 v = _mm256_add_ps(_mm256_mul_ps(vis, _mm256_loadu_ps(x + i + 8 * k)), magic);
                __m256i iv = _mm256_sub_epi32(_mm256_and_si256(_mm256_castps_si256(v), mant), half);
                q[k] = _mm256_and_si256(_mm256_min_epi32(iv, q127), low);
            }
            /* 32 x (0..255) -> 32 bytes, undoing the lane interleave of the packs */
            __m256i p = _mm256_packus_epi16(_mm256_packus_epi32(q[0], q[1]), _mm256_packus_epi32(q[2], q[3]));
            p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm256_storeu_si256((__m256i *)(y[b].qs + i), p);
        }
        /* bsums from the stored bytes: per 32 bytes 8 int32 partial sums (4 per 16), then hadds */
        const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
        __m256i s[8];
        for (int k = 0; k < 8; k++)
            s[k] = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, load32(y[b].qs + 32 * k)), ones16);
        __m256i h[2];
        for (int k = 0; k < 2; k++) {
            const __m256i h01 = _mm256_hadd_epi32(s[4 * k], s[4 * k + 1]), h23 = _mm256_hadd_epi32(s[4 * k + 2], s[4 * k + 3]);
            /* sums of 16 [0, 2, 4, 6 | 1, 3, 5, 7] -> in order */
            h[k] = _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(h01, h23), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        }
        const __m256i bs = _mm256_permute4x64_epi64(_mm256_packs_epi32(h[0], h[1]), 0xd8);
        _mm256_storeu_si256((__m256i *)y[b].bsums, bs);
        y[b].d = 1.0f / iscale;
    }
}

/*
 * gemm_q8_K. The float work is the canonical one (kernels.h): per output one
 * accumulator, y = y + (float)isum_j * (ws_j * d_a) for the sub-blocks j in order. The
 * integer sums are exact, laid out as in gemm_q8_0: a strip of 8 weight rows is
 * transposed into a buffer where one vector holds 4 consecutive values ("group" g)
 * of each of the 8 rows, the 4 matching activation bytes of a token are broadcast,
 * and lane r collects row r's sum of sub-block j; one convert, multiply and add per
 * sub-block then update 8 outputs.
 *
 * maddubs multiplies u8 by s8 and adds pairs into int16, saturating. The decoded
 * K-quant levels have small ranges (Q2_K 0..3, Q3_K -4..3, Q4_K 0..15, Q5_K 0..31,
 * Q6_K -32..31; IQ4_XS -127..113), and the kernel looks at each strip's range:
 *   - offset modes: u = w + o (o >= 0 makes u >= 0) stored as u8, so
 *     maddubs(u, a) needs no sign step, and sum(w * a) = sum(u * a) - o * sum(a), the
 *     activation sums being the Q8_K block's bsums (the sums of its qs). With
 *     u <= U an int16 lane of one maddubs holds at most 2 * U * 127, so C maddubs can
 *     be added in int16 before widening while C * 254 * U <= 32767: C = 8 for
 *     U <= 16, 4 for U <= 32, 2 for U <= 64;
 *   - otherwise (any int8, -128 included) gemm_q8_0's sign trick: maddubs(|w|, sign(a, w)),
 *     at most 2 * 128 * 127 per int16, widened after every maddubs.
 * Both give the same exact integers (activation quants are in [-127, 127], as
 * quantize_q8_K makes them), hence the same bits. A strip is filled in the mode of
 * the strip before and refilled only when its values do not fit that mode (a call
 * starts with the mode of Q4_K's levels; once a strip needs KM_GEN, the rest of the
 * call stays there, as IQ4_XS does).
 *
 * The mins (Wm, Q2_K Q4_K Q5_K): after a super-block's sub-blocks, one more float step
 * per output, y = y + (float)msum * (wd * d_a), msum = sum_j m_j * bsum_j exactly. The
 * strip holds the 8 rows' mins as int16 pairs, lane r = (m_r,4i, m_r,4i+2) or
 * (m_r,4i+1, m_r,4i+3) (the order the byte transpose and two shifts give), so one
 * madd_epi16 with the token's broadcast pair of bsums, made once per token chunk
 * (kmin_pairs), gives lane r two products: 8 madds per super-block for sub = 16, 4 for
 * sub = 32 (pairs of sums of 32: a bsum is the sum of 16 quants, so a sum of 32 is at
 * most 32 * 128 in size and fits in int16). Every product and sum is exact in int32
 * (|m| <= 128, |bsum_j| <= 32 * 128), hence the reference's msum; then one convert,
 * multiply, multiply and add for the 8 rows. Calls without mins run kernels without
 * that step (MIN is a template parameter, as C, OFF and SUB are).
 */
#define KKC 1024 /* values per K chunk: the strip buffer (8 or 16 KB) stays in L1 */
#define KTCH 64  /* tokens per chunk                                              */

enum { KM_GEN = 1, KM_C2 = 2, KM_C4 = 4, KM_C8 = 8 }; /* the int16 sums per widening */

typedef struct kstrip {
    __m256i wu[KKC / 4];  /* group g of the 8 rows: w + o as u8, or |w| (KM_GEN) */
    __m256i wsg[KKC / 4]; /* KM_GEN: w, whose signs go onto the activations      */
    __m256 dw[KKC / 16];  /* scale of sub-block j of the 8 rows                   */
    __m256i wm[KKC / 32]; /* mins of the 8 rows as int16 pairs (kstrip_fill_min) */
    __m256 wd[KKC / QK_K]; /* min scale of super-block b of the 8 rows           */
} kstrip;

typedef struct kmode {
    int c; /* KM_*              */
    int o; /* offset (0 in KM_GEN) */
} kmode;

/* the mode for values in [lo, hi]: the offset a power of two where that fits (few
 * distinct offsets, so the activation corrections are seldom recomputed) */
static kmode kmode_for(int lo, int hi) {
    int o = 0;
    while (lo + o < 0) o = o ? 2 * o : 1;
    if (hi + o > 64) o = lo < 0 ? -lo : 0;
    const int u = hi + o;
    const kmode m = {u <= 16 ? KM_C8 : u <= 32 ? KM_C4 : u <= 64 ? KM_C2 : KM_GEN, u <= 64 ? o : 0};
    return m;
}

/* the two unpack stages of the krows transposes: x[4h + i] holds rows i and i + 4 */
static inline __attribute__((always_inline)) void unpack_stages(const __m256i x[8], __m256i g[8]) {
    __m256i t[8];
    for (int h = 0; h < 8; h += 4) {
        t[h] = _mm256_unpacklo_epi32(x[h], x[h + 1]), t[h + 1] = _mm256_unpackhi_epi32(x[h], x[h + 1]);
        t[h + 2] = _mm256_unpacklo_epi32(x[h + 2], x[h + 3]), t[h + 3] = _mm256_unpackhi_epi32(x[h + 2], x[h + 3]);
        g[h] = _mm256_unpacklo_epi64(t[h], t[h + 2]), g[h + 1] = _mm256_unpackhi_epi64(t[h], t[h + 2]);
        g[h + 2] = _mm256_unpacklo_epi64(t[h + 1], t[h + 3]), g[h + 3] = _mm256_unpackhi_epi64(t[h + 1], t[h + 3]);
    }
}

/* 32 bytes of each of rows 0..nr-1 at p + i * stride (the others zeros) -> g[j] = 32-bit
 * element j of the 8 rows, row r in lane r. Half-row loads put rows i and i + 4 in one
 * register, so two unpack stages transpose (ge_transpose8x8_epi32 needs three). */
static inline __attribute__((always_inline)) void krows_transpose(const void *p, int64_t stride, int nr, __m256i g[8]) {
    __m256i x[8];
    const uint8_t *b = p;
    for (int i = 0; i < 4; i++)
        for (int h = 0; h < 2; h++) {
            const __m128i lo = i < nr ? _mm_loadu_si128((const __m128i *)(b + i * stride + 16 * h)) : _mm_setzero_si128();
            const __m128i hi = i + 4 < nr ? _mm_loadu_si128((const __m128i *)(b + (i + 4) * stride + 16 * h)) : _mm_setzero_si128();
            x[4 * h + i] = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
        }
    unpack_stages(x, g);
}

/* krows_transpose reading only the first nb bytes of each row (nb a multiple of 4; the
 * others read as zeros) */
static inline __attribute__((always_inline)) void krows_transpose_part(const void *p, int64_t stride, int nr, int nb,
                                                                       __m256i g[8]) {
    const uint8_t *b = p;
    const __m128i idx = _mm_setr_epi32(0, 1, 2, 3);
    const __m128i m0 = _mm_cmpgt_epi32(_mm_set1_epi32(nb / 4), idx), m1 = _mm_cmpgt_epi32(_mm_set1_epi32(nb / 4 - 4), idx);
    __m256i x[8];
    for (int i = 0; i < 4; i++)
        for (int h = 0; h < 2; h++) {
            const __m128i m = h ? m1 : m0;
            const __m128i lo = i < nr ? _mm_maskload_epi32((const int *)(b + i * stride + 16 * h), m) : _mm_setzero_si128();
            const __m128i hi = i + 4 < nr ? _mm_maskload_epi32((const int *)(b + (i + 4) * stride + 16 * h), m) : _mm_setzero_si128();
            x[4 * h + i] = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
        }
    unpack_stages(x, g);
}

/* the range of rows 0..nr-1 of Wq, values k0..k0+kc-1 */
static void krange(const int8_t *Wq, int nr, int64_t n, int64_t k0, int64_t kc, int *lo, int *hi) {
    __m256i vmin = _mm256_setzero_si256(), vmax = _mm256_setzero_si256();
    for (int i = 0; i < nr; i++)
        for (int64_t k = k0; k < k0 + kc; k += 32) {
            const __m256i v = load32(Wq + i * n + k);
            vmin = _mm256_min_epi8(vmin, v), vmax = _mm256_max_epi8(vmax, v);
        }
    int8_t mn[32], mx[32];
    _mm256_storeu_si256((__m256i *)mn, vmin);
    _mm256_storeu_si256((__m256i *)mx, vmax);
    int l = 0, h = 0;
    for (int i = 0; i < 32; i++) {
        l = mn[i] < l ? mn[i] : l;
        h = mx[i] > h ? mx[i] : h;
    }
    *lo = l, *hi = h;
}

/* rows 0..nr-1 (nr <= 8; the others read as zeros) of Wq / Ws, values k0..k0+kc-1,
 * into st in mode m; 0 when the values do not fit m (st is then to be refilled). The
 * check costs one max per vector: u = w + o wraps to 128..255 as u8 when w + o < 0. */
static inline __attribute__((always_inline)) int kstrip_fill_(kstrip *st, const int8_t *Wq, const float *Ws, int nr,
                                                                int64_t n, int sub, int64_t k0, int64_t kc, kmode m) {
    const int64_t ns = n / sub;
    __m256i umax = _mm256_setzero_si256();
    const __m256i off = _mm256_set1_epi8((char)m.o);
    for (int64_t p = 0; p < kc / 32; p++) {
        __m256i g[8];
        krows_transpose(Wq + k0 + 32 * p, n, nr, g);
        for (int j = 0; j < 8; j++) {
            if (m.c == KM_GEN) {
                st->wsg[8 * p + j] = g[j];
                st->wu[8 * p + j] = _mm256_abs_epi8(g[j]); /* -128 -> 0x80 = 128 as u8 */
            } else {
                const __m256i u = _mm256_add_epi8(g[j], off);
                umax = _mm256_max_epu8(umax, u);
                st->wu[8 * p + j] = u;
            }
        }
    }
    if (m.c != KM_GEN) {
        const int ulim = m.c == KM_C8 ? 16 : m.c == KM_C4 ? 32 : 64;
        if (!_mm256_testz_si256(_mm256_subs_epu8(umax, _mm256_set1_epi8((char)ulim)), _mm256_set1_epi8(-1))) return 0;
    }
    for (int64_t j8 = 0; j8 < kc / sub; j8 += 8) { /* kc / sub is a multiple of 8 */
        __m256i g[8];
        krows_transpose(Ws + k0 / sub + j8, ns * 4, nr, g);
        for (int j = 0; j < 8; j++) st->dw[j8 + j] = _mm256_castsi256_ps(g[j]);
    }
    return 1;
}

static int kstrip_fill(kstrip *st, const int8_t *Wq, const float *Ws, int nr, int64_t n, int sub, int64_t k0,
                       int64_t kc, kmode m) {
    return nr == 8 ? kstrip_fill_(st, Wq, Ws, 8, n, sub, k0, kc, m) : kstrip_fill_(st, Wq, Ws, nr, n, sub, k0, kc, m);
}

/* the mins of rows 0..nr-1 (the others zeros), values k0..k0+kc-1, into st->wm / st->wd.
 * 32 int8 mins of each row are transposed at once (g[j]: mins 4j..4j+3 of the 8 rows),
 * and the shifts sign-extend g[j]'s bytes into two vectors of int16 pairs, lane r =
 * (m_4j, m_4j+2) and (m_4j+1, m_4j+3): wm[2j], wm[2j+1]. */
static inline __attribute__((always_inline)) void kstrip_fill_min_(kstrip *st, const int8_t *Wm, const float *Wd, int nr,
                                                                    int64_t n, int sub, int64_t k0, int64_t kc) {
    const int64_t ns = n / sub, nsb = n / QK_K, nm = kc / sub; /* nm a multiple of 8 */
    for (int64_t q = 0; q < nm; q += 32) {
        __m256i g[8];
        if (q + 32 <= nm) krows_transpose(Wm + k0 / sub + q, ns, nr, g);
        else krows_transpose_part(Wm + k0 / sub + q, ns, nr, (int)(nm - q), g); /* 8, 16 or 24 left */
        for (int j = 0; j < 8 && q + 4 * j < nm; j++) {
            st->wm[q / 2 + 2 * j] = _mm256_srai_epi16(_mm256_slli_epi16(g[j], 8), 8);
            st->wm[q / 2 + 2 * j + 1] = _mm256_srai_epi16(g[j], 8);
        }
    }
    /* wd[b] = Wd[r][k0/256 + b] of the 8 rows: rows i and i + 4 in one register, a 4x4 transpose */
    const __m128i lm = _mm_cmpgt_epi32(_mm_set1_epi32((int)(kc / QK_K)), _mm_setr_epi32(0, 1, 2, 3));
    __m256 x[4];
    for (int i = 0; i < 4; i++) {
        const __m128 lo = i < nr ? _mm_maskload_ps(Wd + i * nsb + k0 / QK_K, lm) : _mm_setzero_ps();
        const __m128 hi = i + 4 < nr ? _mm_maskload_ps(Wd + (i + 4) * nsb + k0 / QK_K, lm) : _mm_setzero_ps();
        x[i] = _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);
    }
    const __m256 t0 = _mm256_unpacklo_ps(x[0], x[1]), t1 = _mm256_unpackhi_ps(x[0], x[1]);
    const __m256 t2 = _mm256_unpacklo_ps(x[2], x[3]), t3 = _mm256_unpackhi_ps(x[2], x[3]);
    st->wd[0] = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(t0), _mm256_castps_pd(t2)));
    st->wd[1] = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(t0), _mm256_castps_pd(t2)));
    st->wd[2] = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(t1), _mm256_castps_pd(t3)));
    st->wd[3] = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(t1), _mm256_castps_pd(t3)));
}

static void kstrip_fill_min(kstrip *st, const int8_t *Wm, const float *Wd, int nr, int64_t n, int sub, int64_t k0,
                            int64_t kc) {
    if (nr == 8) kstrip_fill_min_(st, Wm, Wd, 8, n, sub, k0, kc);
    else kstrip_fill_min_(st, Wm, Wd, nr, n, sub, k0, kc);
}

/* the activation pairs of the min step, token t's super-blocks k0/256.. of the chunk:
 * mb[t][PP * b + p] = the int16 pair of bsums (of the sub-blocks) that wm[PP * b + p]
 * multiplies, (s_4j, s_4j+2) for p = 2j and (s_4j+1, s_4j+3) for p = 2j + 1 */
static void kmin_pairs(const block_q8_K *A, int64_t nsb, int64_t tc, int sub, int64_t nb, int32_t (*mb)[KKC / 32]) {
    const __m256i perm = _mm256_setr_epi8(0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15,
                                          0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15);
    for (int64_t t = 0; t < tc; t++)
        for (int64_t b = 0; b < nb; b++) {
            const __m256i bs = load32(A[t * nsb + b].bsums);
            if (sub == 16) {
                _mm256_storeu_si256((__m256i *)&mb[t][8 * b], _mm256_shuffle_epi8(bs, perm));
            } else { /* sums of 32, s_j = bsums[2j] + bsums[2j+1]: [s0..s3 s0..s3 | s4..s7 s4..s7] as int16 */
                const __m256i s32 = _mm256_madd_epi16(bs, _mm256_set1_epi16(1));
                const __m256i s16 = _mm256_shuffle_epi8(_mm256_packs_epi32(s32, s32), perm);
                _mm_storeu_si128((__m128i *)&mb[t][4 * b], _mm256_castsi256_si128(_mm256_permute4x64_epi64(s16, 0x08)));
            }
        }
}

/* The integer sums are chains in the source order: without this, the compiler
 * reassociates them into trees of all the maddubs of a sub-block and tile at once,
 * which do not fit in 16 registers (an empty asm the value must pass through). */
#define KEEP(v) __asm__("" : "+x"(v))

/* 8 rows x T tokens over the chunk's values: A points at the tile's first token,
 * super-block k0/256 (token t at A + t * nsb); corr[t][j] = -o * (sum of the activation
 * quants of sub-block j) for the offset modes; MIN: the min step after each super-block,
 * mb the activation pairs (kmin_pairs); Y holds the running sums unless `first`;
 * nr < 8: only lanes 0..nr-1 are read and written. */
static inline __attribute__((always_inline)) void ktile(const int T, const int C, const int OFF, const int SUB, const int MIN,
                                                        const kstrip *st, int64_t kc, int first, const block_q8_K *A,
                                                        int64_t nsb, const int32_t (*corr)[KKC / 16],
                                                        const int32_t (*mb)[KKC / 32], float *Y, int64_t ldy, int nr,
                                                        __m256i lanes) {
    const __m256i ones = _mm256_set1_epi16(1);
    const int G = SUB / 4;               /* groups per sub-block */
    const int CC = C > G ? G : C;        /* maddubs added in int16 */
    __m256 f[4];
    for (int t = 0; t < T; t++)
        f[t] = first ? _mm256_setzero_ps() : nr == 8 ? _mm256_loadu_ps(Y + t * ldy) : _mm256_maskload_ps(Y + t * ldy, lanes);
    for (int64_t b = 0; b < kc / QK_K; b++) {
        for (int jj = 0; jj < QK_K / SUB; jj++) {
            const int64_t j = b * (QK_K / SUB) + jj;
            __m256i isum[4];
            for (int t = 0; t < T; t++)
                isum[t] = OFF ? _mm256_set1_epi32(corr[t][j]) : _mm256_setzero_si256();
            for (int g = 0; g < G; g += CC) {
                if (C == KM_GEN) {
                    const __m256i wa = _mm256_load_si256(&st->wu[j * G + g]), ws = _mm256_load_si256(&st->wsg[j * G + g]);
                    for (int t = 0; t < T; t++) {
                        const __m256i a = bcast4(A[t * nsb + b].qs + jj * SUB + 4 * g);
                        const __m256i p = _mm256_maddubs_epi16(wa, _mm256_sign_epi8(a, ws));
                        isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(p, ones));
                        KEEP(isum[t]);
                    }
                } else {
                    __m256i acc[4];
                    for (int c = 0; c < CC; c++) {
                        const __m256i w = _mm256_load_si256(&st->wu[j * G + g + c]);
                        for (int t = 0; t < T; t++) {
                            const __m256i p = _mm256_maddubs_epi16(w, bcast4(A[t * nsb + b].qs + jj * SUB + 4 * (g + c)));
                            acc[t] = c ? _mm256_add_epi16(acc[t], p) : p;
                            KEEP(acc[t]);
                        }
                    }
                    for (int t = 0; t < T; t++) {
                        isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(acc[t], ones));
                        KEEP(isum[t]);
                    }
                }
            }
            const __m256 dw = _mm256_load_ps((const float *)&st->dw[j]);
            for (int t = 0; t < T; t++) {
                const __m256 s = _mm256_mul_ps(dw, _mm256_broadcast_ss(&A[t * nsb + b].d));
                f[t] = _mm256_add_ps(f[t], _mm256_mul_ps(_mm256_cvtepi32_ps(isum[t]), s));
            }
        }
        if (MIN) {
            const int PP = QK_K / SUB / 2; /* pairs of mins per super-block */
            __m256i msum[4];
            for (int p = 0; p < PP; p++) {
                const __m256i w = _mm256_load_si256(&st->wm[b * PP + p]);
                for (int t = 0; t < T; t++) {
                    const __m256i a = _mm256_set1_epi32(mb[t][PP * b + p]);
                    const __m256i v = _mm256_madd_epi16(w, a);
                    msum[t] = p ? _mm256_add_epi32(msum[t], v) : v;
                    KEEP(msum[t]);
                }
            }
            const __m256 wd = _mm256_load_ps((const float *)&st->wd[b]);
            for (int t = 0; t < T; t++) {
                const __m256 s = _mm256_mul_ps(wd, _mm256_broadcast_ss(&A[t * nsb + b].d));
                f[t] = _mm256_add_ps(f[t], _mm256_mul_ps(_mm256_cvtepi32_ps(msum[t]), s));
            }
        }
    }
    for (int t = 0; t < T; t++) {
        if (nr == 8) _mm256_storeu_ps(Y + t * ldy, f[t]);
        else _mm256_maskstore_ps(Y + t * ldy, lanes, f[t]);
    }
}

typedef void (*ktiles_fn)(const kstrip *st, int64_t kc, int first, const block_q8_K *A, int64_t nsb, int64_t tc,
                          const int32_t (*corr)[KKC / 16], const int32_t (*mb)[KKC / 32], float *Y, int64_t ldy, int nr,
                          __m256i lanes);

/* one strip x tc tokens: tiles of 4 tokens, then the 1..3 left */
#define KTILE_(T, C, OFF, SUB, MIN) \
    ktile(T, C, OFF, SUB, MIN, st, kc, first, A + t * nsb, nsb, corr + t, mb + t, Y + t * ldy, ldy, nr, lanes)
#define KTILES(C, OFF, SUB, MIN)                                                                                   \
    static void ktiles_##C##_##OFF##_##SUB##_##MIN(const kstrip *st, int64_t kc, int first, const block_q8_K *A,   \
                                                   int64_t nsb, int64_t tc, const int32_t (*corr)[KKC / 16],       \
                                                   const int32_t (*mb)[KKC / 32], float *Y, int64_t ldy, int nr,   \
                                                   __m256i lanes) {                                                \
        int64_t t = 0;                                                                                             \
        for (; t + 4 <= tc; t += 4) KTILE_(4, C, OFF, SUB, MIN);                                                   \
        switch (tc - t) {                                                                                          \
        case 3: KTILE_(3, C, OFF, SUB, MIN); break;                                                                \
        case 2: KTILE_(2, C, OFF, SUB, MIN); break;                                                                \
        case 1: KTILE_(1, C, OFF, SUB, MIN); break;                                                                \
        default: break;                                                                                            \
        }                                                                                                          \
    }
#define KTILES_SUB(SUB, MIN)                                                                                      \
    KTILES(1, 0, SUB, MIN) KTILES(2, 0, SUB, MIN) KTILES(2, 1, SUB, MIN) KTILES(4, 0, SUB, MIN)                   \
    KTILES(4, 1, SUB, MIN) KTILES(8, 0, SUB, MIN) KTILES(8, 1, SUB, MIN)
KTILES_SUB(16, 0)
KTILES_SUB(32, 0)
KTILES_SUB(16, 1)
KTILES_SUB(32, 1)

#define KTILES_PICK(C, OFF, SUB) (min ? ktiles_##C##_##OFF##_##SUB##_1 : ktiles_##C##_##OFF##_##SUB##_0)
#define KTILES_PICK_SUB(C, OFF) (sub == 16 ? KTILES_PICK(C, OFF, 16) : KTILES_PICK(C, OFF, 32))
static ktiles_fn ktiles_for(kmode m, int sub, int min) {
    const int off = m.o != 0;
    switch (m.c) {
    case KM_GEN: return KTILES_PICK_SUB(1, 0);
    case KM_C2: return off ? KTILES_PICK_SUB(2, 1) : KTILES_PICK_SUB(2, 0);
    case KM_C4: return off ? KTILES_PICK_SUB(4, 1) : KTILES_PICK_SUB(4, 0);
    default: return off ? KTILES_PICK_SUB(8, 1) : KTILES_PICK_SUB(8, 0);
    }
}

void ge_avx2_gemm_q8_K(int64_t n, int sub, const int8_t *Wq, const float *Ws, const int8_t *Wm, const float *Wd,
                       int64_t n_rows, const block_q8_K *A, int64_t n_tok, float *Y, int64_t ldy) {
    const int64_t ns = n / sub, nsb = n / QK_K;
    if (n == 0) /* empty sums, as the reference writes them */
        for (int64_t t = 0; t < n_tok; t++) memset(Y + t * ldy, 0, sizeof(float) * (size_t)n_rows);
    kstrip st __attribute__((aligned(32)));
    int32_t corr[KTCH][KKC / 16];
    int32_t mb[KTCH][KKC / 32]; /* with mins: the activation pairs (kmin_pairs) */
    const int min = Wm != NULL;
    kmode m = {KM_C8, 0}; /* the guess for the first strip; then the last strip's mode */
    for (int64_t k0 = 0; k0 < n; k0 += KKC) { /* K chunks: Y carries the sums between them */
        const int64_t kc = n - k0 < KKC ? n - k0 : KKC;
        for (int64_t t0 = 0; t0 < n_tok; t0 += KTCH) {
            const int64_t tc = n_tok - t0 < KTCH ? n_tok - t0 : KTCH;
            int corr_o = -1; /* the offset corr holds, for this chunk */
            if (min) kmin_pairs(A + t0 * nsb + k0 / QK_K, nsb, tc, sub, kc / QK_K, mb);
            for (int64_t r = 0; r < n_rows; r += 8) {
                const int nr = n_rows - r < 8 ? (int)(n_rows - r) : 8;
                if (!kstrip_fill(&st, Wq + r * n, Ws + r * ns, nr, n, sub, k0, kc, m)) {
                    int lo, hi;
                    krange(Wq + r * n, nr, n, k0, kc, &lo, &hi);
                    m = kmode_for(lo, hi);
                    kstrip_fill(&st, Wq + r * n, Ws + r * ns, nr, n, sub, k0, kc, m);
                }
                if (min) kstrip_fill_min(&st, Wm + r * ns, Wd + r * nsb, nr, n, sub, k0, kc);
                if (m.o != 0 && m.o != corr_o) { /* corr[t][j] = -o * (bsum of sub-block j) */
                    const __m256i mo = _mm256_set1_epi32(-m.o);
                    for (int64_t t = 0; t < tc; t++) {
                        const block_q8_K *a = A + (t0 + t) * nsb + k0 / QK_K;
                        for (int64_t b = 0; b < kc / QK_K; b++) {
                            const __m256i bs = load32(a[b].bsums);
                            if (sub == 16) {
                                __m256i *c = (__m256i *)&corr[t][16 * b];
                                _mm256_storeu_si256(c, _mm256_mullo_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(bs)), mo));
                                _mm256_storeu_si256(c + 1, _mm256_mullo_epi32(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(bs, 1)), mo));
                            } else { /* pairs of bsums */
                                _mm256_storeu_si256((__m256i *)&corr[t][8 * b],
                                                    _mm256_mullo_epi32(_mm256_madd_epi16(bs, _mm256_set1_epi16(1)), mo));
                            }
                        }
                    }
                    corr_o = m.o;
                }
                const __m256i lanes = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
                ktiles_for(m, sub, min)(&st, kc, k0 == 0, A + t0 * nsb + k0 / QK_K, nsb, tc,
                                          (const int32_t (*)[KKC / 16])corr, (const int32_t (*)[KKC / 32])mb,
                                          Y + t0 * ldy + r, ldy, nr, lanes);
            }
        }
    }
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
    .quantize_q8_K = ge_avx2_quantize_q8_K,
    .gemm_q8_K = ge_avx2_gemm_q8_K,
    .pack_rows = 0, /* no packed layout */
};
