/* fuzz_gguf.c - fuzz target for the GGUF reader alone (core/gguf.h) on arbitrary bytes.
 *
 * gguf_parse() promises that after a successful parse every view (keys, strings, array
 * data, tensor data) lies inside the span. This target parses the input, then walks
 * every view, touching its first and last byte, so an out-of-span view is an ASan report
 * even when the loaders above would never read it; and checks the promises that are
 * cheap to state (offsets aligned, sizes consistent, lookups find what the walk saw).
 * Seeded with the complete small models of tests/fuzz/seeds/model/. Built for libFuzzer
 * or with driver.c (ctest, under ASan+UBSan). */
#include "../../core/gguf.h"
#include "fuzz_common.h"

static void touch(const void *p, uint64_t n) {
    if (!n) return;
    const volatile uint8_t *b = p;
    g_touch ^= b[0];
    g_touch ^= b[n - 1];
}

static void check_inside(const gguf_file *f, const void *p, uint64_t n, const char *what) {
    const uint8_t *b = p;
    if (n && (b < f->base || n > f->size || (size_t)(b - f->base) > f->size - n))
        FZ_FAIL("%s: view of %llu bytes outside the span", what, (unsigned long long)n);
    touch(p, n);
}

/* s as a C string in buf, when it fits and holds no NUL (the lookups take C strings) */
static int c_string(gguf_str s, char *buf, size_t cap) {
    if (s.len >= cap || memchr(s.ptr, 0, s.len)) return 0;
    memcpy(buf, s.ptr, s.len);
    buf[s.len] = 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t cap;
    uint8_t *copy = fz_aligned_copy(data, size, &cap);
    if (!copy) return 0;
    gguf_file f;
    char err[256];
    int rc = gguf_parse(&f, copy, size, err, sizeof err);
    if (rc) {
        if (rc < 0 || rc > GGUFEMBED_ERR_CANCELLED) FZ_FAIL("gguf_parse returned %d", rc);
        if (!memchr(err, 0, sizeof err)) FZ_FAIL("error message not terminated");
        fz_aligned_free(copy, cap);
        return 0;
    }
    /* (a file without tensors may end before the next alignment boundary: data_offset = size) */
    if (f.data_offset > size || (f.n_tensors && (!f.alignment || f.data_offset % f.alignment)))
        FZ_FAIL("data_offset %zu (alignment %llu, size %zu)", f.data_offset, (unsigned long long)f.alignment, size);
    for (uint64_t i = 0; i < f.n_kv; i++) {
        const gguf_kv *kv = &f.kv[i];
        check_inside(&f, kv->key.ptr, kv->key.len, "key");
        char key[256];
        if (c_string(kv->key, key, sizeof key)) {
            const gguf_kv *g = gguf_find_kv(&f, key);
            if (!g || !gguf_str_eq(g->key, key)) FZ_FAIL("gguf_find_kv misses key %s", key);
        }
        (void)gguf_type_name(kv->type);
        if (kv->type == GGUF_TYPE_STRING) check_inside(&f, kv->v.str.ptr, kv->v.str.len, "string");
        if (kv->type == GGUF_TYPE_ARRAY) {
            check_inside(&f, kv->arr_data, kv->arr_bytes, "array");
            if (kv->arr_type == GGUF_TYPE_STRING) {
                const uint8_t *cur = kv->arr_data;
                for (uint64_t j = 0; j < kv->arr_n; j++) {
                    gguf_str s = gguf_str_array_next(&cur);
                    check_inside(&f, s.ptr, s.len, "array string");
                }
                if (kv->arr_n && cur != kv->arr_data + kv->arr_bytes) FZ_FAIL("string array walk ends off its bytes");
            } else if (gguf_type_size(kv->arr_type) * kv->arr_n != kv->arr_bytes) {
                FZ_FAIL("array of %llu x type %u has %zu bytes", (unsigned long long)kv->arr_n, kv->arr_type,
                        kv->arr_bytes);
            }
        }
    }
    /* the typed getters on the keys every loader asks for */
    static const char *const keys[] = {"general.architecture", "general.alignment", "general.name",
                                       "tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.bos_token_id"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        int64_t iv;
        double dv;
        int bv;
        gguf_str sv;
        (void)gguf_get_int(&f, keys[k], &iv);
        (void)gguf_get_float(&f, keys[k], &dv);
        (void)gguf_get_bool(&f, keys[k], &bv);
        if (gguf_get_str(&f, keys[k], &sv)) check_inside(&f, sv.ptr, sv.len, "getter string");
    }
    for (uint64_t i = 0; i < f.n_tensors; i++) {
        const gguf_tensor *t = &f.tensors[i];
        check_inside(&f, t->name.ptr, t->name.len, "tensor name");
        check_inside(&f, t->data, t->nbytes, "tensor data");
        if (t->n_dims > 4) FZ_FAIL("tensor with %u dims", t->n_dims);
        if (((size_t)((const uint8_t *)t->data - f.base)) % f.alignment) FZ_FAIL("tensor data not aligned");
        (void)ggml_type_name(t->type);
        char name[128];
        if (c_string(t->name, name, sizeof name)) {
            const gguf_tensor *g = gguf_find_tensor(&f, name);
            if (!g || !gguf_str_eq(g->name, name)) FZ_FAIL("gguf_find_tensor misses tensor %s", name);
        }
    }
    gguf_release(&f);
    fz_aligned_free(copy, cap);
    return 0;
}
