/* fuzz_json.c - fuzz target for the server's JSON reader (native/json.c), the first code
 * that sees a request body. Checks: a parse that succeeds gives a tree whose strings lie
 * in the arena with their NUL, whose numbers are finite or +-Inf (never NaN), and which
 * the writer turns into text that parses again to the same shape (type, length, string
 * bytes); a parse that fails gives a one-line message. */
#include "../../native/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...) (fprintf(stderr, "fuzz_json: " __VA_ARGS__), fputc('\n', stderr), abort())

static void write_value(sj_buf *b, const sj_value *v) {
    switch (v->type) {
    case SJ_NULL: sj_puts(b, "null"); break;
    case SJ_BOOL: sj_puts(b, v->boolean ? "true" : "false"); break;
    case SJ_NUMBER: sj_printf(b, isfinite(v->number) ? "%.17g" : "0", v->number); break;
    case SJ_STRING: sj_put_string(b, v->str, v->len); break;
    case SJ_ARRAY:
    case SJ_OBJECT:
        sj_puts(b, v->type == SJ_ARRAY ? "[" : "{");
        for (size_t i = 0; i < v->len; i++) {
            if (i) sj_puts(b, ",");
            if (v->type == SJ_OBJECT) sj_put_string(b, v->keys[i], strlen(v->keys[i])), sj_puts(b, ":");
            write_value(b, &v->items[i]);
        }
        sj_puts(b, v->type == SJ_ARRAY ? "]" : "}");
        break;
    }
}

static void same_shape(const sj_value *a, const sj_value *b) {
    if (a->type != b->type) FAIL("round trip changed a %s into a %s", sj_type_name(a->type), sj_type_name(b->type));
    if (a->type == SJ_STRING && (a->len != b->len || memcmp(a->str, b->str, a->len)))
        FAIL("round trip changed a string of %zu bytes", a->len);
    if (a->type == SJ_STRING && a->str[a->len] != 0) FAIL("string without its NUL");
    if (a->type == SJ_NUMBER && isnan(a->number)) FAIL("NaN number");
    if (a->type == SJ_ARRAY || a->type == SJ_OBJECT) {
        if (a->len != b->len) FAIL("round trip changed %zu members into %zu", a->len, b->len);
        for (size_t i = 0; i < a->len; i++) {
            if (a->type == SJ_OBJECT && strcmp(a->keys[i], b->keys[i])) FAIL("round trip changed a key");
            same_shape(&a->items[i], &b->items[i]);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[160];
    sj_doc *d = sj_parse((const char *)data, size, err, sizeof err);
    if (!d) {
        if (!err[0] || strchr(err, '\n')) FAIL("a failed parse without a one-line message");
        return 0;
    }
    sj_buf b = {0};
    write_value(&b, sj_root(d));
    if (b.failed) FAIL("writer out of memory");
    sj_doc *d2 = sj_parse(b.data, b.len, err, sizeof err);
    if (!d2) FAIL("the writer's output does not parse: %s", err);
    same_shape(sj_root(d), sj_root(d2));
    sj_free(d2);
    sj_free(d);
    sj_buf_free(&b);
    return 0;
}
