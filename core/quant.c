/*
 * quant.c - the traits table (quant.h) and the decoders of every quantized type.
 *
 * A decoder turns one row into int8 levels q, one float scale per `sub` values and,
 * for the types with a min, one float offset per `sub` values, such that
 *     value i = sc[i / sub] * q[i] + mn[i / sub]
 * is computed with the very operations of ggml's dequantize_row_<type> (ggml-quants.c):
 * a scale is d * (integer scale) in float (exact: 11 x 8 bits), an offset is
 * -(dmin * integer min) (exact). The block layouts are in formats/blocks.h.
 */
#include "quant.h"

#include "gguf.h"
#include "util.h"
#include "ggufembed.h"

#include <math.h>

#include <string.h>

/* ------------------------------------------------------------ act Q8_0 / Q8_1 (32 a block) */

/* the fifth bits of a Q5 block: value j (j < 16) takes bit j, value j + 16 bit j + 16 */
static void q5_levels(const uint8_t qh4[4], const uint8_t *qs, int offset, int8_t *q) {
    uint32_t qh;
    memcpy(&qh, qh4, 4);
    for (int j = 0; j < 16; j++) {
        const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
        q[j] = (int8_t)(((qs[j] & 0x0F) | h0) - offset);
        q[j + 16] = (int8_t)(((qs[j] >> 4) | h1) - offset);
    }
}

/* The types of act Q8_0 / Q8_1, straight into Q8_0 blocks: the integer levels, the fp16
 * scale bits as they are, and the min offsets m (Q4_1, Q5_1). */
static void q8_q8_0(const void *row, int64_t n, block_q8_0 *out, float *mn) {
    memcpy(out, row, sizeof(block_q8_0) * (size_t)(n / QK8_0));
}

static void q8_q4_0(const void *row, int64_t n, block_q8_0 *out, float *mn) {
    const block_q4_0 *b = row;
    for (int64_t i = 0; i < n / QK4_0; i++) {
        out[i].d = b[i].d;
        for (int j = 0; j < QK4_0 / 2; j++) {
            out[i].qs[j] = (int8_t)((b[i].qs[j] & 0x0F) - 8);
            out[i].qs[j + QK4_0 / 2] = (int8_t)((b[i].qs[j] >> 4) - 8);
        }
    }
}

static void q8_q4_1(const void *row, int64_t n, block_q8_0 *out, float *mn) {
    const block_q4_1 *b = row;
    for (int64_t i = 0; i < n / QK4_1; i++) {
        out[i].d = b[i].d;
        mn[i] = ge_fp16_to_fp32(b[i].m);
        for (int j = 0; j < QK4_1 / 2; j++) {
            out[i].qs[j] = (int8_t)(b[i].qs[j] & 0x0F);
            out[i].qs[j + QK4_1 / 2] = (int8_t)(b[i].qs[j] >> 4);
        }
    }
}

static void q8_q5_0(const void *row, int64_t n, block_q8_0 *out, float *mn) {
    const block_q5_0 *b = row;
    for (int64_t i = 0; i < n / QK5_0; i++) {
        out[i].d = b[i].d;
        q5_levels(b[i].qh, b[i].qs, 16, out[i].qs);
    }
}

static void q8_q5_1(const void *row, int64_t n, block_q8_0 *out, float *mn) {
    const block_q5_1 *b = row;
    for (int64_t i = 0; i < n / QK5_1; i++) {
        out[i].d = b[i].d;
        mn[i] = ge_fp16_to_fp32(b[i].m);
        q5_levels(b[i].qh, b[i].qs, 0, out[i].qs);
    }
}

static void q8_iq4_nl(const void *row, int64_t n, block_q8_0 *out, float *mn) {
    const block_iq4_nl *b = row;
    for (int64_t i = 0; i < n / QK4_NL; i++) {
        out[i].d = b[i].d;
        for (int j = 0; j < QK4_NL / 2; j++) {
            out[i].qs[j] = ge_kvalues_iq4nl[b[i].qs[j] & 0x0F];
            out[i].qs[j + QK4_NL / 2] = ge_kvalues_iq4nl[b[i].qs[j] >> 4];
        }
    }
}

