/*
 * kernels_avx512.c - x86-64 AVX-512 VNNI kernels (AVX512F/DQ/BW/VL + VNNI; Zen 4,
 * Ice Lake and later). Compiled with those ISA flags for this file only and
 * reached only through the table after dispatch_x86.c has checked the CPU and
 * that the OS saves the opmask and ZMM state.
 *
 * gemm_q8_0 (most of the work) and the attention products are its own; the
 * other slots are the AVX2 kernels. All results stay bit-identical to
 * kernels_scalar.c.
 *
 * gemm_q8_0 layout (the canonical order of kernels.h leaves the integer work
 * free): a strip of 16 weight rows is transposed once per token chunk so one
 * 64-byte register holds 4 bytes (group j) of each of the 16 rows, stored
 * offset to unsigned:
 *     strip.wu[b][j] = w[r][b].qs[4j..4j+3] + 128   for r = 0..15   (u8)
 * vpdpbusd multiplies those u8 by 4 broadcast activation bytes (s8) and adds
 * each group of 4 products into the row's int32 lane. Summed over the 8 groups
 * a lane holds sum (w + 128) * a = isum + 128 * sum(a); the accumulator
 * therefore starts at -128 * sum(a) of the token's block (one number per
 * token and block, computed once per chunk), leaving the exact block sum of
 * every row in its lane. Then one convert, multiply and add per block update
 * 16 outputs. 8 vpdpbusd per block and token for 16 rows x 32 values.
 *
 * With GGUFEMBED_OPEN_REPACK the strips are made once at load (pack_q8_0) and
 * gemm_q8_0_packed reads them in place; otherwise gemm_q8_0 interleaves each
 * strip on the fly, once per chunk of 64 tokens (for a short text that is
 * about as much work as the products themselves).
 */
#include "kernels_avx2.h"

#include <immintrin.h>
#include <string.h>

#define KC 64  /* blocks per K chunk: the strip buffer (32 KB) stays in L1/L2 */
#define TCH 64 /* tokens per chunk: their scales and offsets are computed once */
#define TT 8   /* tokens per register tile: 8 int + 8 float accumulators      */

/* A strip of 16 rows in the interleaved layout, blocks from k0 on:
 *   wu[b * 8 + j]  16 rows x 4 bytes (group j of block b), + 128, as u8
 *   dw[b * 16 + r] the rows' scales, fp16 (converted 16 at a time in the tile)
 * Made on the fly into a strip_buf (plain weights), or read straight from the
 * packed weights (pack_q8_0: strips of nb blocks, quants then scales). */
typedef struct strip_view {
    const __m512i *wu;
    const uint16_t *dw;
    int stream; /* packed weights streaming from memory: prefetch ahead */
} strip_view;

/* Packed strips are read once per call from DRAM; the hardware prefetcher alone
 * left the kernel waiting on every block for short texts. Prefetch this far
 * ahead (bytes, ~15 blocks; 4, 8 and 16 KB measured alike, none = 1.25x slower
 * on a 9-word text). */
#define PREFETCH_AHEAD 8192

typedef struct strip_buf {
    __m512i wu[KC * 8];
    uint16_t dw[KC * 16];
} strip_buf;

static inline float fp16(uint16_t h) { return _cvtsh_ss(h); }


/* rows 0..15 of W (row stride nb), blocks k0..k0+kc-1 -> wu[kc * 8], dw[kc * 16].
 * When `next` is given, the same blocks of those rows are prefetched: plain rows
 * are 16 interleaved streams the hardware prefetcher does not run ahead on. */
static void interleave16(__m512i *wu, uint16_t *dw, const block_q8_0 *W, const block_q8_0 *next, int64_t nb,
                         int64_t k0, int64_t kc) {
    const __m512i bias = _mm512_set1_epi8((char)0x80);
    for (int64_t b = 0; b < kc; b++) {
        if (next)
            for (int i = 0; i < 16; i++) _mm_prefetch((const char *)&next[i * nb + k0 + b], _MM_HINT_T0);
        __m256i r[16], g[16];
        for (int i = 0; i < 16; i++) {
            r[i] = _mm256_loadu_si256((const __m256i *)W[i * nb + k0 + b].qs);
            dw[b * 16 + i] = W[i * nb + k0 + b].d;
        }
        ge_transpose8x8_epi32(r, g);
        ge_transpose8x8_epi32(r + 8, g + 8);
        for (int j = 0; j < 8; j++)
            _mm512_storeu_si512(&wu[b * 8 + j],
                                _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(g[j]), g[8 + j], 1), bias));
    }
}

