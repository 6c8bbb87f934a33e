/*
 * index.c - ggufembed_index: exact brute-force vector search over stored embeddings.
 *
 * A flat array of n vectors of `dim` values in one of three encodings:
 *   F32     dim floats (normalized on add for the cosine metric);
 *   INT8    dim int8 values q = round(x / s) with one float scale s = max|x| / 127 per
 *           vector; score = (float)isum(q_v . q_q) * (s_v * s_q): an exact integer sum,
 *           then fixed float steps, so every kernel table gives the same bits;
 *   BINARY  dim sign bits (x > 0), dim/64 words; score = 1 - 2 * hamming / dim, the
 *           cosine estimate of random-hyperplane hashing.
 * With keep_f32 the normalized f32 vectors are kept beside INT8/BINARY codes, and a
 * search may re-score its k * rescore best candidates exactly.
 *
 * Vectors are added as a Matryoshka prefix: the first `dim` values of a longer vector,
 * renormalized (cosine), as EmbeddingGemma's truncated outputs are.
 *
 * ids are any uint64; adding an id already present replaces its vector. A small
 * open-addressing table maps id -> slot; removal moves the last slot into the hole.
 *
 * No OS calls: save writes into a caller buffer, load reads one (native/ does files).
 * The file format is in index_format.h.
 */
#include "ggufembed.h"

#include "alloc.h"
#include "index_format.h"
#include "../simd/kernels.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct ggufembed_index {
    int32_t dim;      /* stored dimensions                                    */
    int32_t type;     /* ggufembed_index_type                                 */
    int32_t metric;   /* ggufembed_metric                                     */
    int32_t keep_f32; /* f32 copies beside int8/binary codes                  */
    size_t n, cap;    /* vectors stored, slots allocated                      */
    uint64_t *ids;    /* [cap]                                                */
    float *f32;       /* [cap * dim] (F32, or keep_f32), else NULL            */
    int8_t *q8;       /* [cap * dim] (INT8), else NULL                        */
    float *scale;     /* [cap] (INT8), else NULL                              */
    uint64_t *bits;   /* [cap * words] (BINARY), else NULL                    */
    int32_t words;    /* 64-bit words per binary code: ceil(dim / 64)        */
    size_t *slot_of;  /* hash table [hcap]: slot + 1, 0 = empty               */
    size_t hcap;      /* a power of two >= 2 * cap                            */
    /* search scratch, grown on demand (one search at a time per index)       */
    float *qbuf;      /* [dim] the prepared query                             */
    int8_t *qq;       /* [dim]                                                */
    uint64_t *qbits;  /* [words]                                              */
    char err[256];
};

static ggufembed_status fail(ggufembed_index *ix, ggufembed_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ix->err, sizeof ix->err, fmt, ap);
    va_end(ap);
    return st;
}

static void put_err(char *err, size_t err_size, const char *msg) {
    if (err && err_size) snprintf(err, err_size, "%s", msg);
}

void ggufembed_index_params_init(ggufembed_index_params *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->dimension = 0;
    p->type = GGUFEMBED_INDEX_F32;
    p->metric = GGUFEMBED_METRIC_COSINE;
    p->keep_f32 = 0;
}

void ggufembed_search_options_init(ggufembed_search_options *o) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->rescore = 0;
}

const char *ggufembed_index_last_error(const ggufembed_index *ix) { return ix ? ix->err : ""; }
size_t ggufembed_index_count(const ggufembed_index *ix) { return ix ? ix->n : 0; }
int32_t ggufembed_index_dimension(const ggufembed_index *ix) { return ix ? ix->dim : 0; }

void ggufembed_index_free(ggufembed_index *ix) {
    if (!ix) return;
    ge_free(ix->ids);
    ge_free(ix->f32);
    ge_free(ix->q8);
    ge_free(ix->scale);
    ge_free(ix->bits);
    ge_free(ix->slot_of);
    ge_free(ix->qbuf);
    ge_free(ix->qq);
    ge_free(ix->qbits);
    ge_free(ix);
}