/* Their decode() (levels and float scales, quant.h) read through the Q8_0 blocks, a few at a time */
static void decode_via_q8_0(void (*to_q8_0)(const void *, int64_t, block_q8_0 *, float *), int bytes, const void *row,
                            int64_t n, int8_t *q, float *sc, float *mn) {
    enum { CHUNK = 8 };
    block_q8_0 blk[CHUNK];
    const uint8_t *p = row;
    for (int64_t b0 = 0; b0 < n / QK8_0; b0 += CHUNK, p += (size_t)CHUNK * (size_t)bytes) {
        const int64_t nb = n / QK8_0 - b0 < CHUNK ? n / QK8_0 - b0 : CHUNK;
        to_q8_0(p, nb * QK8_0, blk, mn ? mn + b0 : NULL);
        for (int64_t i = 0; i < nb; i++) {
            sc[b0 + i] = ge_fp16_to_fp32(blk[i].d);
            memcpy(q + (b0 + i) * QK8_0, blk[i].qs, QK8_0);
        }
    }
}
#define DECODE_VIA_Q8_0(type, block)                                                                        \
    static void decode_##type(const void *row, int64_t n, int8_t *q, float *sc, float *mn) {                \
        decode_via_q8_0(q8_##type, (int)sizeof(block), row, n, q, sc, mn);                                \
    }
DECODE_VIA_Q8_0(q8_0, block_q8_0)
DECODE_VIA_Q8_0(q4_0, block_q4_0)
DECODE_VIA_Q8_0(q4_1, block_q4_1)
DECODE_VIA_Q8_0(q5_0, block_q5_0)
DECODE_VIA_Q8_0(q5_1, block_q5_1)
DECODE_VIA_Q8_0(iq4_nl, block_iq4_nl)

/* ------------------------------------------------------------ act Q8_K (256 a block) */

/* 16 sub-blocks of 16: sc[16], mn[16] per block. Sub-block is = 8 * half + 2 * (shift / 2) + k
 * holds qs[32 * half + 16 * k + l] >> shift, l < 16 (ggml's order); written with plain
 * indexes so the compiler can vectorize the bit work. */
static void decode_q2_K(const void *row, int64_t n, int8_t *q, float *sc, float *mn) {
    const block_q2_K *b = row;
    for (int64_t i = 0; i < n / QK_K; i++, sc += 16, mn += 16, q += QK_K) {
        const float d = ge_fp16_to_fp32(b[i].d), dmin = ge_fp16_to_fp32(b[i].dmin);
        for (int is = 0; is < 16; is++) {
            sc[is] = d * (float)(b[i].scales[is] & 0xF);
            mn[is] = -(dmin * (float)(b[i].scales[is] >> 4));
        }
        for (int half = 0; half < 2; half++)
            for (int j = 0; j < 4; j++) { /* shift 2j: sub-blocks 8 half + 2j, 8 half + 2j + 1 */
                const uint8_t *qs = b[i].qs + 32 * half;
                int8_t *y = q + 128 * half + 32 * j;
                for (int l = 0; l < 32; l++) y[l] = (int8_t)((qs[l] >> (2 * j)) & 3);
            }
    }
}

/* Q3_K's 16 six-bit scales from their 12 bytes (ggml's kmask shuffle), minus 32 */
static void q3_scales(const uint8_t s[12], int out[16]) {
    uint32_t aux[4];
    memcpy(aux, s, 12);
    const uint32_t tmp = aux[2], m1 = 0x03030303u, m2 = 0x0f0f0f0fu;
    aux[2] = ((aux[0] >> 4) & m2) | (((tmp >> 4) & m1) << 4);
    aux[3] = ((aux[1] >> 4) & m2) | (((tmp >> 6) & m1) << 4);
    aux[0] = (aux[0] & m2) | (((tmp >> 0) & m1) << 4);
    aux[1] = (aux[1] & m2) | (((tmp >> 2) & m1) << 4);
    int8_t sc8[16];
    memcpy(sc8, aux, 16);
    for (int j = 0; j < 16; j++) out[j] = sc8[j] - 32;
}

