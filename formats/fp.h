/*
 * formats/fp.h - the scalar number formats every layer shares: IEEE half and bfloat16
 * conversions, ggml's round-to-nearest-int, and the portable exp softmax uses.
 *
 * Header-only and dependency-free, so simd/ (the kernels) and core/ (the model) both
 * include it and neither depends on the other's code (see formats/README.md).
 */
#ifndef GE_FORMATS_FP_H
#define GE_FORMATS_FP_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* IEEE half <-> float, bit-exact, portable (no F16C needed). */
static inline float ge_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: renormalize */
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) { man <<= 1; exp--; }
            man &= 0x3ff;
            bits = sign | (exp << 23) | (man << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Round to nearest even, as ggml's GGML_FP32_TO_FP16 does on x86 (F16C) and in
 * its portable fallback. */
static inline uint16_t ge_fp32_to_fp16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) { /* inf or nan */
        return (uint16_t)(sign | 0x7c00 | (absx > 0x7f800000u ? 0x200 : 0));
    }
    if (absx >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); /* overflow -> inf */
    if (absx < 0x38800000u) {                                 /* subnormal or zero */
        if (absx < 0x33000000u) return (uint16_t)sign;
        uint32_t e = absx >> 23;
        uint32_t m = (absx & 0x7fffff) | 0x800000;
        uint32_t shift = 126 - e; /* 14 + (113 - e) */
        uint32_t half = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t h = ((absx >> 13) - ((127 - 15) << 10));
    uint32_t rem = absx & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

/* exp(x) in float with the same bits on every platform (libm's expf may differ
 * between glibc, musl and Emscripten in the last bit, and the activations'
 * int8 re-quantization would magnify that). Cody-Waite reduction x = k ln2 + r,
 * |r| <= ln2/2, a degree-7 polynomial, exact scaling by 2^k. Error ~1 ulp. */
/* 2^k as a float, k in [-126, 127] (built from its exponent bits) */
static inline float ge_pow2i(int k) {
    const uint32_t b = (uint32_t)(k + 127) << 23;
    float f;
    memcpy(&f, &b, 4);
    return f;
}

/* p * 2^k for p in [0.5, 2) and k in [-190, 128], rounded once, as ldexpf does
 * (no libm call): the split products are exact except the last one. SIMD
 * kernels (exp_sub_f32) do the same steps. */
static inline float ge_scale2(float p, int k) {
    if (k > 127) return (p * ge_pow2i(127)) * 2.0f;
    if (k < -126) return (p * ge_pow2i(k + 64)) * ge_pow2i(-64);
    return p * ge_pow2i(k);
}

static inline float ge_expf(float x) {
    if (x != x) return x;
    if (x < -103.9f) return 0.0f;
    if (x > 88.72f) return (float)HUGE_VAL;
    const float kf = floorf(x * 1.44269504088896341f + 0.5f);
    const float r = (x - kf * 0.693145751953125f) - kf * 1.428606765330187e-06f;
    float p = 1.98412698e-4f;
    p = p * r + 1.38888889e-3f;
    p = p * r + 8.33333333e-3f;
    p = p * r + 4.16666667e-2f;
    p = p * r + 1.66666667e-1f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return ge_scale2(p, (int)kf);
}

static inline float ge_bf16_to_fp32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* ggml's nearest_int(): round half to even through the float adder (valid for
 * |x| < 2^22, which every quantizer's scaled input is: |x| <= 127.x). */
static inline int ge_nearest_int(float x) {
    const float v = x + 12582912.0f; /* 1.5 * 2^23 */
    int32_t i;
    memcpy(&i, &v, 4);
    return (i & 0x007fffff) - 0x00400000;
}

#endif
