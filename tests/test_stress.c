/*
 * test_stress.c - load and limits.
 *
 *   test_stress MODEL.gguf CORPUS.jsonl [THREADS] [ROUNDS]
 *
 * 1. Bounded batches: on the tiny bert of gguf_build.h, with a counting allocator
 *    (ggufembed_set_allocator), the peak heap of one embed_batch call is the same for
 *    60,000 texts and for 200,000 texts (ggufembed.h: a call holds at most 4096 texts /
 *    65536 tokens of ids), and every 997th vector of the chunked batch is bit-identical
 *    to the same text embedded alone.
 * 2. Concurrency: THREADS threads (default 8), each with its own context on one shared
 *    model, embed texts of mixed lengths from the corpus in different orders, singly
 *    and in batches, for ROUNDS rounds; every vector must be bit-identical to the
 *    serial one. Half of the contexts run their own 2-worker pools.
 */
#include "../core/ggufembed.h"
#include "check.h"
#include "gguf_build.h"
#include "jsonl.h"

#include <pthread.h>
#include <stdatomic.h>

/* ---- a counting allocator: live and peak bytes (a 16-byte header keeps the size) */

static atomic_llong g_live_bytes, g_peak_bytes;

static void *counting_malloc(void *user, size_t n) {
    (void)user;
    unsigned char *p = malloc(n + 16);
    if (!p) return NULL;
    memcpy(p, &n, sizeof n);
    long long now = atomic_fetch_add(&g_live_bytes, (long long)n) + (long long)n;
    long long peak = atomic_load(&g_peak_bytes);
    while (now > peak && !atomic_compare_exchange_weak(&g_peak_bytes, &peak, now)) {
    }
    return p + 16;
}
static void counting_free(void *user, void *q) {
    (void)user;
    if (!q) return;
    unsigned char *p = (unsigned char *)q - 16;
    size_t n;
    memcpy(&n, p, sizeof n);
    atomic_fetch_sub(&g_live_bytes, (long long)n);
    free(p);
}

