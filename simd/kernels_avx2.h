/*
 * kernels_avx2.h - the AVX2 kernels by name, for the AVX-512 table, which
 * reuses those it does not replace (private to simd/).
 */
#ifndef GE_KERNELS_AVX2_H
#define GE_KERNELS_AVX2_H

#include "kernels.h"

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

#endif