/* ---------------------------------------------------------------- id -> slot */

static size_t hash_id(uint64_t id) {
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t)id;
}

/* the hash-table position holding id, or the empty one where it would go */
static size_t find_pos(const ggufembed_index *ix, uint64_t id) {
    size_t mask = ix->hcap - 1, h = hash_id(id) & mask;
    while (ix->slot_of[h] && ix->ids[ix->slot_of[h] - 1] != id) h = (h + 1) & mask;
    return h;
}

static int rebuild_table(ggufembed_index *ix, size_t hcap) {
    size_t *t = ge_calloc(hcap, sizeof *t);
    if (!t) return -1;
    ge_free(ix->slot_of);
    ix->slot_of = t;
    ix->hcap = hcap;
    for (size_t s = 0; s < ix->n; s++) ix->slot_of[find_pos(ix, ix->ids[s])] = s + 1;
    return 0;
}

/* ----------------------------------------------------------------- storage */

static int grow_array(void **p, size_t old_bytes, size_t new_bytes) {
    void *q = ge_malloc(new_bytes ? new_bytes : 1);
    if (!q) return -1;
    if (*p && old_bytes) memcpy(q, *p, old_bytes);
    ge_free(*p);
    *p = q;
    return 0;
}

/* room for `want` vectors; on failure nothing changed that matters (arrays only grew) */
static int reserve(ggufembed_index *ix, size_t want) {
    if (want <= ix->cap) return 0;
    size_t cap = ix->cap ? ix->cap : 64;
    while (cap < want) {
        if (cap > SIZE_MAX / 2) return -1;
        cap *= 2;
    }
    size_t d = (size_t)ix->dim, w = (size_t)ix->words;
    if (cap > SIZE_MAX / (d * sizeof(float) + 64)) return -1;
    if (grow_array((void **)&ix->ids, ix->n * 8, cap * 8)) return -1;
    if (ix->f32 || ix->type == GGUFEMBED_INDEX_F32 || ix->keep_f32)
        if (grow_array((void **)&ix->f32, ix->n * d * sizeof(float), cap * d * sizeof(float))) return -1;
    if (ix->type == GGUFEMBED_INDEX_INT8) {
        if (grow_array((void **)&ix->q8, ix->n * d, cap * d)) return -1;
        if (grow_array((void **)&ix->scale, ix->n * sizeof(float), cap * sizeof(float))) return -1;
    }
    if (ix->type == GGUFEMBED_INDEX_BINARY)
        if (grow_array((void **)&ix->bits, ix->n * w * 8, cap * w * 8)) return -1;
    ix->cap = cap;
    if (ix->hcap < 2 * cap && rebuild_table(ix, 4 * cap)) return -1;
    return 0;
}

/* x[dim] prepared for storing or querying: the prefix, normalized for cosine.
 * Returns -1 for a non-finite value, -2 for a zero vector under cosine. */
static int prepare(const ggufembed_index *ix, const float *in, float *out) {
    double ss = 0;
    for (int32_t i = 0; i < ix->dim; i++) {
        if (!isfinite(in[i])) return -1;
        out[i] = in[i];
        ss += (double)in[i] * in[i];
    }
    if (ix->metric == GGUFEMBED_METRIC_COSINE) {
        if (ss == 0) return -2;
        float inv = (float)(1.0 / sqrt(ss));
        for (int32_t i = 0; i < ix->dim; i++) out[i] = out[i] * inv;
    }
    return 0;
}

/* int8 code of x (one scale per vector; a zero vector gets scale 0, codes 0) */
static float quantize_i8(int32_t d, const float *x, int8_t *q) {
    float amax = 0;
    for (int32_t i = 0; i < d; i++) amax = fabsf(x[i]) > amax ? fabsf(x[i]) : amax;
    float s = amax / 127.0f, inv = amax > 0 ? 127.0f / amax : 0.0f;
    for (int32_t i = 0; i < d; i++) {
        float v = nearbyintf(x[i] * inv);
        q[i] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
    }
    return s;
}

