/*
 * kernels.h - the one table of compute kernels, one implementation per ISA.
 *
 * kernels_scalar.c is the reference: plain C, the definition of what every kernel
 * computes. kernels_avx2.c (x86-64 AVX2+FMA+F16C) and kernels_wasm_simd128.c fill the
 * same table and must give BIT-IDENTICAL results (tests/test_kernels.c compares with
 * memcmp). Activations are re-quantized to int8 before every matrix product, so a
 * last-bit difference anywhere can flip a rounding and grow through 24 layers; with
 * one arithmetic order everywhere, native, scalar and wasm embeddings are equal.
 *
 * The canonical order (all float operations rounded separately: no fused
 * multiply-add, the build uses -ffp-contract=off):
 *   - gemm_q8_0: per block b the EXACT integer dot product isum_b of the 32 int8
 *     pairs (any summation order: integers), s_b = d_w * d_a (float), and ONE float
 *     accumulator per output, y = 0; y = y + (float)isum_b * s_b for b in order.
 *     Exact integer sums leave SIMD code free to lay the int8 work out as it likes
 *     (e.g. 8 or 16 weight rows interleaved in one register, kernels_avx512.c)
 *     while the float work stays one multiply and one add per block and output.
 *   - "8 lanes" (the f32 kernels): a sum over i is split into lanes L[i mod 8],
 *     each lane accumulated in order with L = L + x*y, and the lanes reduced as
 *     ((L0+L4) + (L2+L6)) + ((L1+L5) + (L3+L7)).
 *   - scores_f32 and dot_f32: 8 lanes over the first n - n%8 values, times scale (scores),
 *     then (dot) the remaining values added one by one.
 *   - pv_f32 and axpy_f32: each output accumulated over j in order, o = o + p*v.
 *   - quantize_q8_0: as ggml's x86 (AVX2) path, which llama.cpp runs here: d = amax/127
 *     stored as fp16, q = round-half-even(x * (127/amax)).
 *   - gemm_q8_K (the K-quants and IQ4_XS, decoded by core/quant.c into int8 values and
 *     one float scale per sub-block of `sub` = 16 or 32 values): per sub-block j the
 *     EXACT integer sum isum_j of the sub int8 pairs, s_j = ws_j * d_a (d_a the Q8_K
 *     scale of the super-block holding j), y = 0; y = y + (float)isum_j * s_j, j in order.
 *     Types with a min (Q2_K, Q4_K, Q5_K) then add, after each super-block's sub-blocks,
 *     its min term as ggml does: the EXACT integer msum = sum_j m_j * bsum_j over the
 *     super-block's sub-blocks (m_j the integer mins, bsum_j the activation quants' sum
 *     over sub-block j, from Q8_K's bsums), y = y + (float)msum * (wd * d_a), wd = -dmin.
 *     (ggml also sums the sub-blocks' scaled integer products per super-block before one
 *     float multiply; the per-sub-block order here differs from it only in the last bits,
 *     as every kernel of ggml's does from its scalar code, and keeps one layout for all
 *     six types.)
 *   - quantize_q8_K: ggml's quantize_row_q8_K_ref (llama.cpp runs that on x86):
 *     max = the value of largest |x| (first one on ties), iscale = -127/max,
 *     q = min(127, nearest_int(iscale * x)), d = 1/iscale, bsums = sums of 16. The native build
 * picks one at start-up from the CPU's and the OS's support (dispatch_x86.c); the
 * wasm builds are compiled once per variant and JavaScript picks the module.
 */
#ifndef GE_KERNELS_H
#define GE_KERNELS_H

