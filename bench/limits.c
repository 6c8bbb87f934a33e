/*
 * limits.c - this machine's physical limits for the benchmark's roofline:
 *   - memory read bandwidth: a streaming sum (AVX2 loads, 4 independent accumulators)
 *     over a buffer far larger than the last-level cache, 1..T threads, each thread
 *     summing its own contiguous share; best pass reported (the attainable peak);
 *   - int8 dot-product peak, AVX2: _mm256_maddubs_epi16 + _mm256_madd_epi16 (x ones) +
 *     _mm256_add_epi32, 8 independent chains, 32 u8*s8 MACs per maddubs; this is the
 *     instruction sequence an AVX2 Q8_0 kernel is built from (without its sign fix-ups,
 *     scale conversions and loads, so it is an upper bound);
 *   - int8 dot-product peak, AVX-512 VNNI (_mm512_dpbusd_epi32, 64 MACs each), only when
 *     the CPU has it: llama.cpp built with GGML_NATIVE uses it, ggufembed does not.
 * Usage: limits [--threads-max T] [--mb MB] [--seconds S]
 * Output: one JSON object on stdout.
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct job {
    int kind; /* 0 = bandwidth, 1 = avx2 int8, 2 = avx512 vnni */
    const uint8_t *buf;
    size_t bytes;
    long iters;
    pthread_barrier_t *bar;
    double t_start, t_end;
    int64_t sink;
} job;

__attribute__((target("avx2"))) static int64_t stream_sum(const uint8_t *p, size_t n) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 128 <= n; i += 128) {
        a0 = _mm256_add_epi64(a0, _mm256_load_si256((const __m256i *)(p + i)));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256((const __m256i *)(p + i + 32)));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256((const __m256i *)(p + i + 64)));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256((const __m256i *)(p + i + 96)));
    }
    a0 = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    int64_t v[4];
    _mm256_storeu_si256((__m256i *)v, a0);
    return v[0] + v[1] + v[2] + v[3];
}

#define BARRIER_X(...) __asm__ volatile("" : __VA_ARGS__)

__attribute__((target("avx2"))) static int64_t int8_avx2(long iters) {
    /* 4 accumulators are enough: the only loop-carried dependency is the 1-cycle add;
     * the multiplies of one iteration are independent. 16 ymm registers: no spills. */
    __m256i ones = _mm256_set1_epi16(1);
    __m256i a0 = _mm256_set1_epi8(3), a1 = _mm256_set1_epi8(5), b = _mm256_set1_epi8(-2);
    __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0;
    for (long i = 0; i < iters; i++) {
        /* 8 maddubs per iteration = 256 MACs; the empty asm makes the inputs opaque so
         * nothing is hoisted out of the loop (it emits no instruction). */
        BARRIER_X("+x"(a0), "+x"(a1), "+x"(b));
        c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_maddubs_epi16(a0, b), ones));
        c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_maddubs_epi16(a1, b), ones));
        c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(_mm256_maddubs_epi16(b, a0), ones));
        c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(_mm256_maddubs_epi16(b, a1), ones));
        c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_maddubs_epi16(a1, a0), ones));
        c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_maddubs_epi16(a0, a1), ones));
        c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(_mm256_maddubs_epi16(b, b), ones));
        c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(_mm256_maddubs_epi16(a0, a0), ones));
    }
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(c0, c1), _mm256_add_epi32(c2, c3));
    int32_t v[8];
    _mm256_storeu_si256((__m256i *)v, s);
    return (int64_t)v[0] + v[7];
}
#define AVX2_MACS_PER_ITER 256

__attribute__((target("avx512f,avx512vnni"))) static int64_t int8_vnni512(long iters) {
    __m512i a0 = _mm512_set1_epi8(3), a1 = _mm512_set1_epi8(5), b = _mm512_set1_epi8(-2);
    /* 8 chains (dpbusd has a multi-cycle latency), distinct start values and operand
     * pairs so that no two chains can be merged by the compiler. */
    __m512i c0 = _mm512_set1_epi32(0), c1 = _mm512_set1_epi32(1), c2 = _mm512_set1_epi32(2),
            c3 = _mm512_set1_epi32(3), c4 = _mm512_set1_epi32(4), c5 = _mm512_set1_epi32(5),
            c6 = _mm512_set1_epi32(6), c7 = _mm512_set1_epi32(7);
    for (long i = 0; i < iters; i++) {
        BARRIER_X("+v"(a0), "+v"(a1), "+v"(b));
        c0 = _mm512_dpbusd_epi32(c0, a0, b);
        c1 = _mm512_dpbusd_epi32(c1, a1, b);
        c2 = _mm512_dpbusd_epi32(c2, b, a0);
        c3 = _mm512_dpbusd_epi32(c3, b, a1);
        c4 = _mm512_dpbusd_epi32(c4, a0, a1);
        c5 = _mm512_dpbusd_epi32(c5, a1, a0);
        c6 = _mm512_dpbusd_epi32(c6, a0, a0);
        c7 = _mm512_dpbusd_epi32(c7, b, b);
    }
    __m512i s = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c0, c1), _mm512_add_epi32(c2, c3)),
                                 _mm512_add_epi32(_mm512_add_epi32(c4, c5), _mm512_add_epi32(c6, c7)));
    return _mm512_reduce_add_epi32(s);
}
#define VNNI_MACS_PER_ITER 512

