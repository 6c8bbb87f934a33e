/*
 * kernels_avx2.h - the AVX2 kernels by name, for the AVX-512 table, which
 * reuses those it does not replace, and the strip transpose both use (private
 * to simd/; include only from files compiled with AVX2 enabled).
 */
#ifndef GE_KERNELS_AVX2_H
#define GE_KERNELS_AVX2_H

#include "kernels.h"

#include <immintrin.h>

void ge_avx2_quantize_q8_0(const float *x, block_q8_0 *y, int64_t n);
void ge_avx2_gemm_q8_0(int64_t nb, const block_q8_0 *W, int64_t n_rows, const block_q8_0 *A, int64_t n_tok,
                       float *Y, int64_t ldy);
void ge_avx2_scores_f32(int64_t m, int64_t n, int64_t d, const float *Q, int64_t ldq, const float *K, int64_t ldk,
                        float scale, float *S, int64_t lds);
void ge_avx2_pv_f32(int64_t m, int64_t n, int64_t d, const float *P, int64_t ldp, const float *V, int64_t ldv,
                    float *O, int64_t ldo);
float ge_avx2_dot_f32(int64_t n, const float *x, const float *y);
void ge_avx2_axpy_f32(int64_t n, float a, const float *x, float *y);
void ge_avx2_gelu_mul_f32(int64_t n, float *g, const float *u, const float *table);
void ge_avx2_exp_sub_f32(int64_t n, float *x, float m);
/* quantize_q8_K with the scalar reference's bytes (ggml's quantize_row_q8_K_ref) */
void ge_avx2_quantize_q8_K(const float *x, block_q8_K *y, int64_t n);
void ge_avx2_gemm_q8_K(int64_t n, int sub, const int8_t *Wq, const float *Ws, const int8_t *Wm, const float *Wd,
                       int64_t n_rows, const block_q8_K *A, int64_t n_tok, float *Y, int64_t ldy);

/* 8 rows x 8 int32 -> 8 columns x 8 rows: out[j] = {r[0][j], ..., r[7][j]}. For
 * the int8 strips: a row's 32 bytes are 8 groups of 4, and out[j] holds group j
 * of all 8 rows (files compiled with AVX2 enabled only). */
static inline void ge_transpose8x8_epi32(const __m256i r[8], __m256i out[8]) {
    __m256i t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
        u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
        u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
        u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int j = 0; j < 4; j++) {
        out[j] = _mm256_permute2x128_si256(u[j], u[j + 4], 0x20);
        out[j + 4] = _mm256_permute2x128_si256(u[j], u[j + 4], 0x31);
    }
}

#endif