/* "w<i> w<j> ..." texts of 1 to 6 tiny-vocabulary words, varied by i */
static void tiny_text(size_t i, char *buf, size_t cap) {
    static const char *const words[] = {"the", "cat", "dog", "sat", "on", "mat", "hello", "world", "run", "a", "b"};
    size_t n = 0, k = 1 + i % 6;
    buf[0] = 0;
    for (size_t w = 0; w < k; w++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", w ? " " : "", words[(i * 7 + w * 3 + i / 11) % 11]);
}

/* The peak heap of one embed_batch call of n texts on a fresh context (its scratch
 * grows once and stays: a second call on the same context would hide a growth). */
static long long batch_peak(const ggufembed_model *m, size_t n, float *out, char (*texts)[64], const char **ptrs) {
    for (size_t i = 0; i < n; i++) tiny_text(i, texts[i], 64), ptrs[i] = texts[i];
    long long base = atomic_load(&g_live_bytes);
    atomic_store(&g_peak_bytes, base);
    ggufembed_context *ctx = NULL;
    ggufembed_status st = ggufembed_context_new(m, NULL, &ctx);
    if (st == GGUFEMBED_OK) st = ggufembed_embed_batch(ctx, ptrs, NULL, n, NULL, out, n * GB_N_EMBD);
    CHECK(st == GGUFEMBED_OK, "batch of %zu: %s", n, ggufembed_context_last_error(ctx));
    ggufembed_context_free(ctx);
    return atomic_load(&g_peak_bytes) - base;
}

static void bounded_batches(void) {
    ggufembed_allocator a = {sizeof a, counting_malloc, counting_free, NULL};
    CHECK(ggufembed_set_allocator(&a) == GGUFEMBED_OK, "set_allocator");
    gb_file f;
    gb_tiny_bert(&f);
    gw bytes = gb_write(&f);
    gb_free(&f);
    char err[256] = "";
    ggufembed_model *m = NULL;
    CHECK(ggufembed_model_open_memory(bytes.p, bytes.n, &m, err, sizeof err) == GGUFEMBED_OK, "tiny model: %s", err);
    /* 60,000 texts of 3 to 8 tokens are ~330,000 ids (5 chunks); 200,000 are 17 chunks */
    const size_t small = 60000, big = 200000;
    float *out = malloc(sizeof(float) * GB_N_EMBD * big);
    char (*texts)[64] = malloc(64 * big);
    const char **ptrs = malloc(sizeof(char *) * big);
    if (m && out && texts && ptrs) {
        long long p_small = batch_peak(m, small, out, texts, ptrs);
        long long p_big = batch_peak(m, big, out, texts, ptrs);
        CHECK(p_big <= p_small + 4096, "peak heap of a batch grows with its size: %lld bytes for %zu texts, %lld for %zu",
              p_small, small, p_big, big);
        printf("bounded batches: peak heap of the call %lld bytes for %zu texts, %lld for %zu\n", p_small, small, p_big,
               big);
        ggufembed_context *ctx = NULL;
        CHECK(ggufembed_context_new(m, NULL, &ctx) == GGUFEMBED_OK, "context");
        float v[GB_N_EMBD];
        for (size_t i = 0; ctx && i < big; i += 997) {
            int same = ggufembed_embed(ctx, ptrs[i], strlen(ptrs[i]), NULL, v, GB_N_EMBD) == GGUFEMBED_OK &&
                       memcmp(v, out + i * GB_N_EMBD, sizeof v) == 0;
            CHECK(same, "chunked batch vector %zu differs from the text alone", i);
            if (!same) break;
        }
        ggufembed_context_free(ctx);
    }
    free(out), free(texts), free(ptrs);
    ggufembed_model_free(m);
    free(bytes.p);
    CHECK(atomic_load(&g_live_bytes) == 0, "%lld bytes still held", (long long)atomic_load(&g_live_bytes));
    CHECK(ggufembed_set_allocator(NULL) == GGUFEMBED_OK, "allocator reset");
}

/* ---- many threads, one model */

typedef struct shared {
    const ggufembed_model *m;
    char **texts;
    size_t *lens;
    size_t n;
    int dim, rounds;
    const float *ref; /* [n x dim] serial vectors */
} shared;

typedef struct worker {
    const shared *s;
    int id;
    long mismatches, failures;
} worker;

static void *worker_main(void *p) {
    worker *w = p;
    const shared *s = w->s;
    ggufembed_context_params cp;
    ggufembed_context_params_init(&cp);
    cp.n_threads = 1 + (w->id & 1);
    ggufembed_context *ctx = NULL;
    if (ggufembed_context_new(s->m, &cp, &ctx) != GGUFEMBED_OK) {
        w->failures++;
        return NULL;
    }
    float *v = malloc(sizeof(float) * (size_t)s->dim * 8);
    for (int r = 0; r < s->rounds; r++) {
        for (size_t k = 0; k < s->n; k++) {
            size_t i = (k * (size_t)(2 * w->id + 1) + (size_t)r * 5) % s->n; /* each thread its own order */
            size_t nb = (k + (size_t)w->id) % 3 == 0 ? 1 + (k % 7) : 1;  /* some batches of up to 7 */
            if (i + nb > s->n) nb = s->n - i;
            ggufembed_status st = ggufembed_embed_batch(ctx, (const char *const *)s->texts + i, s->lens + i, nb, NULL,
                                                        v, nb * (size_t)s->dim);
            if (st != GGUFEMBED_OK) {
                w->failures++;
                continue;
            }
            if (memcmp(v, s->ref + i * (size_t)s->dim, sizeof(float) * (size_t)s->dim * nb) != 0) w->mismatches++;
        }
    }
    free(v);
    ggufembed_context_free(ctx);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: test_stress MODEL.gguf CORPUS.jsonl [THREADS] [ROUNDS]\n");
        return 2;
    }
    const int n_threads = argc > 3 ? atoi(argv[3]) : 8, rounds = argc > 4 ? atoi(argv[4]) : 2;
    bounded_batches();

    char err[512] = "";
    ggufembed_model *m = NULL;
    if (ggufembed_model_open_file(argv[1], &m, err, sizeof err) != GGUFEMBED_OK) {
        CHECK(0, "open %s: %s", argv[1], err);
        return check_summary("test_stress");
    }
    /* every 9th corpus text up to 2000 bytes: one word to a few hundred tokens */
    size_t clen;
    char *corpus = read_file(argv[2], &clen);
    CHECK(corpus != NULL, "read %s", argv[2]);
    shared s = {m, NULL, NULL, 0, ggufembed_output_dimension(m, NULL), rounds, NULL};
    s.texts = calloc(4096, sizeof(char *));
    s.lens = calloc(4096, sizeof(size_t));
    char **lines = NULL;
    const size_t n_lines = corpus ? split_lines(corpus, &lines) : 0;
    for (size_t k = 0; k < n_lines && s.n < 4096; k += 9) {
        size_t len;
        char *t = json_get_string(lines[k], "text", &len);
        if (t && len > 0 && len <= 2000) s.texts[s.n] = t, s.lens[s.n++] = len;
        else free(t);
    }
    free(lines);
    (void)json_get_ints;
    float *ref = malloc(sizeof(float) * (size_t)s.dim * s.n);
    ggufembed_context_params cp;
    ggufembed_context_params_init(&cp);
    cp.n_threads = 1;
    ggufembed_context *ctx = NULL;
    CHECK(ggufembed_context_new(m, &cp, &ctx) == GGUFEMBED_OK, "serial context");
    for (size_t i = 0; i < s.n; i++)
        CHECK(ggufembed_embed(ctx, s.texts[i], s.lens[i], NULL, ref + i * (size_t)s.dim, (size_t)s.dim) == GGUFEMBED_OK,
              "serial text %zu: %s", i, ggufembed_context_last_error(ctx));
    ggufembed_context_free(ctx);
    s.ref = ref;

    pthread_t th[64];
    worker ws[64];
    int nt = n_threads < 64 ? n_threads : 64;
    for (int t = 0; t < nt; t++) {
        ws[t] = (worker){&s, t, 0, 0};
        pthread_create(&th[t], NULL, worker_main, &ws[t]);
    }
    long mism = 0, fails = 0;
    for (int t = 0; t < nt; t++) {
        pthread_join(th[t], NULL);
        mism += ws[t].mismatches, fails += ws[t].failures;
    }
    CHECK(mism == 0 && fails == 0, "%ld calls gave other vectors than the serial ones, %ld failed", mism, fails);
    printf("concurrency: %d threads x %d rounds over %zu texts: all bit-identical to serial\n", nt, rounds, s.n);
    for (size_t i = 0; i < s.n; i++) free(s.texts[i]);
    free(s.texts), free(s.lens), free(ref), free(corpus);
    ggufembed_model_free(m);
    return check_summary("test_stress");
}
