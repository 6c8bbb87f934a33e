/*
 * test_quant.c - the quantized weight types (core/quant.c) and the kernels their
 * products use (quantize_q8_K, gemm_q8_K, and gemm_q8_0 on decoded blocks), in every
 * kernel table this CPU has, against the scalar reference: BIT-IDENTICAL results on
 * random blocks, including every field's extreme values (random bytes reach every
 * bit pattern of the quants and packed scales; the fp16 scales take 0, subnormals,
 * +-65504 and random values). Then each type's product against the float product of
 * its dequantized rows (ge_row_to_float) and the dequantized activations: the decoded
 * forms and the dequantization must describe the same numbers.
 */
#include "../core/quant.h"
#include "../core/gguf.h"
#include "../core/util.h"
#include "../simd/kernels.h"
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t g_rng = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 32);
}
static float frand(void) { return (float)(rnd() >> 8) / (float)(1u << 24) * 2.0f - 1.0f; } /* [-1, 1) */

/* an fp16 scale: mostly ordinary values of either sign, sometimes an extreme */
static uint16_t rand_scale(float typical) {
    switch (rnd() % 16) {
    case 0: return 0x0000;                         /* 0                     */
    case 1: return 0x0001;                         /* smallest subnormal    */
    case 2: return 0x7bff;                         /* 65504                 */
    case 3: return 0xfbff;                         /* -65504                */
    case 4: return (uint16_t)(0x8000 | (rnd() % 0x400)); /* negative subnormal */
    default: return ge_fp32_to_fp16(typical * (0.25f + fabsf(frand())) * (rnd() % 4 ? 1.0f : -1.0f));
    }
}

/* n_rows rows of n values of `type`, random bytes with the fp16 fields rewritten */
static void rand_rows(uint32_t type, uint8_t *w, int64_t n_rows, int64_t n, int extremes) {
    const ge_type_traits *tt = ge_type_traits_of(type);
    const size_t bytes = ge_row_bytes(type, n) * (size_t)n_rows;
    for (size_t i = 0; i < bytes; i++) w[i] = (uint8_t)rnd();
    const int64_t nblk = n_rows * (n / tt->blck);
    for (int64_t b = 0; b < nblk; b++) {
        uint8_t *p = w + (size_t)b * (size_t)tt->bytes;
        /* where each type keeps its fp16 fields (formats/blocks.h) */
        uint16_t *f[2] = {NULL, NULL};
        switch (type) {
        case GGML_TYPE_Q8_0: case GGML_TYPE_Q4_0: case GGML_TYPE_Q5_0: case GGML_TYPE_IQ4_NL: case GGML_TYPE_IQ4_XS:
            f[0] = (uint16_t *)p; break;
        case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_1: case GGML_TYPE_Q4_K: case GGML_TYPE_Q5_K:
            f[0] = (uint16_t *)p, f[1] = (uint16_t *)p + 1; break;
        case GGML_TYPE_Q2_K: f[0] = &((block_q2_K *)p)->d, f[1] = &((block_q2_K *)p)->dmin; break;
        case GGML_TYPE_Q3_K: f[0] = &((block_q3_K *)p)->d; break;
        case GGML_TYPE_Q6_K: f[0] = &((block_q6_K *)p)->d; break;
        default: break;
        }
        for (int i = 0; i < 2; i++)
            if (f[i]) {
                const uint16_t v = extremes ? rand_scale(0.01f) : ge_fp32_to_fp16(0.01f * (0.25f + fabsf(frand())));
                memcpy(f[i], &v, 2);
            }
    }
}

static const uint32_t k_types[] = {GGML_TYPE_Q8_0, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1,
                                   GGML_TYPE_IQ4_NL, GGML_TYPE_Q2_K, GGML_TYPE_Q3_K, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K,
                                   GGML_TYPE_Q6_K, GGML_TYPE_IQ4_XS};

enum { MAXN = 3072, MAXR = 100, MAXT = 70 };

/* the activation buffers for T rows of n values, in every format */
static void quantize_all(const ge_kernels *k, const float *x, int64_t T, int64_t n, ge_act_bufs *a) {
    const unsigned need = GE_NEED_Q8_0 | GE_NEED_Q8_1 | GE_NEED_Q8_K;
    for (int64_t t = 0; t < T; t++) ge_quantize_act_row(k, need, x + t * n, n, a, t);
}

