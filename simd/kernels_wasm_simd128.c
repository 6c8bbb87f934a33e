/*
 * kernels_wasm_simd128.c - WebAssembly SIMD kernels (fixed-width simd128), and,
 * when compiled with -mrelaxed-simd, the table of the relaxed-SIMD build.
 *
 * Every float step is a separate multiply and add in the canonical order of
 * kernels.h (no relaxed_madd: it may fuse), so the results are bit-identical
 * to kernels_scalar.c. The gemm's layout is explained above gemm_q8_0.
 */
#include "kernels.h"

#include "../formats/fp.h"

#include <math.h>
#include <string.h>
#include <wasm_simd128.h>

static inline float hsum_f32x4(v128_t v) {
    v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(v, 0);
}

static void quantize_q8_0(const float *x, block_q8_0 *y, int64_t n) {
    for (int64_t b = 0; b < n / QK8_0; b++) {
        const float *xb = x + b * QK8_0;
        v128_t v[8];
        v128_t m = wasm_f32x4_splat(0.0f);
        for (int k = 0; k < 8; k++) {
            v[k] = wasm_v128_load(xb + 4 * k);
            m = wasm_f32x4_max(m, wasm_f32x4_abs(v[k]));
        }
        m = wasm_f32x4_max(m, wasm_i32x4_shuffle(m, m, 2, 3, 0, 1));
        m = wasm_f32x4_max(m, wasm_i32x4_shuffle(m, m, 1, 0, 3, 2));
        const float amax = wasm_f32x4_extract_lane(m, 0);
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f; /* as ggml's x86 path */
        y[b].d = ge_fp32_to_fp16(d);
        const v128_t mul = wasm_f32x4_splat(id);
        v128_t q[8];
        for (int k = 0; k < 8; k++) /* round half to even, like _mm256_round_ps */
            q[k] = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(v[k], mul)));
        for (int k = 0; k < 2; k++) {
            v128_t s0 = wasm_i16x8_narrow_i32x4(q[4 * k + 0], q[4 * k + 1]);
            v128_t s1 = wasm_i16x8_narrow_i32x4(q[4 * k + 2], q[4 * k + 3]);
            wasm_v128_store(y[b].qs + 16 * k, wasm_i8x16_narrow_i16x8(s0, s1));
        }
    }
}

/*
 * gemm_q8_0. The canonical order (kernels.h) fixes only the float work: per
 * block b the exact integer sum isum_b, then one accumulator per output,
 * y = y + (float)isum_b * (d_w * d_a), blocks in order. Integer sums are exact in
 * any order, so the int8 work is laid out for 128-bit registers without
 * horizontal reductions:
 *
 *   - a strip of 8 weight rows (two groups of 4) is repacked into a stack
 *     buffer where lane r of a v128 belongs to row r of its group: for block b
 *     and pair p, q[b][g][p] = values 2p, 2p+1 of rows 4g..4g+3, widened to i16;
 *   - the activations are widened to i16 once per token chunk, and one pair of a
 *     token is broadcast to all lanes (v128.load32_splat);
 *   - i32x4.dot_i16x8_s then adds row r's two products into lane r (exact), so
 *     after the 16 pairs of a block lane r holds the exact isum of row r, and one
 *     f32x4 convert, multiply and add update 4 outputs Y[t][r..r+3].
 * Register tile: 8 rows x 4 tokens, 8 int32x4 sums; per pair 2 weight loads, 4
 * broadcasts, 8 dot + 8 add (2 vector ops per 8 multiply-adds).
 *
 * Loops: tokens in chunks of TCH, K in chunks of KC blocks; per chunk pair the
 * activations are packed once (TCH x KC x 64 bytes, 16 KB), then each strip is
 * packed (KC x 512 bytes) and swept by the tiles. Y holds the running sums
 * between K chunks: the float sequence is unchanged. About 22 KB of stack.
 *
 * The relaxed-SIMD table uses this gemm too. i32x4.relaxed_dot_i8x16_i7x16_add_s
 * needs a 7-bit second operand, so a signed product costs two of them (a = a+ -
 * a-), and on x86 without AVX-VNNI V8 lowers each to pmaddubsw + pmaddwd +
 * paddd + a constant: measured 2x slower than this path in Chromium 156 and
 * Node 20, and V8 11's baseline compiler (Liftoff, x64) miscomputes it
 * whatever the accumulator operand. i16x8.relaxed_dot_i8x16_i7x16_s (pmaddubsw
 * alone) is computed correctly but still needs the a+/a- split and a widening
 * step: 1.2-1.5x slower than this path. (Where the relaxed dot is one
 * instruction, ARM sdot or AVX-VNNI, it would win; not measurable here.)
 */
enum { KC = 8, TCH = 32, SG = 2, TT = 4 };

/* TCH tokens x KC blocks of activations widened to i16, and their scales */
typedef struct act_chunk {
    v128_t q[TCH][KC][4];
    float d[TCH][KC];
} act_chunk;

/* a strip of SG groups of 4 rows x KC blocks and the row scales, one f32x4 per
 * block and group (0 for the padding rows of a short strip) */
typedef struct w_strip {
    v128_t q[KC][SG][16];
    v128_t d[KC][SG];
} w_strip;

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* An empty asm that makes p opaque to the optimizer. Without it, LLVM's loop
 * strength reduction turns base + constant addresses into running pointers and
 * separate adds; with it, the constants become load offsets, which V8 folds
 * into the x86 addressing mode (10-20% faster inner loop). */
#define OPAQUE(p) __asm__("" : "+r"(p))

