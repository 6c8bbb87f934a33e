/*
 * kernels_avx512.c - x86-64 AVX-512 VNNI kernels (AVX512F/DQ/BW/VL + VNNI; Zen 4,
 * Ice Lake and later). Compiled with those ISA flags for this file only and
 * reached only through the table after dispatch_x86.c has checked the CPU and
 * that the OS saves the opmask and ZMM state.
 *
 * gemm_q8_0, gemm_q8_K (the K-quants and IQ4_XS, decoded), quantize_q8_K and
 * the attention products are its own; the other slots are the AVX2 kernels.
 * All results stay bit-identical to kernels_scalar.c.
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
 *
 * gemm_q8_K uses the same strips for decoded K-quant rows (see the K-quants
 * section): per super-block 64 registers of quants then one register of 16
 * float scales per sub-block, the offsets from Q8_K's bsums, for the types with
 * a min the integer mins as int16 pairs (vpdpwssd with broadcast pairs of
 * bsums) and the 16 rows' wd, two strips per register tile, and a packed form
 * of the same strips (pack_q8_K).
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

/* ---------------------------------------------------------------- K-quants
 * gemm_q8_K: the same strips of 16 rows for the decoded K-quant rows (int8 values,
 * one float scale per sub-block of `sub` = 16 or 32 values). Per super-block of 256
 * values a strip holds 64 registers of quants, group g = values 4g..4g+3 of the 16
 * rows, + 128 as u8, then 256/sub registers of scales (the 16 rows' scale of
 * sub-block j). A sub-block is sub/4 vpdpbusd per token; the lane starts at
 * -128 * sum(a) of the sub-block, which Q8_K's bsums give (one or two of them),
 * leaving the exact isum_j; then convert, s = ws * d_a, y = y + isum * s (kernels.h:
 * a separate multiply and add, no FMA). Sub-blocks of 16 carry twice the float work
 * of sub-blocks of 32 per value (4 vector float ops per 4 vpdpbusd instead of per 8).
 *
 * Mins (Q2_K, Q4_K, Q5_K; Wm given, or packed with_min): after the scales a super-block
 * of a strip holds 128/sub registers of the 16 rows' integer mins as int16 pairs and
 * one register of the 16 rows' wd. msum = sum_j m_j * bsum_j is an exact integer in
 * any order, so the pairs are what is cheapest to make: of each 4 mins j..j+3 (4 int8
 * in a dword after the transpose) the sign-extended even bytes (j, j+2) and odd bytes
 * (j+1, j+3). vpdpwssd multiplies a register by a broadcast dword holding the token's
 * two sub-block sums of the same pair (bsums for sub 16, sums of two bsums for sub 32;
 * |sum| <= 32 * 128 fits int16), made once per token chunk (sub_offsets). Per
 * super-block and token 256/sub/2 vpdpwssd (4 or 8, next to 64 vpdpbusd), convert,
 * d = wd * d_a, msum * d, added to y after the super-block's sub-blocks (kernels.h's
 * order). The mins add 7% (sub 32) or 11% (sub 16) to the bytes of a packed strip.
 *
 * Register tiles: two strips x up to 6 tokens (12 int + 12 float accumulators; each
 * activation broadcast feeds both strips, which matters because loads, not the
 * multiplies, were the limit of a one-strip tile), one strip x up to 8 tokens for a
 * last odd strip; token counts split evenly (8 = 4 + 4). Per K chunk (KSB super-blocks)
 * each strip pair is interleaved from the plain rows once (or found in the packed
 * strips) and multiplied with every token chunk. A last partial strip (n_rows not a
 * multiple of 16) is padded with copies of its last row and stored through a mask.
 * pack_q8_K makes the same strips once at load: strips of 16 rows one after the other,
 * n/256 super-blocks each, (64 + 256/sub [+ 128/sub + 1]) x 64 bytes a super-block
 * (1 + 4/sub bytes a value, as the decoded rows; with mins 1 + 6/sub + 1/64). */

#define KSB 4 /* super-blocks per K chunk: a strip of it (<= 23 KB) stays in L1 */
#define TCHK 64 /* tokens per chunk: their sub-block offsets are computed once */
#define PREFETCH_K 4096 /* packed strips: bytes ahead in each strip of a tile */

/* bytes of one super-block of a strip: 64 x 64 quants, then 256/sub x 64 scales, then
 * with mins 128/sub x 64 mins and 64 bytes of wd */
static inline size_t sbk_bytes(int sub, int with_min) {
    const size_t ns = (size_t)(QK_K / sub);
    return 4096 + 64 * ns + (with_min ? 32 * ns + 64 : 0);
}