static inline __m512i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

/* 16 rows x T tokens over blocks k0..k0+kc-1 of the strip; Y holds the running
 * sums when k0 > 0. A: the tile's first token (block 0); da, nofs: [token][block]. */
static inline __attribute__((always_inline)) void tile16(const int T, strip_view st, int64_t kc, int64_t k0,
                                                         const block_q8_0 *A, int64_t nb, const float (*da)[KC],
                                                         const int32_t (*nofs)[KC], float *Y, int64_t ldy) {
    __m512 f[TT];
    for (int t = 0; t < T; t++) f[t] = k0 ? _mm512_loadu_ps(Y + t * ldy) : _mm512_setzero_ps();
    for (int64_t b = 0; b < kc; b++) {
        __m512i isum[TT];
        for (int t = 0; t < T; t++) isum[t] = _mm512_set1_epi32(nofs[t][b]);
        if (st.stream) /* the 544 bytes of a block, PREFETCH_AHEAD further on (into the next strip at the end) */
            for (int l = 0; l < 9; l++) _mm_prefetch((const char *)&st.wu[b * 8] + PREFETCH_AHEAD + 64 * l, _MM_HINT_T0);
        for (int j = 0; j < 8; j++) {
            const __m512i w = _mm512_loadu_si512(&st.wu[b * 8 + j]);
            for (int t = 0; t < T; t++) isum[t] = _mm512_dpbusd_epi32(isum[t], w, bcast4(A[t * nb + k0 + b].qs + 4 * j));
        }
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)&st.dw[b * 16]));
        for (int t = 0; t < T; t++) {
            const __m512 s = _mm512_mul_ps(dw, _mm512_set1_ps(da[t][b]));
            f[t] = _mm512_add_ps(f[t], _mm512_mul_ps(_mm512_cvtepi32_ps(isum[t]), s));
        }
    }
    for (int t = 0; t < T; t++) _mm512_storeu_ps(Y + t * ldy, f[t]);
}

/* one strip times tc tokens (a token chunk), register tiles of TT tokens */
static void strip_times_tokens(strip_view st, int64_t kc, int64_t k0, const block_q8_0 *A, int64_t nb, int64_t tc,
                               const float (*da)[KC], const int32_t (*nofs)[KC], float *Y, int64_t ldy) {
    int64_t t = 0;
    for (; t + TT <= tc; t += TT) tile16(TT, st, kc, k0, A + t * nb, nb, da + t, nofs + t, Y + t * ldy, ldy);
    A += t * nb, da += t, nofs += t, Y += t * ldy;
    switch (tc - t) {
    case 7: tile16(7, st, kc, k0, A, nb, da, nofs, Y, ldy); break;
    case 6: tile16(6, st, kc, k0, A, nb, da, nofs, Y, ldy); break;
    case 5: tile16(5, st, kc, k0, A, nb, da, nofs, Y, ldy); break;
    case 4: tile16(4, st, kc, k0, A, nb, da, nofs, Y, ldy); break;
    case 3: tile16(3, st, kc, k0, A, nb, da, nofs, Y, ldy); break;
    case 2: tile16(2, st, kc, k0, A, nb, da, nofs, Y, ldy); break;
    case 1: tile16(1, st, kc, k0, A, nb, da, nofs, Y, ldy); break;
    default: break;
    }
}

/* Packed layout: strips of 16 rows, each nb blocks of quants (8 x 64 bytes)
 * then nb x 16 fp16 scales, padded to 64 bytes. Same size as the plain rows
 * (16 x 34 bytes a block) up to the padding. */
static size_t strip_bytes(int64_t nb) { return ((size_t)nb * (512 + 32) + 63) & ~(size_t)63; }

static size_t packed_size(int64_t n_rows, int64_t nb) { return (size_t)(n_rows / 16) * strip_bytes(nb); }

static void pack_q8_0(const block_q8_0 *W, int64_t n_rows, int64_t nb, void *P) {
    for (int64_t r = 0; r < n_rows; r += 16) {
        uint8_t *strip = (uint8_t *)P + (size_t)(r / 16) * strip_bytes(nb);
        interleave16((__m512i *)strip, (uint16_t *)(strip + (size_t)nb * 512), W + r * nb, NULL, nb, 0, nb);
    }
}

