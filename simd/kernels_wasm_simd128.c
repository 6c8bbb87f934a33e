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
 * relaxed dots per 16 bytes and no per-row work. Float accumulation uses
 * f32x4.relaxed_madd. On x86 engines each relaxed dot is pmaddubsw + pmaddwd +
 * paddd, without saturation since two products are at most 2 * 127 * 127.
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
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = ge_fp32_to_fp16(d);
        const v128_t mul = wasm_f32x4_splat(id);
        const v128_t half = wasm_f32x4_splat(0.5f);
        const v128_t sign_bit = wasm_i32x4_splat((int32_t)0x80000000u);
        v128_t q[8];
        for (int k = 0; k < 8; k++) {
            /* roundf: add copysign(0.5, r) and truncate (half away from zero) */
            v128_t r = wasm_f32x4_mul(v[k], mul);
            v128_t h = wasm_v128_or(half, wasm_v128_and(r, sign_bit));
            q[k] = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_add(r, h));
        }
        for (int k = 0; k < 2; k++) {
            v128_t s0 = wasm_i16x8_narrow_i32x4(q[4 * k + 0], q[4 * k + 1]);
            v128_t s1 = wasm_i16x8_narrow_i32x4(q[4 * k + 2], q[4 * k + 3]);
            wasm_v128_store(y[b].qs + 16 * k, wasm_i8x16_narrow_i16x8(s0, s1));
        }
    }
}

/* sum over the block of w * a as 4 int32 lanes, a given as 4 x i16x8 */
static inline v128_t block_dot_i16(const block_q8_0 *w, const v128_t a16[4]) {
    v128_t w0 = wasm_v128_load(w->qs), w1 = wasm_v128_load(w->qs + 16);
    v128_t s = wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(w0), a16[0]);
    s = wasm_i32x4_add(s, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(w0), a16[1]));
    s = wasm_i32x4_add(s, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(w1), a16[2]));
    s = wasm_i32x4_add(s, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(w1), a16[3]));
    return s;
}

static inline void extend_block(const block_q8_0 *a, v128_t a16[4]) {
    v128_t a0 = wasm_v128_load(a->qs), a1 = wasm_v128_load(a->qs + 16);
    a16[0] = wasm_i16x8_extend_low_i8x16(a0);
    a16[1] = wasm_i16x8_extend_high_i8x16(a0);
    a16[2] = wasm_i16x8_extend_low_i8x16(a1);
    a16[3] = wasm_i16x8_extend_high_i8x16(a1);
}

#define FMA_ACC(acc, s32, scale) wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s32), wasm_f32x4_splat(scale)))

/* 4 weight rows x 1 token per tile, rows outer (a 4-row strip of W stays in cache
 * while the tokens stream past it), as in the AVX2 kernel. */