/* 16 bytes at p + i * stride + off of rows i = 0..15 -> out[e] = {row 0 dword e, ...,
 * row 15 dword e}, e = 0..3: the 128-bit pieces of rows k, k + 4, k + 8, k + 12 are
 * loaded into the four lanes of z[k] (vinserti32x4 from memory: a load and a p05 uop),
 * then a 4 x 4 dword transpose within the lanes (8 unpacks) puts the rows in order:
 * half the port-5 shuffles of a 16 x 16 register transpose. */
static inline __attribute__((always_inline)) void gather16x4(const uint8_t *p, int64_t stride, int64_t off,
                                                             __m512i out[4]) {
    __m512i z[4];
    for (int k = 0; k < 4; k++) {
        const uint8_t *q = p + k * stride + off;
        z[k] = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)q));
        z[k] = _mm512_inserti32x4(z[k], _mm_loadu_si128((const __m128i *)(q + 4 * stride)), 1);
        z[k] = _mm512_inserti32x4(z[k], _mm_loadu_si128((const __m128i *)(q + 8 * stride)), 2);
        z[k] = _mm512_inserti32x4(z[k], _mm_loadu_si128((const __m128i *)(q + 12 * stride)), 3);
    }
    const __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]), t1 = _mm512_unpackhi_epi32(z[0], z[1]);
    const __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]), t3 = _mm512_unpackhi_epi32(z[2], z[3]);
    out[0] = _mm512_unpacklo_epi64(t0, t2);
    out[1] = _mm512_unpackhi_epi64(t0, t2);
    out[2] = _mm512_unpacklo_epi64(t1, t3);
    out[3] = _mm512_unpackhi_epi64(t1, t3);
}

/* the same for 8 bytes a row (out[0], out[1]): two 8-row qword gathers, then the even
 * and odd dwords of the pair */
static inline __attribute__((always_inline)) void gather16x2(const uint8_t *p, int64_t stride, int64_t off,
                                                             __m512i out[2]) {
    const __m512i ix = _mm512_mullo_epi64(_mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7), _mm512_set1_epi64(stride));
    const __m512i lo = _mm512_i64gather_epi64(ix, (const void *)(p + off), 1);
    const __m512i hi = _mm512_i64gather_epi64(ix, (const void *)(p + off + 8 * stride), 1);
    out[0] = _mm512_permutex2var_epi32(lo, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), hi);
    out[1] = _mm512_permutex2var_epi32(lo, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), hi);
}

/* 16 rows of quants (w, row stride wst bytes) and scales (sc, row stride sst bytes), both
 * at the chunk's first super-block, ksb super-blocks -> dst in the strip layout; with MIN
 * also the int8 mins (mn, row stride mst) and wd (wd, row stride dst_ bytes), at the
 * chunk's first super-block. With `next` / `nexts` / `nextm` / `nextd` (a strip of rows
 * read later, same strides) the same values, scales and mins of those rows are
 * prefetched. NSS = 256 / sub and MIN are constants. */
static inline __attribute__((always_inline)) void interleave16_rows(
    const int NSS, const int MIN, uint8_t *dst, const uint8_t *w, int64_t wst, const uint8_t *sc, int64_t sst,
    const uint8_t *mn, int64_t mst, const uint8_t *wd, int64_t dst_, const uint8_t *next, const uint8_t *nexts,
    const uint8_t *nextm, const uint8_t *nextd, int64_t ksb) {
    const __m512i bias = _mm512_set1_epi8((char)0x80);
    const size_t sbb = 4096 + 64 * (size_t)NSS + (MIN ? 32 * (size_t)NSS + 64 : 0);
    for (int64_t sb = 0; sb < ksb; sb++) {
        __m512i *wu = (__m512i *)(dst + sb * sbb);
        if (next)
            for (int i = 0; i < 16; i++) {
                for (int c = 0; c < QK_K; c += 64) _mm_prefetch((const char *)(next + i * wst + sb * QK_K + c), _MM_HINT_T0);
                _mm_prefetch((const char *)(nexts + i * sst + sb * NSS * 4), _MM_HINT_T0);
                if (MIN && (sb == 0 || sb == ksb - 1)) { /* the chunk's first and last bytes: <= 64 of each */
                    _mm_prefetch((const char *)(nextm + i * mst + sb * NSS), _MM_HINT_T0);
                    _mm_prefetch((const char *)(nextd + i * dst_ + sb * 4), _MM_HINT_T0);
                }
            }
        for (int q = 0; q < QK_K / 16; q++) { /* 16 values of the 16 rows -> groups 4q..4q+3 */
            __m512i o[4];
            gather16x4(w, wst, sb * QK_K + q * 16, o);
            for (int e = 0; e < 4; e++) _mm512_storeu_si512(&wu[4 * q + e], _mm512_xor_si512(o[e], bias));
        }
        for (int j0 = 0; j0 < NSS; j0 += 4) { /* the scales, 4 sub-blocks at a time */
            __m512i o[4];
            gather16x4(sc, sst, (sb * NSS + j0) * 4, o);
            for (int e = 0; e < 4; e++) _mm512_storeu_si512(dst + sb * sbb + 4096 + (j0 + e) * 64, o[e]);
        }
        if (MIN) { /* register 2e lane i: (m[i][4e], m[i][4e + 2]), register 2e + 1: (m[i][4e + 1], m[i][4e + 3]) */
            uint8_t *mdst = dst + sb * sbb + 4096 + 64 * NSS;
            __m512i o[4];
            if (NSS == 16) gather16x4(mn, mst, sb * 16, o);
            else gather16x2(mn, mst, sb * 8, o);
            for (int e = 0; e < NSS / 4; e++) {
                _mm512_storeu_si512(mdst + (2 * e) * 64, _mm512_srai_epi16(_mm512_slli_epi16(o[e], 8), 8));
                _mm512_storeu_si512(mdst + (2 * e + 1) * 64, _mm512_srai_epi16(o[e], 8));
            }
            const __m512i ix = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                                  _mm512_set1_epi32((int32_t)dst_));
            _mm512_storeu_ps(mdst + 32 * NSS, _mm512_i32gather_ps(ix, (const void *)(wd + sb * 4), 1));
        }
    }
}