/* The gemm over 16-row strips, from plain rows (P NULL: interleaved on the fly
 * once per token chunk) or from packed strips. */
static void gemm_strips(int64_t nb, const block_q8_0 *W, const uint8_t *P, int64_t n16, const block_q8_0 *A,
                        int64_t n_tok, float *Y, int64_t ldy) {
    strip_buf buf __attribute__((aligned(64)));
    float da[TCH][KC];
    int32_t nofs[TCH][KC]; /* -128 * sum of the block's activation quants */
    for (int64_t k0 = 0; k0 < nb; k0 += KC) { /* K chunks: Y carries the sums between them */
        const int64_t kc = nb - k0 < KC ? nb - k0 : KC;
        for (int64_t t0 = 0; t0 < n_tok; t0 += TCH) {
            const int64_t tc = n_tok - t0 < TCH ? n_tok - t0 : TCH;
            for (int64_t t = 0; t < tc; t++)
                for (int64_t b = 0; b < kc; b++) {
                    const block_q8_0 *a = &A[(t0 + t) * nb + k0 + b];
                    int32_t sum = 0;
                    for (int i = 0; i < QK8_0; i++) sum += a->qs[i];
                    da[t][b] = fp16(a->d);
                    nofs[t][b] = -128 * sum;
                }
            for (int64_t r = 0; r < n16; r += 16) {
                strip_view st;
                if (P) {
                    const uint8_t *strip = P + (size_t)(r / 16) * strip_bytes(nb);
                    st.wu = (const __m512i *)strip + k0 * 8;
                    st.dw = (const uint16_t *)(strip + (size_t)nb * 512) + k0 * 16;
                    st.stream = 1;
                } else {
                    interleave16(buf.wu, buf.dw, W + r * nb, r + 16 < n16 ? W + (r + 16) * nb : NULL, nb, k0, kc);
                    st.wu = buf.wu, st.dw = buf.dw, st.stream = 0;
                }
                strip_times_tokens(st, kc, k0, A + t0 * nb, nb, tc, da, nofs, Y + t0 * ldy + r, ldy);
            }
        }
    }
}

static void gemm_q8_0(int64_t nb, const block_q8_0 *W, int64_t n_rows, const block_q8_0 *A, int64_t n_tok,
                      float *Y, int64_t ldy) {
    const int64_t n16 = n_rows & ~(int64_t)15;
    if (n16) gemm_strips(nb, W, NULL, n16, A, n_tok, Y, ldy);
    /* fewer than 16 rows left: the AVX2 kernel (same results by construction) */
    if (n16 < n_rows) ge_avx2_gemm_q8_0(nb, W + n16 * nb, n_rows - n16, A, n_tok, Y + n16, ldy);
}

static void gemm_q8_0_packed(int64_t nb, const void *P, int64_t n_rows, const block_q8_0 *A, int64_t n_tok, float *Y,
                             int64_t ldy) {
    gemm_strips(nb, NULL, P, n_rows, A, n_tok, Y, ldy);
}

/* ---------------------------------------------------------------- attention
 * Same canonical order as the AVX2 kernels (8 lanes per dot product; each
 * output of P V accumulated over keys in order); the 32 registers allow tiles
 * that do more arithmetic per load. */

