/*
 * exports.c - the small C ABI that the JavaScript package calls, on top of the
 * public API (core/ggufembed.h). One handle = model + context + the buffer that
 * holds the GGUF bytes (the model's weights are views into it).
 *
 * The JavaScript side allocates the model buffer with ge_js_alloc(size), writes
 * the file into it chunk by chunk, then hands it to ge_js_open(), which takes
 * ownership of it whether it succeeds or not. Nothing here aborts: every failure
 * is a status plus a message that JavaScript turns into an Error.
 *
 * The header's constants (status codes, task ids, flags, enum values) reach
 * JavaScript through ge_js_constants(), so the package never copies a number by hand.
 */
#include "../core/alloc.h"
#include "../core/ggufembed.h"
#include "../simd/kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__EMSCRIPTEN__)
#include <emscripten/emscripten.h>
#define GE_EXPORT(name) EMSCRIPTEN_KEEPALIVE
#else
#define GE_EXPORT(name) __attribute__((export_name(#name)))
#endif

typedef struct ge_js {
    ggufembed_model *model;
    ggufembed_context *ctx;
    void *buf;
    char *info_json;
    int threads;
    char err[512];
} ge_js;

static char g_open_err[512];

GE_EXPORT(ge_js_alloc) void *ge_js_alloc(size_t size) { return ge_aligned_alloc(64, size); }
GE_EXPORT(ge_js_free) void ge_js_free(void *p) { ge_aligned_free(p); }

GE_EXPORT(ge_js_version) const char *ge_js_version(void) { return ggufembed_version_string(); }
GE_EXPORT(ge_js_kernels) const char *ge_js_kernels(void) { return ge_kernels_active()->name; }
GE_EXPORT(ge_js_select_kernels) int ge_js_select_kernels(const char *name) { return ge_kernels_select(name); }
GE_EXPORT(ge_js_open_error) const char *ge_js_open_error(void) { return g_open_err; }

/* Test hook (js/test): the nth allocation from now on, and every later one, fails; n <= 0
 * stops failing. Lets the tests reach every out-of-memory path of a call at small sizes. */
GE_EXPORT(ge_js_fail_alloc_after) void ge_js_fail_alloc_after(int n) { ge_alloc_fail_after(n); }

/* ---- the header's constants, by name */

typedef struct ge_js_const {
    const char *group, *name;
    long long value;
} ge_js_const;

/* The name is the identifier without its prefix, spelled once: a constant renamed or
 * renumbered in ggufembed.h changes here by itself, and js/test checks the header. */
#define STATUS(n) {"status", #n, GGUFEMBED_ERR_##n}
#define TASK(n) {"task", #n, GGUFEMBED_TASK_##n}
static const ge_js_const k_consts[] = {
    {"status", "OK", GGUFEMBED_OK},
    STATUS(INVALID_ARGUMENT), STATUS(IO), STATUS(OUT_OF_MEMORY), STATUS(FORMAT), STATUS(UNSUPPORTED),
    STATUS(TOO_LONG), STATUS(BUFFER_TOO_SMALL), STATUS(CANCELLED), STATUS(INTERNAL),
    TASK(NONE), TASK(QUERY), TASK(DOCUMENT), TASK(QUESTION_ANSWERING), TASK(FACT_CHECKING),
    TASK(CLASSIFICATION), TASK(CLUSTERING), TASK(SENTENCE_SIMILARITY), TASK(CODE_RETRIEVAL),
    TASK(SUMMARIZATION), TASK(COUNT_),
    {"tokenize", "ADD_SPECIAL", GGUFEMBED_TOKENIZE_ADD_SPECIAL},
    {"tokenize", "PARSE_SPECIAL", GGUFEMBED_TOKENIZE_PARSE_SPECIAL},
    {"tokenize", "DEFAULT", GGUFEMBED_TOKENIZE_DEFAULT},
    {"open", "REPACK", GGUFEMBED_OPEN_REPACK},
    {"open", "F32_ACTIVATIONS", GGUFEMBED_OPEN_F32_ACTIVATIONS},
    {"open", "VALIDATE", GGUFEMBED_OPEN_VALIDATE},
    {"truncate", "ERROR", GGUFEMBED_TRUNCATE_ERROR},
    {"truncate", "END", GGUFEMBED_TRUNCATE_END},
    {"whitespace", "STRIP", GGUFEMBED_WHITESPACE_STRIP},
    {"whitespace", "KEEP", GGUFEMBED_WHITESPACE_KEEP},
};
#undef STATUS
#undef TASK