/* nr (1..16) rows of Wq / Ws (row strides n and n/sub) and, when Wm, Wm / Wd (row strides
 * n/sub and n/256), super-blocks sb0..sb0+ksb-1 -> dst in the strip layout. A partial
 * strip is first copied with its last row repeated (lanes nr..15 compute values nobody
 * stores). next / nexts / nextm / nextd: see interleave16_rows. */
static void interleave16_k(uint8_t *dst, const int8_t *Wq, const float *Ws, const int8_t *Wm, const float *Wd,
                           const int8_t *next, const float *nexts, const int8_t *nextm, const float *nextd, int64_t n,
                           int sub, int nr, int64_t sb0, int64_t ksb) {
    const int64_t ns = n / sub, nsb = n / QK_K;
    const int nss = QK_K / sub;
    const uint8_t *w = (const uint8_t *)(Wq + sb0 * QK_K), *sc = (const uint8_t *)(Ws + sb0 * nss);
    const uint8_t *mn = Wm ? (const uint8_t *)(Wm + sb0 * nss) : NULL, *wd = Wm ? (const uint8_t *)(Wd + sb0) : NULL;
    int64_t wst = n, sst = ns * 4, mst = ns, dst_ = nsb * 4;
    _Alignas(64) uint8_t pad[16 * (KSB * QK_K + KSB * 16 * 4 + KSB * 16 + KSB * 4)];
    if (nr < 16) {
        const size_t wb = (size_t)ksb * QK_K, sbytes = (size_t)ksb * nss * 4, mb = (size_t)ksb * nss, db = (size_t)ksb * 4;
        uint8_t *pw = pad, *ps = pad + 16 * wb, *pm = ps + 16 * sbytes, *pd = pm + 16 * mb;
        for (int i = 0; i < 16; i++) {
            const int ri = i < nr ? i : nr - 1;
            memcpy(pw + i * wb, w + ri * wst, wb);
            memcpy(ps + i * sbytes, sc + ri * sst, sbytes);
            if (Wm) {
                memcpy(pm + i * mb, mn + ri * mst, mb);
                memcpy(pd + i * db, wd + ri * dst_, db);
            }
        }
        w = pw, sc = ps, wst = (int64_t)wb, sst = (int64_t)sbytes;
        if (Wm) mn = pm, wd = pd, mst = (int64_t)mb, dst_ = (int64_t)db;
    }
    const uint8_t *nw = next ? (const uint8_t *)(next + sb0 * QK_K) : NULL;
    const uint8_t *ns_ = nexts ? (const uint8_t *)(nexts + sb0 * nss) : NULL;
    const uint8_t *nm = nextm ? (const uint8_t *)(nextm + sb0 * nss) : NULL;
    const uint8_t *nd = nextd ? (const uint8_t *)(nextd + sb0) : NULL;
    if (Wm) {
        if (!nm || !nd) nw = NULL; /* prefetch all of the next rows or none */
        if (sub == 16) interleave16_rows(16, 1, dst, w, wst, sc, sst, mn, mst, wd, dst_, nw, ns_, nm, nd, ksb);
        else interleave16_rows(8, 1, dst, w, wst, sc, sst, mn, mst, wd, dst_, nw, ns_, nm, nd, ksb);
    } else {
        if (sub == 16) interleave16_rows(16, 0, dst, w, wst, sc, sst, NULL, 0, NULL, 0, nw, ns_, NULL, NULL, ksb);
        else interleave16_rows(8, 0, dst, w, wst, sc, sst, NULL, 0, NULL, 0, nw, ns_, NULL, NULL, ksb);
    }
}