/* test_quant --dequant TYPE N IN OUT: IN holds rows of N values of ggml type TYPE (raw
 * blocks); OUT gets ge_row_to_float's floats (tests/test_dequant.py compares them with
 * gguf-py's numpy dequantization, an implementation independent of ours) */
static int dequant_file(int argc, char **argv) {
    if (argc != 6) return 2;
    const uint32_t type = (uint32_t)atoi(argv[2]);
    const int64_t n = atoll(argv[3]);
    const ge_type_traits *tt = ge_type_traits_of(type);
    if (!tt || n <= 0 || n % tt->blck) return 2;
    FILE *in = fopen(argv[4], "rb"), *out = fopen(argv[5], "wb");
    if (!in || !out) return 1;
    const size_t rb = ge_row_bytes(type, n);
    uint8_t *row = malloc(rb);
    float *y = malloc(sizeof(float) * (size_t)n);
    while (fread(row, 1, rb, in) == rb) {
        ge_row_to_float(type, row, y, n);
        fwrite(y, sizeof(float), (size_t)n, out);
    }
    free(row), free(y);
    fclose(in);
    return fclose(out) != 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--dequant") == 0) return dequant_file(argc, argv);
    const ge_kernels *all[8];
    const int n_impl = ge_kernels_available(all, 8);
    const ge_kernels *ref = &ge_kernels_scalar;
    CHECK(n_impl >= 1 && all[0] == ref, "scalar must be first");
    printf("kernels available:");
    for (int i = 0; i < n_impl; i++) printf(" %s", all[i]->name);
    printf("\n");

    static float x[MAXN * MAXT], y[MAXT * MAXR], y_ref[MAXT * MAXR], wf[MAXN];
    static block_q8_K ak[MAXN / QK_K * MAXT], ak_ref[MAXN / QK_K * MAXT];
    static block_q8_0 a0[MAXN / 32 * MAXT];
    static float s81[MAXN / 32 * MAXT];
    static int8_t wm[MAXN / 16 * MAXR];
    static float wd[MAXN / QK_K * MAXR];
    static int8_t wq[MAXN * MAXR];
    static float ws[MAXN / 16 * MAXR];
    static uint8_t wraw[MAXN / 32 * 34 * MAXR];
    void *buf = malloc(ge_gemm_quant_buf_size(MAXN));
    CHECK(buf != NULL, "out of memory");

    /* ---- quantize_q8_K: ggml's reference rounding, in every table */
    for (int impl = 0; impl < n_impl; impl++) {
        const ge_kernels *k = all[impl];
        const int64_t n = MAXN;
        for (int64_t i = 0; i < n * 8; i++) x[i] = frand() * 4.0f;
        for (int i = 0; i < QK_K; i++) x[QK_K + i] = 0.0f;                        /* an all-zero block */
        for (int i = 0; i < QK_K; i++) x[2 * QK_K + i] = (float)(i % 255 - 127) / 127.0f; /* exact levels, max < 0 first */
        x[3 * QK_K + 7] = -9.0f, x[3 * QK_K + 9] = 9.0f;                           /* equal |max|, the first one wins */
        for (int i = 0; i < QK_K; i++) x[4 * QK_K + i] = (float)(i - 128) * 0.5f;  /* .5 ties after scaling */
        ref->quantize_q8_K(x, ak_ref, n * 8);
        k->quantize_q8_K(x, ak, n * 8);
        CHECK(memcmp(ak, ak_ref, sizeof(block_q8_K) * (size_t)(n * 8 / QK_K)) == 0, "%s quantize_q8_K: not bit-identical",
              k->name);
    }
    {   /* and what it means: d * q within half a step of x, bsums the sums */
        int bad = 0;
        for (int64_t b = 0; b < MAXN * 8 / QK_K; b++) {
            for (int i = 0; i < QK_K; i++)
                bad += fabsf(ak_ref[b].d * (float)ak_ref[b].qs[i] - x[b * QK_K + i]) > 0.5001f * fabsf(ak_ref[b].d);
            for (int j = 0; j < 16; j++) {
                int s = 0;
                for (int i = 0; i < 16; i++) s += ak_ref[b].qs[16 * j + i];
                bad += s != ak_ref[b].bsums[j];
            }
        }
        CHECK(bad == 0, "quantize_q8_K: %d values or sums wrong", bad);
        CHECK(ak_ref[1].d == 0.0f && ak_ref[3].qs[7] == -127 && ak_ref[3].qs[9] == 127 && ak_ref[3].d > 0.0f, "quantize_q8_K: zero block / ties");
    }

    /* ---- gemm_q8_K on decoded rows: any int8 value, any float scale, both sub-block sizes,
     *      with and without the integer mins; and the packed layout where a table has one */
    for (int impl = 0; impl < n_impl; impl++) {
        const ge_kernels *k = all[impl];
        const int64_t sizes[] = {256, 512, 1536, 2304, MAXN};
        const int64_t shapes[][2] = {{1, 1}, {5, 3}, {16, 8}, {17, 9}, {37, MAXT}, {32, 13}, {8, 64}, {48, 20}, {MAXR, 7}};
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            const int64_t n = sizes[si];
            for (int64_t i = 0; i < n * MAXT; i++) x[i] = frand() * 2.0f;
            ref->quantize_q8_K(x, ak_ref, n * MAXT);
            for (int64_t i = 0; i < n * MAXR; i++) wq[i] = (int8_t)rnd();
            for (int64_t i = 0; i < n * MAXR; i += 7) wq[i] = (int8_t)(i % 2 ? 127 : -128);
            for (int64_t i = 0; i < n / 16 * MAXR; i++) wm[i] = (int8_t)(i % 11 == 0 ? (i % 2 ? 127 : -128) : (int)(rnd() % 64));
            for (int64_t i = 0; i < n / QK_K * MAXR; i++) wd[i] = i % 5 == 0 ? 0.0f : -0.001f * (float)(rnd() % 1000);
            for (int sub = 16; sub <= 32; sub += 16)
                for (int with_min = 0; with_min < 2; with_min++) {
                    const int8_t *m = with_min ? wm : NULL;
                    for (int64_t i = 0; i < n / sub * MAXR; i++) {
                        const uint32_t r = rnd() % 8;
                        ws[i] = r == 0 ? 0.0f : r == 1 ? 65504.0f * 127.0f : r == 2 ? -1e-7f : frand() * 0.01f;
                    }
                    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
                        const int64_t rows = shapes[s][0], toks = shapes[s][1];
                        ref->gemm_q8_K(n, sub, wq, ws, m, wd, rows, ak_ref, toks, y_ref, MAXR);
                        k->gemm_q8_K(n, sub, wq, ws, m, wd, rows, ak_ref, toks, y, MAXR);
                        int bad = 0;
                        for (int64_t t = 0; t < toks; t++)
                            bad += memcmp(y + t * MAXR, y_ref + t * MAXR, sizeof(float) * (size_t)rows) != 0;
                        CHECK(bad == 0, "%s gemm_q8_K n=%lld sub=%d%s %lldx%lld: not bit-identical to scalar", k->name,
                              (long long)n, sub, with_min ? " mins" : "", (long long)rows, (long long)toks);
                    }
                    if (!k->pack_q8_K) continue;
                    /* packed: 96 rows, all of them, then rows 32..63 from their strip on */
                    const int64_t pr = k->pack_rows, prows = 96 / pr * pr;
                    void *P = malloc(k->packed_size_q8_K(prows, n, sub, with_min));
                    CHECK(P != NULL, "out of memory");
                    k->pack_q8_K(wq, ws, m, wd, prows, n, sub, P);
                    int bad = 0;
                    for (int64_t toks = 1; toks <= MAXT; toks += 23) {
                        ref->gemm_q8_K(n, sub, wq, ws, m, wd, prows, ak_ref, toks, y_ref, MAXR);
                        k->gemm_q8_K_packed(n, sub, with_min, P, prows, ak_ref, toks, y, MAXR);
                        for (int64_t t = 0; t < toks; t++)
                            bad += memcmp(y + t * MAXR, y_ref + t * MAXR, sizeof(float) * (size_t)prows) != 0;
                        const size_t strip = k->packed_size_q8_K(pr, n, sub, with_min);
                        const int64_t r0 = 2 * pr > prows - pr ? 0 : 2 * pr;
                        k->gemm_q8_K_packed(n, sub, with_min, (const char *)P + (size_t)(r0 / pr) * strip, pr, ak_ref, toks,
                                            y, MAXR);
                        for (int64_t t = 0; t < toks; t++)
                            bad += memcmp(y + t * MAXR, y_ref + t * MAXR + r0, sizeof(float) * (size_t)pr) != 0;
                    }
                    CHECK(bad == 0, "%s gemm_q8_K_packed n=%lld sub=%d%s: not bit-identical to scalar", k->name,
                          (long long)n, sub, with_min ? " mins" : "");
                    free(P);
                }
        }
    }

    /* ---- every type's product (decode + kernels + min terms), every table, bit for bit;
     *      and the scalar one against the float product of the dequantized operands */
    const int64_t sizes[] = {256, 768, 1536, MAXN};
    for (size_t ti = 0; ti < sizeof k_types / sizeof k_types[0]; ti++) {
        const uint32_t type = k_types[ti];
        const ge_type_traits *tt = ge_type_traits_of(type);
        CHECK(tt && tt->decode, "type %u has no traits", type);
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            const int64_t n = sizes[si];
            for (int extremes = 0; extremes < 2; extremes++) {
                rand_rows(type, wraw, MAXR, n, extremes);
                if (tt->decode_q8_0) { /* the shortcut into Q8_0 blocks says what decode() says */
                    int bad = 0;
                    const size_t rb = ge_row_bytes(type, n);
                    for (int64_t r = 0; r < MAXR; r++) {
                        float mn1[MAXN / 32], mn2[MAXN / 32];
                        tt->decode(wraw + (size_t)r * rb, n, wq, ws, mn1);
                        tt->decode_q8_0(wraw + (size_t)r * rb, n, a0, mn2);
                        for (int64_t b = 0; b < n / 32; b++) {
                            const float d = ge_fp16_to_fp32(a0[b].d);
                            bad += memcmp(a0[b].qs, wq + b * 32, 32) != 0 || (memcmp(&d, &ws[b], 4) != 0 && !(isnan(d) && isnan(ws[b]))) ||
                                   (tt->has_min && memcmp(&mn1[b], &mn2[b], 4) != 0 && !(isnan(mn1[b]) && isnan(mn2[b])));
                        }
                    }
                    CHECK(bad == 0, "%s decode_q8_0 n=%lld: %d blocks differ from decode", tt->name, (long long)n, bad);
                }
                for (int64_t i = 0; i < n * MAXT; i++) x[i] = frand();
                ge_act_bufs a = {a0, ak, s81};
                quantize_all(ref, x, MAXT, n, &a);
                ge_gemm_quant(ref, type, wraw, MAXR, n, &a, MAXT, y_ref, MAXR, buf);
                for (int impl = 1; impl < n_impl; impl++) {
                    const ge_kernels *k = all[impl];
                    ge_act_bufs ka = {a0, ak, s81};
                    quantize_all(k, x, MAXT, n, &ka); /* each table's own quantizers (same bits, checked above) */
                    ge_gemm_quant(k, type, wraw, MAXR, n, &ka, MAXT, y, MAXR, buf);
                    CHECK(memcmp(y, y_ref, sizeof(float) * MAXR * MAXT) == 0,
                          "%s %s n=%lld%s: product not bit-identical to scalar", k->name, tt->name, (long long)n,
                          extremes ? " (extreme scales)" : "");
                }
                if (extremes) continue;
                /* the meaning: sum_i w_i * a_i with w = ge_row_to_float(row), a = the activations'
                 * dequantized values (Q8_0 blocks or Q8_K), in double */
                double err = 0, norm = 0;
                const size_t rb = ge_row_bytes(type, n);
                for (int64_t r = 0; r < MAXR; r++) {
                    ge_row_to_float(type, wraw + (size_t)r * rb, wf, n);
                    for (int64_t t = 0; t < MAXT; t += 7) {
                        double e = 0;
                        for (int64_t i = 0; i < n; i++) {
                            const double av = tt->act == GE_AF_Q8_K
                                                  ? (double)ak[(t * n + i) / QK_K].d * ak[(t * n + i) / QK_K].qs[i % QK_K]
                                                  : (double)ge_fp16_to_fp32(a0[(t * n + i) / 32].d) * a0[(t * n + i) / 32].qs[i % 32];
                            e += (double)wf[i] * av;
                        }
                        err += (e - y_ref[t * MAXR + r]) * (e - y_ref[t * MAXR + r]);
                        norm += e * e;
                    }
                }
                CHECK(sqrt(err / (norm + 1e-30)) < 2e-3, "%s n=%lld: product vs dequantized float product, relative error %g",
                      tt->name, (long long)n, sqrt(err / (norm + 1e-30)));
            }
        }
    }
    free(buf);
    return check_summary("test_quant");
}
