/*
 * test_kernels.c - every kernel table available on this CPU against the scalar
 * reference (ggml's test-quantize-fns idea): random inputs, many shapes. The
 * results must be bit-identical (kernels.h: one canonical arithmetic order).
 */
#include "../simd/kernels.h"
#include "../core/util.h"
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static float frand(void) { /* xorshift, uniform in [-1, 1) */
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (float)((g_rng >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}

static void fill(float *x, int64_t n, float scale) {
    for (int64_t i = 0; i < n; i++) x[i] = frand() * scale;
}

int main(void) {
    const ge_kernels *all[8];
    int n_impl = ge_kernels_available(all, 8);
    const ge_kernels *ref = &ge_kernels_scalar;
    CHECK(n_impl >= 1 && all[0] == ref, "scalar must be first");
    printf("kernels available:");
    for (int i = 0; i < n_impl; i++) printf(" %s", all[i]->name);
    printf("\n");

    /* rows: two AVX-512 strips of 16 + an AVX2 strip of 8 + 1; tokens: past one
     * 64-token chunk with a partial register tile */
    enum { MAXN = 16384 + 32, MAXR = 41, MAXT = 70 };
    static float x[MAXN * MAXT], w[MAXN * MAXR], y_ref[MAXT * MAXR], y[MAXT * MAXR];
    static block_q8_0 qa_ref[MAXN / 32 * MAXT], qa[MAXN / 32 * MAXT], qw[MAXN / 32 * MAXR];

    for (int impl = 0; impl < n_impl; impl++) {
        const ge_kernels *k = all[impl];
        const int64_t sizes[] = {32, 64, 256, 768, 1152, 2048, 4096 + 64, 16384 + 32};
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            const int64_t n = sizes[si], nb = n / 32;
            /* quantize: identical blocks except at exact .5 ties (none with random data) */
            fill(x, n * MAXT, 3.0f);
            x[5] = 0.0f;
            for (int i = 0; i < 32; i++) x[n + i] = 0.0f; /* an all-zero block */
            ref->quantize_q8_0(x, qa_ref, n * MAXT);
            k->quantize_q8_0(x, qa, n * MAXT);
            int diff = 0;
            for (int64_t b = 0; b < nb * MAXT; b++) {
                diff += qa_ref[b].d != qa[b].d;
                for (int j = 0; j < 32; j++) diff += abs(qa_ref[b].qs[j] - qa[b].qs[j]) > 0;
            }
            CHECK(diff == 0, "%s quantize_q8_0 n=%lld: %d values differ from scalar", k->name, (long long)n, diff);

            /* gemm: bit-identical to the scalar reference, and close to the float product */
            fill(w, n * MAXR, 0.1f);
            ref->quantize_q8_0(w, qw, n * MAXR);
            const int64_t shapes[][2] = {{1, 1}, {4, 1}, {5, 3}, {MAXR, MAXT}, {8, 2}, {16, 9}, {32, 13}, {24, 5}, {17, 64}};
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
                const int64_t rows = shapes[s][0], toks = shapes[s][1];
                memset(y, 0, sizeof y);
                ref->gemm_q8_0(nb, qw, rows, qa_ref, toks, y_ref, rows);
                k->gemm_q8_0(nb, qw, rows, qa_ref, toks, y, rows);
                CHECK(memcmp(y, y_ref, sizeof(float) * (size_t)(rows * toks)) == 0,
                      "%s gemm_q8_0 n=%lld %lldx%lld: not bit-identical to scalar", k->name, (long long)n,
                      (long long)rows, (long long)toks);
                /* and against the float product: Q8_0 error stays small */
                double num = 0, den = 0;
                for (int64_t t = 0; t < toks; t++)
                    for (int64_t r = 0; r < rows; r++) {
                        double exact = 0;
                        for (int64_t i = 0; i < n; i++) exact += (double)w[r * n + i] * x[t * n + i];
                        num += (exact - y[t * rows + r]) * (exact - y[t * rows + r]);
                        den += exact * exact;
                    }
                CHECK(rows * toks < 15 || sqrt(num / (den + 1e-30)) < 0.02, "%s gemm_q8_0 vs float: relative error %g", k->name,
                      sqrt(num / (den + 1e-30)));
            }
            /* the packed layout, where the table has one: the same bits, from a
             * strip boundary too */
            if (k->pack_q8_0) {
                const int64_t pr = k->pack_rows, prow = MAXR / pr * pr;
                void *P = malloc(k->packed_size(prow, nb));
                CHECK(P != NULL, "out of memory");
                k->pack_q8_0(qw, prow, nb, P);
                k->gemm_q8_0_packed(nb, P, prow, qa_ref, MAXT, y, MAXR);
                ref->gemm_q8_0(nb, qw, prow, qa_ref, MAXT, y_ref, MAXR);
                int bad = 0;
                for (int64_t t = 0; t < MAXT; t++) bad += memcmp(y + t * MAXR, y_ref + t * MAXR, sizeof(float) * (size_t)prow) != 0;
                const size_t strip = k->packed_size(pr, nb);
                k->gemm_q8_0_packed(nb, (const char *)P + strip, pr, qa_ref, 3, y, MAXR);
                ref->gemm_q8_0(nb, qw + pr * nb, pr, qa_ref, 3, y_ref, MAXR);
                for (int64_t t = 0; t < 3; t++) bad += memcmp(y + t * MAXR, y_ref + t * MAXR, sizeof(float) * (size_t)pr) != 0;
                CHECK(bad == 0, "%s gemm_q8_0_packed n=%lld: not bit-identical to scalar", k->name, (long long)n);
                free(P);
            }
            /* weights may hold -128 (ggml never writes it, other quantizers may) */
            for (int64_t b = 0; b < nb * MAXR; b += 3) qw[b].qs[b % 32] = -128;
            ref->gemm_q8_0(nb, qw, MAXR, qa_ref, MAXT, y_ref, MAXR);
            k->gemm_q8_0(nb, qw, MAXR, qa_ref, MAXT, y, MAXR);
            CHECK(memcmp(y, y_ref, sizeof(float) * MAXR * MAXT) == 0,
                  "%s gemm_q8_0 n=%lld with -128 weights: not bit-identical to scalar", k->name, (long long)n);
            /* f32 helpers */
            fill(w, n, 1.0f);
            double exact = 0;
            for (int64_t i = 0; i < n; i++) exact += (double)w[i] * x[i];
            float d = k->dot_f32(n, w, x);
            CHECK(fabs(d - exact) < 1e-4 * (1 + fabs(exact)) * sqrt((double)n), "%s dot_f32 n=%lld: %g vs %g", k->name,
                  (long long)n, d, exact);
            for (int64_t len = n - 7; len <= n; len += 3) {
                float dr = ref->dot_f32(len, w, x), dk = k->dot_f32(len, w, x);
                CHECK(memcmp(&dr, &dk, 4) == 0, "%s dot_f32 len=%lld not bit-identical", k->name, (long long)len);
            }
            memcpy(y, x, sizeof(float) * (size_t)(n < MAXT * MAXR ? n : MAXT * MAXR));
            int64_t m = n < MAXT * MAXR ? n : MAXT * MAXR;
            memcpy(y_ref, y, sizeof(float) * (size_t)m);
            ref->axpy_f32(m - 3, 0.37f, w, y_ref);
            k->axpy_f32(m - 3, 0.37f, w, y);
            CHECK(memcmp(y, y_ref, sizeof(float) * (size_t)m) == 0, "%s axpy_f32 not bit-identical", k->name);
        }
    }
    /* attention products: odd block sizes, strided rows */
    for (int impl = 0; impl < n_impl; impl++) {
        const ge_kernels *k = all[impl];
        enum { LD = 3 * 256 + 8, N = 37, MQ = 17 };
        static float Q[MQ * LD], K[N * LD], V[N * LD], S[MQ * 64], S_ref[MQ * 64], O[MQ * LD], O_ref[MQ * LD];
        fill(Q, MQ * LD, 1.0f), fill(K, N * LD, 1.0f), fill(V, N * LD, 1.0f);
        const int64_t ms[] = {1, 3, 4, 7, 8, 11, MQ}, ns[] = {1, 2, 4, 5, 9, N}, ds[] = {256, 72};
        for (int a = 0; a < 7; a++)
            for (int b = 0; b < 6; b++)
                for (int di = 0; di < 2; di++) {
                    const int64_t m = ms[a], n = ns[b], D = ds[di];
                    ref->scores_f32(m, n, D, Q, LD, K, LD, 0.0625f, S_ref, 64);
                    k->scores_f32(m, n, D, Q, LD, K, LD, 0.0625f, S, 64);
                    int diff = 0;
                    for (int64_t i = 0; i < m; i++) diff += memcmp(S + i * 64, S_ref + i * 64, sizeof(float) * (size_t)n) != 0;
                    CHECK(diff == 0, "%s scores_f32 %lldx%lldx%lld: not bit-identical", k->name, (long long)m, (long long)n,
                          (long long)D);
                    ref->pv_f32(m, n, D, S_ref, 64, V, LD, O_ref, LD);
                    k->pv_f32(m, n, D, S_ref, 64, V, LD, O, LD);
                    diff = 0;
                    for (int64_t i = 0; i < m; i++) diff += memcmp(O + i * LD, O_ref + i * LD, sizeof(float) * (size_t)D) != 0;
                    CHECK(diff == 0, "%s pv_f32 %lldx%lldx%lld: not bit-identical", k->name, (long long)m, (long long)n,
                          (long long)D);
                }
    }

    /* ge_scale2 (ge_expf's scaling) rounds exactly as ldexpf, subnormals included */
    {
        int bad = 0;
        for (int kk = -190; kk <= 128; kk++)
            for (int i = 0; i < 2000; i++) {
                const float p = 0.5f + 1.5f * (float)i / 2000.0f + (i & 1 ? 1e-7f : 0.0f);
                const float a = ge_scale2(p, kk), b = ldexpf(p, kk);
                bad += memcmp(&a, &b, 4) != 0;
            }
        CHECK(bad == 0, "ge_scale2 differs from ldexpf %d times", bad);
    }

    /* softmax's exponentials: every range of ge_expf (underflow to subnormals and
     * zero, the overflow edge, NaN), against the scalar reference */
    {
        enum { NE = 4096 + 5 };
        static float xe[NE], er[NE], ek[NE];
        for (int i = 0; i < NE - 16; i++) xe[i] = -110.0f + 200.0f * (float)i / (float)(NE - 16) + frand() * 0.01f;
        const float sp[] = {-103.9f, -103.89f, -87.5f, -87.3f, 88.72f, 88.7f, 88.73f, 0.0f, -0.0f, NAN,
                            -1e30f, 1e30f, 1e-30f, -0.5f, 0.34657359f, -87.33654f};
        for (int i = 0; i < 16; i++) xe[NE - 16 + i] = sp[i];
        for (int impl = 0; impl < n_impl; impl++) {
            const ge_kernels *k = all[impl];
            for (int mi = 0; mi < 2; mi++) {
                const float m = mi ? 1.5f : 0.0f;
                memcpy(er, xe, sizeof xe), memcpy(ek, xe, sizeof xe);
                ref->exp_sub_f32(NE, er, m);
                k->exp_sub_f32(NE, ek, m);
                int bad = 0;
                for (int i = 0; i < NE; i++) bad += memcmp(&er[i], &ek[i], 4) != 0 && !(isnan(er[i]) && isnan(ek[i]));
                CHECK(bad == 0, "%s exp_sub_f32: %d values differ from scalar", k->name, bad);
            }
            /* and close to the true exponential */
            double worst = 0;
            for (int i = 0; i < NE - 16; i++) {
                const double t = exp((double)(xe[i] - 1.5f)); /* er holds the m = 1.5 run */
                if (t > 1e-37 && t < 1e38) {
                    const double rel = fabs(er[i] - t) / t;
                    if (rel > worst) worst = rel;
                }
            }
            CHECK(worst < 4e-7, "ge_expf relative error %g", worst);
        }
    }

    /* GEGLU's table step: every fp16 bit pattern's neighbourhood, the clamps, signs */
    {
        float *table = malloc(sizeof(float) * 65536);
        enum { NG = 65536 * 3 + 64 };
        float *g0 = malloc(sizeof(float) * NG), *u = malloc(sizeof(float) * NG), *gr = malloc(sizeof(float) * NG),
              *gk = malloc(sizeof(float) * NG);
        CHECK(table && g0 && u && gr && gk, "out of memory");
        /* any values (it is a lookup), but NaN at NaN's bit patterns, as gelu(NaN)
         * is in the real table: NaN payloads may map to different entries */
        for (int h = 0; h < 65536; h++) table[h] = isnan(ge_fp16_to_fp32((uint16_t)h)) ? NAN : (float)h * 0.25f - 3.0f;
        for (int h = 0; h < 65536; h++) {
            const float v = ge_fp16_to_fp32((uint16_t)h);
            g0[3 * h] = v;
            g0[3 * h + 1] = nextafterf(v, 1e30f); /* near rounding ties between fp16 values */
            g0[3 * h + 2] = v * 1.00048828125f;  /* halfway to the next fp16 value, roughly */
        }
        const float special[] = {-10.0f, 10.0f, -10.5f, 10.5f, nextafterf(-10.0f, 0.0f), nextafterf(10.0f, 0.0f), 0.0f, -0.0f,
                                 65504.0f, 65520.0f, -1e30f, 1e30f, 6e-8f, -3e-8f, 1e-30f};
        for (int i = 0; i < 64; i++) g0[65536 * 3 + i] = special[i % (int)(sizeof special / sizeof special[0])];
        for (int i = 0; i < NG; i++) u[i] = frand() * 2.0f;
        for (int impl = 0; impl < n_impl; impl++) {
            const ge_kernels *k = all[impl];
            memcpy(gr, g0, sizeof(float) * NG), memcpy(gk, g0, sizeof(float) * NG);
            ref->gelu_mul_f32(NG - 3, gr, u, table);
            k->gelu_mul_f32(NG - 3, gk, u, table);
            int bad = 0;
            for (int i = 0; i < NG; i++) {
                const int d = memcmp(&gr[i], &gk[i], 4) != 0 && !(isnan(gr[i]) && isnan(gk[i]));
                if (d && bad < 5) printf("  gelu_mul %s: g=%a ref %a got %a\n", k->name, g0[i], gr[i], gk[i]);
                bad += d;
            }
            CHECK(bad == 0, "%s gelu_mul_f32: %d values differ from scalar", k->name, bad);
        }
        free(table), free(g0), free(u), free(gr), free(gk);
    }

    /* quantization ties and near-ties: values k + 0.5 +- a few ulps after scaling
     * (block max 127 makes the multiplier 127/127 = 1, so x * id == x) */
    for (int impl = 0; impl < n_impl; impl++) {
        const ge_kernels *k = all[impl];
        static float xs[32 * 256];
        static block_q8_0 qr[256], qk[256];
        int nx = 0;
        for (int b = 0; b < 256; b++) {
            xs[b * 32] = 127.0f; /* amax = 127 -> d = 1, id = 1 */
            for (int j = 1; j < 32; j++) {
                float base = (float)((b * 31 + j) % 127) + 0.5f;
                int steps = (b + j) % 5 - 2;
                float v = base;
                for (int s2 = 0; s2 < (steps < 0 ? -steps : steps); s2++) v = nextafterf(v, steps < 0 ? 0.0f : 200.0f);
                xs[b * 32 + j] = (j & 1) ? v : -v;
                nx++;
            }
        }
        xs[33] = 0.49999997f, xs[34] = -0.49999997f, xs[35] = 0.5f, xs[36] = 1.4999999f, xs[37] = 2.5f;
        ref->quantize_q8_0(xs, qr, 32 * 256);
        k->quantize_q8_0(xs, qk, 32 * 256);
        CHECK(memcmp(qr, qk, sizeof qr) == 0, "%s quantize_q8_0 differs from the reference at ties (%d values)", k->name,
              nx);
        /* ggml's x86 path: x * (127 / amax), rounded half to even */
        CHECK(qr[1].qs[1] == 0 && qr[1].qs[3] == 0 && qr[1].qs[4] == 1 && qr[1].qs[5] == 2,
              "reference rounding: %d %d %d %d", qr[1].qs[1], qr[1].qs[3], qr[1].qs[4], qr[1].qs[5]);
    }

    /* half-float conversion round trip over every finite half */
    int bad = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        if (((h >> 10) & 0x1f) == 0x1f) continue;
        if (ge_fp32_to_fp16(ge_fp16_to_fp32((uint16_t)h)) != h) bad++;
    }
    CHECK(bad == 0, "%d halves do not round-trip", bad);
    CHECK(ge_fp32_to_fp16(1.0f) == 0x3c00 && ge_fp32_to_fp16(-2.0f) == 0xc000 && ge_fp32_to_fp16(65520.0f) == 0x7c00,
          "fp16 constants");
    return check_summary("test_kernels");
}
