/*
 * kernels_wasm_simd128.c - WebAssembly SIMD kernels (fixed-width simd128), and,
 * when compiled with -mrelaxed-simd, a second table using relaxed SIMD.
 *
 * Q8_0 dot products, simd128: the activation block is sign-extended to i16 once
 * per token and block (i16x8.extend_{low,high}_i8x16_s) and reused across a
 * tile of 4 weight rows; each weight block is extended the same way and
 * i32x4.dot_i16x8_s multiplies and pairwise-adds into int32 (exact: no
 * overflow). One f32x4 multiply-add per block applies the two scales.
 *
 * Relaxed SIMD: i32x4.relaxed_dot_i8x16_i7x16_add_s needs its second operand
 * in [0, 127] to be deterministic across engines. Split the activation into
 * a+ = max(a, 0) and a- = max(-a, 0), both in [0, 127] (quantized values lie in
 * [-127, 127]), computed once per token block; then w.a = w.a+ - w.a- with two
 * relaxed dots per 16 bytes and no per-row work. Float accumulation uses plain
 * mul + add (relaxed_madd may or may not fuse). On x86 engines each relaxed dot
 * is pmaddubsw + pmaddwd + paddd, without saturation since two products are at
 * most 2 * 127 * 127. Results are bit-identical to kernels_scalar.c.
 */
#include "kernels.h"

#include "../core/util.h"

#include <math.h>
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

/* The canonical lanes of kernels.h: lane k of a block = the exact integer sum of
 * values 4k..4k+3; lanes 0..3 in lo, 4..7 in hi. i32x4.dot_i16x8_s sums pairs, so
 * adjacent pair sums are added with one shuffle pair. */
static inline v128_t pairs_to_quads(v128_t d0, v128_t d1) {
    return wasm_i32x4_add(wasm_i32x4_shuffle(d0, d1, 0, 2, 4, 6), wasm_i32x4_shuffle(d0, d1, 1, 3, 5, 7));
}

static inline void block_dot(const block_q8_0 *w, const v128_t a16[4], v128_t *lo, v128_t *hi) {
    v128_t w0 = wasm_v128_load(w->qs), w1 = wasm_v128_load(w->qs + 16);
    *lo = pairs_to_quads(wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(w0), a16[0]),
                         wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(w0), a16[1]));
    *hi = pairs_to_quads(wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(w1), a16[2]),
                         wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(w1), a16[3]));
}

static inline void extend_block(const block_q8_0 *a, v128_t a16[4]) {
    v128_t a0 = wasm_v128_load(a->qs), a1 = wasm_v128_load(a->qs + 16);
    a16[0] = wasm_i16x8_extend_low_i8x16(a0);
    a16[1] = wasm_i16x8_extend_high_i8x16(a0);
    a16[2] = wasm_i16x8_extend_low_i8x16(a1);
    a16[3] = wasm_i16x8_extend_high_i8x16(a1);
}

/* L = L + (float)isum * s, lane by lane (separate multiply and add) */
static inline v128_t lane_acc(v128_t acc, v128_t isum, float s) {
    return wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(isum), wasm_f32x4_splat(s)));
}

/* ((L0+L4) + (L2+L6)) + ((L1+L5) + (L3+L7)) */
static inline float reduce8(v128_t lo, v128_t hi) { return hsum_f32x4(wasm_f32x4_add(lo, hi)); }

/* 4 weight rows x 1 token per tile, rows outer (a 4-row strip of W stays in cache
 * while the tokens stream past it). */
static void gemm_q8_0(int64_t nb, const block_q8_0 *W, int64_t n_rows, const block_q8_0 *A, int64_t n_tok,
                      float *Y, int64_t ldy) {
    for (int64_t r = 0; r < n_rows; r += 4) {
        const int R = n_rows - r >= 4 ? 4 : (int)(n_rows - r);
        for (int64_t t = 0; t < n_tok; t++) {
            const block_q8_0 *a = A + t * nb;
            v128_t lo[4], hi[4];
            for (int i = 0; i < 4; i++) lo[i] = hi[i] = wasm_f32x4_splat(0.0f);
            for (int64_t b = 0; b < nb; b++) {
                v128_t a16[4];
                extend_block(&a[b], a16);
                const float da = ge_fp16_to_fp32(a[b].d);
                for (int i = 0; i < R; i++) {
                    const block_q8_0 *w = &W[(r + i) * nb + b];
                    v128_t sl, sh;
                    block_dot(w, a16, &sl, &sh);
                    const float s = ge_fp16_to_fp32(w->d) * da;
                    lo[i] = lane_acc(lo[i], sl, s);
                    hi[i] = lane_acc(hi[i], sh, s);
                }
            }
            for (int i = 0; i < R; i++) Y[t * ldy + r + i] = reduce8(lo[i], hi[i]);
        }
    }
}

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