/* 4 IEEE halves (low 16 bits of each lane) -> the floats of ge_fp16_to_fp32, bit
 * for bit: the magnitude bits moved to float position and scaled by 2^112
 * (exact for normal and subnormal halves), Inf and NaN by their bits. */
ALWAYS_INLINE v128_t fp16x4_to_f32(v128_t h) {
    const v128_t em = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x7fff)), 13);
    const v128_t sign = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16);
    const v128_t finite = wasm_f32x4_mul(em, wasm_f32x4_splat(0x1p112f));
    const v128_t special = wasm_v128_or(em, wasm_i32x4_splat(0x70000000)); /* exponent 31 -> 255 */
    const v128_t is_special = wasm_i32x4_ge(em, wasm_i32x4_splat(0x0f800000));
    return wasm_v128_or(wasm_v128_bitselect(special, finite, is_special), sign);
}

/* tokens 0..tc-1 of A (rows of nb blocks, from the chunk's first block) */
static void pack_act(act_chunk *ac, const block_q8_0 *A, int64_t nb, int64_t tc, int64_t kc) {
    for (int64_t t = 0; t < tc; t++)
        for (int64_t b = 0; b < kc; b++) {
            const block_q8_0 *a = &A[t * nb + b];
            const v128_t v0 = wasm_v128_load(a->qs), v1 = wasm_v128_load(a->qs + 16);
            v128_t *q = ac->q[t][b];
            q[0] = wasm_i16x8_extend_low_i8x16(v0);
            q[1] = wasm_i16x8_extend_high_i8x16(v0);
            q[2] = wasm_i16x8_extend_low_i8x16(v1);
            q[3] = wasm_i16x8_extend_high_i8x16(v1);
            ac->d[t][b] = ge_fp16_to_fp32(a->d);
        }
}

/* rows 0..R-1 of W (R <= 4 * SG; the missing rows of the last group are zeros),
 * blocks 0..kc-1. Per 16 values of 4 rows: the byte pairs are transposed (2
 * rounds of unpacks) so that each v128 holds pairs p, p+1 of the 4 rows, then
 * widened to i16, one pair each. */
static void pack_strip(w_strip *st, const block_q8_0 *W, int64_t nb, int R, int64_t kc) {
    for (int64_t b = 0; b < kc; b++)
        for (int g = 0; g < SG && 4 * g < R; g++) {
            v128_t r[4][2];
            uint32_t d[4];
            for (int i = 0; i < 4; i++) {
                if (4 * g + i < R) {
                    const block_q8_0 *w = &W[(4 * g + i) * nb + b];
                    r[i][0] = wasm_v128_load(w->qs), r[i][1] = wasm_v128_load(w->qs + 16);
                    d[i] = w->d;
                } else {
                    r[i][0] = r[i][1] = wasm_i32x4_splat(0);
                    d[i] = 0;
                }
            }
            v128_t *q = st->q[b][g];
            for (int h = 0; h < 2; h++) { /* pairs 8h .. 8h+7 */
                const v128_t t0 = wasm_i16x8_shuffle(r[0][h], r[1][h], 0, 8, 1, 9, 2, 10, 3, 11);
                const v128_t t1 = wasm_i16x8_shuffle(r[0][h], r[1][h], 4, 12, 5, 13, 6, 14, 7, 15);
                const v128_t t2 = wasm_i16x8_shuffle(r[2][h], r[3][h], 0, 8, 1, 9, 2, 10, 3, 11);
                const v128_t t3 = wasm_i16x8_shuffle(r[2][h], r[3][h], 4, 12, 5, 13, 6, 14, 7, 15);
                const v128_t u[4] = {wasm_i32x4_shuffle(t0, t2, 0, 4, 1, 5), wasm_i32x4_shuffle(t0, t2, 2, 6, 3, 7),
                                     wasm_i32x4_shuffle(t1, t3, 0, 4, 1, 5), wasm_i32x4_shuffle(t1, t3, 2, 6, 3, 7)};
                for (int m = 0; m < 4; m++) {
                    q[8 * h + 2 * m] = wasm_i16x8_extend_low_i8x16(u[m]);
                    q[8 * h + 2 * m + 1] = wasm_i16x8_extend_high_i8x16(u[m]);
                }
            }
            st->d[b][g] = fp16x4_to_f32(wasm_i32x4_make((int32_t)d[0], (int32_t)d[1], (int32_t)d[2], (int32_t)d[3]));
        }
}

/* the 4 outputs of a group for one token; a short group (n < 4) touches only n */
ALWAYS_INLINE v128_t load_y(const float *y, int n) {
    if (n >= 4) return wasm_v128_load(y);
    float v[4] = {0};
    for (int i = 0; i < n; i++) v[i] = y[i];
    return wasm_v128_load(v);
}

ALWAYS_INLINE void store_y(float *y, int n, v128_t f) {
    if (n >= 4) {
        wasm_v128_store(y, f);
        return;
    }
    float v[4];
    wasm_v128_store(v, f);
    for (int i = 0; i < n; i++) y[i] = v[i];
}

/* G groups of 4 rows (R rows in all) x T tokens (chunk tokens t..t+T-1) over
 * the chunk's kc blocks. Y: the strip's outputs of token t; the sums start from
 * Y unless first. */
