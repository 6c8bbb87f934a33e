/* gguf.c - bounds-checked GGUF reader (see gguf.h for the layout). */
#include "gguf.h"

#include "alloc.h"
#include "ggufembed.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ggml block layouts: values per block and bytes per block (ggml-common.h). */
static const struct {
    const char *name;
    uint32_t block;
    uint32_t bytes;
} k_ggml_types[GGML_TYPE_MAX_] = {
    [GGML_TYPE_F32] = {"F32", 1, 4},          [GGML_TYPE_F16] = {"F16", 1, 2},
    [GGML_TYPE_Q4_0] = {"Q4_0", 32, 18},      [GGML_TYPE_Q4_1] = {"Q4_1", 32, 20},
    [GGML_TYPE_Q5_0] = {"Q5_0", 32, 22},      [GGML_TYPE_Q5_1] = {"Q5_1", 32, 24},
    [GGML_TYPE_Q8_0] = {"Q8_0", 32, 34},      [GGML_TYPE_Q8_1] = {"Q8_1", 32, 36},
    [GGML_TYPE_Q2_K] = {"Q2_K", 256, 84},     [GGML_TYPE_Q3_K] = {"Q3_K", 256, 110},
    [GGML_TYPE_Q4_K] = {"Q4_K", 256, 144},    [GGML_TYPE_Q5_K] = {"Q5_K", 256, 176},
    [GGML_TYPE_Q6_K] = {"Q6_K", 256, 210},    [GGML_TYPE_Q8_K] = {"Q8_K", 256, 292},
    [GGML_TYPE_IQ2_XXS] = {"IQ2_XXS", 256, 66}, [GGML_TYPE_IQ2_XS] = {"IQ2_XS", 256, 74},
    [GGML_TYPE_IQ3_XXS] = {"IQ3_XXS", 256, 98}, [GGML_TYPE_IQ1_S] = {"IQ1_S", 256, 50},
    [GGML_TYPE_IQ4_NL] = {"IQ4_NL", 32, 18},  [GGML_TYPE_IQ3_S] = {"IQ3_S", 256, 110},
    [GGML_TYPE_IQ2_S] = {"IQ2_S", 256, 82},   [GGML_TYPE_IQ4_XS] = {"IQ4_XS", 256, 136},
    [GGML_TYPE_I8] = {"I8", 1, 1},            [GGML_TYPE_I16] = {"I16", 1, 2},
    [GGML_TYPE_I32] = {"I32", 1, 4},          [GGML_TYPE_I64] = {"I64", 1, 8},
    [GGML_TYPE_F64] = {"F64", 1, 8},          [GGML_TYPE_IQ1_M] = {"IQ1_M", 256, 56},
    [GGML_TYPE_BF16] = {"BF16", 1, 2},        [GGML_TYPE_TQ1_0] = {"TQ1_0", 256, 54},
    [GGML_TYPE_TQ2_0] = {"TQ2_0", 256, 66},   [GGML_TYPE_MXFP4] = {"MXFP4", 32, 17},
};

const char *ggml_type_name(uint32_t type) {
    return type < GGML_TYPE_MAX_ ? k_ggml_types[type].name : NULL;
}

static const char *const k_gguf_type_names[GGUF_TYPE_COUNT_] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64"};
static const uint8_t k_gguf_type_sizes[GGUF_TYPE_COUNT_] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

size_t gguf_type_size(uint32_t type) { return type < GGUF_TYPE_COUNT_ ? k_gguf_type_sizes[type] : 0; }
const char *gguf_type_name(uint32_t type) {
    return type < GGUF_TYPE_COUNT_ ? k_gguf_type_names[type] : "?";
}

int gguf_str_eq(gguf_str s, const char *cstr) {
    size_t n = strlen(cstr);
    return s.len == n && memcmp(s.ptr, cstr, n) == 0;
}

/* ------------------------------------------------------------ the cursor */

typedef struct reader {
    const uint8_t *p;   /* span start */
    size_t size;        /* span length */
    size_t pos;         /* next byte to read */
    char *err;
    size_t err_size;
} reader;

static int need(reader *r, uint64_t n, const char *what) {
    if (n > r->size - r->pos) {
        ge_errorf(r->err, r->err_size,
                  "GGUF file is truncated or corrupt: %s needs %llu bytes at offset %zu but the file has %zu",
                  what, (unsigned long long)n, r->pos, r->size);
        return 0;
    }
    return 1;
}