/* prefetch nl lines at pos of each of the S strips of a tile's chunk (clen bytes), past
 * its end into the next strips' chunk at pf (when there is one) */
static inline __attribute__((always_inline)) void prefetch_k(const int S, const uint8_t *st, size_t sst,
                                                             const uint8_t *pf, size_t clen, size_t pos, int nl) {
    const uint8_t *p = pos < clen ? st + pos : pf ? pf + (pos - clen) : NULL;
    if (p)
        for (int s = 0; s < S; s++)
            for (int l = 0; l < nl; l++) _mm_prefetch((const char *)p + s * sst + l * 64, _MM_HINT_T0);
}

/* The min terms of S strips x T tokens for super-block sb of the chunk (its mins at byte
 * mo of each strip): msum exact (int16 pairs times the broadcast pairs of bsp), then
 * mt = (float)msum * (wd * d_a). With few accumulators (S * T <= 4) two chains of
 * vpdpwssd, added (exact), halve the latency. */
static inline __attribute__((always_inline)) void min_terms_k(const int S, const int T0, const int T, const int NP,
                                                              const uint8_t *st, size_t sst, size_t mo,
                                                              const int32_t (*bsp)[KSB * 8], int64_t sb,
                                                              const block_q8_K *a, int64_t nsb, const int ADD,
                                                              __m512 mt[2][TT]) {
    const int C = S * (T - T0) <= 4 ? 2 : 1;
    __m512i msum[2][2][TT];
    for (int p = 0; p < NP; p++) {
        __m512i w[2];
        for (int s = 0; s < S; s++) w[s] = _mm512_loadu_si512(st + s * sst + mo + (size_t)p * 64);
        for (int t = T0; t < T; t++) {
            const __m512i bv = _mm512_set1_epi32(bsp[t][sb * 8 + p]);
            for (int s = 0; s < S; s++) {
                __m512i *acc = &msum[p % C][s][t];
                *acc = p >= C ? _mm512_dpwssd_epi32(*acc, w[s], bv) : _mm512_madd_epi16(w[s], bv);
            }
        }
    }
    for (int s = 0; s < S; s++) {
        const __m512 wd = _mm512_loadu_ps(st + s * sst + mo + (size_t)NP * 64);
        for (int t = T0; t < T; t++) {
            const __m512i ms = C == 2 ? _mm512_add_epi32(msum[0][s][t], msum[1][s][t]) : msum[0][s][t];
            const __m512 term = _mm512_mul_ps(_mm512_cvtepi32_ps(ms), _mm512_mul_ps(wd, _mm512_set1_ps(a[t * nsb].d)));
            mt[s][t] = ADD ? _mm512_add_ps(mt[s][t], term) : term;
        }
    }
}

/* S strips (16 rows each, sst bytes apart; the lanes of the last one in mask m) x T
 * tokens over super-blocks sb0..sb0+ksb-1 of the strip chunk st; Y holds the running
 * sums when sb0 > 0. A: the tile's first token (super-block 0), nofs: [token][sub-block
 * of the chunk], bsp (MIN): [token][pair of the chunk, 8 a super-block], the sub-block
 * sums paired as the mins. With pfon (packed strips streaming from memory) each
 * sub-block prefetches its share of the super-block's lines (G + 1 without mins: its
 * quants and scales) PREFETCH_K further on in each strip, past the end of the chunk into
 * the next strips' chunk at pf (when there is one). Two strips share each activation
 * broadcast: 2 + T loads per 2T vpdpbusd, where one strip needs 1 + T per T (the loads,
 * not the multiplies, were the limit). The min terms of small tiles (S * T <= 8) are
 * computed before the super-block's sub-blocks (their chain of vpdpwssd, convert and
 * multiplies off the path of the accumulators; only the add waits for its place),
 * those of larger tiles after them, half the tokens at a time (the registers).
 * S, T, SUB and MIN are constants. */