static void sign_bits(int32_t d, int32_t words, const float *x, uint64_t *b) {
    memset(b, 0, (size_t)words * 8);
    for (int32_t i = 0; i < d; i++)
        if (x[i] > 0) b[i >> 6] |= 1ULL << (i & 63);
}

static void store(ggufembed_index *ix, size_t s, uint64_t id, const float *x) {
    size_t d = (size_t)ix->dim;
    ix->ids[s] = id;
    if (ix->f32) memcpy(ix->f32 + s * d, x, d * sizeof(float));
    if (ix->type == GGUFEMBED_INDEX_INT8) ix->scale[s] = quantize_i8(ix->dim, x, ix->q8 + s * d);
    if (ix->type == GGUFEMBED_INDEX_BINARY) sign_bits(ix->dim, ix->words, x, ix->bits + s * (size_t)ix->words);
}

static ggufembed_status alloc_scratch(ggufembed_index *ix) {
    size_t d = (size_t)ix->dim;
    ix->qbuf = ge_malloc(d * sizeof(float));
    ix->qq = ge_malloc(d);
    ix->qbits = ge_malloc((size_t)ix->words * 8);
    return ix->qbuf && ix->qq && ix->qbits ? GGUFEMBED_OK : GGUFEMBED_ERR_OUT_OF_MEMORY;
}

static ggufembed_index *index_alloc(int32_t dim, int32_t type, int32_t metric, int32_t keep_f32) {
    ggufembed_index *ix = ge_calloc(1, sizeof *ix);
    if (!ix) return NULL;
    ix->dim = dim;
    ix->type = type;
    ix->metric = metric;
    ix->keep_f32 = type == GGUFEMBED_INDEX_F32 ? 0 : keep_f32;
    ix->words = (dim + 63) / 64;
    if (alloc_scratch(ix) || rebuild_table(ix, 128)) {
        ggufembed_index_free(ix);
        return NULL;
    }
    return ix;
}

static const char *check_params(int32_t dim, int32_t type, int32_t metric) {
    if (dim < 1 || dim > GE_INDEX_MAX_DIM) return "dimension must be from 1 to 65536";
    if (type < GGUFEMBED_INDEX_F32 || type > GGUFEMBED_INDEX_BINARY) return "unknown index type";
    if (metric != GGUFEMBED_METRIC_COSINE && metric != GGUFEMBED_METRIC_DOT) return "unknown metric";
    if (type == GGUFEMBED_INDEX_BINARY && metric != GGUFEMBED_METRIC_COSINE)
        return "a binary index scores by cosine only (sign bits have no length)";
    return NULL;
}