static void *worker(void *arg) {
    job *j = (job *)arg;
    pthread_barrier_wait(j->bar);
    j->t_start = now_s();
    if (j->kind == 0) j->sink = stream_sum(j->buf, j->bytes);
    else if (j->kind == 1) j->sink = int8_avx2(j->iters);
    else j->sink = int8_vnni512(j->iters);
    j->t_end = now_s();
    return NULL;
}

/* Runs T jobs of one kind; returns the wall time from the first start to the last end
 * (each thread stamps its own start after the barrier). */
static double run(int kind, int T, const uint8_t *buf, size_t bytes, long iters, int64_t *sink) {
    pthread_t th[64];
    job jobs[64];
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, (unsigned)T + 1);
    size_t share = (bytes / (size_t)T) & ~(size_t)127;
    for (int t = 0; t < T; t++) {
        jobs[t] = (job){kind, buf + (size_t)t * share, share, iters, &bar, 0, 0, 0};
        pthread_create(&th[t], NULL, worker, &jobs[t]);
    }
    pthread_barrier_wait(&bar);
    double t0 = 1e300, t1 = 0;
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        if (jobs[t].t_start < t0) t0 = jobs[t].t_start;
        if (jobs[t].t_end > t1) t1 = jobs[t].t_end;
        *sink += jobs[t].sink;
    }
    pthread_barrier_destroy(&bar);
    return t1 - t0;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int tmax = 2;
    size_t mb = 1024;
    double seconds = 0.3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--threads-max")) tmax = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--mb")) mb = (size_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
    }
    if (tmax < 1 || tmax > 64) tmax = 2;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2")) {
        printf("{\"error\":\"no AVX2\"}\n");
        return 0;
    }
    int has_vnni = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vnni");
    size_t bytes = mb << 20;
    uint8_t *buf = NULL;
    if (posix_memalign((void **)&buf, 4096, bytes) != 0) return 1;
    for (size_t i = 0; i < bytes; i += 4096) memset(buf + i, (int)(i >> 12), 4096);
    int64_t sink = 0;

    printf("{\"buffer_mb\":%zu,\"seconds_per_test\":%g", mb, seconds);
    /* bandwidth: passes until ~seconds have elapsed (at least 3), best and median. */
    printf(",\"bandwidth_gbs\":{");
    for (int T = 1; T <= tmax; T++) {
        double r[64];
        int n = 0;
        double spent = 0;
        run(0, T, buf, bytes, 0, &sink); /* warm */
        while (n < 64 && (n < 3 || spent < seconds)) {
            double t = run(0, T, buf, bytes, 0, &sink);
            spent += t;
            r[n++] = (double)((bytes / (size_t)T) & ~(size_t)127) * T / t / 1e9;
        }
        qsort(r, (size_t)n, sizeof r[0], cmp_d);
        printf("%s\"%d\":{\"best\":%.2f,\"median\":%.2f,\"passes\":%d}", T > 1 ? "," : "", T, r[n - 1], r[n / 2], n);
    }
    printf("}");
    /* int8 peaks: calibrate the iteration count on one thread, then 10 trials, best. */
    for (int kind = 1; kind <= 2; kind++) {
        if (kind == 2 && !has_vnni) {
            printf(",\"int8_avx512vnni_gmacs\":null");
            continue;
        }
        const double macs_per_iter = kind == 1 ? AVX2_MACS_PER_ITER : VNNI_MACS_PER_ITER;
        long iters = 1 << 16;
        for (;;) {
            double t = run(kind, 1, buf, bytes, iters, &sink);
            if (t > seconds / 5 || iters > (1L << 40)) break;
            iters *= 2;
        }
        printf(",\"%s\":{", kind == 1 ? "int8_avx2_gmacs" : "int8_avx512vnni_gmacs");
        for (int T = 1; T <= tmax; T++) {
            double best = 0;
            for (int trial = 0; trial < 10; trial++) {
                double t = run(kind, T, buf, bytes, iters, &sink);
                double g = macs_per_iter * (double)iters * T / t / 1e9;
                if (g > best) best = g;
            }
            printf("%s\"%d\":%.2f", T > 1 ? "," : "", T, best);
        }
        printf("}");
    }
    printf(",\"sink\":%lld}\n", (long long)(sink & 1));
    free(buf);
    return 0;
}
