/*
 * test_gguf.c - the GGUF reader on small files built here: every value type,
 * arrays, alignment, and every way a file can be cut short or lie about sizes.
 * Each bad input must give a clean error (run under ASan+UBSan in CI).
 */
#include "../core/gguf.h"
#include "../core/ggufembed.h"
#include "check.h"
#include "gguf_writer.h"

/* A file with one of each scalar type, a string array, an int array and two tensors. */
static gw make_file(uint32_t version, uint32_t tensor_type, uint64_t alignment) {
    gw w = {0};
    gw_bytes(&w, "GGUF", 4);
    gw_u32(&w, version);
    gw_u64(&w, 2); /* tensors */
    gw_u64(&w, 7); /* kv */
    gw_str(&w, "general.architecture"); gw_u32(&w, 8); gw_str(&w, "test-arch");
    gw_str(&w, "general.alignment"); gw_u32(&w, 4); gw_u32(&w, (uint32_t)alignment);
    gw_str(&w, "t.i8"); gw_u32(&w, 1); gw_bytes(&w, "\xfe", 1);
    gw_str(&w, "t.f32"); gw_u32(&w, 6); { float f = 1.5f; gw_bytes(&w, &f, 4); }
    gw_str(&w, "t.bool"); gw_u32(&w, 7); gw_bytes(&w, "\x01", 1);
    gw_str(&w, "t.strs"); gw_u32(&w, 9); gw_u32(&w, 8); gw_u64(&w, 3); gw_str(&w, "a"); gw_str(&w, ""); gw_str(&w, "ccc");
    gw_str(&w, "t.ints"); gw_u32(&w, 9); gw_u32(&w, 5); gw_u64(&w, 2); gw_u32(&w, 7); gw_u32(&w, (uint32_t)-9);
    /* tensors: a [64] F32 vector and a [32 x 2] tensor of tensor_type */
    gw_str(&w, "vec"); gw_u32(&w, 1); gw_u64(&w, 64); gw_u32(&w, 0); gw_u64(&w, 0);
    gw_str(&w, "mat"); gw_u32(&w, 2); gw_u64(&w, 32); gw_u64(&w, 2); gw_u32(&w, tensor_type);
    gw_u64(&w, ((256 + alignment - 1) / alignment) * alignment);
    gw_pad(&w, alignment);
    for (int i = 0; i < 64; i++) { float f = (float)i; gw_bytes(&w, &f, 4); }
    gw_pad(&w, alignment);
    for (int i = 0; i < 68; i++) gw_bytes(&w, "\x01", 1); /* 2 Q8_0 blocks = 68 bytes */
    return w;
}

