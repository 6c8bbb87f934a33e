/*
 * test_abi.c - the ABI rules of ggufembed.h ("ABI stability") from a program that
 * sees only the public header and links the shared library: versioned structs
 * (struct_size), the allocator hook, version numbers. The exported symbol lists
 * are checked by test_symbols.sh.
 */
#include "../core/ggufembed.h"
#include "check.h"
#include "gguf_build.h"

#include <stdatomic.h>
#include <stddef.h>

static atomic_long g_mallocs, g_frees;

static void *count_malloc(void *user, size_t n) {
    atomic_fetch_add(&g_mallocs, 1);
    return *(int *)user == 7 ? malloc(n) : NULL;
}
static void count_free(void *user, void *p) {
    (void)user;
    if (p) atomic_fetch_add(&g_frees, 1);
    free(p);
}

int main(void) {
    CHECK(ggufembed_version_number() == GGUFEMBED_VERSION_NUMBER &&
              strcmp(ggufembed_version_string(), GGUFEMBED_VERSION_STRING) == 0,
          "version %s", ggufembed_version_string());

    /* the allocator hook: every allocation of an open + embed goes through it */
    int token = 7;
    ggufembed_allocator a = {sizeof a, count_malloc, count_free, &token};
    CHECK(ggufembed_set_allocator(&a) == GGUFEMBED_OK, "set_allocator");
    gb_file f;
    gb_tiny_bert(&f);
    gw bytes = gb_write(&f);
    gb_free(&f);
    char err[256] = "";
    ggufembed_model *m = NULL;
    CHECK(ggufembed_model_open_memory(bytes.p, bytes.n, &m, err, sizeof err) == GGUFEMBED_OK, "open: %s", err);
    CHECK(atomic_load(&g_mallocs) > 0, "the open allocated through the hook");
    CHECK(ggufembed_set_allocator(NULL) == GGUFEMBED_ERR_INVALID_ARGUMENT, "no change while a model is open");

    /* versioned structs */
    ggufembed_context_params cp;
    ggufembed_context_params_init(&cp);
    CHECK(cp.struct_size == sizeof cp && cp.n_threads == 0, "context_params_init");
    cp.n_threads = 1;
    ggufembed_context *ctx = NULL;
    CHECK(ggufembed_context_new(m, &cp, &ctx) == GGUFEMBED_OK, "context");
    ggufembed_context_params zero;
    memset(&zero, 0, sizeof zero);
    ggufembed_context *bad = NULL;
    CHECK(ggufembed_context_new(m, &zero, &bad) == GGUFEMBED_ERR_INVALID_ARGUMENT && !bad,
          "params without struct_size refused");

    float v[GB_N_EMBD], w[GB_N_EMBD];
    ggufembed_embed_options o;
    ggufembed_embed_options_init(&o);
    CHECK(o.struct_size == sizeof o && o.normalize == 1, "embed_options_init");
    CHECK(ggufembed_embed(ctx, "the cat", 7, &o, v, GB_N_EMBD) == GGUFEMBED_OK, "embed: %s",
          ggufembed_context_last_error(ctx));
    ggufembed_embed_options z;
    memset(&z, 0, sizeof z);
    CHECK(ggufembed_embed(ctx, "the cat", 7, &z, w, GB_N_EMBD) == GGUFEMBED_ERR_INVALID_ARGUMENT &&
              strstr(ggufembed_context_last_error(ctx), "ggufembed_embed_options_init"),
          "options without struct_size: %s", ggufembed_context_last_error(ctx));
    /* a newer caller's bigger struct: a zero tail means defaults, a set one is refused */
    struct {
        ggufembed_embed_options o;
        int64_t future_field;
    } newer;
    memset(&newer, 0, sizeof newer);
    ggufembed_embed_options_init(&newer.o);
    newer.o.struct_size = sizeof newer;
    CHECK(ggufembed_embed(ctx, "the cat", 7, &newer.o, w, GB_N_EMBD) == GGUFEMBED_OK && memcmp(v, w, sizeof v) == 0,
          "a bigger struct with a zero tail: %s", ggufembed_context_last_error(ctx));
    newer.future_field = 1;
    CHECK(ggufembed_embed(ctx, "the cat", 7, &newer.o, w, GB_N_EMBD) == GGUFEMBED_ERR_INVALID_ARGUMENT &&
              strstr(ggufembed_context_last_error(ctx), "does not have"),
          "a set unknown field: %s", ggufembed_context_last_error(ctx));

    /* model_info: an older caller's shorter struct gets only its bytes */
    ggufembed_model_info info;
    CHECK(ggufembed_model_get_info(m, &info, sizeof info) == GGUFEMBED_OK && info.struct_size == sizeof info &&
              info.dimension == GB_N_EMBD && strcmp(info.architecture, "bert") == 0,
          "get_info");
    unsigned char old[sizeof info + 16];
    memset(old, 0xab, sizeof old);
    const size_t old_size = offsetof(ggufembed_model_info, hidden_size);
    CHECK(ggufembed_model_get_info(m, (ggufembed_model_info *)(void *)old, old_size) == GGUFEMBED_OK, "short get_info");
    int untouched = 1;
    for (size_t i = old_size; i < sizeof old; i++) untouched &= old[i] == 0xab;
    ggufembed_model_info head;
    memcpy(&head, old, old_size);
    CHECK(untouched && head.struct_size == old_size && head.dimension == GB_N_EMBD, "short get_info wrote past its size");
    CHECK(ggufembed_model_get_info(m, &info, 0) == GGUFEMBED_ERR_INVALID_ARGUMENT, "size 0 refused");

    CHECK(ggufembed_kernels()[0] != 0, "kernels name");
    CHECK(ggufembed_select_kernels("no-such-isa") == GGUFEMBED_ERR_UNSUPPORTED, "unknown kernels refused");

    ggufembed_context_free(ctx);
    ggufembed_model_free(m);
    CHECK(atomic_load(&g_mallocs) == atomic_load(&g_frees), "every block freed: %ld allocated, %ld freed",
          (long)atomic_load(&g_mallocs), (long)atomic_load(&g_frees));
    /* the hook's NULL is the library's out-of-memory */
    token = 0;
    m = NULL;
    CHECK(ggufembed_model_open_memory(bytes.p, bytes.n, &m, err, sizeof err) == GGUFEMBED_ERR_OUT_OF_MEMORY && !m,
          "a failing allocator: %s", err);
    CHECK(ggufembed_set_allocator(NULL) == GGUFEMBED_OK, "back to malloc once nothing is held");
    ggufembed_allocator incomplete = {sizeof incomplete, count_malloc, NULL, NULL};
    CHECK(ggufembed_set_allocator(&incomplete) == GGUFEMBED_ERR_INVALID_ARGUMENT, "free_fn required");
    free(bytes.p);
    return check_summary("test_abi");
}
