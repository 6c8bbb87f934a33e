/*
 * quant.h - the weight types ggufembed reads, one traits entry per ggml type.
 *
 * Every quantized type is consumed in one of two decoded forms, so the matrix product
 * (ops.c) needs no per-type code:
 *   - act Q8_0 / Q8_1 (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL): a row decodes to Q8_0
 *     blocks (the type's integer levels as int8, its fp16 scale unchanged), which the
 *     kernels' gemm_q8_0 multiplies with Q8_0 activations; Q4_1 / Q5_1 add one term per
 *     block, m_b * s_b (s_b = the activation block's d * sum(q), as ggml's Q8_1 holds);
 *   - act Q8_K (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS): a row decodes to int8 levels with
 *     one float scale (d * sub-block scale, exact in float) per `sub` values, which the
 *     kernels' gemm_q8_K multiplies with Q8_K activations; for the types with a min
 *     (Q2_K, Q4_K, Q5_K) the kernel also adds the integer mins times the activations'
 *     block sums per super-block, as ggml does.
 * F32 / F16 / BF16 rows are widened to float and multiplied with the f32 input.
 * Decoding is integer work (bit-exact), so it is done once, in portable C, for every
 * kernel table; the kernels only see the decoded forms.
 */
#ifndef GE_QUANT_H
#define GE_QUANT_H

#include "../formats/blocks.h"
#include "../simd/kernels.h"

#include <stddef.h>
#include <stdint.h>

typedef enum ge_act_format {
    GE_AF_F32 = 0, /* float weights: the product reads the f32 input */
    GE_AF_Q8_0,
    GE_AF_Q8_1,
    GE_AF_Q8_K,
} ge_act_format;

typedef struct ge_type_traits {
    const char *name; /* ggml's name: "Q4_K" */
    int blck;         /* values per block */
    int bytes;        /* bytes per block */
    ge_act_format act;     /* activation format of its products */
    int sub;          /* values per scale of the decoded form: 32 or 16 (0: float types) */
    int has_min;      /* the decoded form has an additive term per sub-block */
    /* Row of n values (n a multiple of blck) -> q[n] int8 levels, sc[n/sub] scales and,
     * when has_min, mn[n/sub] offsets: value i = sc[i/sub] * q[i] (+ mn[i/sub]), the same
     * float operations as ggml's dequantize_row. NULL for float types. */
    void (*decode)(const void *row, int64_t n, int8_t *q, float *sc, float *mn);
    /* The types multiplied as Q8_0 blocks: the same decoding straight into them (the
     * type's fp16 scale bits copied), and the min offsets m[n/32] when has_min. */
    void (*decode_q8_0)(const void *row, int64_t n, block_q8_0 *out, float *mn);
    /* The K-quants with a min (Q2_K, Q4_K, Q5_K): their integer mins m[n/sub] and -dmin
     * per super-block, dm[n/256] (what gemm_q8_K's min term reads: mn = dm * m). */
    void (*mins)(const void *row, int64_t n, int8_t *m, float *dm);
} ge_type_traits;

/* One input's rows quantized for the products (row t of n values at t * (n / block)):
 * every format some matrix of the model reads; the others stay NULL. */
typedef struct ge_act_bufs {
    block_q8_0 *q8_0; /* [T x n/32]  Q8_0 (and Q8_1's quants)                        */
    block_q8_K *q8_K; /* [T x n/256] Q8_K                                            */
    float *sum_q81;   /* [T x n/32]  Q8_1's s = fp16(d * sum(q)), d = amax/127 unrounded */
} ge_act_bufs;

/* The activation formats a model's matrices read (ggufembed_model.act_need), set by
 * the loader from each matrix's type. */
enum {
    GE_NEED_Q8_0 = 1,  /* Q8_0 blocks (Q8_0, Q4_0, Q5_0, IQ4_NL, and Q4_1 / Q5_1)      */
    GE_NEED_Q8_1 = 2,  /* plus Q8_1's block sums (Q4_1, Q5_1)                        */
    GE_NEED_Q8_K = 4,  /* Q8_K super-blocks (K-quants, IQ4_XS)                        */
    GE_NEED_DECODE = 32, /* weights decoded per strip (every quantized type but Q8_0)  */
};
/* Marks what a product with weights of this type reads; 0 or GGUFEMBED_ERR_UNSUPPORTED
 * when ggufembed has no product for the type. */
int ge_need_for_type(uint32_t type, unsigned *need);
/* Row t of an input (x, n values) into every format in `need` whose block divides n. */
void ge_quantize_act_row(const ge_kernels *k, unsigned need, const float *x, int64_t n, const ge_act_bufs *a,
                         int64_t t);

/* Y[t * ldy + r] = row r of W (n_rows rows of n values of `type`, any quantized type but
 * Q8_0 whose rows Q8_0's own product reads in place) times input row t, for t < T:
 * strips of 16 rows decoded into buf (ge_gemm_quant_buf_size(n) bytes, 64-aligned),
 * multiplied by k's gemm_q8_0 or gemm_q8_K (Q4_1 / Q5_1: their min terms added after, in
 * dot_f32's order). */
void ge_gemm_quant(const ge_kernels *k, uint32_t type, const void *W, int64_t n_rows, int64_t n, const ge_act_bufs *a,
                   int64_t T, float *Y, int64_t ldy, void *buf);
size_t ge_gemm_quant_buf_size(int64_t n);
/* Y[t * ldy + r] += the min terms of rows r < n_rows (mn: [n_rows x n/32] decoded
 * offsets of Q4_1 / Q5_1) for input rows t < T: what ge_gemm_quant adds after the kernel */
void ge_add_min_terms(const ge_kernels *k, uint32_t type, const float *mn, int64_t n_rows, int64_t n,
                      const ge_act_bufs *a, int64_t T, float *Y, int64_t ldy);

/* The traits of a ggml type, or NULL when ggufembed cannot multiply with it. */
const ge_type_traits *ge_type_traits_of(uint32_t type);

/* Row of n values of any supported type -> y[n] floats (ggml's dequantize_row). */
void ge_row_to_float(uint32_t type, const void *row, float *y, int64_t n);

/* bytes of a row of n values (n a multiple of the type's block size) */
size_t ge_row_bytes(uint32_t type, int64_t n);

/* The supported weight types, for error messages: "F32, F16, BF16, Q8_0, ..." */
const char *ge_type_names(void);

#endif