ALWAYS_INLINE void tile(const int G, const int T, const w_strip *st, const act_chunk *ac, int64_t t, int64_t kc,
                        int first, float *Y, int64_t ldy, int R) {
    v128_t f[SG][TT];
    for (int g = 0; g < G; g++)
        for (int i = 0; i < T; i++) f[g][i] = first ? wasm_f32x4_splat(0.0f) : load_y(Y + i * ldy + 4 * g, R - 4 * g);
    for (int64_t b = 0; b < kc; b++) {
        const v128_t(*w)[16] = st->q[b];            /* w[g][p] */
        const char *a = (const char *)ac->q[t][b]; /* token t + i at a + i * sizeof ac->q[0] */
        v128_t isum[SG][TT];
        for (int g = 0; g < G; g++)
            for (int i = 0; i < T; i++) isum[g][i] = wasm_i32x4_splat(0);
        for (int p = 0; p < 16; p++) {
            const char *ap = a + 4 * p; /* values 2p, 2p+1 of token t */
            OPAQUE(ap);
            for (int i = 0; i < T; i++) {
                const v128_t ai = wasm_v128_load32_splat(ap + i * sizeof ac->q[0]);
                for (int g = 0; g < G; g++) isum[g][i] = wasm_i32x4_add(isum[g][i], wasm_i32x4_dot_i16x8(w[g][p], ai));
            }
        }
        for (int g = 0; g < G; g++) {
            const v128_t dw = st->d[b][g];
            for (int i = 0; i < T; i++) { /* y = y + (float)isum * (d_w * d_a) */
                const v128_t s = wasm_f32x4_mul(dw, wasm_f32x4_splat(ac->d[t + i][b]));
                f[g][i] = wasm_f32x4_add(f[g][i], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(isum[g][i]), s));
            }
        }
    }
    for (int g = 0; g < G; g++)
        for (int i = 0; i < T; i++) store_y(Y + i * ldy + 4 * g, R - 4 * g, f[g][i]);
}

/* every token tile of one packed strip of G groups */
ALWAYS_INLINE void strip_tiles(const int G, const w_strip *st, const act_chunk *ac, int64_t tc, int64_t kc, int first,
                               float *Y, int64_t ldy, int R) {
    int64_t t = 0;
    for (; t + TT <= tc; t += TT) tile(G, TT, st, ac, t, kc, first, Y + t * ldy, ldy, R);
    switch (tc - t) {
    case 3: tile(G, 3, st, ac, t, kc, first, Y + t * ldy, ldy, R); break;
    case 2: tile(G, 2, st, ac, t, kc, first, Y + t * ldy, ldy, R); break;
    case 1: tile(G, 1, st, ac, t, kc, first, Y + t * ldy, ldy, R); break;
    default: break;
    }
}

static void gemm_q8_0(int64_t nb, const block_q8_0 *W, int64_t n_rows, const block_q8_0 *A, int64_t n_tok, float *Y,
                      int64_t ldy) {
    act_chunk ac;
    w_strip st;
    if (nb == 0) { /* empty sums */
        for (int64_t t = 0; t < n_tok; t++)
            for (int64_t r = 0; r < n_rows; r++) Y[t * ldy + r] = 0.0f;
        return;
    }
    for (int64_t t0 = 0; t0 < n_tok; t0 += TCH) {
        const int64_t tc = n_tok - t0 < TCH ? n_tok - t0 : TCH;
        for (int64_t k0 = 0; k0 < nb; k0 += KC) {
            const int64_t kc = nb - k0 < KC ? nb - k0 : KC;
            pack_act(&ac, A + t0 * nb + k0, nb, tc, kc);
            for (int64_t r = 0; r < n_rows; r += 4 * SG) {
                const int R = n_rows - r < 4 * SG ? (int)(n_rows - r) : 4 * SG;
                pack_strip(&st, W + r * nb + k0, nb, R, kc);
                float *Yr = Y + t0 * ldy + r;
                if (R > 4) strip_tiles(2, &st, &ac, tc, kc, k0 == 0, Yr, ldy, R);
                else strip_tiles(1, &st, &ac, tc, kc, k0 == 0, Yr, ldy, R);
            }
        }
    }
}

/*
 * quantize_q8_K: ggml's quantize_row_q8_K_ref (kernels_scalar.c) with the same float
 * operations lane by lane, so the same bytes:
 *   - amax with f32x4.pmax(m, |x|), which keeps m when |x| is NaN, as the scalar
 *     `ax > amax` skips NaNs; max = the first x with |x| == amax (the value the scalar
 *     scan keeps: only a strictly larger |x| replaces it);
 *   - iscale = -127 / max and d = 1 / iscale as scalar divisions;
 *   - q = (int8_t)min(127, nearest_int(iscale * x)) with ge_nearest_int's float add and
 *     bit steps and the cast's truncation (the same bytes for every input: NaN, Inf and
 *     blocks so small that iscale overflows included);
 *   - bsums: pairwise widening sums of the int8 values (exact), transposed by shuffles.
 */