static void gemm_q8_0(int64_t nb, const block_q8_0 *W, int64_t n_rows, const block_q8_0 *A, int64_t n_tok,
                      float *Y, int64_t ldy) {
    int64_t r = 0;
    for (; r + 4 <= n_rows; r += 4) {
        const block_q8_0 *w0 = W + r * nb, *w1 = w0 + nb, *w2 = w1 + nb, *w3 = w2 + nb;
        for (int64_t t = 0; t < n_tok; t++) {
            const block_q8_0 *a = A + t * nb;
            v128_t acc0 = wasm_f32x4_splat(0.0f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (int64_t b = 0; b < nb; b++) {
                v128_t a16[4];
                extend_block(&a[b], a16);
                const float da = ge_fp16_to_fp32(a[b].d);
                acc0 = FMA_ACC(acc0, block_dot_i16(&w0[b], a16), da * ge_fp16_to_fp32(w0[b].d));
                acc1 = FMA_ACC(acc1, block_dot_i16(&w1[b], a16), da * ge_fp16_to_fp32(w1[b].d));
                acc2 = FMA_ACC(acc2, block_dot_i16(&w2[b], a16), da * ge_fp16_to_fp32(w2[b].d));
                acc3 = FMA_ACC(acc3, block_dot_i16(&w3[b], a16), da * ge_fp16_to_fp32(w3[b].d));
            }
            float *y = Y + t * ldy + r;
            y[0] = hsum_f32x4(acc0);
            y[1] = hsum_f32x4(acc1);
            y[2] = hsum_f32x4(acc2);
            y[3] = hsum_f32x4(acc3);
        }
    }
    for (; r < n_rows; r++) {
        const block_q8_0 *w = W + r * nb;
        for (int64_t t = 0; t < n_tok; t++) {
            const block_q8_0 *a = A + t * nb;
            v128_t acc = wasm_f32x4_splat(0.0f);
            for (int64_t b = 0; b < nb; b++) {
                v128_t a16[4];
                extend_block(&a[b], a16);
                acc = FMA_ACC(acc, block_dot_i16(&w[b], a16), ge_fp16_to_fp32(a[b].d) * ge_fp16_to_fp32(w[b].d));
            }
            Y[t * ldy + r] = hsum_f32x4(acc);
        }
    }
}

static float dot_f32(int64_t n, const float *x, const float *y) {
    v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(x + i), wasm_v128_load(y + i)));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load(x + i + 4), wasm_v128_load(y + i + 4)));
    }
    float s = hsum_f32x4(wasm_f32x4_add(a0, a1));
    for (; i < n; i++) s += x[i] * y[i];
    return s;
}

static void axpy_f32(int64_t n, float a, const float *x, float *y) {
    const v128_t va = wasm_f32x4_splat(a);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        wasm_v128_store(y + i, wasm_f32x4_add(wasm_v128_load(y + i), wasm_f32x4_mul(va, wasm_v128_load(x + i))));
    for (; i < n; i++) y[i] += a * x[i];
}

/* Attention products (d a multiple of 8): f32x4 dots and row updates. */
static void scores_f32(int64_t m, int64_t n, int64_t d, const float *Q, int64_t ldq, const float *K, int64_t ldk,
                       float scale, float *S, int64_t lds) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) S[i * lds + j] = scale * dot_f32(d, Q + i * ldq, K + j * ldk);
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

#define RMADD(acc, s32, scale) \
    wasm_f32x4_relaxed_madd(wasm_f32x4_convert_i32x4(s32), wasm_f32x4_splat(scale), acc)

/* a+ and a- of one activation block, each 2 x i8x16 in [0, 127] */
static inline void split_block(const block_q8_0 *a, v128_t ap[2], v128_t an[2]) {
    const v128_t zero = wasm_i8x16_splat(0);
    for (int k = 0; k < 2; k++) {
        v128_t v = wasm_v128_load(a->qs + 16 * k);
        ap[k] = wasm_i8x16_max(v, zero);
        an[k] = wasm_i8x16_max(wasm_i8x16_sub(zero, v), zero);
    }
}

/* The accumulator operand of relaxed_dot is left at zero and the sums are added
 * with i32x4.add: V8 11 (Node 20, --experimental-wasm-relaxed-simd) computes a
 * wrong result when the accumulator is itself the result of a relaxed dot. On
 * x86 without AVX-VNNI the engine emits the same pmaddwd + paddd either way. */
static inline v128_t block_dot_relaxed(const block_q8_0 *w, const v128_t ap[2], const v128_t an[2]) {
    v128_t w0 = wasm_v128_load(w->qs), w1 = wasm_v128_load(w->qs + 16);
    const v128_t zero = wasm_i32x4_splat(0);
    v128_t p = wasm_i32x4_add(wasm_i32x4_relaxed_dot_i8x16_i7x16_add(w0, ap[0], zero),
                              wasm_i32x4_relaxed_dot_i8x16_i7x16_add(w1, ap[1], zero));
    v128_t m = wasm_i32x4_add(wasm_i32x4_relaxed_dot_i8x16_i7x16_add(w0, an[0], zero),
                              wasm_i32x4_relaxed_dot_i8x16_i7x16_add(w1, an[1], zero));
    return wasm_i32x4_sub(p, m);
}

