/*
 * index_io.c - ggufembed_index_save / ggufembed_index_load: the version-1 file of
 * index_format.h, written into and read from caller memory (no OS calls here; the CLI
 * and the bindings do the files). The loader trusts nothing: every field is checked
 * before anything is allocated from it, and a refused file leaves no index behind.
 */
#include "ggufembed.h"

#include "index_format.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}
static void put_f32(unsigned char *p, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(p, u);
}
static float get_f32(const unsigned char *p) {
    uint32_t u = get_u32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint64_t fnv1a(const unsigned char *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/* the sections' sizes for n vectors; 0 when they overflow size_t */
typedef struct layout {
    size_t ids, scales, codes, bits, vectors, total;
} layout;

static int plan(int32_t type, int32_t dim, int keep_f32, uint64_t n64, layout *L) {
    memset(L, 0, sizeof *L);
    if (n64 > SIZE_MAX / 8 / ((size_t)dim + 16)) return -1; /* every section below fits then */
    size_t n = (size_t)n64, d = (size_t)dim, w = ((size_t)dim + 63) / 64;
    L->ids = 8 * n;
    if (type == GGUFEMBED_INDEX_INT8) {
        L->scales = 4 * n;
        L->codes = (n * d + 7) / 8 * 8;
    }
    if (type == GGUFEMBED_INDEX_BINARY) L->bits = 8 * n * w;
    if (type == GGUFEMBED_INDEX_F32 || keep_f32) L->vectors = 4 * n * d;
    L->total = GE_INDEX_HEADER + L->ids + L->scales + L->codes + L->bits + L->vectors;
    return 0;
}

ggufembed_status ggufembed_index_save(const ggufembed_index *ix, void *buf, size_t cap, size_t *size) {
    if (!ix || !size) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    ge_index_arrays a;
    ge_index_view(ix, &a);
    layout L;
    if (plan(a.type, a.dim, a.keep_f32, a.n, &L)) return GGUFEMBED_ERR_OUT_OF_MEMORY;
    *size = L.total;
    if (!buf || cap < L.total) return GGUFEMBED_ERR_BUFFER_TOO_SMALL;
    unsigned char *p = buf, *q = p + GE_INDEX_HEADER;
    size_t d = (size_t)a.dim;
    for (size_t i = 0; i < a.n; i++, q += 8) put_u64(q, a.ids[i]);
    if (a.type == GGUFEMBED_INDEX_INT8) {
        for (size_t i = 0; i < a.n; i++, q += 4) put_f32(q, a.scale[i]);
        memcpy(q, a.q8, a.n * d);
        memset(q + a.n * d, 0, L.codes - a.n * d);
        q += L.codes;
    }
    if (a.type == GGUFEMBED_INDEX_BINARY)
        for (size_t i = 0; i < a.n * (size_t)a.words; i++, q += 8) put_u64(q, a.bits[i]);
    if (L.vectors)
        for (size_t i = 0; i < a.n * d; i++, q += 4) put_f32(q, a.f32[i]);
    memcpy(p, GE_INDEX_MAGIC, 4);
    put_u32(p + 4, GE_INDEX_VERSION);
    put_u32(p + 8, (uint32_t)a.type);
    put_u32(p + 12, (uint32_t)a.metric);
    put_u32(p + 16, (uint32_t)a.dim);
    put_u32(p + 20, a.keep_f32 ? GE_INDEX_FLAG_F32 : 0);
    put_u64(p + 24, a.n);
    put_u64(p + 40, 0);
    put_u64(p + 32, fnv1a(p + GE_INDEX_HEADER, L.total - GE_INDEX_HEADER));
    return GGUFEMBED_OK;
}

static ggufembed_status refuse(char *err, size_t err_size, const char *msg) {
    if (err && err_size) snprintf(err, err_size, "index file: %s", msg);
    return GGUFEMBED_ERR_FORMAT;
}

ggufembed_status ggufembed_index_load(const void *data, size_t size, ggufembed_index **out, char *err,
                                      size_t err_size) {
    if (out) *out = NULL;
    if (!out || (!data && size)) {
        if (err && err_size) snprintf(err, err_size, "index_load: data and out must not be NULL");
        return GGUFEMBED_ERR_INVALID_ARGUMENT;
    }
    const unsigned char *p = data;
    if (size < GE_INDEX_HEADER) return refuse(err, err_size, "shorter than its 48-byte header");
    if (memcmp(p, GE_INDEX_MAGIC, 4) != 0) return refuse(err, err_size, "not a ggufembed index (magic is not GEIX)");
    uint32_t version = get_u32(p + 4), type = get_u32(p + 8), metric = get_u32(p + 12), dim = get_u32(p + 16),
             flags = get_u32(p + 20);
    uint64_t n = get_u64(p + 24), sum = get_u64(p + 32);
    char msg[160];
    if (version != GE_INDEX_VERSION) {
        snprintf(msg, sizeof msg, "version %u, this library reads version %u", (unsigned)version, GE_INDEX_VERSION);
        return refuse(err, err_size, msg);
    }
    if (type > GGUFEMBED_INDEX_BINARY) return refuse(err, err_size, "unknown type");
    if (metric > GGUFEMBED_METRIC_DOT) return refuse(err, err_size, "unknown metric");
    if (type == GGUFEMBED_INDEX_BINARY && metric != GGUFEMBED_METRIC_COSINE)
        return refuse(err, err_size, "a binary index with the dot metric");
    if (dim < 1 || dim > GE_INDEX_MAX_DIM) return refuse(err, err_size, "dimension out of range (1..65536)");
    if (flags & ~GE_INDEX_FLAG_F32) return refuse(err, err_size, "unknown flags");
    if (type == GGUFEMBED_INDEX_F32 && flags) return refuse(err, err_size, "an f32 index with the keep-f32 flag");
    if (get_u64(p + 40) != 0) return refuse(err, err_size, "reserved header field is not 0");
    layout L;
    int keep = (flags & GE_INDEX_FLAG_F32) != 0;
    if (plan((int32_t)type, (int32_t)dim, keep, n, &L) || L.total != size) {
        snprintf(msg, sizeof msg, "%zu bytes, but a header of %llu vectors needs %zu", size, (unsigned long long)n,
                 L.ids || !n ? L.total : (size_t)0);
        return refuse(err, err_size, msg);
    }
    if (fnv1a(p + GE_INDEX_HEADER, size - GE_INDEX_HEADER) != sum) return refuse(err, err_size, "checksum mismatch");
    /* every value is checked while it is copied; the index is freed on the first bad one */
    ge_index_arrays a;
    ggufembed_index *ix = ge_index_create((int32_t)dim, (int32_t)type, (int32_t)metric, keep, (size_t)n, &a);
    if (!ix) {
        if (err && err_size) snprintf(err, err_size, "index_load: out of memory for %llu vectors", (unsigned long long)n);
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    const unsigned char *q = p + GE_INDEX_HEADER;
    size_t d = dim;
    const char *bad = NULL;
    for (size_t i = 0; i < a.n; i++, q += 8) a.ids[i] = get_u64(q);
    if (type == GGUFEMBED_INDEX_INT8) {
        for (size_t i = 0; i < a.n && !bad; i++, q += 4) {
            a.scale[i] = get_f32(q);
            if (!isfinite(a.scale[i]) || a.scale[i] < 0) bad = "an int8 scale is negative or not finite";
        }
        q = p + GE_INDEX_HEADER + L.ids + L.scales;
        memcpy(a.q8, q, a.n * d);
        for (size_t i = 0; i < a.n * d && !bad; i++)
            if (a.q8[i] == -128) bad = "an int8 code is -128 (codes are -127..127)";
        for (size_t i = a.n * d; i < L.codes && !bad; i++)
            if (q[i]) bad = "padding after the int8 codes is not 0";
        q += L.codes;
    }
    if (type == GGUFEMBED_INDEX_BINARY) {
        size_t w = (size_t)a.words;
        uint64_t tail = dim % 64 ? ~0ULL << (dim % 64) : 0;
        for (size_t i = 0; i < a.n * w && !bad; i++, q += 8) {
            a.bits[i] = get_u64(q);
            if (i % w == w - 1 && (a.bits[i] & tail)) bad = "bits past the dimension are set";
        }
    }
    if (L.vectors && !bad)
        for (size_t i = 0; i < a.n * d && !bad; i++, q += 4) {
            a.f32[i] = get_f32(q);
            if (!isfinite(a.f32[i])) bad = "a vector value is NaN or infinite";
        }
    if (!bad && ge_index_finish(ix)) bad = "an id appears twice";
    if (bad) {
        ggufembed_index_free(ix);
        return refuse(err, err_size, bad);
    }
    *out = ix;
    return GGUFEMBED_OK;
}
