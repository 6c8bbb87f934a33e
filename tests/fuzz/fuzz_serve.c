/* fuzz_serve.c - fuzz target for the server's endpoints (native/serve_api.c) without the
 * HTTP layer: byte 0 picks the endpoint (embeddings, rerank, tokenize), the rest is the
 * request body, parsed by native/json.c and handed to the handler as serve.c does, on
 * three small seed models served at once ("e" gemma-embedding, "b" bert WordPiece, "r" a
 * bert reranker), each with its batching worker.
 * Checks: the status is 200, 400, 404 or 413 (never 5xx for a request: the seed models
 * always give finite vectors); the body is a JSON object; an error carries a non-empty
 * one-line message, a type and a code; a 200 from /v1/embeddings has one vector per input,
 * each a list of the right length or a base64 string. */
#include "../../native/serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...) (fprintf(stderr, "fuzz_serve: " __VA_ARGS__), fputc('\n', stderr), abort())

#ifndef FUZZ_SEED_DIR
#define FUZZ_SEED_DIR "tests/fuzz/seeds"
#endif

static sv_server g_srv;

static void init(void) {
    static const char *const models[] = {"e=" FUZZ_SEED_DIR "/model/gemma_embedding_spm.bin",
                                         "b=" FUZZ_SEED_DIR "/model/bert_wpm_mean.bin",
                                         "r=" FUZZ_SEED_DIR "/model/rerank_bert_ugm.bin"};
    g_srv.opt = (sv_options){"127.0.0.1", 0, 1, NULL, 256, 1000, 1u << 20, 64, 60, 16, 0};
    g_srv.models = calloc(3, sizeof *g_srv.models);
    if (!g_srv.models) FAIL("out of memory");
    for (int i = 0; i < 3; i++, g_srv.n_models++)
        if (!sv_model_open(&g_srv, &g_srv.models[i], models[i], NULL, NULL)) FAIL("cannot open %s", models[i]);
}

static int never(void *user) { return (void)user, 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_srv.n_models) init();
    if (size < 1) return 0;
    const int ep = data[0] % 3;
    char err[160];
    sj_doc *doc = sj_parse((const char *)data + 1, size - 1, err, sizeof err);
    if (!doc) return 0;
    const sj_value *root = sj_root(doc);
    if (root->type != SJ_OBJECT) return sj_free(doc), 0;
    sv_reply r = {0};
    sv_call c = {&g_srv, root, &r, never, NULL, never};
    if (ep == 0) sv_embeddings(&c);
    else if (ep == 1) sv_rerank(&c);
    else sv_tokenize(&c);
    if (getenv("GGUFEMBED_FUZZ_STRICT") && r.status != 200) /* ctest fuzz_serve_seeds: every seed must pass */
        FAIL("seed answered %d: %.300s", r.status, r.body.data ? r.body.data : "");
    if (r.status != 200 && r.status != 400 && r.status != 404 && r.status != 413)
        FAIL("status %d: %.300s", r.status, r.body.data ? r.body.data : "");
    if (r.body.failed) FAIL("response out of memory");
    sj_doc *out = sj_parse(r.body.data, r.body.len, err, sizeof err);
    if (!out) FAIL("the response is not JSON (%s): %.300s", err, r.body.data);
    const sj_value *o = sj_root(out);
    if (r.status != 200) {
        const sj_value *e = sj_get(o, "error"), *m = sj_get(e, "message");
        if (!m || m->type != SJ_STRING || !m->len || memchr(m->str, '\n', m->len) || !sj_get(e, "type") ||
            !sj_get(e, "code"))
            FAIL("status %d without a one-line error message: %.300s", r.status, r.body.data);
    } else if (ep == 0) {
        const sj_value *in = sj_get(root, "input"), *d = sj_get(o, "data");
        size_t n = in->type == SJ_STRING || in->items[0].type == SJ_NUMBER ? 1 : in->len;
        if (!d || d->type != SJ_ARRAY || d->len != n) FAIL("%zu inputs but not as many vectors", n);
        for (size_t i = 0; i < n; i++) {
            const sj_value *v = sj_get(&d->items[i], "embedding");
            if (!v || !(v->type == SJ_STRING || (v->type == SJ_ARRAY && v->len > 0))) FAIL("vector %zu missing", i);
        }
    }
    sj_free(out);
    sj_buf_free(&r.body);
    sj_free(doc);
    return 0;
}
