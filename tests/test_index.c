/*
 * test_index.c - ggufembed_index: the index kernels of every table against the scalar
 * reference (bit for bit), search against a brute-force reference written here in
 * double, ids replaced and removed, save/load round trips, every truncation and
 * every single-byte corruption of a saved file refused, and fault injection (every
 * allocation of add, search, save/load failed in turn: a clean status, no leak).
 */
#include "../core/ggufembed.h"
#include "../core/alloc.h"
#include "../simd/kernels.h"
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t g_rng = 0x243F6A8885A308D3ull;
static uint64_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}
static float frand(void) { return (float)((rnd() >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f; }

static void test_kernels(void) {
    const ge_kernels *all[8];
    int n_impl = ge_kernels_available(all, 8);
    static int8_t a[4099], b[4099];
    static uint64_t u[70], v[70];
    for (int rep = 0; rep < 200; rep++) {
        int64_t n = (int64_t)(rnd() % 4099), w = (int64_t)(rnd() % 70);
        for (int64_t i = 0; i < n; i++) {
            a[i] = (int8_t)(rnd() % 255 - 127); /* -127..127 as the index stores them */
            b[i] = (int8_t)(rnd() % 255 - 127);
        }
        for (int64_t i = 0; i < w; i++) u[i] = rnd(), v[i] = rnd();
        int32_t d0 = ge_kernels_scalar.dot_i8(n, a, b);
        int64_t h0 = ge_kernels_scalar.hamming_u64(w, u, v);
        int32_t dref = 0;
        int64_t href = 0;
        for (int64_t i = 0; i < n; i++) dref += a[i] * b[i];
        for (int64_t i = 0; i < w; i++) href += __builtin_popcountll(u[i] ^ v[i]);
        CHECK(d0 == dref && h0 == href, "scalar reference n=%lld w=%lld", (long long)n, (long long)w);
        for (int k = 1; k < n_impl; k++) {
            CHECK(all[k]->dot_i8(n, a, b) == d0, "%s dot_i8 n=%lld", all[k]->name, (long long)n);
            CHECK(all[k]->hamming_u64(w, u, v) == h0, "%s hamming w=%lld", all[k]->name, (long long)w);
        }
    }
    /* the extremes: every product 127*127 or -127*127 */
    memset(a, 127, sizeof a);
    memset(b, 0x81, sizeof b); /* -127 */
    for (int k = 0; k < n_impl; k++) CHECK(all[k]->dot_i8(4099, a, b) == -127 * 127 * 4099, "%s extremes", all[k]->name);
}

static ggufembed_index *make(int32_t dim, int type, int metric, int keep) {
    ggufembed_index_params p;
    ggufembed_index_params_init(&p);
    p.dimension = dim;
    p.type = type;
    p.metric = metric;
    p.keep_f32 = keep;
    ggufembed_index *ix = NULL;
    char err[128];
    ggufembed_status st = ggufembed_index_new(&p, &ix, err, sizeof err);
    CHECK(st == GGUFEMBED_OK && ix, "index_new: %s", err);
    return ix;
}

/* the exact cosine of the prefixes, in double */
static double ref_cos(const float *x, const float *q, int d) { return cosine(x, q, d); }

static void test_search(void) {
    enum { N = 1000, FULL = 96, D = 64, K = 10 };
    static float vec[N * FULL], q[FULL];
    for (int i = 0; i < N * FULL; i++) vec[i] = frand();
    for (int i = 0; i < FULL; i++) q[i] = frand();
    static uint64_t ids[N];
    for (int i = 0; i < N; i++) ids[i] = 1000003ull * (uint64_t)i + 7; /* sparse ids */
    /* the reference top K by exact cosine of the 64-dim prefixes */
    static double sc[N];
    static int order[N];
    for (int i = 0; i < N; i++) sc[i] = ref_cos(vec + i * FULL, q, D), order[i] = i;
    for (int i = 0; i < K; i++)
        for (int j = i + 1; j < N; j++)
            if (sc[order[j]] > sc[order[i]]) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    const char *names[] = {"f32", "int8", "binary"};
    for (int type = 0; type <= 2; type++) {
        ggufembed_index *ix = make(D, type, GGUFEMBED_METRIC_COSINE, 1);
        CHECK(ggufembed_index_add(ix, ids, vec, N, FULL) == GGUFEMBED_OK, "add: %s", ggufembed_index_last_error(ix));
        CHECK(ggufembed_index_count(ix) == N, "count");
        uint64_t got[K];
        float gs[K];
        size_t nf = 0;
        ggufembed_search_options o;
        ggufembed_search_options_init(&o);
        o.rescore = type == GGUFEMBED_INDEX_F32 ? 0 : (type == GGUFEMBED_INDEX_INT8 ? 4 : 50); /* binary on random 64-dim vectors is coarse: half the set re-scored */
        CHECK(ggufembed_index_search(ix, q, FULL, K, &o, got, gs, &nf) == GGUFEMBED_OK && nf == K, "search %s",
              names[type]);
        int hits = 0;
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++) hits += got[i] == ids[order[j]];
        /* exact for f32; int8/binary after re-scoring recover (nearly) all of the exact top 10 */
        CHECK(hits >= (type == 0 ? K : K - 1), "%s recall@10 = %d/10", names[type], hits);
        if (type == 0) {
            for (int i = 0; i < K; i++)
                CHECK(got[i] == ids[order[i]] && fabs(gs[i] - sc[order[i]]) < 1e-5, "f32 rank %d", i);
        }
        for (int i = 1; i < K; i++) CHECK(gs[i - 1] >= gs[i], "%s sorted", names[type]);
        /* the same query again: the same bits (no state carried over) */
        uint64_t got2[K];
        float gs2[K];
        ggufembed_index_search(ix, q, FULL, K, &o, got2, gs2, &nf);
        CHECK(!memcmp(got, got2, sizeof got) && !memcmp(gs, gs2, sizeof gs), "%s repeatable", names[type]);

        /* every kernel table gives the same results */
        const ge_kernels *all[8];
        int n_impl = ge_kernels_available(all, 8);
        for (int k = 0; k < n_impl; k++) {
            ge_kernels_select(all[k]->name);
            o.rescore = 0;
            uint64_t a1[K];
            float s1[K];
            ggufembed_index_search(ix, q, FULL, K, &o, a1, s1, &nf);
            if (k == 0) memcpy(got2, a1, sizeof a1), memcpy(gs2, s1, sizeof s1);
            CHECK(!memcmp(a1, got2, sizeof a1) && !memcmp(s1, gs2, sizeof s1), "%s: %s differs from scalar",
                  names[type], all[k]->name);
        }
        ge_kernels_select(all[n_impl - 1]->name);

        /* save -> load -> the same answers; every truncation and corruption refused */
        size_t size = 0;
        CHECK(ggufembed_index_save(ix, NULL, 0, &size) == GGUFEMBED_ERR_BUFFER_TOO_SMALL && size > 48, "save size");
        unsigned char *buf = malloc(size);
        CHECK(ggufembed_index_save(ix, buf, size, &size) == GGUFEMBED_OK, "save");
        ggufembed_index *ix2 = NULL;
        char err[160];
        CHECK(ggufembed_index_load(buf, size, &ix2, err, sizeof err) == GGUFEMBED_OK, "load: %s", err);
        o.rescore = 0;
        uint64_t a1[K], a2[K];
        float s1[K], s2[K];
        ggufembed_index_search(ix, q, FULL, K, &o, a1, s1, &nf);
        ggufembed_index_search(ix2, q, FULL, K, &o, a2, s2, &nf);
        CHECK(!memcmp(a1, a2, sizeof a1) && !memcmp(s1, s2, sizeof s1), "%s: loaded index answers the same", names[type]);
        ggufembed_index_free(ix2);
        int refused = 0, tried = 0;
        for (size_t cut = 0; cut < size; cut += (cut < 64 ? 1 : 97)) {
            tried++;
            ix2 = (ggufembed_index *)1;
            refused += ggufembed_index_load(buf, cut, &ix2, err, sizeof err) == GGUFEMBED_ERR_FORMAT && !ix2 &&
                       !strchr(err, '\n');
        }
        CHECK(refused == tried, "%s: %d of %d truncations refused", names[type], refused, tried);
        refused = tried = 0;
        for (size_t at = 0; at < size; at += (at < 64 ? 1 : 89)) {
            unsigned char old = buf[at];
            buf[at] ^= (unsigned char)(1u << (at % 8));
            tried++;
            ix2 = NULL;
            ggufembed_status st = ggufembed_index_load(buf, size, &ix2, err, sizeof err);
            refused += st == GGUFEMBED_ERR_FORMAT && !ix2;
            ggufembed_index_free(ix2);
            buf[at] = old;
        }
        /* the checksum covers the body; the header's own fields are checked one by one
         * (bytes 32..39 are the checksum: any flip there mismatches) */
        CHECK(refused == tried, "%s: %d of %d corruptions refused", names[type], refused, tried);
        free(buf);

        /* remove: gone from the results, the rest unchanged */
        size_t nr = 0;
        uint64_t gone[2] = {got[0], 424242};
        CHECK(ggufembed_index_remove(ix, gone, 2, &nr) == GGUFEMBED_OK && nr == 1 && ggufembed_index_count(ix) == N - 1,
              "remove");
        ggufembed_index_search(ix, q, FULL, K, &o, a2, s2, &nf);
        for (int i = 0; i < K; i++) CHECK(a2[i] != got[0], "removed id not found");
        ggufembed_index_free(ix);
    }
}

static void test_upsert_and_errors(void) {
    ggufembed_index *ix = make(4, GGUFEMBED_INDEX_F32, GGUFEMBED_METRIC_DOT, 0);
    float v[8] = {1, 0, 0, 0, 0, 2, 0, 0};
    uint64_t id[2] = {5, 5};
    CHECK(ggufembed_index_add(ix, id, v, 2, 4) == GGUFEMBED_OK && ggufembed_index_count(ix) == 1, "same id replaces");
    float q[4] = {0, 1, 0, 0}, s;
    uint64_t got;
    size_t nf;
    CHECK(ggufembed_index_search(ix, q, 4, 5, NULL, &got, &s, &nf) == GGUFEMBED_OK && nf == 1 && got == 5 && s == 2.0f,
          "dot metric, the second vector kept");
    float bad[4] = {NAN, 0, 0, 0};
    CHECK(ggufembed_index_add(ix, id, bad, 1, 4) == GGUFEMBED_ERR_INVALID_ARGUMENT &&
              strstr(ggufembed_index_last_error(ix), "NaN"), "NaN refused");
    CHECK(ggufembed_index_add(ix, id, v, 1, 3) == GGUFEMBED_ERR_INVALID_ARGUMENT, "short stride refused");
    CHECK(ggufembed_index_search(ix, q, 3, 1, NULL, &got, &s, &nf) == GGUFEMBED_ERR_INVALID_ARGUMENT, "short query");
    ggufembed_search_options o;
    ggufembed_search_options_init(&o);
    o.rescore = 2;
    CHECK(ggufembed_index_search(ix, q, 4, 1, &o, &got, &s, &nf) == GGUFEMBED_OK, "rescore on f32 is a no-op");
    ggufembed_index_free(ix);
    ix = make(4, GGUFEMBED_INDEX_INT8, GGUFEMBED_METRIC_COSINE, 0);
    CHECK(ggufembed_index_search(ix, q, 4, 1, &o, &got, &s, &nf) == GGUFEMBED_ERR_INVALID_ARGUMENT, "rescore needs f32");
    float zero[4] = {0};
    CHECK(ggufembed_index_add(ix, id, zero, 1, 4) == GGUFEMBED_ERR_INVALID_ARGUMENT, "zero vector under cosine");
    CHECK(ggufembed_index_search(ix, q, 4, 1, NULL, &got, &s, &nf) == GGUFEMBED_OK && nf == 0, "empty index");
    ggufembed_index_free(ix);
    ggufembed_index_free(NULL);
    ggufembed_index_params p;
    ggufembed_index_params_init(&p);
    char err[128];
    p.dimension = 0;
    CHECK(ggufembed_index_new(&p, &ix, err, sizeof err) == GGUFEMBED_ERR_INVALID_ARGUMENT && !ix, "dimension 0");
    p.dimension = 8;
    p.type = GGUFEMBED_INDEX_BINARY;
    p.metric = GGUFEMBED_METRIC_DOT;
    CHECK(ggufembed_index_new(&p, &ix, err, sizeof err) == GGUFEMBED_ERR_INVALID_ARGUMENT && strstr(err, "binary"),
          "binary + dot refused");
    p.type = 7;
    CHECK(ggufembed_index_new(&p, &ix, err, sizeof err) == GGUFEMBED_ERR_INVALID_ARGUMENT, "unknown type");
}

/* every allocation of a new/add/search/save/load sequence failed in turn */
static void test_faults(void) {
    float v[3 * 40];
    for (int i = 0; i < 3 * 40; i++) v[i] = frand();
    uint64_t ids[3] = {1, 2, 3};
    int clean = 0, runs = 0;
    for (long fail_at = 1; fail_at < 200; fail_at++) {
        for (int type = 0; type <= 2; type++) {
            ge_alloc_fail_after(fail_at);
            ggufembed_index_params p;
            ggufembed_index_params_init(&p);
            p.dimension = 40;
            p.type = type;
            p.keep_f32 = 1;
            ggufembed_index *ix = NULL, *ix2 = NULL;
            ggufembed_status st = ggufembed_index_new(&p, &ix, NULL, 0);
            if (st == GGUFEMBED_OK) st = ggufembed_index_add(ix, ids, v, 3, 40);
            uint64_t got[3];
            float s[3];
            size_t nf;
            if (st == GGUFEMBED_OK) st = ggufembed_index_search(ix, v, 40, 3, NULL, got, s, &nf);
            unsigned char buf[4096];
            size_t size;
            if (st == GGUFEMBED_OK) st = ggufembed_index_save(ix, buf, sizeof buf, &size);
            if (st == GGUFEMBED_OK) st = ggufembed_index_load(buf, size, &ix2, NULL, 0);
            ge_alloc_fail_after(0);
            runs++;
            clean += st == GGUFEMBED_OK || st == GGUFEMBED_ERR_OUT_OF_MEMORY;
            ggufembed_index_free(ix2);
            ggufembed_index_free(ix);
        }
    }
    CHECK(clean == runs, "%d of %d fault runs ended cleanly", clean, runs);
}

int main(void) {
    test_kernels();
    test_search();
    test_upsert_and_errors();
    test_faults();
    return check_summary("index");
}