static void gemm_q8_0_relaxed(int64_t nb, const block_q8_0 *W, int64_t n_rows, const block_q8_0 *A, int64_t n_tok,
                              float *Y, int64_t ldy) {
    int64_t r = 0;
    for (; r + 4 <= n_rows; r += 4) {
        const block_q8_0 *w0 = W + r * nb, *w1 = w0 + nb, *w2 = w1 + nb, *w3 = w2 + nb;
        for (int64_t t = 0; t < n_tok; t++) {
            const block_q8_0 *a = A + t * nb;
            v128_t acc0 = wasm_f32x4_splat(0.0f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (int64_t b = 0; b < nb; b++) {
                v128_t ap[2], an[2];
                split_block(&a[b], ap, an);
                const float da = ge_fp16_to_fp32(a[b].d);
                acc0 = RMADD(acc0, block_dot_relaxed(&w0[b], ap, an), da * ge_fp16_to_fp32(w0[b].d));
                acc1 = RMADD(acc1, block_dot_relaxed(&w1[b], ap, an), da * ge_fp16_to_fp32(w1[b].d));
                acc2 = RMADD(acc2, block_dot_relaxed(&w2[b], ap, an), da * ge_fp16_to_fp32(w2[b].d));
                acc3 = RMADD(acc3, block_dot_relaxed(&w3[b], ap, an), da * ge_fp16_to_fp32(w3[b].d));
            }
            float *y = Y + t * ldy + r;
            y[0] = hsum_f32x4(acc0);
            y[1] = hsum_f32x4(acc1);
            y[2] = hsum_f32x4(acc2);
            y[3] = hsum_f32x4(acc3);
        }
    }
    for (; r < n_rows; r++) {
        const block_q8_0 *w = W + r * nb;
        for (int64_t t = 0; t < n_tok; t++) {
            const block_q8_0 *a = A + t * nb;
            v128_t acc = wasm_f32x4_splat(0.0f);
            for (int64_t b = 0; b < nb; b++) {
                v128_t ap[2], an[2];
                split_block(&a[b], ap, an);
                acc = RMADD(acc, block_dot_relaxed(&w[b], ap, an), ge_fp16_to_fp32(a[b].d) * ge_fp16_to_fp32(w[b].d));
            }
            Y[t * ldy + r] = hsum_f32x4(acc);
        }
    }
}

static float dot_f32_relaxed(int64_t n, const float *x, const float *y) {
    v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        a0 = wasm_f32x4_relaxed_madd(wasm_v128_load(x + i), wasm_v128_load(y + i), a0);
        a1 = wasm_f32x4_relaxed_madd(wasm_v128_load(x + i + 4), wasm_v128_load(y + i + 4), a1);
    }
    float s = hsum_f32x4(wasm_f32x4_add(a0, a1));
    for (; i < n; i++) s += x[i] * y[i];
    return s;
}

static void axpy_f32_relaxed(int64_t n, float a, const float *x, float *y) {
    const v128_t va = wasm_f32x4_splat(a);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        wasm_v128_store(y + i, wasm_f32x4_relaxed_madd(va, wasm_v128_load(x + i), wasm_v128_load(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

const ge_kernels ge_kernels_wasm_relaxed = {
    .name = "wasm-relaxed-simd",
    .quantize_q8_0 = quantize_q8_0,
    .gemm_q8_0 = gemm_q8_0_relaxed,
    .scores_f32 = scores_f32,
    .pv_f32 = pv_f32,
    .dot_f32 = dot_f32_relaxed,
    .axpy_f32 = axpy_f32_relaxed,
};
#endif