static inline float hsum256(__m256 v) { /* ((L0+L4) + (L2+L6)) + ((L1+L5) + (L3+L7)) */
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* S = scale * Q K^T: tiles of 8 queries x 4 keys; one zmm holds the 8-lane
 * partial sums of two keys (keys j, j+1 in the low / high half) for one query. */
static void scores_f32(int64_t m, int64_t n, int64_t d, const float *Q, int64_t ldq, const float *K, int64_t ldk,
                       float scale, float *S, int64_t lds) {
    int64_t i0 = 0;
    for (; i0 + 8 <= m; i0 += 8) {
        int64_t j = 0;
        for (; j + 4 <= n; j += 4) {
            const float *k0 = K + j * ldk;
            __m512 a[8][2];
            for (int i = 0; i < 8; i++) a[i][0] = a[i][1] = _mm512_setzero_ps();
            for (int64_t c = 0; c < d; c += 8) {
                const __m512 k01 = _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_loadu_ps(k0 + c)),
                                                      _mm256_loadu_ps(k0 + ldk + c), 1);
                const __m512 k23 = _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_loadu_ps(k0 + 2 * ldk + c)),
                                                      _mm256_loadu_ps(k0 + 3 * ldk + c), 1);
                for (int i = 0; i < 8; i++) {
                    const __m512 q = _mm512_broadcast_f32x8(_mm256_loadu_ps(Q + (i0 + i) * ldq + c));
                    a[i][0] = _mm512_add_ps(a[i][0], _mm512_mul_ps(q, k01));
                    a[i][1] = _mm512_add_ps(a[i][1], _mm512_mul_ps(q, k23));
                }
            }
            for (int i = 0; i < 8; i++) {
                float *srow = S + (i0 + i) * lds + j;
                srow[0] = scale * hsum256(_mm512_castps512_ps256(a[i][0]));
                srow[1] = scale * hsum256(_mm512_extractf32x8_ps(a[i][0], 1));
                srow[2] = scale * hsum256(_mm512_castps512_ps256(a[i][1]));
                srow[3] = scale * hsum256(_mm512_extractf32x8_ps(a[i][1], 1));
            }
        }
        if (j < n) ge_avx2_scores_f32(8, n - j, d, Q + i0 * ldq, ldq, K + j * ldk, ldk, scale, S + i0 * lds + j, lds);
    }
    if (i0 < m) ge_avx2_scores_f32(m - i0, n, d, Q + i0 * ldq, ldq, K, ldk, scale, S + i0 * lds, lds);
}

/* O = P V: tiles of 8 query rows x 32 output columns (16 zmm accumulators);
 * per key, two V loads and eight broadcasts feed 16 multiplies and adds. */
static void pv_f32(int64_t m, int64_t n, int64_t d, const float *P, int64_t ldp, const float *V, int64_t ldv, float *O,
                   int64_t ldo) {
    const int64_t d32 = d & ~(int64_t)31;
    int64_t i0 = 0;
    for (; i0 + 8 <= m; i0 += 8) {
        const float *p = P + i0 * ldp;
        for (int64_t c = 0; c < d32; c += 32) {
            __m512 a[8][2];
            for (int i = 0; i < 8; i++) a[i][0] = a[i][1] = _mm512_setzero_ps();
            for (int64_t j = 0; j < n; j++) {
                const __m512 v0 = _mm512_loadu_ps(V + j * ldv + c), v1 = _mm512_loadu_ps(V + j * ldv + c + 16);
                for (int i = 0; i < 8; i++) {
                    const __m512 pij = _mm512_set1_ps(p[i * ldp + j]);
                    a[i][0] = _mm512_add_ps(a[i][0], _mm512_mul_ps(pij, v0));
                    a[i][1] = _mm512_add_ps(a[i][1], _mm512_mul_ps(pij, v1));
                }
            }
            for (int i = 0; i < 8; i++) {
                _mm512_storeu_ps(O + (i0 + i) * ldo + c, a[i][0]);
                _mm512_storeu_ps(O + (i0 + i) * ldo + c + 16, a[i][1]);
            }
        }
        if (d32 < d) ge_avx2_pv_f32(8, n, d - d32, p, ldp, V + d32, ldv, O + i0 * ldo + d32, ldo);
    }
    if (i0 < m) ge_avx2_pv_f32(m - i0, n, d, P + i0 * ldp, ldp, V, ldv, O + i0 * ldo, ldo);
}

const ge_kernels ge_kernels_avx512 = {
    .name = "avx512-vnni",
    .quantize_q8_0 = ge_avx2_quantize_q8_0,
    .gemm_q8_0 = gemm_q8_0,
    .scores_f32 = scores_f32,
    .pv_f32 = pv_f32,
    .dot_f32 = ge_avx2_dot_f32,
    .axpy_f32 = ge_avx2_axpy_f32,
    .gelu_mul_f32 = ge_avx2_gelu_mul_f32,
    .exp_sub_f32 = ge_avx2_exp_sub_f32,
    .quantize_q8_K = ge_scalar_quantize_q8_K,
    .gemm_q8_K = ge_scalar_gemm_q8_K,
    .pack_rows = 16,
    .packed_size = packed_size,
    .pack_q8_0 = pack_q8_0,
    .gemm_q8_0_packed = gemm_q8_0_packed,
};