static inline __attribute__((always_inline)) void tile_k(const int S, const int T, const int SUB, const int MIN,
                                                         const uint8_t *st, size_t sst, int pfon, const uint8_t *pf,
                                                         int64_t ksb, int64_t sb0, const block_q8_K *A, int64_t nsb,
                                                         const int32_t (*nofs)[KSB * 16],
                                                         const int32_t (*bsp)[KSB * 8], __mmask16 m, float *Y,
                                                         int64_t ldy) {
    const int NS = QK_K / SUB, G = SUB / 4, NP = NS / 2;
    const size_t sbb = 4096 + 64 * (size_t)NS + (MIN ? 64 * (size_t)NP + 64 : 0), clen = (size_t)ksb * sbb;
    const int PFL = (int)((sbb / 64 + NS - 1) / NS); /* G + 1 without mins */
    const int EARLY = S * T <= 8; /* registers for the min terms across the sub-blocks */
    __m512 f[2][TT];
    for (int s = 0; s < S; s++)
        for (int t = 0; t < T; t++)
            f[s][t] = sb0 ? _mm512_maskz_loadu_ps(s == S - 1 ? m : (__mmask16)0xffff, Y + t * ldy + 16 * s)
                          : _mm512_setzero_ps();
    for (int64_t sb = 0; sb < ksb; sb++) {
        const block_q8_K *a = A + sb0 + sb;
        __m512 mt[2][TT];
        if (MIN && EARLY) min_terms_k(S, 0, T, NP, st, sst, sb * sbb + 4096 + 64 * (size_t)NS, bsp, sb, a, nsb, 0, mt);
        for (int j = 0; j < NS; j++) {
            if (pfon) /* PFL lines: a sub-block's share of the super-block */
                prefetch_k(S, st, sst, pf, clen, sb * sbb + (size_t)j * PFL * 64 + PREFETCH_K, PFL);
            __m512i isum[2][TT];
            for (int t = 0; t < T; t++) {
                const __m512i o = _mm512_set1_epi32(nofs[t][sb * NS + j]);
                for (int s = 0; s < S; s++) isum[s][t] = o;
            }
            for (int g = 0; g < G; g++) {
                __m512i w[2];
                for (int s = 0; s < S; s++) w[s] = _mm512_loadu_si512(st + s * sst + sb * sbb + (size_t)(j * G + g) * 64);
                for (int t = 0; t < T; t++) {
                    const __m512i av = bcast4(a[t * nsb].qs + j * SUB + 4 * g);
                    for (int s = 0; s < S; s++) isum[s][t] = _mm512_dpbusd_epi32(isum[s][t], w[s], av);
                }
            }
            for (int s = 0; s < S; s++) {
                const __m512 wsj = _mm512_loadu_ps(st + s * sst + sb * sbb + 4096 + (size_t)j * 64);
                for (int t = 0; t < T; t++) {
                    const __m512 sc = _mm512_mul_ps(wsj, _mm512_set1_ps(a[t * nsb].d));
                    f[s][t] = _mm512_add_ps(f[s][t], _mm512_mul_ps(_mm512_cvtepi32_ps(isum[s][t]), sc));
                }
            }
        }
        if (MIN && EARLY) /* the super-block's min term, in kernels.h's place */
            for (int s = 0; s < S; s++)
                for (int t = 0; t < T; t++) f[s][t] = _mm512_add_ps(f[s][t], mt[s][t]);
        if (MIN && !EARLY) { /* computed here, two halves of the tokens: fewer registers live */
            min_terms_k(S, 0, T / 2, NP, st, sst, sb * sbb + 4096 + 64 * (size_t)NS, bsp, sb, a, nsb, 1, f);
            min_terms_k(S, T / 2, T, NP, st, sst, sb * sbb + 4096 + 64 * (size_t)NS, bsp, sb, a, nsb, 1, f);
        }
    }
    for (int s = 0; s < S; s++)
        for (int t = 0; t < T; t++)
            _mm512_mask_storeu_ps(Y + t * ldy + 16 * s, s == S - 1 ? m : (__mmask16)0xffff, f[s][t]);
}

#define TT2 6 /* tokens per two-strip tile: 12 int + 12 float accumulators */

/* S strips x tc tokens (a token chunk): tiles of at most TT (one strip) or TT2 (two)
 * tokens, balanced (8 tokens = 4 + 4 rather than 6 + 2); with pfon only the first tile
 * prefetches (the others read what it brought in; measured: prefetching the next strips
 * into L2 from a later tile was slower). */
