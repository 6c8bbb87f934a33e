/*
 * quant.h - ggml's Q8_0 block, bit-compatible with ggml-common.h.
 *
 * A Q8_0 row of n values is n/32 blocks; value j of a block is d * qs[j].
 * Weights use it in the file; activations are quantized to it before every
 * Q8_0 matrix product, as llama.cpp does (its vec_dot_type for Q8_0 is Q8_0),
 * so the products are int8 x int8 dot products with one float multiply a block.
 */
#ifndef GE_QUANT_H
#define GE_QUANT_H

#include <assert.h>
#include <stdint.h>

#define QK8_0 32

typedef struct block_q8_0 {
    uint16_t d;        /* scale, IEEE half */
    int8_t qs[QK8_0];  /* quants */
} block_q8_0;

static_assert(sizeof(block_q8_0) == 2 + QK8_0, "block_q8_0 must be 34 bytes, packed like ggml's");

#endif