static void quantize_q8_K(const float *x, block_q8_K *y, int64_t n) {
    for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
        v128_t m0 = wasm_f32x4_splat(0.0f), m1 = m0;
        for (int k = 0; k < QK_K; k += 8) {
            m0 = wasm_f32x4_pmax(m0, wasm_f32x4_abs(wasm_v128_load(x + k)));
            m1 = wasm_f32x4_pmax(m1, wasm_f32x4_abs(wasm_v128_load(x + k + 4)));
        }
        v128_t m = wasm_f32x4_pmax(m0, m1);
        m = wasm_f32x4_pmax(m, wasm_i32x4_shuffle(m, m, 2, 3, 0, 1));
        m = wasm_f32x4_pmax(m, wasm_i32x4_shuffle(m, m, 1, 0, 3, 2));
        const float amax = wasm_f32x4_extract_lane(m, 0);
        if (amax == 0.0f) {
            memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        int j = 0; /* the first |x| == amax */
        for (;; j += 4) {
            const int mask = wasm_i32x4_bitmask(wasm_f32x4_eq(wasm_f32x4_abs(wasm_v128_load(x + j)), m));
            if (mask) {
                j += __builtin_ctz((unsigned)mask);
                break;
            }
        }
        const float iscale = -127.0f / x[j];
        const v128_t vs = wasm_f32x4_splat(iscale), v127 = wasm_i32x4_splat(127);
        const v128_t magic = wasm_f32x4_splat(12582912.0f), mant = wasm_i32x4_splat(0x007fffff),
                     half = wasm_i32x4_splat(0x00400000);
        v128_t s[16]; /* pairwise sums of each 16 values, 8 x i16 */
        for (int k = 0; k < QK_K / 16; k++) {
            v128_t q[4];
            for (int i = 0; i < 4; i++) { /* ge_nearest_int's own steps (NaNs included) */
                const v128_t v = wasm_f32x4_add(wasm_f32x4_mul(vs, wasm_v128_load(x + 16 * k + 4 * i)), magic);
                q[i] = wasm_i32x4_min(wasm_i32x4_sub(wasm_v128_and(v, mant), half), v127);
            }
            /* the low byte of each int32, as the scalar (int8_t) cast: not a saturating
             * narrow. Usually q is -127..127, but in a block of tiny values (amax <
             * 127 / FLT_MAX) iscale is infinite, nearest_int(+-Inf) = -2^22, and the cast
             * wraps that to 0 where a narrow would give -128. */
            const v128_t lo = wasm_i8x16_shuffle(q[0], q[1], 0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
            const v128_t hi = wasm_i8x16_shuffle(q[2], q[3], 0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
            const v128_t q8 = wasm_i64x2_shuffle(lo, hi, 0, 2);
            wasm_v128_store(y[b].qs + 16 * k, q8);
            s[k] = wasm_i16x8_extadd_pairwise_i8x16(q8);
        }
        /* 16 vectors of 8 partial sums -> 16 totals: each round adds the even and odd
         * lanes of two vectors, halving the vectors and doubling what a lane sums */
        for (int len = 16; len > 2; len /= 2)
            for (int k = 0; k < len / 2; k++)
                s[k] = wasm_i16x8_add(wasm_i16x8_shuffle(s[2 * k], s[2 * k + 1], 0, 2, 4, 6, 8, 10, 12, 14),
                                      wasm_i16x8_shuffle(s[2 * k], s[2 * k + 1], 1, 3, 5, 7, 9, 11, 13, 15));
        wasm_v128_store(y[b].bsums, s[0]);
        wasm_v128_store(y[b].bsums + 8, s[1]);
        y[b].d = 1.0f / iscale;
    }
}

/*
 * gemm_q8_K: gemm_q8_0's layout (above) on decoded K-quant rows. Per sub-block j
 * (sub = 16 or 32 values) the exact integer sum, then y = y + (float)isum_j * (ws_j *
 * d_a), j in order (kernels.h). K chunks are one super-block (256 values, as gemm_q8_0's
 * KC = 8 blocks): the activations of TCH tokens are widened to i16 once per super-block,
 * a strip of 8 rows is repacked into pairs (lane r of a v128 = row r of its group) with
 * its sub-block scales as f32x4 per group, and 8 rows x 4 tokens tiles run the
 * i32x4.dot_i16x8_s sums, one sub-block at a time (8 or 16 pairs, exact: |isum| <=
 * 32 * 128 * 127 < 2^24 so also exact in float). About 22 KB of stack.
 *
 * Mins (Wm != NULL): after a super-block's sub-blocks, one more step of the same form,
 * y = y + (float)msum * (wd * d_a), msum = sum_j m_j * bsum_j, computed exactly as
 * QK_K / sub / 2 more dot_i16x8 pairs (8 for sub = 16, 4 for sub = 32): in lane r of the
 * strip, row r's mins as i16 pairs (m_2p, m_2p+1); broadcast against them, the token's
 * bsum pairs, stored after its values in the activation chunk: Q8_K's 16 bsums as they
 * are (sub = 16) or their 8 pair sums bsums[2j] + bsums[2j+1] (sub = 32; exact in i16:
 * a bsum is the sum of 16 int8, |bsum| <= 2048). |msum| <= 16 * 128 * 4096 < 2^31. The
 * no-min tiles are separate instantiations (MIN = 0) with none of this in them; the
 * mins cost one more step per super-block: 1/16 (sub 16) or 1/32 (sub 32) of the dots.
 *
 * One function per tile instantiation (TILE_K below): with all 32 tiles inlined into
 * gemm_q8_K, V8's register allocator (Node 20, TurboFan) spilled the accumulators of
 * the inner loops (46 stack accesses in the 8 x 4 tile's 150-instruction loop, 0-1
 * before the mins added 16 tiles) and the no-min product ran 40-50% slower; one
 * function per strip (4 tiles) did too. Per tile the loops keep their registers; the
 * call is one per 8 rows x 4 tokens x 256 values.
 *
 * The relaxed-SIMD table uses it too: Q8_K activations reach -127 and the decoded weights
 * -128, so the relaxed dot (7-bit second operand) would need the a+ / a- split of
 * gemm_q8_0's note, with the same costs.
 */
typedef struct act_chunk_K {
    v128_t q[TCH][QK_K / 8 + 2]; /* token t's 256 values as i16 (pair p at byte 4p), then its bsum pairs */
    float d[TCH];
} act_chunk_K;

typedef struct w_strip_K {
    v128_t q[QK_K / 2][SG];  /* pair p (values 2p, 2p+1) of rows 4g..4g+3, i16 */
    v128_t d[QK_K / 16][SG]; /* sub-block j's scales of rows 4g..4g+3 (0 for padding rows) */
    v128_t m[8][SG];         /* with mins: min pair p of rows 4g..4g+3, i16 (pairs 4..7 unused for sub 32) */
    v128_t wd[SG];           /* with mins: the super-block's wd of rows 4g..4g+3 */
} w_strip_K;

/* with_min: the bsums too, for sub-blocks of sub values */
static void pack_act_K(act_chunk_K *ac, const block_q8_K *A, int64_t nsb, int64_t tc, int with_min, int sub) {
    for (int64_t t = 0; t < tc; t++) {
        const block_q8_K *a = &A[t * nsb];
        for (int k = 0; k < QK_K / 16; k++) {
            const v128_t v = wasm_v128_load(a->qs + 16 * k);
            ac->q[t][2 * k] = wasm_i16x8_extend_low_i8x16(v);
            ac->q[t][2 * k + 1] = wasm_i16x8_extend_high_i8x16(v);
        }
        if (with_min) {
            const v128_t b0 = wasm_v128_load(a->bsums), b1 = wasm_v128_load(a->bsums + 8);
            if (sub == 16) {
                ac->q[t][QK_K / 8] = b0;
                ac->q[t][QK_K / 8 + 1] = b1;
            } else { /* bsums[2j] + bsums[2j+1], j = 0..7 */
                ac->q[t][QK_K / 8] = wasm_i16x8_add(wasm_i16x8_shuffle(b0, b1, 0, 2, 4, 6, 8, 10, 12, 14),
                                                    wasm_i16x8_shuffle(b0, b1, 1, 3, 5, 7, 9, 11, 13, 15));
            }
        }
        ac->d[t] = a->d;
    }
}

/* 16 int8 of each of 4 rows -> 8 v128, out[p] = pair p (bytes 2p, 2p+1) of rows 0..3
 * widened to i16 (lane r = row r's pair): the byte pairs transposed in 2 rounds of
 * unpacks, then widened */
ALWAYS_INLINE void pairs4(v128_t r0, v128_t r1, v128_t r2, v128_t r3, v128_t *out, int stride) {
    const v128_t t0 = wasm_i16x8_shuffle(r0, r1, 0, 8, 1, 9, 2, 10, 3, 11);
    const v128_t t1 = wasm_i16x8_shuffle(r0, r1, 4, 12, 5, 13, 6, 14, 7, 15);
    const v128_t t2 = wasm_i16x8_shuffle(r2, r3, 0, 8, 1, 9, 2, 10, 3, 11);
    const v128_t t3 = wasm_i16x8_shuffle(r2, r3, 4, 12, 5, 13, 6, 14, 7, 15);
    const v128_t u[4] = {wasm_i32x4_shuffle(t0, t2, 0, 4, 1, 5), wasm_i32x4_shuffle(t0, t2, 2, 6, 3, 7),
                         wasm_i32x4_shuffle(t1, t3, 0, 4, 1, 5), wasm_i32x4_shuffle(t1, t3, 2, 6, 3, 7)};
    for (int m = 0; m < 4; m++) {
        out[(2 * m) * stride] = wasm_i16x8_extend_low_i8x16(u[m]);
        out[(2 * m + 1) * stride] = wasm_i16x8_extend_high_i8x16(u[m]);
    }
}

/* a row's ns_sb mins of the super-block, in 16 bytes (zeros after 8 for sub 32) */
ALWAYS_INLINE v128_t mins16(const int8_t *m, int ns_sb) {
    return ns_sb == 16 ? wasm_v128_load(m) : wasm_v128_load64_zero(m);
}

/* rows 0..R-1 of Wq (row stride n) and Ws (row stride ns), one super-block: ns_sb =
 * QK_K / sub scales per row; with Wm, the super-block's mins (row stride ns) and Wd
 * (its wd, row stride nsb). */
static void pack_strip_K(w_strip_K *st, const int8_t *Wq, int64_t n, const float *Ws, int64_t ns, int ns_sb,
                         const int8_t *Wm, const float *Wd, int64_t nsb, int R) {
    for (int g = 0; g < SG && 4 * g < R; g++) {
        const int8_t *w[4], *m[4];
        const float *s[4], *wd[4];
        static const int8_t zeros[QK_K];
        static const float fzeros[QK_K / 16];
        for (int i = 0; i < 4; i++) {
            const int ok = 4 * g + i < R;
            w[i] = ok ? Wq + (4 * g + i) * n : zeros;
            s[i] = ok ? Ws + (4 * g + i) * ns : fzeros;
            m[i] = ok && Wm ? Wm + (4 * g + i) * ns : zeros;
            wd[i] = ok && Wm ? Wd + (4 * g + i) * nsb : fzeros;
        }
        for (int h = 0; h < QK_K / 16; h++) /* pairs 8h .. 8h+7 */
            pairs4(wasm_v128_load(w[0] + 16 * h), wasm_v128_load(w[1] + 16 * h), wasm_v128_load(w[2] + 16 * h),
                   wasm_v128_load(w[3] + 16 * h), &st->q[8 * h][g], SG);
        for (int j = 0; j < ns_sb; j++) st->d[j][g] = wasm_f32x4_make(s[0][j], s[1][j], s[2][j], s[3][j]);
        if (Wm) {
            pairs4(mins16(m[0], ns_sb), mins16(m[1], ns_sb), mins16(m[2], ns_sb), mins16(m[3], ns_sb), &st->m[0][g],
                   SG);
            st->wd[g] = wasm_f32x4_make(wd[0][0], wd[1][0], wd[2][0], wd[3][0]);
        }
    }
}

/* G groups of 4 rows x T tokens over one super-block of SUB-value sub-blocks, and its
 * min step when MIN; Y: the strip's outputs of chunk token t; the sums start from Y
 * unless first. */
ALWAYS_INLINE void tile_K(const int G, const int T, const int SUB, const int MIN, const w_strip_K *st,
                          const act_chunk_K *ac, int64_t t, int first, float *Y, int64_t ldy, int R) {
    v128_t f[SG][TT], da[TT];
    for (int g = 0; g < G; g++)
        for (int i = 0; i < T; i++) f[g][i] = first ? wasm_f32x4_splat(0.0f) : load_y(Y + i * ldy + 4 * g, R - 4 * g);
    for (int i = 0; i < T; i++) da[i] = wasm_f32x4_splat(ac->d[t + i]);
#pragma clang loop unroll(disable)
    for (int j = 0; j < QK_K / SUB; j++) {
        const v128_t(*w)[SG] = st->q + j * (SUB / 2);                   /* w[p][g] */
        const char *a = (const char *)ac->q[t] + j * (SUB * 2);          /* token t + i at a + i * sizeof ac->q[0] */
        v128_t isum[SG][TT];
        for (int g = 0; g < G; g++)
            for (int i = 0; i < T; i++) isum[g][i] = wasm_i32x4_splat(0);
        for (int p = 0; p < SUB / 2; p++) {
            const char *ap = a + 4 * p; /* values 2p, 2p+1 of the sub-block, token t */
            OPAQUE(ap);
            for (int i = 0; i < T; i++) {
                const v128_t ai = wasm_v128_load32_splat(ap + i * sizeof ac->q[0]);
                for (int g = 0; g < G; g++) isum[g][i] = wasm_i32x4_add(isum[g][i], wasm_i32x4_dot_i16x8(w[p][g], ai));
            }
        }
        for (int g = 0; g < G; g++) {
            const v128_t ws = st->d[j][g];
            for (int i = 0; i < T; i++) { /* y = y + (float)isum * (ws * d_a) */
                const v128_t s = wasm_f32x4_mul(ws, da[i]);
                f[g][i] = wasm_f32x4_add(f[g][i], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(isum[g][i]), s));
            }
        }
    }
    if (MIN) { /* y = y + (float)msum * (wd * d_a), msum over the QK_K / SUB / 2 min pairs */
        const char *a = (const char *)&ac->q[t][QK_K / 8]; /* token t's bsum pairs */
        v128_t msum[SG][TT];
        for (int g = 0; g < G; g++)
            for (int i = 0; i < T; i++) msum[g][i] = wasm_i32x4_splat(0);
        for (int p = 0; p < QK_K / SUB / 2; p++) {
            const char *ap = a + 4 * p; /* bsum_2p, bsum_2p+1 of token t */
            OPAQUE(ap);
            for (int i = 0; i < T; i++) {
                const v128_t bi = wasm_v128_load32_splat(ap + i * sizeof ac->q[0]);
                for (int g = 0; g < G; g++)
                    msum[g][i] = wasm_i32x4_add(msum[g][i], wasm_i32x4_dot_i16x8(st->m[p][g], bi));
            }
        }
        for (int g = 0; g < G; g++) {
            const v128_t wd = st->wd[g];
            for (int i = 0; i < T; i++) {
                const v128_t s = wasm_f32x4_mul(wd, da[i]);
                f[g][i] = wasm_f32x4_add(f[g][i], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(msum[g][i]), s));
            }
        }
    }
    for (int g = 0; g < G; g++)
        for (int i = 0; i < T; i++) store_y(Y + i * ldy + 4 * g, R - 4 * g, f[g][i]);
}