#include "../formats/blocks.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ge_kernels {
    const char *name; /* "scalar", "avx2", "wasm-simd128", ... */

    /* x[n] -> y[n/32] blocks (n a multiple of 32), ggml's quantize_row_q8_0 (x86 path). */
    void (*quantize_q8_0)(const float *x, block_q8_0 *y, int64_t n);

    /* Matrix product with Q8_0 weights and Q8_0 activations:
     *   Y[t * ldy + r] = sum_k W[r][k] * A[t][k]   for r < n_rows, t < n_tok
     * W: n_rows rows of nb blocks (row r at W + r*nb); A: n_tok rows of nb blocks,
     * activation quants in [-127, 127] as quantize_q8_0 makes them (weights may
     * hold -128). */
    void (*gemm_q8_0)(int64_t nb, const block_q8_0 *W, int64_t n_rows, const block_q8_0 *A, int64_t n_tok,
                      float *Y, int64_t ldy);

    /* Attention products on f32 rows (the head dimension d is a multiple of 8):
     *   scores_f32: S[i * lds + j] = scale * dot(Q[i * ldq .. +d], K[j * ldk .. +d])   i < m, j < n
     *   pv_f32:     O[i * ldo + c] = sum_j P[i * ldp + j] * V[j * ldv + c]             i < m, c < d
     * m is small (a block of queries); n is the number of keys. */
    void (*scores_f32)(int64_t m, int64_t n, int64_t d, const float *Q, int64_t ldq, const float *K, int64_t ldk,
                       float scale, float *S, int64_t lds);
    void (*pv_f32)(int64_t m, int64_t n, int64_t d, const float *P, int64_t ldp, const float *V, int64_t ldv,
                   float *O, int64_t ldo);

    /* sum x[i]*y[i] */
    float (*dot_f32)(int64_t n, const float *x, const float *y);
    /* y[i] += a * x[i] */
    void (*axpy_f32)(int64_t n, float a, const float *x, float *y);

    /* GEGLU's elementwise step: g[i] = gelu(g[i]) * u[i] with gelu read from
     * table[fp16 bits of g[i]] (ggml's fp16 GELU table, round-to-nearest-even
     * conversion), 0 for g <= -10 and g itself for g >= 10, as ggml does. */
    void (*gelu_mul_f32)(int64_t n, float *g, const float *u, const float *table);

    /* softmax's exponentials: x[i] = ge_expf(x[i] - m) (formats/fp.h), same bits */
    void (*exp_sub_f32)(int64_t n, float *x, float m);

    /* x[n] -> y[n/256] (n a multiple of 256), ggml's quantize_row_q8_K_ref */
    void (*quantize_q8_K)(const float *x, block_q8_K *y, int64_t n);

    /* Matrix product with decoded K-quant weights and Q8_K activations:
     *   Y[t * ldy + r] = sum_j isum(Wq[r][j], A[t][j]) * (Ws[r][j] * d_a)
     *                  + sum_b msum(Wm[r][b], A[t][b]) * (Wd[r][b] * d_a)   (when Wm)
     * Wq: n_rows rows of n int8 (row r at Wq + r*n, any value -128..127); Ws: n_rows rows
     * of n/sub float scales (row r at Ws + r*(n/sub)); sub = 16 or 32; Wm: NULL, or
     * n_rows rows of n/sub int8 mins (any value) and Wd n_rows rows of n/256 floats;
     * A: n_tok rows of n/256 blocks (A + t*(n/256)). n is a multiple of 256. */
    void (*gemm_q8_K)(int64_t n, int sub, const int8_t *Wq, const float *Ws, const int8_t *Wm, const float *Wd,
                      int64_t n_rows, const block_q8_K *A, int64_t n_tok, float *Y, int64_t ldy);

    /* Optional packed layout of Q8_0 weights, made once at model load
     * (GGUFEMBED_OPEN_REPACK); 0 / NULL when the table has none.
     *   pack_rows         rows per strip of the layout;
     *   packed_size       bytes for n_rows (a multiple of pack_rows) rows of nb blocks;
     *   pack_q8_0         W (plain rows, as in the file) -> P;
     *   gemm_q8_0_packed  gemm_q8_0 reading W packed: P points at a strip
     *                     boundary, n_rows is a multiple of pack_rows; the results
     *                     are the same bits as gemm_q8_0's. */
    int pack_rows;
    size_t (*packed_size)(int64_t n_rows, int64_t nb);
    void (*pack_q8_0)(const block_q8_0 *W, int64_t n_rows, int64_t nb, void *P);
    void (*gemm_q8_0_packed)(int64_t nb, const void *P, int64_t n_rows, const block_q8_0 *A, int64_t n_tok,
                             float *Y, int64_t ldy);
    /* The same for decoded K-quant rows (gemm_q8_K's Wq/Ws and, with_min, Wm/Wd), made
     * once at load; NULL when the table has none. Strips of pack_rows rows; results the
     * same bits as gemm_q8_K's.
     *   packed_size_q8_K  bytes for n_rows (a multiple of pack_rows) rows of n values;
     *   pack_q8_K         Wq [n_rows x n], Ws [n_rows x n/sub], Wm/Wd or NULL -> P;
     *   gemm_q8_K_packed  P at a strip boundary, n_rows a multiple of pack_rows; with_min
     *                     as P was packed. */
    size_t (*packed_size_q8_K)(int64_t n_rows, int64_t n, int sub, int with_min);
    void (*pack_q8_K)(const int8_t *Wq, const float *Ws, const int8_t *Wm, const float *Wd, int64_t n_rows, int64_t n,
                      int sub, void *P);
    void (*gemm_q8_K_packed)(int64_t n, int sub, int with_min, const void *P, int64_t n_rows, const block_q8_K *A,
                             int64_t n_tok, float *Y, int64_t ldy);
} ge_kernels;

/* The kernels this process uses, chosen once (first call) from CPU detection. */
const ge_kernels *ge_kernels_active(void);

/* Every implementation compiled in AND supported by this CPU, best last; fills up
 * to max entries and returns how many. Tests compare them all against [0] (scalar). */
int ge_kernels_available(const ge_kernels **out, int max);

/* Use the named implementation from now on ("scalar", "avx2"...); 0 on success,
 * -1 when it is not available here. For tests, benchmarks and the CLI's --kernels. */
int ge_kernels_select(const char *name);

extern const ge_kernels ge_kernels_scalar;

/* The scalar quantize_q8_K, for tables that have no faster one with the same bits. */
void ge_scalar_quantize_q8_K(const float *x, block_q8_K *y, int64_t n);
/* The scalar gemm_q8_K (a table's slot until its own kernel exists). */
void ge_scalar_gemm_q8_K(int64_t n, int sub, const int8_t *Wq, const float *Ws, const int8_t *Wm, const float *Wd,
                         int64_t n_rows, const block_q8_K *A, int64_t n_tok, float *Y, int64_t ldy);

#endif