static uint64_t le_read(const uint8_t *p, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int rd_u32(reader *r, uint32_t *out, const char *what) {
    if (!need(r, 4, what)) return 0;
    *out = (uint32_t)le_read(r->p + r->pos, 4);
    r->pos += 4;
    return 1;
}

static int rd_u64(reader *r, uint64_t *out, const char *what) {
    if (!need(r, 8, what)) return 0;
    *out = le_read(r->p + r->pos, 8);
    r->pos += 8;
    return 1;
}

static int rd_str(reader *r, gguf_str *out, const char *what) {
    uint64_t len;
    if (!rd_u64(r, &len, what) || !need(r, len, what)) return 0;
    out->ptr = (const char *)(r->p + r->pos);
    out->len = len;
    r->pos += (size_t)len;
    return 1;
}

/* Reads one scalar of a fixed-size type into kv->v. */
static void decode_scalar(gguf_kv *kv, uint32_t type, const uint8_t *p) {
    switch (type) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_UINT16: case GGUF_TYPE_UINT32: case GGUF_TYPE_UINT64:
    case GGUF_TYPE_BOOL:
        kv->v.u64 = le_read(p, (unsigned)k_gguf_type_sizes[type]);
        break;
    case GGUF_TYPE_INT8: kv->v.i64 = (int8_t)p[0]; break;
    case GGUF_TYPE_INT16: kv->v.i64 = (int16_t)le_read(p, 2); break;
    case GGUF_TYPE_INT32: kv->v.i64 = (int32_t)le_read(p, 4); break;
    case GGUF_TYPE_INT64: kv->v.i64 = (int64_t)le_read(p, 8); break;
    case GGUF_TYPE_FLOAT32: {
        uint32_t b = (uint32_t)le_read(p, 4);
        float f;
        memcpy(&f, &b, 4);
        kv->v.f64 = f;
        break;
    }
    case GGUF_TYPE_FLOAT64: {
        uint64_t b = le_read(p, 8);
        memcpy(&kv->v.f64, &b, 8);
        break;
    }
    default: break;
    }
}

static int read_value(reader *r, gguf_kv *kv) {
    char what[96];
    snprintf(what, sizeof what, "the value of '%.*s'", (int)(kv->key.len > 48 ? 48 : kv->key.len),
             kv->key.ptr);
    if (kv->type == GGUF_TYPE_STRING) return rd_str(r, &kv->v.str, what);
    if (kv->type == GGUF_TYPE_ARRAY) {
        uint64_t n;
        if (!rd_u32(r, &kv->arr_type, what) || !rd_u64(r, &n, what)) return 0;
        kv->arr_n = n;
        kv->arr_data = r->p + r->pos;
        if (kv->arr_type == GGUF_TYPE_STRING) {
            for (uint64_t i = 0; i < n; i++) {
                gguf_str s;
                if (!rd_str(r, &s, what)) return 0;
            }
        } else if (kv->arr_type < GGUF_TYPE_COUNT_ && kv->arr_type != GGUF_TYPE_ARRAY) {
            uint64_t esz = k_gguf_type_sizes[kv->arr_type];
            if (!need(r, n > UINT64_MAX / esz ? UINT64_MAX : n * esz, what)) return 0;
            r->pos += (size_t)(n * esz);
        } else {
            ge_errorf(r->err, r->err_size, "GGUF metadata '%.*s' is an array of unsupported type %u",
                      (int)kv->key.len, kv->key.ptr, kv->arr_type);
            return 0;
        }
        kv->arr_bytes = (size_t)(r->p + r->pos - kv->arr_data);
        return 1;
    }
    if (kv->type >= GGUF_TYPE_COUNT_) {
        ge_errorf(r->err, r->err_size, "GGUF metadata '%.*s' has unknown value type %u",
                  (int)(kv->key.len > 64 ? 64 : kv->key.len), kv->key.ptr, kv->type);
        return 0;
    }
    size_t sz = k_gguf_type_sizes[kv->type];
    if (!need(r, sz, what)) return 0;
    decode_scalar(kv, kv->type, r->p + r->pos);
    r->pos += sz;
    return 1;
}

gguf_str gguf_str_array_next(const uint8_t **cursor) {
    gguf_str s;
    s.len = le_read(*cursor, 8);
    s.ptr = (const char *)(*cursor + 8);
    *cursor += 8 + s.len;
    return s;
}

/* ------------------------------------------------------------ uniqueness */