/* Every instantiation of tile_K as its own function, tile_K_G_T_SUB_MIN (see above
 * gemm_q8_K), and strip_K_G_SUB_MIN, the tiles of one strip's chunk tokens: direct
 * calls (a table of function pointers measured 1-3% slower at 1 token, Node 20). */
#define TILE_K(G, T, SUB, MIN)                                                                                        \
    __attribute__((noinline)) static void tile_K_##G##_##T##_##SUB##_##MIN(                                          \
        const w_strip_K *st, const act_chunk_K *ac, int64_t t, int first, float *Y, int64_t ldy, int R) {            \
        tile_K(G, T, SUB, MIN, st, ac, t, first, Y, ldy, R);                                                         \
    }
#define STRIP_K(G, SUB, MIN)                                                                                          \
    TILE_K(G, 1, SUB, MIN) TILE_K(G, 2, SUB, MIN) TILE_K(G, 3, SUB, MIN) TILE_K(G, 4, SUB, MIN)                       \
    ALWAYS_INLINE void strip_K_##G##_##SUB##_##MIN(const w_strip_K *st, const act_chunk_K *ac, int64_t tc, int first, \
                                                   float *Y, int64_t ldy, int R) {                                   \
        int64_t t = 0;                                                                                                \
        for (; t + TT <= tc; t += TT) tile_K_##G##_4_##SUB##_##MIN(st, ac, t, first, Y + t * ldy, ldy, R);           \
        switch (tc - t) {                                                                                             \
        case 3: tile_K_##G##_3_##SUB##_##MIN(st, ac, t, first, Y + t * ldy, ldy, R); break;                         \
        case 2: tile_K_##G##_2_##SUB##_##MIN(st, ac, t, first, Y + t * ldy, ldy, R); break;                         \
        case 1: tile_K_##G##_1_##SUB##_##MIN(st, ac, t, first, Y + t * ldy, ldy, R); break;                         \
        default: break;                                                                                               \
        }                                                                                                             \
    }