static inline __attribute__((always_inline)) void strips_times_tokens_k(
    const int S, const int SUB, const int MIN, const uint8_t *st, size_t sst, int pfon, const uint8_t *pf, int64_t ksb,
    int64_t sb0, const block_q8_K *A, int64_t nsb, int64_t tc, const int32_t (*nofs)[KSB * 16],
    const int32_t (*bsp)[KSB * 8], __mmask16 m, float *Y, int64_t ldy) {
    const int TN = S == 2 ? TT2 : TT;
    const int64_t nt = (tc + TN - 1) / TN, base = tc / nt, extra = tc % nt;
    for (int64_t i = 0, t = 0; i < nt; i++, pfon = 0) {
        const int64_t sz = base + (i < extra);
        const block_q8_K *At = A + t * nsb;
        const int32_t(*bt)[KSB * 8] = MIN ? bsp + t : NULL;
        float *Yt = Y + t * ldy;
#define TILE(TN_) tile_k(S, TN_, SUB, MIN, st, sst, pfon, pf, ksb, sb0, At, nsb, nofs + t, bt, m, Yt, ldy)
        switch (sz) {
        case 8: if (S == 1) TILE(8); break;
        case 7: if (S == 1) TILE(7); break;
        case 6: TILE(6); break;
        case 5: TILE(5); break;
        case 4: TILE(4); break;
        case 3: TILE(3); break;
        case 2: TILE(2); break;
        case 1: TILE(1); break;
        default: break;
        }
#undef TILE
        t += sz;
    }
}

typedef void (*strips_fn)(const uint8_t *st, size_t sst, int pfon, const uint8_t *pf, int64_t ksb, int64_t sb0,
                          const block_q8_K *A, int64_t nsb, int64_t tc, const int32_t (*nofs)[KSB * 16],
                          const int32_t (*bsp)[KSB * 8], __mmask16 m, float *Y, int64_t ldy);
#define STRIPS_FN(S, SUB, MIN)                                                                                       \
    static void strips_##S##_##SUB##_##MIN(const uint8_t *st, size_t sst, int pfon, const uint8_t *pf, int64_t ksb,  \
                                           int64_t sb0, const block_q8_K *A, int64_t nsb, int64_t tc,                \
                                           const int32_t (*nofs)[KSB * 16], const int32_t (*bsp)[KSB * 8],           \
                                           __mmask16 m, float *Y, int64_t ldy) {                                     \
        strips_times_tokens_k(S, SUB, MIN, st, sst, pfon, pf, ksb, sb0, A, nsb, tc, nofs, bsp, m, Y, ldy);           \
    }
STRIPS_FN(1, 16, 0)
STRIPS_FN(1, 32, 0)
STRIPS_FN(2, 16, 0)
STRIPS_FN(2, 32, 0)
STRIPS_FN(1, 16, 1)
STRIPS_FN(1, 32, 1)
STRIPS_FN(2, 16, 1)
STRIPS_FN(2, 32, 1)

/* [S - 1][sub == 32][with_min] */
static const strips_fn strips_k[2][2][2] = {{{strips_1_16_0, strips_1_16_1}, {strips_1_32_0, strips_1_32_1}},
                                            {{strips_2_16_0, strips_2_16_1}, {strips_2_32_0, strips_2_32_1}}};

/* packed: strips of 16 rows, each n/256 super-blocks in the strip layout */
static size_t strip_bytes_k(int64_t n, int sub, int with_min) { return (size_t)(n / QK_K) * sbk_bytes(sub, with_min); }

static size_t packed_size_q8_K(int64_t n_rows, int64_t n, int sub, int with_min) {
    return (size_t)(n_rows / 16) * strip_bytes_k(n, sub, with_min);
}

static void pack_q8_K(const int8_t *Wq, const float *Ws, const int8_t *Wm, const float *Wd, int64_t n_rows, int64_t n,
                      int sub, void *P) {
    const int64_t ns = n / sub, nsb = n / QK_K;
    const int with_min = Wm != NULL;
    for (int64_t r = 0; r < n_rows; r += 16) {
        uint8_t *strip = (uint8_t *)P + (size_t)(r / 16) * strip_bytes_k(n, sub, with_min);
        for (int64_t sb0 = 0; sb0 < nsb; sb0 += KSB) {
            const int64_t ksb = nsb - sb0 < KSB ? nsb - sb0 : KSB;
            interleave16_k(strip + sb0 * sbk_bytes(sub, with_min), Wq + r * n, Ws + r * ns, Wm ? Wm + r * ns : NULL,
                           Wm ? Wd + r * nsb : NULL, NULL, NULL, NULL, NULL, n, sub, 16, sb0, ksb);
        }
    }
}