/* Takes ownership of buf (freed on failure too). flags: GGUFEMBED_OPEN_*. NULL on
 * failure: the message is ge_js_open_error(), the status in *status. */
GE_EXPORT(ge_js_open) ge_js *ge_js_open(void *buf, size_t size, int n_threads, unsigned flags, int *status) {
    g_open_err[0] = 0;
    ge_js *h = ge_calloc(1, sizeof *h);
    ggufembed_status s;
    if (!h) {
        snprintf(g_open_err, sizeof g_open_err, "out of memory");
        s = GGUFEMBED_ERR_OUT_OF_MEMORY;
        goto fail;
    }
    s = ggufembed_model_open_memory_v2(buf, size, flags, &h->model, g_open_err, sizeof g_open_err);
    if (s != GGUFEMBED_OK) goto fail;
    ggufembed_context_params p;
    ggufembed_context_params_init(&p);
    p.n_threads = n_threads > 0 ? n_threads : 1;
    s = ggufembed_context_new(h->model, &p, &h->ctx);
    if (s != GGUFEMBED_OK) {
        snprintf(g_open_err, sizeof g_open_err, "cannot create a context: %s", ggufembed_status_string(s));
        goto fail;
    }
    h->buf = buf;
    h->threads = p.n_threads;
    if (status) *status = GGUFEMBED_OK;
    return h;
fail:
    if (!g_open_err[0]) snprintf(g_open_err, sizeof g_open_err, "%s", ggufembed_status_string(s));
    if (h) {
        ggufembed_model_free(h->model);
        ge_free(h);
    }
    ge_aligned_free(buf);
    if (status) *status = (int)s;
    return NULL;
}

GE_EXPORT(ge_js_close) void ge_js_close(ge_js *h) {
    if (!h) return;
    ggufembed_context_free(h->ctx);
    ggufembed_model_free(h->model);
    ge_aligned_free(h->buf);
    ge_free(h->info_json);
    ge_free(h);
}

/* The message of the last failed call on h. */
GE_EXPORT(ge_js_error) const char *ge_js_error(ge_js *h) { return h ? h->err : "no handle"; }

static int fail(ge_js *h, ggufembed_status s) {
    const char *m = h->ctx ? ggufembed_context_last_error(h->ctx) : "";
    snprintf(h->err, sizeof h->err, "%s", m && m[0] ? m : ggufembed_status_string(s));
    return (int)s;
}

/* ---- JSON for JavaScript: the constants and info (each built once) */

typedef struct sb {
    char *p;
    size_t n, cap;
    int oom;
} sb;