STRIP_K(1, 16, 0)
STRIP_K(2, 16, 0)
STRIP_K(1, 16, 1)
STRIP_K(2, 16, 1)
STRIP_K(1, 32, 0)
STRIP_K(2, 32, 0)
STRIP_K(1, 32, 1)
STRIP_K(2, 32, 1)
/* a strip of R rows (1 or 2 groups) */
#define STRIP_R_K(SUB, MIN, ...)                                                                                      \
    (R > 4 ? strip_K_2_##SUB##_##MIN(__VA_ARGS__) : strip_K_1_##SUB##_##MIN(__VA_ARGS__))

static void gemm_q8_K(int64_t n, int sub, const int8_t *Wq, const float *Ws, const int8_t *Wm, const float *Wd,
                      int64_t n_rows, const block_q8_K *A, int64_t n_tok, float *Y, int64_t ldy) {
    if (sub != 16 && sub != 32) { /* not a decoded form of ours: the reference */
        ge_scalar_gemm_q8_K(n, sub, Wq, Ws, Wm, Wd, n_rows, A, n_tok, Y, ldy);
        return;
    }
    const int64_t nsb = n / QK_K, ns = n / sub;
    const int ns_sb = QK_K / sub;
    if (nsb == 0) { /* empty sums */
        for (int64_t t = 0; t < n_tok; t++)
            for (int64_t r = 0; r < n_rows; r++) Y[t * ldy + r] = 0.0f;
        return;
    }
    act_chunk_K ac;
    w_strip_K st;
    for (int64_t t0 = 0; t0 < n_tok; t0 += TCH) {
        const int64_t tc = n_tok - t0 < TCH ? n_tok - t0 : TCH;
        for (int64_t sb = 0; sb < nsb; sb++) {
            pack_act_K(&ac, A + t0 * nsb + sb, nsb, tc, Wm != NULL, sub);
            for (int64_t r = 0; r < n_rows; r += 4 * SG) {
                const int R = n_rows - r < 4 * SG ? (int)(n_rows - r) : 4 * SG;
                pack_strip_K(&st, Wq + r * n + sb * QK_K, n, Ws + r * ns + sb * ns_sb, ns, ns_sb,
                             Wm ? Wm + r * ns + sb * ns_sb : NULL, Wm ? Wd + r * nsb + sb : NULL, nsb, R);
                float *Yr = Y + t0 * ldy + r;
                const int first = sb == 0;
                if (sub == 16) {
                    if (Wm) STRIP_R_K(16, 1, &st, &ac, tc, first, Yr, ldy, R);
                    else STRIP_R_K(16, 0, &st, &ac, tc, first, Yr, ldy, R);
                } else {
                    if (Wm) STRIP_R_K(32, 1, &st, &ac, tc, first, Yr, ldy, R);
                    else STRIP_R_K(32, 0, &st, &ac, tc, first, Yr, ldy, R);
                }
            }
        }
    }
}

/* ((L0+L4) + (L2+L6)) + ((L1+L5) + (L3+L7)) */
static inline float reduce8(v128_t lo, v128_t hi) { return hsum_f32x4(wasm_f32x4_add(lo, hi)); }

/* 8 lanes over the first n - n%8 values */
static inline float dot8(int64_t n, const float *x, const float *y) {
    v128_t lo = wasm_f32x4_splat(0.0f), hi = lo;
    for (int64_t i = 0; i + 8 <= n; i += 8) {
        lo = wasm_f32x4_add(lo, wasm_f32x4_mul(wasm_v128_load(x + i), wasm_v128_load(y + i)));
        hi = wasm_f32x4_add(hi, wasm_f32x4_mul(wasm_v128_load(x + i + 4), wasm_v128_load(y + i + 4)));
    }
    return reduce8(lo, hi);
}

static float dot_f32(int64_t n, const float *x, const float *y) {
    float s = dot8(n, x, y);
    for (int64_t i = n - n % 8; i < n; i++) s = s + x[i] * y[i];
    return s;
}

static void axpy_f32(int64_t n, float a, const float *x, float *y) {
    const v128_t va = wasm_f32x4_splat(a);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        wasm_v128_store(y + i, wasm_f32x4_add(wasm_v128_load(y + i), wasm_f32x4_mul(va, wasm_v128_load(x + i))));
    for (; i < n; i++) y[i] = y[i] + a * x[i];
}

/* Attention products (d a multiple of 8), register-tiled as the AVX2 kernels:
 * scores_f32 takes GE_SC_QR queries x GE_SC_KC keys at a time, so each K load
 * serves GE_SC_QR queries and each Q load GE_SC_KC keys; every (query, key)
 * pair keeps its own two v128 accumulators (lanes 0-3 and 4-7), so each lane
 * sums in the canonical order and reduce8 gives the canonical lane tree. */
#define GE_SC_QR 1 /* measured in V8 on x86-64 (m 8, n 443, d 256): 1 x 4 beat 2 x 2, 4 x 1, 4 x 2 */
#define GE_SC_KC 4
static inline __attribute__((always_inline)) void scores_tile(int qr, int kc, int64_t d, const float *const *q,
                                                              const float *K, int64_t ldk, float scale, float *S,
                                                              int64_t lds) {
    v128_t lo[GE_SC_QR][GE_SC_KC], hi[GE_SC_QR][GE_SC_KC];
    for (int i = 0; i < qr; i++)
        for (int k = 0; k < kc; k++) lo[i][k] = hi[i][k] = wasm_f32x4_splat(0.0f);
#pragma clang loop unroll(disable) /* unrolled, V8 runs out of v128 registers */
    for (int64_t c = 0; c < d; c += 8) {
        v128_t kl[GE_SC_KC], kh[GE_SC_KC];
        for (int k = 0; k < kc; k++) {
            kl[k] = wasm_v128_load(K + k * ldk + c);
            kh[k] = wasm_v128_load(K + k * ldk + c + 4);
        }
        for (int i = 0; i < qr; i++) {
            const v128_t ql = wasm_v128_load(q[i] + c), qh = wasm_v128_load(q[i] + c + 4);
            for (int k = 0; k < kc; k++) {
                lo[i][k] = wasm_f32x4_add(lo[i][k], wasm_f32x4_mul(ql, kl[k]));
                hi[i][k] = wasm_f32x4_add(hi[i][k], wasm_f32x4_mul(qh, kh[k]));
            }
        }
    }
    for (int i = 0; i < qr; i++)
        for (int k = 0; k < kc; k++) S[i * lds + k] = scale * reduce8(lo[i][k], hi[i][k]);
}

static void scores_f32(int64_t m, int64_t n, int64_t d, const float *Q, int64_t ldq, const float *K, int64_t ldk,
                       float scale, float *S, int64_t lds) {
    for (int64_t i0 = 0; i0 < m; i0 += GE_SC_QR) {
        const float *q[GE_SC_QR];
        for (int i = 0; i < GE_SC_QR; i++) q[i] = Q + (i0 + i) * ldq;
        float *s = S + i0 * lds;
        int64_t j = 0;
        if (m - i0 >= GE_SC_QR) {
            for (; j + GE_SC_KC <= n; j += GE_SC_KC)
                scores_tile(GE_SC_QR, GE_SC_KC, d, q, K + j * ldk, ldk, scale, s + j, lds);
            for (; j < n; j++) scores_tile(GE_SC_QR, 1, d, q, K + j * ldk, ldk, scale, s + j, lds);
        } else {
            for (int64_t i = 0; i < m - i0; i++)
                for (j = 0; j < n; j++) s[i * lds + j] = scale * dot8(d, q[i], K + j * ldk);
        }
    }
}

/* O = P V: tiles of GE_PV_R query rows x 8 output columns accumulate in registers
 * while the keys' V rows stream past, each V load serving GE_PV_R rows; each
 * output is o = o + p*v over j in order from 0, as the scalar axpy. */
#define GE_PV_R 4
static inline __attribute__((always_inline)) void pv_tile(int r, int64_t n, const float *P, int64_t ldp,
                                                          const float *V, int64_t ldv, float *O, int64_t ldo) {
    v128_t lo[GE_PV_R], hi[GE_PV_R];
    for (int i = 0; i < r; i++) lo[i] = hi[i] = wasm_f32x4_splat(0.0f);
#pragma clang loop unroll(disable)
    for (int64_t j = 0; j < n; j++) {
        const v128_t vl = wasm_v128_load(V + j * ldv), vh = wasm_v128_load(V + j * ldv + 4);
        for (int i = 0; i < r; i++) {
            const v128_t p = wasm_v128_load32_splat(P + i * ldp + j);
            lo[i] = wasm_f32x4_add(lo[i], wasm_f32x4_mul(p, vl));
            hi[i] = wasm_f32x4_add(hi[i], wasm_f32x4_mul(p, vh));
        }
    }
    for (int i = 0; i < r; i++) {
        wasm_v128_store(O + i * ldo, lo[i]);
        wasm_v128_store(O + i * ldo + 4, hi[i]);
    }
}

static void pv_f32(int64_t m, int64_t n, int64_t d, const float *P, int64_t ldp, const float *V, int64_t ldv,
                   float *O, int64_t ldo) {
    for (int64_t i0 = 0; i0 < m; i0 += GE_PV_R) {
        const int64_t r = m - i0;
        const float *p = P + i0 * ldp;
        float *o = O + i0 * ldo;
        for (int64_t c = 0; c < d; c += 8) {
            if (r >= 4) pv_tile(4, n, p, ldp, V + c, ldv, o + c, ldo);
            else if (r == 3) pv_tile(3, n, p, ldp, V + c, ldv, o + c, ldo);
            else if (r == 2) pv_tile(2, n, p, ldp, V + c, ldv, o + c, ldo);
            else pv_tile(1, n, p, ldp, V + c, ldv, o + c, ldo);
        }
    }
}

/* GEGLU's table step and softmax's exponentials: no wasm versions yet, the
 * scalar reference (every table fills every slot; tests/test_kernels.c calls them) */
static void gelu_mul_f32(int64_t n, float *g, const float *u, const float *table) {
    ge_kernels_scalar.gelu_mul_f32(n, g, u, table);
}

static void exp_sub_f32(int64_t n, float *x, float m) { ge_kernels_scalar.exp_sub_f32(n, x, m); }

const ge_kernels ge_kernels_wasm_simd128 = {
    .name = "wasm-simd128",
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
};

#ifdef __wasm_relaxed_simd__
const ge_kernels ge_kernels_wasm_relaxed = {
    .name = "wasm-relaxed-simd",
    .quantize_q8_0 = quantize_q8_0,
    .gemm_q8_0 = gemm_q8_0, /* see above gemm_q8_0 */
    .scores_f32 = scores_f32,
    .pv_f32 = pv_f32,
    .dot_f32 = dot_f32,
    .axpy_f32 = axpy_f32,
    .gelu_mul_f32 = gelu_mul_f32,
    .exp_sub_f32 = exp_sub_f32,
    .quantize_q8_K = quantize_q8_K,
    .gemm_q8_K = gemm_q8_K, /* see above gemm_q8_K */
};
#endif