/* -128 * the sums of the sub-blocks' activation quants, tokens t0..t0+tc-1, super-blocks
 * sb0..sb0+ksb-1: the bsums (sub 16) or pairs of them (sub 32); with bsp also the same
 * sums as int16 pairs in the order of the packed mins: of each 4 sub-blocks j..j+3 the
 * pairs (j, j+2) and (j+1, j+3), 8 dwords a super-block (4 used for sub 32) */
static void sub_offsets(int32_t (*nofs)[KSB * 16], int32_t (*bsp)[KSB * 8], const block_q8_K *A, int64_t nsb, int sub,
                        int64_t tc, int64_t sb0, int64_t ksb) {
    const __m128i perm = _mm_setr_epi8(0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15);
    for (int64_t t = 0; t < tc; t++)
        for (int64_t sb = 0; sb < ksb; sb++) {
            const __m256i bs = _mm256_loadu_si256((const __m256i *)A[t * nsb + sb0 + sb].bsums);
            if (sub == 16)
                _mm512_storeu_si512(&nofs[t][sb * 16], _mm512_sub_epi32(_mm512_setzero_si512(),
                                                                        _mm512_slli_epi32(_mm512_cvtepi16_epi32(bs), 7)));
            else
                _mm256_storeu_si256((__m256i *)&nofs[t][sb * 8], _mm256_madd_epi16(bs, _mm256_set1_epi16(-128)));
            if (!bsp) continue;
            if (sub == 16)
                _mm256_storeu_si256((__m256i *)&bsp[t][sb * 8], _mm256_shuffle_epi8(bs, _mm256_broadcastsi128_si256(perm)));
            else /* sums of neighbouring bsums: hadd (no overflow: |sum| <= 32 * 128) */
                _mm_storeu_si128((__m128i *)&bsp[t][sb * 8],
                                 _mm_shuffle_epi8(_mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1)),
                                                  perm));
        }
}

/* The product over 16-row strips, two at a time: per K chunk each strip (pair) is
 * interleaved from the plain rows once (P NULL; the last strip possibly partial, the
 * next pair's rows prefetched meanwhile) or read from the packed strips (prefetched
 * ahead), then multiplied with every token chunk. with_min: Wm / Wd given (plain rows)
 * or packed with mins. Stack: ~72 KB here, 21 KB more in interleave16_k. */
static void gemm_strips_k(int64_t n, int sub, const int8_t *Wq, const float *Ws, const int8_t *Wm, const float *Wd,
                          const uint8_t *P, int with_min, int64_t n_rows, const block_q8_K *A, int64_t n_tok, float *Y,
                          int64_t ldy) {
    _Alignas(64) uint8_t buf[2 * KSB * (4096 + 64 * 16 + 64 * 8 + 64)];
    _Alignas(64) int32_t nofs[TCHK][KSB * 16]; /* -128 * sum of the sub-block's activation quants */
    _Alignas(64) int32_t bsp[TCHK][KSB * 8];   /* with mins: the sub-block sums, int16 pairs */
    const int64_t nsb = n / QK_K, ns = n / sub;
    const size_t sbb = sbk_bytes(sub, with_min), pst = strip_bytes_k(n, sub, with_min);
    const strips_fn one = strips_k[0][sub == 32][with_min != 0], two = strips_k[1][sub == 32][with_min != 0];
    for (int64_t sb0 = 0; sb0 < nsb; sb0 += KSB) { /* K chunks: Y carries the sums between them */
        const int64_t ksb = nsb - sb0 < KSB ? nsb - sb0 : KSB;
        const size_t bst = (size_t)ksb * sbb; /* strip to strip in buf */
        int64_t have = -1;                    /* the token chunk nofs holds */
        for (int64_t r = 0; r < n_rows;) {
            const int S = n_rows - r >= 32 ? 2 : 1;
            const int nr = n_rows - r - 16 * (S - 1) < 16 ? (int)(n_rows - r - 16 * (S - 1)) : 16;
            const __mmask16 m = (__mmask16)((1u << nr) - 1);
            const uint8_t *st, *pf = NULL;
            size_t sst;
            if (P) {
                st = P + (size_t)(r / 16) * pst + sb0 * sbb;
                sst = pst;
                if (n_rows - (r + 16 * S) >= 16 * S) pf = st + S * pst; /* the next S strips, same chunk */
            } else {
                for (int s = 0; s < S; s++) {
                    const int64_t rs = r + 16 * s, rn = r + 32 + 16 * s; /* rn: a strip of the next pair */
                    const int nx = rn + 16 <= n_rows;
                    interleave16_k(buf + s * bst, Wq + rs * n, Ws + rs * ns, Wm ? Wm + rs * ns : NULL,
                                   Wm ? Wd + rs * nsb : NULL, nx ? Wq + rn * n : NULL, nx ? Ws + rn * ns : NULL,
                                   nx && Wm ? Wm + rn * ns : NULL, nx && Wm ? Wd + rn * nsb : NULL, n, sub,
                                   s == S - 1 ? nr : 16, sb0, ksb);
                }
                st = buf;
                sst = bst;
            }
            for (int64_t t0 = 0; t0 < n_tok; t0 += TCHK) {
                const int64_t tc = n_tok - t0 < TCHK ? n_tok - t0 : TCHK;
                if (have != t0) sub_offsets(nofs, with_min ? bsp : NULL, A + t0 * nsb, nsb, sub, tc, sb0, ksb), have = t0;
                (S == 2 ? two : one)(st, sst, P != NULL && t0 == 0, pf, ksb, sb0, A + t0 * nsb, nsb, tc, nofs,
                                     (const int32_t(*)[KSB * 8])bsp, m, Y + t0 * ldy + r, ldy);
            }
            r += 16 * S;
        }
    }
}