static void sb_put(sb *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 512);
        while (cap < b->n + n + 1) cap *= 2;
        char *q = ge_malloc(cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        if (b->p) memcpy(q, b->p, b->n);
        ge_free(b->p);
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void sb_str(sb *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_json_string(sb *b, const char *s) {
    sb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            sb_put(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            sb_put(b, esc, 6);
        } else {
            sb_put(b, (const char *)&c, 1);
        }
    }
    sb_put(b, "\"", 1);
}

static void sb_int(sb *b, const char *key, long long v) {
    char t[96];
    snprintf(t, sizeof t, ",\"%s\":%lld", key, v);
    sb_str(b, t);
}

/* {"status":{"OK":0,...},"task":{...},...} (groups in table order), built on the first
 * call; NULL when out of memory. */
GE_EXPORT(ge_js_constants) const char *ge_js_constants(void) {
    static char *json;
    if (json) return json;
    sb b = {0};
    for (size_t i = 0; i < sizeof k_consts / sizeof k_consts[0]; i++) {
        const ge_js_const *c = &k_consts[i];
        if (i > 0 && strcmp(c->group, k_consts[i - 1].group) == 0) {
            sb_int(&b, c->name, c->value);
            continue;
        }
        char first[96]; /* a group opens: its first member without the comma sb_int puts first */
        snprintf(first, sizeof first, ":{\"%s\":%lld", c->name, c->value);
        sb_str(&b, i ? "}," : "{");
        sb_json_string(&b, c->group);
        sb_str(&b, first);
    }
    sb_str(&b, "}}");
    if (b.oom) {
        ge_free(b.p);
        return NULL;
    }
    json = b.p;
    return json;
}

GE_EXPORT(ge_js_info) const char *ge_js_info(ge_js *h) {
    if (!h) return NULL;
    if (h->info_json) return h->info_json;
    ggufembed_model_info in;
    if (ggufembed_model_get_info(h->model, &in, sizeof in) != GGUFEMBED_OK) return NULL;
    sb b = {0};
    sb_str(&b, "{\"architecture\":");
    sb_json_string(&b, in.architecture);
    sb_str(&b, ",\"name\":");
    sb_json_string(&b, in.name);
    sb_int(&b, "dimension", in.dimension);
    sb_int(&b, "hiddenSize", in.hidden_size);
    sb_int(&b, "contextLength", in.context_length);
    sb_int(&b, "vocabSize", in.vocab_size);
    sb_int(&b, "layers", in.n_layers);
    sb_int(&b, "heads", in.n_heads);
    sb_int(&b, "kvHeads", in.n_kv_heads);
    sb_int(&b, "headDim", in.head_dim);
    sb_int(&b, "ffnSize", in.ffn_size);
    sb_int(&b, "slidingWindow", in.sliding_window);
    sb_str(&b, in.has_dense ? ",\"hasDense\":true" : ",\"hasDense\":false");
    sb_str(&b, in.missing_dense ? ",\"missingDense\":true" : ",\"missingDense\":false");
    sb_str(&b, ",\"warning\":");
    sb_json_string(&b, in.warning);
    sb_int(&b, "tensors", in.n_tensors);
    sb_str(&b, ",\"weightTypes\":");
    sb_json_string(&b, in.weight_types);
    sb_int(&b, "parameters", (long long)in.n_params);
    sb_int(&b, "fileSize", (long long)in.file_size);
    sb_int(&b, "bosId", in.bos_id);
    sb_int(&b, "eosId", in.eos_id);
    sb_str(&b, ",\"tokenizer\":");
    sb_json_string(&b, in.tokenizer ? in.tokenizer : "");
    sb_str(&b, in.vocab_only ? ",\"vocabOnly\":true" : ",\"vocabOnly\":false");
    sb_str(&b, in.reranker ? ",\"reranker\":true" : ",\"reranker\":false");
    sb_str(&b, ",\"pooling\":");
    sb_json_string(&b, in.pooling ? in.pooling : "");
    sb_str(&b, ",\"prompts\":");
    sb_json_string(&b, in.prompts ? in.prompts : "");
    sb_str(&b, ",\"tasks\":");
    sb_json_string(&b, in.tasks ? in.tasks : "");
    /* the task names embed() takes on this model: asked of the core itself (an empty
     * batch checks the options, task included, and embeds nothing); none for a
     * vocabulary or a reranker, which do not embed */
    sb_str(&b, ",\"taskNames\":[");
    for (int t = 0, k = 0; t < GGUFEMBED_TASK_COUNT_; t++) {
        ggufembed_embed_options o;
        ggufembed_embed_options_init(&o);
        o.task = (ggufembed_task)t;
        if (ggufembed_embed_batch(h->ctx, NULL, NULL, 0, &o, NULL, 0) != GGUFEMBED_OK) continue;
        if (k++) sb_str(&b, ",");
        sb_json_string(&b, ggufembed_task_name((ggufembed_task)t));
    }
    sb_str(&b, "]");
    sb_str(&b, ",\"kernels\":");
    sb_json_string(&b, ge_kernels_active()->name);
    sb_int(&b, "threads", h->threads);
    sb_str(&b, ",\"version\":");
    sb_json_string(&b, ggufembed_version_string());
    sb_str(&b, "}");
    if (b.oom) {
        ge_free(b.p);
        return NULL;
    }
    h->info_json = b.p;
    return h->info_json;
}

/* Options from the JavaScript arguments. task: a task name (NULL = none), resolved by
 * the core; an unknown name is an error listing the model's tasks. Whether the model
 * defines the task, and how title / prefix / instruction go with it, the core decides
 * in the embed call itself (check_options). */
static int make_opts(ge_js *h, const char *task, const char *title, const char *prefix, const char *instruction,
                     int dims, int normalize, int truncation, int whitespace, ggufembed_embed_options *o) {
    ggufembed_embed_options_init(o);
    ggufembed_task t = GGUFEMBED_TASK_NONE;
    if (task && ggufembed_task_from_name(task, &t) != GGUFEMBED_OK) {
        ggufembed_model_info in;
        ggufembed_model_get_info(h->model, &in, sizeof in);
        snprintf(h->err, sizeof h->err, "unknown task '%.100s'; this model's tasks: %s", task, in.tasks);
        return GGUFEMBED_ERR_INVALID_ARGUMENT;
    }
    o->task = t;
    o->title = title;
    o->prefix = prefix;
    o->instruction = instruction;
    o->dimensions = dims;
    o->normalize = normalize;
    /* the enum values as JavaScript read them from ge_js_constants(); the core checks them */
    o->truncation = (ggufembed_truncation)truncation;
    o->whitespace = (ggufembed_whitespace)whitespace;
    return 0;
}

/* Output dimension for these options, or -1 (message in ge_js_error) when dims is out
 * of range. 0 for a vocabulary or a reranker: the embed call then fails with the
 * core's own message. */
GE_EXPORT(ge_js_dimension) int ge_js_dimension(ge_js *h, int dims) {
    if (!h) return -1;
    ggufembed_model_info in;
    ggufembed_model_get_info(h->model, &in, sizeof in);
    if (in.vocab_only || in.reranker) return 0;
    if (dims < 0 || dims > in.dimension) {
        snprintf(h->err, sizeof h->err, "dimensions must be between 1 and %d, got %d", in.dimension, dims);
        return -1;
    }
    ggufembed_embed_options o;
    ggufembed_embed_options_init(&o);
    o.dimensions = dims;
    return ggufembed_output_dimension(h->model, &o);
}

/* Embeds n texts (n may be 0: the options are still checked). task, title, prefix and
 * instruction are NUL-terminated or NULL. */
GE_EXPORT(ge_js_embed)
int ge_js_embed(ge_js *h, const char *const *texts, const size_t *lens, size_t n, const char *task, const char *title,
                const char *prefix, const char *instruction, int dims, int normalize, int truncation,
                int whitespace, float *out, size_t out_len) {
    if (!h) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    h->err[0] = 0;
    ggufembed_embed_options o;
    int rc = make_opts(h, task, title, prefix, instruction, dims, normalize, truncation, whitespace, &o);
    if (rc) return rc;
    ggufembed_status s = ggufembed_embed_batch(h->ctx, texts, lens, n, &o, out, out_len);
    return s == GGUFEMBED_OK ? 0 : fail(h, s);
}

/* scores[i] for document i against the query (rerankers only; n may be 0: the model
 * is still checked). */
GE_EXPORT(ge_js_rerank)
int ge_js_rerank(ge_js *h, const char *query, size_t query_len, const char *const *docs, const size_t *doc_lens,
                 size_t n, float *scores) {
    if (!h) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    h->err[0] = 0;
    ggufembed_status s = ggufembed_rerank(h->ctx, query, query_len, docs, doc_lens, n, scores);
    return s == GGUFEMBED_OK ? 0 : fail(h, s);
}

GE_EXPORT(ge_js_tokenize)
int ge_js_tokenize(ge_js *h, const char *text, size_t len, unsigned flags, int32_t *out, size_t cap, size_t *n_tokens) {
    if (!h) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    h->err[0] = 0;
    ggufembed_status s = ggufembed_tokenize(h->ctx, text, len, flags, out, cap, n_tokens);
    if (s == GGUFEMBED_OK || s == GGUFEMBED_ERR_BUFFER_TOO_SMALL) return (int)s;
    return fail(h, s);
}