static void decode_q3_K(const void *row, int64_t n, int8_t *q, float *sc, float *mn) {
    const block_q3_K *b = row;
    for (int64_t i = 0; i < n / QK_K; i++, sc += 16, q += QK_K) {
        const float d = ge_fp16_to_fp32(b[i].d);
        int scales[16];
        q3_scales(b[i].scales, scales);
        for (int is = 0; is < 16; is++) sc[is] = d * (float)scales[is];
        /* value 128 half + 32 j + l: 2 bits of qs[32 half + l] >> 2j, minus 4 unless bit
         * 4 half + j of hmask[l] is set (ggml's order, as decode_q2_K) */
        for (int half = 0; half < 2; half++)
            for (int j = 0; j < 4; j++) {
                const uint8_t *qs = b[i].qs + 32 * half, *hm = b[i].hmask;
                const int bit = 4 * half + j;
                int8_t *y = q + 128 * half + 32 * j;
                for (int l = 0; l < 32; l++)
                    y[l] = (int8_t)(((qs[l] >> (2 * j)) & 3) - 4 * (((hm[l] >> bit) & 1) ^ 1));
            }
    }
}

/* 8 sub-blocks of 32: sc[8], mn[8] per block */
static void decode_q4_K(const void *row, int64_t n, int8_t *q, float *sc, float *mn) {
    const block_q4_K *b = row;
    for (int64_t i = 0; i < n / QK_K; i++, sc += 8, mn += 8) {
        const float d = ge_fp16_to_fp32(b[i].d), dmin = ge_fp16_to_fp32(b[i].dmin);
        const uint8_t *qs = b[i].qs;
        for (int j = 0; j < 8; j += 2, qs += 32) {
            uint8_t s0, m0, s1, m1;
            ge_scale_min_k4(j, b[i].scales, &s0, &m0);
            ge_scale_min_k4(j + 1, b[i].scales, &s1, &m1);
            sc[j] = d * (float)s0, mn[j] = -(dmin * (float)m0);
            sc[j + 1] = d * (float)s1, mn[j + 1] = -(dmin * (float)m1);
            for (int l = 0; l < 32; l++) q[l] = (int8_t)(qs[l] & 0xF);
            for (int l = 0; l < 32; l++) q[32 + l] = (int8_t)(qs[l] >> 4);
            q += 64;
        }
    }
}

static void decode_q5_K(const void *row, int64_t n, int8_t *q, float *sc, float *mn) {
    const block_q5_K *b = row;
    for (int64_t i = 0; i < n / QK_K; i++, sc += 8, mn += 8) {
        const float d = ge_fp16_to_fp32(b[i].d), dmin = ge_fp16_to_fp32(b[i].dmin);
        const uint8_t *ql = b[i].qs, *qh = b[i].qh;
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0; j < 8; j += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
            uint8_t s0, m0, s1, m1;
            ge_scale_min_k4(j, b[i].scales, &s0, &m0);
            ge_scale_min_k4(j + 1, b[i].scales, &s1, &m1);
            sc[j] = d * (float)s0, mn[j] = -(dmin * (float)m0);
            sc[j + 1] = d * (float)s1, mn[j + 1] = -(dmin * (float)m1);
            for (int l = 0; l < 32; l++) q[l] = (int8_t)((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0));
            for (int l = 0; l < 32; l++) q[32 + l] = (int8_t)((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0));
            q += 64;
        }
    }
}

/* the integer mins and -dmin (quant.h: mins) */
static void mins_q2_K(const void *row, int64_t n, int8_t *m, float *dm) {
    const block_q2_K *b = row;
    for (int64_t i = 0; i < n / QK_K; i++) {
        dm[i] = -ge_fp16_to_fp32(b[i].dmin);
        for (int is = 0; is < 16; is++) m[16 * i + is] = (int8_t)(b[i].scales[is] >> 4);
    }
}