int main(void) {
    char err[256];
    gguf_file f;

    gw w = make_file(3, 8 /* Q8_0 */, 32);
    int rc = gguf_parse(&f, w.p, w.n, err, sizeof err);
    CHECK(rc == 0, "parse: %s", err);
    if (rc == 0) {
        int64_t i;
        double d;
        int b;
        gguf_str s;
        CHECK(f.version == 3 && f.n_kv == 7 && f.n_tensors == 2, "header");
        CHECK(gguf_get_str(&f, "general.architecture", &s) && gguf_str_eq(s, "test-arch"), "string");
        CHECK(gguf_get_int(&f, "t.i8", &i) && i == -2, "int8 = %lld", (long long)i);
        CHECK(gguf_get_float(&f, "t.f32", &d) && d == 1.5, "float");
        CHECK(gguf_get_bool(&f, "t.bool", &b) && b == 1, "bool");
        CHECK(!gguf_get_int(&f, "t.f32", &i) && !gguf_get_str(&f, "t.i8", &s), "type mismatches refused");
        const gguf_kv *kv = gguf_find_kv(&f, "t.strs");
        CHECK(kv && kv->arr_n == 3, "string array");
        if (kv) {
            const uint8_t *cur = kv->arr_data;
            gguf_str a = gguf_str_array_next(&cur), e = gguf_str_array_next(&cur), c = gguf_str_array_next(&cur);
            CHECK(gguf_str_eq(a, "a") && e.len == 0 && gguf_str_eq(c, "ccc"), "string array values");
        }
        const gguf_tensor *t = gguf_find_tensor(&f, "mat");
        CHECK(t && t->nbytes == 68 && t->ne[0] == 32 && t->ne[1] == 2 && ((const uint8_t *)t->data)[0] == 1, "tensor view");
        const gguf_tensor *v = gguf_find_tensor(&f, "vec");
        CHECK(v && ((const float *)v->data)[63] == 63.0f, "f32 tensor data");
        gguf_release(&f);
    }

    /* every truncation of the file fails cleanly */
    int bad_trunc = 0;
    for (size_t len = 0; len < w.n; len++) {
        uint8_t *copy = malloc(len ? len : 1); /* exact size so ASan sees any over-read */
        memcpy(copy, w.p, len);
        rc = gguf_parse(&f, copy, len, err, sizeof err);
        if (rc == 0) {
            bad_trunc++;
            gguf_release(&f);
        } else if (rc != GGUFEMBED_ERR_FORMAT) {
            bad_trunc++;
        }
        free(copy);
    }
    CHECK(bad_trunc == 0, "%d truncations were not refused as FORMAT errors", bad_trunc);

    /* every single-byte corruption of the header: no crash, no over-read (ASan), and
     * success only with consistent views */
    size_t header_end = 0;
    {
        gguf_parse(&f, w.p, w.n, err, sizeof err);
        header_end = f.data_offset;
        gguf_release(&f);
    }
    for (size_t pos = 0; pos < header_end; pos++) {
        const uint8_t vals[] = {0x00, 0xff, 0x7f, 0x80, 0x41};
        for (size_t k = 0; k < sizeof vals; k++) {
            uint8_t *copy = malloc(w.n);
            memcpy(copy, w.p, w.n);
            copy[pos] = vals[k];
            if (gguf_parse(&f, copy, w.n, err, sizeof err) == 0) {
                for (uint64_t t = 0; t < f.n_tensors; t++) {
                    const gguf_tensor *tt = &f.tensors[t];
                    CHECK((const uint8_t *)tt->data + tt->nbytes <= copy + w.n, "tensor view past the end");
                }
                gguf_release(&f);
            }
            free(copy);
        }
    }

    /* specific refusals, with messages that name the problem */
    gw v1 = make_file(1, 8, 32);
    CHECK(gguf_parse(&f, v1.p, v1.n, err, sizeof err) == GGUFEMBED_ERR_UNSUPPORTED && strstr(err, "version 1"), "v1: %s", err);
    gw v2 = make_file(2, 8, 32);
    CHECK(gguf_parse(&f, v2.p, v2.n, err, sizeof err) == 0, "v2 accepted: %s", err);
    gguf_release(&f);
    gw unk = make_file(3, 77, 32);
    CHECK(gguf_parse(&f, unk.p, unk.n, err, sizeof err) == GGUFEMBED_ERR_UNSUPPORTED && strstr(err, "mat") &&
              strstr(err, "77"),
          "unknown type: %s", err);
    gw al = make_file(3, 8, 64);
    CHECK(gguf_parse(&f, al.p, al.n, err, sizeof err) == 0 && f.alignment == 64, "alignment 64: %s", err);
    gguf_release(&f);
    CHECK(gguf_parse(&f, "GGML", 4, err, sizeof err) == GGUFEMBED_ERR_FORMAT && strstr(err, "not a GGUF"), "magic: %s", err);
    CHECK(gguf_parse(&f, NULL, 0, err, sizeof err) == GGUFEMBED_ERR_FORMAT, "empty");
    /* a count that cannot fit is refused before allocating */
    gw huge = {0};
    gw_bytes(&huge, "GGUF", 4); gw_u32(&huge, 3); gw_u64(&huge, 1ull << 60); gw_u64(&huge, 0);
    CHECK(gguf_parse(&f, huge.p, huge.n, err, sizeof err) == GGUFEMBED_ERR_FORMAT, "huge tensor count: %s", err);
    CHECK(strcmp(ggml_type_name(8), "Q8_0") == 0 && ggml_type_name(4) == NULL && ggml_type_name(1000) == NULL, "type names");
    free(w.p), free(v1.p), free(v2.p), free(unk.p), free(al.p), free(huge.p);
    return check_summary("test_gguf");
}
