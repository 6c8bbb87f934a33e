/*
 * formats/blocks.h - ggml's quantized blocks, byte for byte as in ggml-common.h.
 *
 * A row of n values of a quantized type is n / QK consecutive blocks (QK = 32 for the
 * "legacy" types and IQ4_NL, QK_K = 256 for the K-quants and IQ4_XS). Every scale
 * `d` / `dmin` / `m` is an IEEE half (uint16_t bits). What each value decodes to is
 * written next to its struct; core/quant.c holds the decoders.
 *
 * Activations are quantized to one of three formats before a matrix product, the
 * one ggml's CPU backend pairs with the weight type (its vec_dot_type):
 *   Q8_0  for Q8_0, Q4_0, Q5_0, IQ4_NL weights;
 *   Q8_1  (Q8_0's quants plus s = d * sum(q)) for Q4_1, Q5_1;
 *   Q8_K  (256 values, float scale, 16 partial sums) for Q2_K..Q6_K, IQ4_XS.
 */
#ifndef GE_FORMATS_BLOCKS_H
#define GE_FORMATS_BLOCKS_H

#include <assert.h>
#include <stdint.h>

#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_0 32
#define QK4_NL 32
#define QK_K 256
#define K_SCALE_SIZE 12

/* v[j] = d * ((qs[j] & 15) - 8), v[j + 16] = d * ((qs[j] >> 4) - 8), j < 16 */
typedef struct block_q4_0 {
    uint16_t d;
    uint8_t qs[QK4_0 / 2];
} block_q4_0;
static_assert(sizeof(block_q4_0) == 18, "block_q4_0 must be 18 bytes");

/* v = d * q + m, q the nibbles as in Q4_0 (0..15) */
typedef struct block_q4_1 {
    uint16_t d, m;
    uint8_t qs[QK4_1 / 2];
} block_q4_1;
static_assert(sizeof(block_q4_1) == 20, "block_q4_1 must be 20 bytes");

/* 5-bit q = nibble | bit j (low half) or bit j + 16 (high half) of qh (LE uint32) << 4;
 * v = d * (q - 16) */
typedef struct block_q5_0 {
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[QK5_0 / 2];
} block_q5_0;
static_assert(sizeof(block_q5_0) == 22, "block_q5_0 must be 22 bytes");

/* q as in Q5_0 (0..31), v = d * q + m */
typedef struct block_q5_1 {
    uint16_t d, m;
    uint8_t qh[4];
    uint8_t qs[QK5_1 / 2];
} block_q5_1;
static_assert(sizeof(block_q5_1) == 24, "block_q5_1 must be 24 bytes");

/* v = d * qs[j] */
typedef struct block_q8_0 {
    uint16_t d;
    int8_t qs[QK8_0];
} block_q8_0;
static_assert(sizeof(block_q8_0) == 2 + QK8_0, "block_q8_0 must be 34 bytes, packed like ggml's");

/* IQ4_NL: v[j] = d * kvalues_iq4nl[qs[j] & 15], v[j + 16] = d * kvalues_iq4nl[qs[j] >> 4] */
typedef struct block_iq4_nl {
    uint16_t d;
    uint8_t qs[QK4_NL / 2];
} block_iq4_nl;
static_assert(sizeof(block_iq4_nl) == 18, "block_iq4_nl must be 18 bytes");

/* the 16 non-uniform levels of IQ4_NL and IQ4_XS */
static const int8_t ge_kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

/* Q2_K: 16 sub-blocks of 16; scales[i] = scale (low nibble) | min (high nibble);
 * 2-bit q in qs (4 per byte); v = d * scale * q - dmin * min */
typedef struct block_q2_K {
    uint8_t scales[QK_K / 16];
    uint8_t qs[QK_K / 4];
    uint16_t d, dmin;
} block_q2_K;
static_assert(sizeof(block_q2_K) == 2 * 2 + QK_K / 16 + QK_K / 4, "block_q2_K must be 84 bytes");

/* Q3_K: 16 sub-blocks of 16; 2 low bits in qs, the high bit in hmask (set = +0, clear = -4);
 * 6-bit scales packed in 12 bytes, minus 32; v = d * (scale - 32) * q, q in -4..3 */
typedef struct block_q3_K {
    uint8_t hmask[QK_K / 8];
    uint8_t qs[QK_K / 4];
    uint8_t scales[12];
    uint16_t d;
} block_q3_K;
static_assert(sizeof(block_q3_K) == 2 + QK_K / 4 + QK_K / 8 + 12, "block_q3_K must be 110 bytes");

/* Q4_K: 8 sub-blocks of 32; 6-bit scale and min each, packed in 12 bytes
 * (ge_scale_min_k4); v = d * scale * q - dmin * min, q in 0..15 */
typedef struct block_q4_K {
    uint16_t d, dmin;
    uint8_t scales[K_SCALE_SIZE];
    uint8_t qs[QK_K / 2];
} block_q4_K;
static_assert(sizeof(block_q4_K) == 2 * 2 + K_SCALE_SIZE + QK_K / 2, "block_q4_K must be 144 bytes");

/* Q5_K: Q4_K plus a fifth bit per value in qh; q in 0..31 */
typedef struct block_q5_K {
    uint16_t d, dmin;
    uint8_t scales[K_SCALE_SIZE];
    uint8_t qh[QK_K / 8];
    uint8_t qs[QK_K / 2];
} block_q5_K;
static_assert(sizeof(block_q5_K) == 2 * 2 + K_SCALE_SIZE + QK_K / 2 + QK_K / 8, "block_q5_K must be 176 bytes");

/* Q6_K: 16 sub-blocks of 16 with int8 scales; 4 low bits in ql, 2 high in qh;
 * v = d * scale * (q - 32), q in 0..63 */
typedef struct block_q6_K {
    uint8_t ql[QK_K / 2];
    uint8_t qh[QK_K / 4];
    int8_t scales[QK_K / 16];
    uint16_t d;
} block_q6_K;
static_assert(sizeof(block_q6_K) == 2 + QK_K / 16 + 3 * QK_K / 4, "block_q6_K must be 210 bytes");

/* IQ4_XS: 8 sub-blocks of 32, 6-bit scales (4 low bits in scales_l, 2 high in scales_h)
 * minus 32; v = d * (scale - 32) * kvalues_iq4nl[nibble] */
typedef struct block_iq4_xs {
    uint16_t d;
    uint16_t scales_h;
    uint8_t scales_l[QK_K / 64];
    uint8_t qs[QK_K / 2];
} block_iq4_xs;
static_assert(sizeof(block_iq4_xs) == 2 + 2 + QK_K / 64 + QK_K / 2, "block_iq4_xs must be 136 bytes");

/* Q8_K (activations only): v = d * qs[j]; bsums[i] = sum of qs[16 i .. 16 i + 15] */
typedef struct block_q8_K {
    float d;
    int8_t qs[QK_K];
    int16_t bsums[QK_K / 16];
} block_q8_K;
static_assert(sizeof(block_q8_K) == 4 + QK_K + QK_K / 16 * 2, "block_q8_K must be 292 bytes");

/* scale and min j (0..7) of a Q4_K / Q5_K block, 6 bits each */
static inline void ge_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

#endif