/* Sorting index arrays: qsort has no user pointer in C11, so each entry carries what
 * it is compared by. */
typedef struct name_ref {
    gguf_str name;
    uint64_t i;
} name_ref;

static int cmp_name_ref(const void *a, const void *b) {
    const gguf_str *x = &((const name_ref *)a)->name, *y = &((const name_ref *)b)->name;
    size_t n = x->len < y->len ? (size_t)x->len : (size_t)y->len;
    int c = n ? memcmp(x->ptr, y->ptr, n) : 0;
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* A name given twice is refused, as llama.cpp's gguf reader does: which of the two
 * would a lookup mean? Sorting keeps this O(n log n) for hostile counts. */
static int check_unique(name_ref *refs, uint64_t n, const char *what, char *err, size_t es) {
    qsort(refs, (size_t)n, sizeof *refs, cmp_name_ref);
    for (uint64_t i = 1; i < n; i++)
        if (cmp_name_ref(&refs[i - 1], &refs[i]) == 0) {
            const gguf_str *s = &refs[i].name;
            ge_errorf(err, es, "duplicate %s '%.*s'", what, (int)(s->len > 96 ? 96 : s->len), s->ptr);
            return 0;
        }
    return 1;
}

typedef struct range_ref {
    uint64_t begin, end;
    const gguf_tensor *t;
} range_ref;

static int cmp_range_ref(const void *a, const void *b) {
    uint64_t x = ((const range_ref *)a)->begin, y = ((const range_ref *)b)->begin;
    return (x > y) - (x < y);
}

/* Two tensors reading the same bytes are refused: a writer never does it, and a file
 * that does is built to confuse. */
static int check_no_overlap(range_ref *refs, uint64_t n, char *err, size_t es) {
    qsort(refs, (size_t)n, sizeof *refs, cmp_range_ref);
    for (uint64_t i = 1; i < n; i++)
        if (refs[i].begin < refs[i - 1].end) {
            const gguf_tensor *a = refs[i - 1].t, *b = refs[i].t;
            ge_errorf(err, es, "tensors '%.*s' and '%.*s' overlap in the data section (bytes %llu to %llu and %llu to %llu)",
                      (int)(a->name.len > 64 ? 64 : a->name.len), a->name.ptr,
                      (int)(b->name.len > 64 ? 64 : b->name.len), b->name.ptr,
                      (unsigned long long)refs[i - 1].begin, (unsigned long long)refs[i - 1].end,
                      (unsigned long long)refs[i].begin, (unsigned long long)refs[i].end);
            return 0;
        }
    return 1;
}

static int check_names_and_ranges(gguf_file *f, char *err, size_t es) {
    uint64_t n = f->n_kv > f->n_tensors ? f->n_kv : f->n_tensors;
    size_t each = sizeof(name_ref) > sizeof(range_ref) ? sizeof(name_ref) : sizeof(range_ref);
    void *scratch = ge_malloc((size_t)(n ? n : 1) * each);
    if (!scratch) {
        ge_errorf(err, es, "out of memory reading the GGUF header");
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    name_ref *names = scratch;
    range_ref *ranges = scratch;
    int ok = 1;
    for (uint64_t i = 0; i < f->n_kv; i++) names[i] = (name_ref){f->kv[i].key, i};
    ok = check_unique(names, f->n_kv, "metadata key", err, es);
    if (ok) {
        for (uint64_t i = 0; i < f->n_tensors; i++) names[i] = (name_ref){f->tensors[i].name, i};
        ok = check_unique(names, f->n_tensors, "tensor name", err, es);
    }
    if (ok) {
        for (uint64_t i = 0; i < f->n_tensors; i++)
            ranges[i] = (range_ref){f->tensors[i].offset, f->tensors[i].offset + f->tensors[i].nbytes, &f->tensors[i]};
        ok = check_no_overlap(ranges, f->n_tensors, err, es);
    }
    ge_free(scratch);
    return ok ? 0 : GGUFEMBED_ERR_FORMAT;
}

/* ------------------------------------------------------------ the parse */

int gguf_parse(gguf_file *f, const void *data, size_t size, char *err, size_t err_size) {
    memset(f, 0, sizeof *f);
    reader r = {(const uint8_t *)data, size, 0, err, err_size};
    int status = GGUFEMBED_ERR_FORMAT;

    if (!data || size < 4 || memcmp(data, "GGUF", 4) != 0) {
        ge_errorf(err, err_size, "not a GGUF file (the first 4 bytes are not \"GGUF\")");
        return GGUFEMBED_ERR_FORMAT;
    }
    r.pos = 4;
    uint32_t version;
    if (!rd_u32(&r, &version, "the version")) return GGUFEMBED_ERR_FORMAT;
    if (version == 1) {
        ge_errorf(err, err_size, "GGUF version 1 is not supported (only versions 2 and 3)");
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    if (version != 2 && version != 3) {
        if ((version & 0xffff) == 0 && (version >> 16) != 0)
            ge_errorf(err, err_size, "big-endian GGUF files are not supported");
        else
            ge_errorf(err, err_size, "GGUF version %u is not supported (only versions 2 and 3)", version);
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    uint64_t n_tensors, n_kv;
    if (!rd_u64(&r, &n_tensors, "the tensor count") || !rd_u64(&r, &n_kv, "the metadata count"))
        return GGUFEMBED_ERR_FORMAT;
    /* Each metadata entry takes at least 12 bytes, each tensor info at least 24:
     * reject impossible counts before allocating for them. */
    if (n_kv > (size - r.pos) / 12 || n_tensors > (size - r.pos) / 24) {
        ge_errorf(err, err_size, "GGUF file is truncated or corrupt: %llu metadata entries and %llu tensors cannot fit in %zu bytes",
                  (unsigned long long)n_kv, (unsigned long long)n_tensors, size);
        return GGUFEMBED_ERR_FORMAT;
    }
    f->base = r.p;
    f->size = size;
    f->version = version;
    f->n_kv = n_kv;
    f->n_tensors = n_tensors;
    f->kv = ge_calloc((size_t)n_kv, sizeof *f->kv);
    f->tensors = ge_calloc((size_t)n_tensors, sizeof *f->tensors);
    if (!f->kv || !f->tensors) {
        ge_errorf(err, err_size, "out of memory reading the GGUF header");
        status = GGUFEMBED_ERR_OUT_OF_MEMORY;
        goto fail;
    }

    for (uint64_t i = 0; i < n_kv; i++) {
        gguf_kv *kv = &f->kv[i];
        if (!rd_str(&r, &kv->key, "a metadata key") || !rd_u32(&r, &kv->type, "a metadata type") ||
            !read_value(&r, kv))
            goto fail;
    }

    f->alignment = 32;
    const gguf_kv *al = gguf_find_kv(f, "general.alignment");
    if (al) {
        int64_t a;
        if (!gguf_get_int(f, "general.alignment", &a) || a <= 0 || (a & (a - 1)) != 0 || a > (1 << 20)) {
            ge_errorf(err, err_size, "GGUF general.alignment is invalid (must be a power of two)");
            goto fail;
        }
        f->alignment = (uint64_t)a;
    }

    for (uint64_t i = 0; i < n_tensors; i++) {
        gguf_tensor *t = &f->tensors[i];
        if (!rd_str(&r, &t->name, "a tensor name") || !rd_u32(&r, &t->n_dims, "a tensor rank")) goto fail;
        if (t->n_dims == 0 || t->n_dims > 4) {
            ge_errorf(err, err_size, "tensor '%.*s' has %u dimensions (1 to 4 allowed)",
                      (int)(t->name.len > 64 ? 64 : t->name.len), t->name.ptr, t->n_dims);
            goto fail;
        }
        for (int d = 0; d < 4; d++) t->ne[d] = 1;
        for (uint32_t d = 0; d < t->n_dims; d++)
            if (!rd_u64(&r, &t->ne[d], "a tensor shape")) goto fail;
        if (!rd_u32(&r, &t->type, "a tensor type") || !rd_u64(&r, &t->offset, "a tensor offset")) goto fail;
        if (t->type >= GGML_TYPE_MAX_ || !k_ggml_types[t->type].name) {
            ge_errorf(err, err_size, "tensor '%.*s' has unknown type %u (not a ggml type this version knows)",
                      (int)(t->name.len > 64 ? 64 : t->name.len), t->name.ptr, t->type);
            status = GGUFEMBED_ERR_UNSUPPORTED;
            goto fail;
        }
        /* element count and byte size, overflow-checked */
        uint64_t n = 1;
        for (int d = 0; d < 4; d++) {
            if (t->ne[d] == 0 || (n > 0 && t->ne[d] > UINT64_MAX / n) || t->ne[d] > (1ull << 40)) {
                ge_errorf(err, err_size, "tensor '%.*s' has an invalid shape", (int)t->name.len, t->name.ptr);
                goto fail;
            }
            n *= t->ne[d];
        }
        uint32_t blk = k_ggml_types[t->type].block;
        if (t->ne[0] % blk != 0) {
            ge_errorf(err, err_size, "tensor '%.*s' row length %llu is not a multiple of the %s block size %u",
                      (int)t->name.len, t->name.ptr, (unsigned long long)t->ne[0], ggml_type_name(t->type), blk);
            goto fail;
        }
        uint64_t blocks = n / blk;
        if (blocks > UINT64_MAX / k_ggml_types[t->type].bytes) {
            ge_errorf(err, err_size, "tensor '%.*s' is too large", (int)t->name.len, t->name.ptr);
            goto fail;
        }
        t->nbytes = blocks * k_ggml_types[t->type].bytes;
        if (t->offset % f->alignment != 0) {
            ge_errorf(err, err_size, "tensor '%.*s' data offset %llu is not aligned to %llu",
                      (int)t->name.len, t->name.ptr, (unsigned long long)t->offset,
                      (unsigned long long)f->alignment);
            goto fail;
        }
    }

    /* the data section starts at the next alignment boundary */
    uint64_t data_off = ((uint64_t)r.pos + f->alignment - 1) / f->alignment * f->alignment;
    if (data_off > size && n_tensors == 0) data_off = size; /* no data section needed */
    if (data_off > size) {
        ge_errorf(err, err_size, "GGUF file is truncated: the tensor data section is missing");
        goto fail;
    }
    f->data_offset = (size_t)data_off;
    for (uint64_t i = 0; i < n_tensors; i++) {
        gguf_tensor *t = &f->tensors[i];
        uint64_t avail = size - f->data_offset;
        if (t->offset > avail || t->nbytes > avail - t->offset) {
            ge_errorf(err, err_size,
                      "GGUF file is truncated: tensor '%.*s' (%llu bytes at data offset %llu) ends past the end of the file (%zu bytes)",
                      (int)t->name.len, t->name.ptr, (unsigned long long)t->nbytes,
                      (unsigned long long)t->offset, size);
            goto fail;
        }
        t->data = f->base + f->data_offset + t->offset;
    }
    /* offsets and sizes are in range (so their sums cannot overflow) */
    if ((status = check_names_and_ranges(f, err, err_size)) != 0) goto fail;
    return 0;

fail:
    gguf_release(f);
    return status;
}

void gguf_release(gguf_file *f) {
    if (!f) return;
    ge_free(f->kv);
    ge_free(f->tensors);
    memset(f, 0, sizeof *f);
}

const gguf_kv *gguf_find_kv(const gguf_file *f, const char *key) {
    for (uint64_t i = 0; i < f->n_kv; i++)
        if (gguf_str_eq(f->kv[i].key, key)) return &f->kv[i];
    return NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name) {
    for (uint64_t i = 0; i < f->n_tensors; i++)
        if (gguf_str_eq(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}

int gguf_get_int(const gguf_file *f, const char *key, int64_t *out) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv) return 0;
    switch (kv->type) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_UINT16: case GGUF_TYPE_UINT32: case GGUF_TYPE_BOOL:
        *out = (int64_t)kv->v.u64;
        return 1;
    case GGUF_TYPE_UINT64:
        if (kv->v.u64 > (uint64_t)INT64_MAX) return 0;
        *out = (int64_t)kv->v.u64;
        return 1;
    case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32: case GGUF_TYPE_INT64:
        *out = kv->v.i64;
        return 1;
    default: return 0;
    }
}

int gguf_get_float(const gguf_file *f, const char *key, double *out) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv) return 0;
    if (kv->type == GGUF_TYPE_FLOAT32 || kv->type == GGUF_TYPE_FLOAT64) {
        *out = kv->v.f64;
        return 1;
    }
    int64_t i;
    if (gguf_get_int(f, key, &i)) {
        *out = (double)i;
        return 1;
    }
    return 0;
}

int gguf_get_bool(const gguf_file *f, const char *key, int *out) {
    int64_t i;
    if (!gguf_get_int(f, key, &i)) return 0;
    *out = i != 0;
    return 1;
}

int gguf_get_str(const gguf_file *f, const char *key, gguf_str *out) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv || kv->type != GGUF_TYPE_STRING) return 0;
    *out = kv->v.str;
    return 1;
}