ggufembed_status ggufembed_index_new(const ggufembed_index_params *p, ggufembed_index **out, char *err,
                                     size_t err_size) {
    if (out) *out = NULL;
    if (!p || !out) {
        put_err(err, err_size, "index_new: params and out must not be NULL");
        return GGUFEMBED_ERR_INVALID_ARGUMENT;
    }
    ggufembed_index_params q;
    ggufembed_index_params_init(&q);
    if (p->struct_size < offsetof(ggufembed_index_params, keep_f32) + sizeof p->keep_f32 ||
        p->struct_size > sizeof q * 4) {
        put_err(err, err_size, "index_new: params.struct_size is wrong (call ggufembed_index_params_init)");
        return GGUFEMBED_ERR_INVALID_ARGUMENT;
    }
    memcpy(&q, p, p->struct_size < sizeof q ? p->struct_size : sizeof q);
    const char *why = check_params(q.dimension, q.type, q.metric);
    if (why) {
        put_err(err, err_size, why);
        return GGUFEMBED_ERR_INVALID_ARGUMENT;
    }
    *out = index_alloc(q.dimension, q.type, q.metric, q.keep_f32 != 0);
    if (!*out) {
        put_err(err, err_size, "index_new: out of memory");
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    return GGUFEMBED_OK;
}

ggufembed_status ggufembed_index_add(ggufembed_index *ix, const uint64_t *ids, const float *vectors, size_t n,
                                     int32_t stride) {
    if (!ix) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    ix->err[0] = 0;
    if (n == 0) return GGUFEMBED_OK;
    if (!ids || !vectors) return fail(ix, GGUFEMBED_ERR_INVALID_ARGUMENT, "index_add: ids and vectors must not be NULL");
    if (stride < ix->dim)
        return fail(ix, GGUFEMBED_ERR_INVALID_ARGUMENT, "index_add: vectors have %d values, the index stores %d",
                    (int)stride, (int)ix->dim);
    /* check every vector first: a refused call adds nothing */
    for (size_t i = 0; i < n; i++) {
        int r = prepare(ix, vectors + i * (size_t)stride, ix->qbuf);
        if (r == -1) return fail(ix, GGUFEMBED_ERR_INVALID_ARGUMENT, "index_add: vector %zu has a NaN or infinity", i);
        if (r == -2) return fail(ix, GGUFEMBED_ERR_INVALID_ARGUMENT, "index_add: vector %zu is zero (no direction)", i);
    }
    if (ix->n > SIZE_MAX - n || reserve(ix, ix->n + n))
        return fail(ix, GGUFEMBED_ERR_OUT_OF_MEMORY, "index_add: out of memory for %zu more vectors", n);
    for (size_t i = 0; i < n; i++) {
        prepare(ix, vectors + i * (size_t)stride, ix->qbuf);
        size_t h = find_pos(ix, ids[i]);
        if (ix->slot_of[h]) {
            store(ix, ix->slot_of[h] - 1, ids[i], ix->qbuf); /* an id already there: replaced */
        } else {
            store(ix, ix->n, ids[i], ix->qbuf);
            ix->slot_of[h] = ++ix->n;
        }
    }
    return GGUFEMBED_OK;
}

/* moves slot `from` to slot `to` (all encodings) */
static void move_slot(ggufembed_index *ix, size_t from, size_t to) {
    size_t d = (size_t)ix->dim, w = (size_t)ix->words;
    ix->ids[to] = ix->ids[from];
    if (ix->f32) memcpy(ix->f32 + to * d, ix->f32 + from * d, d * sizeof(float));
    if (ix->q8) {
        memcpy(ix->q8 + to * d, ix->q8 + from * d, d);
        ix->scale[to] = ix->scale[from];
    }
    if (ix->bits) memcpy(ix->bits + to * w, ix->bits + from * w, w * 8);
}

ggufembed_status ggufembed_index_remove(ggufembed_index *ix, const uint64_t *ids, size_t n, size_t *n_removed) {
    if (n_removed) *n_removed = 0;
    if (!ix) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    ix->err[0] = 0;
    if (n && !ids) return fail(ix, GGUFEMBED_ERR_INVALID_ARGUMENT, "index_remove: ids must not be NULL");
    size_t removed = 0;
    for (size_t i = 0; i < n; i++) {
        size_t h = find_pos(ix, ids[i]);
        if (!ix->slot_of[h]) continue;
        size_t s = ix->slot_of[h] - 1, last = ix->n - 1;
        if (s != last) move_slot(ix, last, s);
        ix->n--;
        removed++;
        /* the table changed shape around the hole: rebuilt (removal is the rare operation) */
        if (rebuild_table(ix, ix->hcap))
            return fail(ix, GGUFEMBED_ERR_OUT_OF_MEMORY, "index_remove: out of memory");
    }
    if (n_removed) *n_removed = removed;
    return GGUFEMBED_OK;
}

/* ------------------------------------------------------------------ search */

typedef struct hit {
    float score;
    size_t slot;
} hit;

/* a before b in the results: higher score, then smaller id (deterministic ties) */
static int better(const ggufembed_index *ix, hit a, hit b) {
    if (a.score != b.score) return a.score > b.score;
    return ix->ids[a.slot] < ix->ids[b.slot];
}

/* the k best so far as a binary min-heap on `better` (the worst at [0]) */
static void heap_offer(const ggufembed_index *ix, hit *h, size_t *len, size_t k, hit x) {
    if (*len < k) {
        size_t i = (*len)++;
        while (i && better(ix, h[(i - 1) / 2], x)) {
            h[i] = h[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        h[i] = x;
        return;
    }
    if (!better(ix, x, h[0])) return;
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *len) break;
        if (c + 1 < *len && better(ix, h[c], h[c + 1])) c++;
        if (!better(ix, x, h[c])) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

static void sort_hits(const ggufembed_index *ix, hit *h, size_t len) {
    for (size_t i = 1; i < len; i++) { /* insertion sort: k is small */
        hit x = h[i];
        size_t j = i;
        while (j && better(ix, x, h[j - 1])) {
            h[j] = h[j - 1];
            j--;
        }
        h[j] = x;
    }
}

static float score_slot(const ggufembed_index *ix, const ge_kernels *K, size_t s, float qscale, int exact) {
    size_t d = (size_t)ix->dim;
    if (exact || ix->type == GGUFEMBED_INDEX_F32) return K->dot_f32(ix->dim, ix->f32 + s * d, ix->qbuf);
    if (ix->type == GGUFEMBED_INDEX_INT8)
        return (float)K->dot_i8(ix->dim, ix->q8 + s * d, ix->qq) * (ix->scale[s] * qscale);
    int64_t ham = K->hamming_u64(ix->words, ix->bits + s * (size_t)ix->words, ix->qbits);
    return 1.0f - 2.0f * (float)ham / (float)ix->dim;
}

ggufembed_status ggufembed_index_search(ggufembed_index *ix, const float *query, int32_t query_dim, size_t k,
                                        const ggufembed_search_options *options, uint64_t *out_ids,
                                        float *out_scores, size_t *n_found) {
    if (n_found) *n_found = 0;
    if (!ix) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    ix->err[0] = 0;
    if (!query || !n_found || (k && (!out_ids || !out_scores)))
        return fail(ix, GGUFEMBED_ERR_INVALID_ARGUMENT, "index_search: query, n_found and the outputs must not be NULL");
    if (query_dim < ix->dim)
        return fail(ix, GGUFEMBED_ERR_INVALID_ARGUMENT, "index_search: the query has %d values, the index stores %d",
                    (int)query_dim, (int)ix->dim);
    ggufembed_search_options o;
    ggufembed_search_options_init(&o);
    if (options) {
        if (options->struct_size < offsetof(ggufembed_search_options, rescore) + sizeof o.rescore)
            return fail(ix, GGUFEMBED_ERR_INVALID_ARGUMENT, "index_search: options.struct_size is wrong");
        memcpy(&o, options, options->struct_size < sizeof o ? options->struct_size : sizeof o);
    }
    if (o.rescore < 0 || o.rescore > 1000)
        return fail(ix, GGUFEMBED_ERR_INVALID_ARGUMENT, "index_search: rescore must be from 0 to 1000");
    if (o.rescore > 0 && !ix->f32)
        return fail(ix, GGUFEMBED_ERR_INVALID_ARGUMENT,
                    "index_search: rescore needs the f32 vectors (create the index with keep_f32)");
    int r = prepare(ix, query, ix->qbuf);
    if (r == -1) return fail(ix, GGUFEMBED_ERR_INVALID_ARGUMENT, "index_search: the query has a NaN or infinity");
    if (r == -2) return fail(ix, GGUFEMBED_ERR_INVALID_ARGUMENT, "index_search: the query is zero (no direction)");
    if (k == 0 || ix->n == 0) return GGUFEMBED_OK;
    if (k > ix->n) k = ix->n;
    int rescoring = o.rescore > 0 && ix->type != GGUFEMBED_INDEX_F32;
    size_t cand = k;
    if (rescoring) cand = k > ix->n / (size_t)o.rescore ? ix->n : k * (size_t)o.rescore;
    float qscale = 0;
    if (ix->type == GGUFEMBED_INDEX_INT8) qscale = quantize_i8(ix->dim, ix->qbuf, ix->qq);
    if (ix->type == GGUFEMBED_INDEX_BINARY) sign_bits(ix->dim, ix->words, ix->qbuf, ix->qbits);
    hit *h = ge_malloc(cand * sizeof *h);
    if (!h) return fail(ix, GGUFEMBED_ERR_OUT_OF_MEMORY, "index_search: out of memory for %zu candidates", cand);
    const ge_kernels *K = ge_kernels_active();
    size_t len = 0;
    for (size_t s = 0; s < ix->n; s++) heap_offer(ix, h, &len, cand, (hit){score_slot(ix, K, s, qscale, 0), s});
    if (rescoring) { /* the candidates again, scored exactly, the k best kept */
        for (size_t i = 0; i < len; i++) h[i].score = score_slot(ix, K, h[i].slot, qscale, 1);
        sort_hits(ix, h, len);
        len = k;
    } else {
        sort_hits(ix, h, len);
    }
    for (size_t i = 0; i < len; i++) {
        out_ids[i] = ix->ids[h[i].slot];
        out_scores[i] = h[i].score;
    }
    *n_found = len;
    ge_free(h);
    return GGUFEMBED_OK;
}

ggufembed_status ggufembed_index_get_info(const ggufembed_index *ix, ggufembed_index_params *p) {
    if (!ix || !p || p->struct_size < offsetof(ggufembed_index_params, keep_f32) + sizeof p->keep_f32)
        return GGUFEMBED_ERR_INVALID_ARGUMENT;
    p->dimension = ix->dim;
    p->type = ix->type;
    p->metric = ix->metric;
    p->keep_f32 = ix->keep_f32;
    return GGUFEMBED_OK;
}

/* ------------------------------------------------------- save / load: in index_io.c */

/* for index_io.c: the arrays, read-only */
void ge_index_view(const ggufembed_index *ix, ge_index_arrays *a) {
    a->dim = ix->dim;
    a->type = ix->type;
    a->metric = ix->metric;
    a->keep_f32 = ix->keep_f32;
    a->words = ix->words;
    a->n = ix->n;
    a->ids = ix->ids;
    a->f32 = ix->f32;
    a->q8 = ix->q8;
    a->scale = ix->scale;
    a->bits = ix->bits;
}

/* for index_io.c: an empty index of this shape with room for n vectors */
ggufembed_index *ge_index_create(int32_t dim, int32_t type, int32_t metric, int32_t keep_f32, size_t n,
                                 ge_index_arrays *a) {
    if (check_params(dim, type, metric)) return NULL;
    ggufembed_index *ix = index_alloc(dim, type, metric, keep_f32);
    if (!ix) return NULL;
    if (reserve(ix, n ? n : 1)) {
        ggufembed_index_free(ix);
        return NULL;
    }
    ix->n = n;
    ge_index_view(ix, a);
    return ix;
}

/* for index_io.c: after the arrays were filled, the id table; -1 on a duplicate id */
int ge_index_finish(ggufembed_index *ix) {
    for (size_t s = 0; s < ix->n; s++) {
        size_t h = find_pos(ix, ix->ids[s]);
        if (ix->slot_of[h]) return -1;
        ix->slot_of[h] = s + 1;
    }
    return 0;
}