static void gemm_q8_K(int64_t n, int sub, const int8_t *Wq, const float *Ws, const int8_t *Wm, const float *Wd,
                      int64_t n_rows, const block_q8_K *A, int64_t n_tok, float *Y, int64_t ldy) {
    gemm_strips_k(n, sub, Wq, Ws, Wm, Wd, NULL, Wm != NULL, n_rows, A, n_tok, Y, ldy);
}

static void gemm_q8_K_packed(int64_t n, int sub, int with_min, const void *P, int64_t n_rows, const block_q8_K *A,
                             int64_t n_tok, float *Y, int64_t ldy) {
    gemm_strips_k(n, sub, NULL, NULL, NULL, NULL, P, with_min, n_rows, A, n_tok, Y, ldy);
}

/* ggml's quantize_row_q8_K_ref, 16 values at a time: the largest |x| is exact in any
 * order (maxps keeps the second operand, the running maximum, when x is NaN, as the
 * scalar `ax > amax` skips it), and the FIRST value with that |x| is the scalar's max;
 * then the same multiply, the same round-half-even through the adder, min(127), and
 * the bsums summed from the int8 bytes (sad over q + 128). */
static void quantize_q8_K(const float *x, block_q8_K *y, int64_t n) {
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    const __m512i mant = _mm512_set1_epi32(0x007fffff), half = _mm512_set1_epi32(0x00400000),
                  q127 = _mm512_set1_epi32(127), bias = _mm512_set1_epi8((char)0x80);
    for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
        __m512 am = _mm512_setzero_ps();
        for (int i = 0; i < QK_K / 16; i++) am = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + 16 * i)), am);
        const float amax = _mm512_reduce_max_ps(am);
        if (amax == 0.0f) {
            memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        int first = 0;
        for (int i = 0; i < QK_K / 16; i++) {
            const __mmask16 eq = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + 16 * i)), _mm512_set1_ps(amax), _CMP_EQ_OQ);
            if (eq) {
                first = 16 * i + __builtin_ctz(eq);
                break;
            }
        }
        const float iscale = -127.0f / x[first];
        const __m512 is = _mm512_set1_ps(iscale);
        for (int i = 0; i < QK_K / 16; i++) {
            const __m512 v = _mm512_add_ps(_mm512_mul_ps(is, _mm512_loadu_ps(x + 16 * i)), magic);
            __m512i q = _mm512_sub_epi32(_mm512_and_si512(_mm512_castps_si512(v), mant), half);
            q = _mm512_min_epi32(q, q127);
            _mm_storeu_si128((__m128i *)(y[b].qs + 16 * i), _mm512_cvtepi32_epi8(q));
        }
        uint64_t s[32];
        for (int i = 0; i < 4; i++)
            _mm512_storeu_si512(s + 8 * i, _mm512_sad_epu8(_mm512_xor_si512(_mm512_loadu_si512(y[b].qs + 64 * i), bias),
                                                          _mm512_setzero_si512()));
        for (int j = 0; j < QK_K / 16; j++) y[b].bsums[j] = (int16_t)((int)(s[2 * j] + s[2 * j + 1]) - 16 * 128);
        y[b].d = 1.0f / iscale;
    }
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
    .quantize_q8_K = quantize_q8_K,
    .gemm_q8_K = gemm_q8_K,
    .pack_rows = 16,
    .packed_size = packed_size,
    .pack_q8_0 = pack_q8_0,
    .gemm_q8_0_packed = gemm_q8_0_packed,
    .packed_size_q8_K = packed_size_q8_K,
    .pack_q8_K = pack_q8_K,
    .gemm_q8_K_packed = gemm_q8_K_packed,
};