static void mins_k4(const uint8_t *scales, const uint16_t *dmin, int64_t i, int8_t *m, float *dm) {
    dm[i] = -ge_fp16_to_fp32(*dmin);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, mn;
        ge_scale_min_k4(j, scales, &sc, &mn);
        m[8 * i + j] = (int8_t)mn;
    }
}

static void mins_q4_K(const void *row, int64_t n, int8_t *m, float *dm) {
    const block_q4_K *b = row;
    for (int64_t i = 0; i < n / QK_K; i++) mins_k4(b[i].scales, &b[i].dmin, i, m, dm);
}

static void mins_q5_K(const void *row, int64_t n, int8_t *m, float *dm) {
    const block_q5_K *b = row;
    for (int64_t i = 0; i < n / QK_K; i++) mins_k4(b[i].scales, &b[i].dmin, i, m, dm);
}

/* 16 sub-blocks of 16 */
static void decode_q6_K(const void *row, int64_t n, int8_t *q, float *sc, float *mn) {
    const block_q6_K *b = row;
    for (int64_t i = 0; i < n / QK_K; i++, sc += 16, q += QK_K) {
        const float d = ge_fp16_to_fp32(b[i].d);
        for (int j = 0; j < 16; j++) sc[j] = d * (float)b[i].scales[j];
        const uint8_t *ql = b[i].ql, *qh = b[i].qh;
        for (int half = 0; half < 2; half++, ql += 64, qh += 32) {
            int8_t *y = q + 128 * half;
            for (int l = 0; l < 32; l++) {
                y[l] = (int8_t)(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
                y[l + 32] = (int8_t)(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                y[l + 64] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                y[l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
    }
}

/* 8 sub-blocks of 32 */
static void decode_iq4_xs(const void *row, int64_t n, int8_t *q, float *sc, float *mn) {
    const block_iq4_xs *b = row;
    for (int64_t i = 0; i < n / QK_K; i++, sc += 8) {
        const float d = ge_fp16_to_fp32(b[i].d);
        const uint8_t *qs = b[i].qs;
        for (int ib = 0; ib < 8; ib++, qs += 16, q += 32) {
            const int ls = ((b[i].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xF) | (((b[i].scales_h >> 2 * ib) & 3) << 4);
            sc[ib] = d * (float)(ls - 32);
            for (int j = 0; j < 16; j++) {
                q[j] = ge_kvalues_iq4nl[qs[j] & 0xF];
                q[j + 16] = ge_kvalues_iq4nl[qs[j] >> 4];
            }
        }
    }
}

/* ------------------------------------------------------------ the table */

static const ge_type_traits k_traits[GGML_TYPE_MAX_] = {
    [GGML_TYPE_F32] = {.name = "F32", .blck = 1, .bytes = 4, .act = GE_AF_F32},
    [GGML_TYPE_F16] = {.name = "F16", .blck = 1, .bytes = 2, .act = GE_AF_F32},
    [GGML_TYPE_BF16] = {.name = "BF16", .blck = 1, .bytes = 2, .act = GE_AF_F32},
    [GGML_TYPE_Q8_0] = {.name = "Q8_0", .blck = QK8_0, .bytes = sizeof(block_q8_0), .act = GE_AF_Q8_0, .sub = 32,
                        .decode = decode_q8_0, .decode_q8_0 = q8_q8_0},
    [GGML_TYPE_Q4_0] = {.name = "Q4_0", .blck = QK4_0, .bytes = sizeof(block_q4_0), .act = GE_AF_Q8_0, .sub = 32,
                        .decode = decode_q4_0, .decode_q8_0 = q8_q4_0},
    [GGML_TYPE_Q4_1] = {.name = "Q4_1", .blck = QK4_1, .bytes = sizeof(block_q4_1), .act = GE_AF_Q8_1, .sub = 32,
                        .has_min = 1, .decode = decode_q4_1, .decode_q8_0 = q8_q4_1},
    [GGML_TYPE_Q5_0] = {.name = "Q5_0", .blck = QK5_0, .bytes = sizeof(block_q5_0), .act = GE_AF_Q8_0, .sub = 32,
                        .decode = decode_q5_0, .decode_q8_0 = q8_q5_0},
    [GGML_TYPE_Q5_1] = {.name = "Q5_1", .blck = QK5_1, .bytes = sizeof(block_q5_1), .act = GE_AF_Q8_1, .sub = 32,
                        .has_min = 1, .decode = decode_q5_1, .decode_q8_0 = q8_q5_1},
    [GGML_TYPE_IQ4_NL] = {.name = "IQ4_NL", .blck = QK4_NL, .bytes = sizeof(block_iq4_nl), .act = GE_AF_Q8_0,
                          .sub = 32, .decode = decode_iq4_nl, .decode_q8_0 = q8_iq4_nl},
    [GGML_TYPE_Q2_K] = {.name = "Q2_K", .blck = QK_K, .bytes = sizeof(block_q2_K), .act = GE_AF_Q8_K, .sub = 16,
                        .has_min = 1, .decode = decode_q2_K, .mins = mins_q2_K},
    [GGML_TYPE_Q3_K] = {.name = "Q3_K", .blck = QK_K, .bytes = sizeof(block_q3_K), .act = GE_AF_Q8_K, .sub = 16,
                        .decode = decode_q3_K},
    [GGML_TYPE_Q4_K] = {.name = "Q4_K", .blck = QK_K, .bytes = sizeof(block_q4_K), .act = GE_AF_Q8_K, .sub = 32,
                        .has_min = 1, .decode = decode_q4_K, .mins = mins_q4_K},
    [GGML_TYPE_Q5_K] = {.name = "Q5_K", .blck = QK_K, .bytes = sizeof(block_q5_K), .act = GE_AF_Q8_K, .sub = 32,
                        .has_min = 1, .decode = decode_q5_K, .mins = mins_q5_K},
    [GGML_TYPE_Q6_K] = {.name = "Q6_K", .blck = QK_K, .bytes = sizeof(block_q6_K), .act = GE_AF_Q8_K, .sub = 16,
                        .decode = decode_q6_K},
    [GGML_TYPE_IQ4_XS] = {.name = "IQ4_XS", .blck = QK_K, .bytes = sizeof(block_iq4_xs), .act = GE_AF_Q8_K,
                          .sub = 32, .decode = decode_iq4_xs},
};

const ge_type_traits *ge_type_traits_of(uint32_t type) {
    return type < GGML_TYPE_MAX_ && k_traits[type].name ? &k_traits[type] : NULL;
}

const char *ge_type_names(void) {
    return "F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS";
}

size_t ge_row_bytes(uint32_t type, int64_t n) {
    const ge_type_traits *t = ge_type_traits_of(type);
    return t ? (size_t)(n / t->blck) * (size_t)t->bytes : 0;
}

void ge_row_to_float(uint32_t type, const void *row, float *y, int64_t n) {
    switch (type) {
    case GGML_TYPE_F32: memcpy(y, row, sizeof(float) * (size_t)n); return;
    /* F16/BF16 and the block structs need 2-byte alignment, which a row of a tensor in a
     * file with general.alignment 1 (or in a caller's odd buffer) does not have: halves
     * are read by memcpy, blocks copied to an aligned chunk first (found by fuzz_model) */
    case GGML_TYPE_F16:
        for (int64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, (const uint8_t *)row + 2 * i, 2);
            y[i] = ge_fp16_to_fp32(h);
        }
        return;
    case GGML_TYPE_BF16:
        for (int64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, (const uint8_t *)row + 2 * i, 2);
            y[i] = ge_bf16_to_fp32(h);
        }
        return;
    default: break;
    }
    /* quantized: decode a super-block's worth at a time (256 is a multiple of every block) */
    const ge_type_traits *t = ge_type_traits_of(type);
    if (!t || !t->decode) return;
    int8_t q[QK_K];
    float sc[QK_K / 16], mn[QK_K / 16];
    const uint8_t *p = row;
    const int misaligned = ((uintptr_t)row & 1) != 0;
    _Alignas(16) uint8_t chunk[512]; /* one chunk's blocks: at most 8 x 34 bytes (Q8_0) */
    for (int64_t i0 = 0; i0 < n; i0 += QK_K) {
        const int64_t c = n - i0 < QK_K ? n - i0 : QK_K;
        const size_t cb = (size_t)(c / t->blck) * (size_t)t->bytes;
        if (misaligned && cb <= sizeof chunk) {
            memcpy(chunk, p, cb);
            t->decode(chunk, c, q, sc, mn);
        } else {
            t->decode(p, c, q, sc, mn);
        }
        p += cb;
        for (int64_t i = 0; i < c; i++) {
            const float v = sc[i / t->sub] * (float)q[i];
            y[i0 + i] = t->has_min ? v + mn[i / t->sub] : v;
        }
    }
}

/* ------------------------------------------------------------ the quantized products */

int ge_need_for_type(uint32_t type, unsigned *need) {
    const ge_type_traits *tt = ge_type_traits_of(type);
    if (!tt) return GGUFEMBED_ERR_UNSUPPORTED;
    if (tt->decode && type != GGML_TYPE_Q8_0) *need |= GE_NEED_DECODE;
    switch (tt->act) {
    case GE_AF_F32: break;
    case GE_AF_Q8_1: *need |= GE_NEED_Q8_0 | GE_NEED_Q8_1; break;
    case GE_AF_Q8_0: *need |= GE_NEED_Q8_0; break;
    case GE_AF_Q8_K: *need |= GE_NEED_Q8_K; break;
    }
    return 0;
}

void ge_quantize_act_row(const ge_kernels *k, unsigned need, const float *x, int64_t n, const ge_act_bufs *a,
                         int64_t t) {
    if ((need & GE_NEED_Q8_0) && n % QK8_0 == 0) {
        block_q8_0 *q = a->q8_0 + t * (n / QK8_0);
        k->quantize_q8_0(x, q, n);
        if (need & GE_NEED_Q8_1) /* ggml's Q8_1 (x86): s = fp16(d * sum(q)), d = amax / 127 before rounding */
            for (int64_t b = 0; b < n / QK8_0; b++) {
                float amax = 0.0f;
                int32_t sum = 0;
                for (int i = 0; i < QK8_0; i++) {
                    amax = fmaxf(amax, fabsf(x[b * QK8_0 + i]));
                    sum += q[b].qs[i];
                }
                a->sum_q81[t * (n / QK8_0) + b] = ge_fp16_to_fp32(ge_fp32_to_fp16((amax / 127.0f) * (float)sum));
            }
    }
    if ((need & GE_NEED_Q8_K) && n % QK_K == 0) {
        k->quantize_q8_K(x, a->q8_K + t * (n / QK_K), n);
    }
}

#define STRIP 16 /* rows decoded at a time */

size_t ge_gemm_quant_buf_size(int64_t n) {
    const size_t rows = STRIP, v = (size_t)n;
    return (rows * v + 2 * rows * (v / 16) * sizeof(float) + rows * (v / QK8_0) * sizeof(block_q8_0) +
            rows * (v / 16) + rows * (v / QK_K + 1) * sizeof(float) + 63) & ~(size_t)63;
}

/* y[t][r] += dot_f32(mn row r, activation sums of token t): the min terms. dot_f32's
 * canonical order is the 8-lane sum over the first ns - ns%8 values, then the rest one
 * by one; the 8-lane part of many (t, r) pairs at once is exactly what scores_f32 computes
 * (times 1.0f, which changes no bit), so the work goes through that kernel in tiles
 * instead of rows x T tiny dot products. */
#define MIN_TILE 64
static void add_min_terms(const ge_kernels *k, const float *mn, int64_t ns, int64_t rows, const float *asum, int64_t T,
                          float *y, int64_t ldy) {
    const int64_t n8 = ns - ns % 8;
    float S[MIN_TILE * MIN_TILE];
    for (int64_t t0 = 0; t0 < T; t0 += MIN_TILE) {
        const int64_t tc = T - t0 < MIN_TILE ? T - t0 : MIN_TILE;
        for (int64_t r0 = 0; r0 < rows; r0 += MIN_TILE) {
            const int64_t rc = rows - r0 < MIN_TILE ? rows - r0 : MIN_TILE;
            if (n8) k->scores_f32(tc, rc, n8, asum + t0 * ns, ns, mn + r0 * ns, ns, 1.0f, S, MIN_TILE);
            for (int64_t t = 0; t < tc; t++)
                for (int64_t r = 0; r < rc; r++) {
                    float v = n8 ? S[t * MIN_TILE + r] : 0.0f;
                    const float *a = asum + (t0 + t) * ns, *m = mn + (r0 + r) * ns;
                    for (int64_t i = n8; i < ns; i++) v = v + m[i] * a[i];
                    float *o = y + (t0 + t) * ldy + r0 + r;
                    *o = *o + v;
                }
        }
    }
}

void ge_add_min_terms(const ge_kernels *k, uint32_t type, const float *mn, int64_t n_rows, int64_t n,
                      const ge_act_bufs *a, int64_t T, float *Y, int64_t ldy) {
    const ge_type_traits *tt = ge_type_traits_of(type);
    add_min_terms(k, mn, n / tt->sub, n_rows, a->sum_q81, T, Y, ldy);
}

void ge_gemm_quant(const ge_kernels *k, uint32_t type, const void *W, int64_t n_rows, int64_t n, const ge_act_bufs *a,
                   int64_t T, float *Y, int64_t ldy, void *buf) {
    const ge_type_traits *tt = ge_type_traits_of(type);
    const int64_t ns = n / tt->sub;
    const size_t row_bytes = ge_row_bytes(type, n);
    /* buf: q [16 x n] int8, sc and mn [16 x ns] floats, Q8_0 blocks [16 x n/32] */
    int8_t *q = buf;
    float *sc = (float *)((uint8_t *)buf + (size_t)STRIP * (size_t)n);
    float *mn = sc + STRIP * ns;
    block_q8_0 *blk = (block_q8_0 *)(mn + STRIP * ns);
    float *dm = (float *)(blk + STRIP * (n / QK8_0));    /* [16 x n/256] -dmin (K mins) */
    int8_t *mi = (int8_t *)(dm + STRIP * (n / QK_K + 1)); /* [16 x ns] integer mins       */
    for (int64_t rs = 0; rs < n_rows; rs += STRIP) {
        const int64_t rows = n_rows - rs < STRIP ? n_rows - rs : STRIP;
        const uint8_t *w = (const uint8_t *)W + (size_t)rs * row_bytes;
        if (tt->act == GE_AF_Q8_K) {
            for (int64_t r = 0; r < rows; r++) {
                tt->decode(w + (size_t)r * row_bytes, n, q + r * n, sc + r * ns, mn + r * ns);
                if (tt->mins) tt->mins(w + (size_t)r * row_bytes, n, mi + r * ns, dm + r * (n / QK_K));
            }
            k->gemm_q8_K(n, tt->sub, q, sc, tt->mins ? mi : NULL, dm, rows, a->q8_K, T, Y + rs, ldy);
        } else { /* Q8_0 blocks: the integer levels and the type's own fp16 scales */
            for (int64_t r = 0; r < rows; r++) tt->decode_q8_0(w + (size_t)r * row_bytes, n, blk + r * ns, mn + r * ns);
            k->gemm_q8_0(ns, blk, rows, a->q8_0, T, Y + rs, ldy);
            if (tt->has_min) add_min_terms(k, mn, ns, rows, a->sum_q81, T, Y + rs, ldy);
        }
    }
}