/* Attention products (d a multiple of 8). */
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

const ge_kernels ge_kernels_wasm_simd128 = {
    .name = "wasm-simd128",
    .quantize_q8_0 = quantize_q8_0,
    .gemm_q8_0 = gemm_q8_0,
    .scores_f32 = scores_f32,
    .pv_f32 = pv_f32,
    .dot_f32 = dot_f32,
    .axpy_f32 = axpy_f32,
};

#ifdef __wasm_relaxed_simd__

/* a+ and a- of one activation block, each 2 x i8x16 in [0, 127]: the 7-bit
 * operand of relaxed_dot, for which every engine gives the exact result */
static inline void split_block(const block_q8_0 *a, v128_t ap[2], v128_t an[2]) {
    const v128_t zero = wasm_i8x16_splat(0);
    for (int k = 0; k < 2; k++) {
        v128_t v = wasm_v128_load(a->qs + 16 * k);
        ap[k] = wasm_i8x16_max(v, zero);
        an[k] = wasm_i8x16_max(wasm_i8x16_sub(zero, v), zero);
    }
}

/* relaxed_dot_i8x16_i7x16 sums 4 adjacent products per lane: exactly the
 * canonical lanes. The accumulator operand stays zero and sums are added with
 * i32x4.add: V8 11 (Node 20) miscomputes a relaxed dot whose accumulator is
 * another relaxed dot. Float steps use plain mul + add (relaxed_madd may fuse,
 * which would break bit-identity with the other kernels). */
static inline void block_dot_relaxed(const block_q8_0 *w, const v128_t ap[2], const v128_t an[2], v128_t *lo,
                                     v128_t *hi) {
    v128_t w0 = wasm_v128_load(w->qs), w1 = wasm_v128_load(w->qs + 16);
    const v128_t zero = wasm_i32x4_splat(0);
    *lo = wasm_i32x4_sub(wasm_i32x4_relaxed_dot_i8x16_i7x16_add(w0, ap[0], zero),
                         wasm_i32x4_relaxed_dot_i8x16_i7x16_add(w0, an[0], zero));
    *hi = wasm_i32x4_sub(wasm_i32x4_relaxed_dot_i8x16_i7x16_add(w1, ap[1], zero),
                         wasm_i32x4_relaxed_dot_i8x16_i7x16_add(w1, an[1], zero));
}

static void gemm_q8_0_relaxed(int64_t nb, const block_q8_0 *W, int64_t n_rows, const block_q8_0 *A, int64_t n_tok,
                              float *Y, int64_t ldy) {
    for (int64_t r = 0; r < n_rows; r += 4) {
        const int R = n_rows - r >= 4 ? 4 : (int)(n_rows - r);
        for (int64_t t = 0; t < n_tok; t++) {
            const block_q8_0 *a = A + t * nb;
            v128_t lo[4], hi[4];
            for (int i = 0; i < 4; i++) lo[i] = hi[i] = wasm_f32x4_splat(0.0f);
            for (int64_t b = 0; b < nb; b++) {
                v128_t ap[2], an[2];
                split_block(&a[b], ap, an);
                const float da = ge_fp16_to_fp32(a[b].d);
                for (int i = 0; i < R; i++) {
                    const block_q8_0 *w = &W[(r + i) * nb + b];
                    v128_t sl, sh;
                    block_dot_relaxed(w, ap, an, &sl, &sh);
                    const float s = ge_fp16_to_fp32(w->d) * da;
                    lo[i] = lane_acc(lo[i], sl, s);
                    hi[i] = lane_acc(hi[i], sh, s);
                }
            }
            for (int i = 0; i < R; i++) Y[t * ldy + r + i] = reduce8(lo[i], hi[i]);
        }
    }
}

const ge_kernels ge_kernels_wasm_relaxed = {
    .name = "wasm-relaxed-simd",
    .quantize_q8_0 = quantize_q8_0,
    .gemm_q8_0 = gemm_q8_0_relaxed,
    .scores_f32 = scores_f32,
    .pv_f32 = pv_f32,
    .dot_f32 = dot_f32,
    .axpy_f32 = axpy_f32,
};
#endif
