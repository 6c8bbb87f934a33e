/* api.c - the public C API (ggufembed.h) on top of the reader, tokenizer and model. */
#include "alloc.h"
#include "arch.h"
#include "ops.h"
#include "prompts.h"
#include "util.h"

#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Texts are packed into forward passes of up to this many tokens (a single
 * longer text runs alone, up to the context length). */
#define GE_PACK_TOKENS 1024
/* A batch call holds the token ids of at most this many texts / tokens at a time (one
 * text more than the tokens when that text is long): beyond, it works chunk by chunk. */
#define GE_BATCH_TEXTS 4096
#define GE_BATCH_TOKENS 65536

int ggufembed_version_number(void) { return GGUFEMBED_VERSION_NUMBER; }
const char *ggufembed_version_string(void) { return GGUFEMBED_VERSION_STRING; }

const char *ggufembed_status_string(ggufembed_status status) {
    switch (status) {
    case GGUFEMBED_OK: return "ok";
    case GGUFEMBED_ERR_INVALID_ARGUMENT: return "invalid argument";
    case GGUFEMBED_ERR_IO: return "I/O error";
    case GGUFEMBED_ERR_OUT_OF_MEMORY: return "out of memory";
    case GGUFEMBED_ERR_FORMAT: return "invalid or corrupt GGUF file";
    case GGUFEMBED_ERR_UNSUPPORTED: return "unsupported model";
    case GGUFEMBED_ERR_TOO_LONG: return "text longer than the model's context";
    case GGUFEMBED_ERR_BUFFER_TOO_SMALL: return "output buffer too small";
    case GGUFEMBED_ERR_CANCELLED: return "cancelled";
    case GGUFEMBED_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

const char *ggufembed_kernels(void) { return ge_kernels_active()->name; }

ggufembed_status ggufembed_select_kernels(const char *name) {
    if (!name) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    return ge_kernels_select(name) == 0 ? GGUFEMBED_OK : GGUFEMBED_ERR_UNSUPPORTED;
}

/* ------------------------------------------------------------ model */

/* Shared by ggufembed_model_open_memory and the platform's open_file: takes the
 * bytes, and on success their release callback too. */
ggufembed_status ge_model_open_bytes(const void *data, size_t size, unsigned flags, const ge_bytes_owner *owner,
                                     ggufembed_model **out, char *err, size_t es) {
    if (!out) {
        ge_errorf(err, es, "out_model is NULL");
        return GGUFEMBED_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    if (!data && size) {
        ge_errorf(err, es, "data is NULL");
        return GGUFEMBED_ERR_INVALID_ARGUMENT;
    }
    const unsigned known = GGUFEMBED_OPEN_REPACK | GGUFEMBED_OPEN_F32_ACTIVATIONS | GGUFEMBED_OPEN_VALIDATE;
    if (flags & ~known) {
        ge_errorf(err, es, "unknown open flags 0x%x", flags & ~known);
        return GGUFEMBED_ERR_INVALID_ARGUMENT;
    }
    ggufembed_model *m = ge_calloc(1, sizeof *m);
    if (!m) {
        ge_errorf(err, es, "out of memory");
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    int rc = gguf_parse(&m->gguf, data, size, err, es);
    if (rc) {
        ge_free(m);
        return (ggufembed_status)rc;
    }
    m->bytes = data;
    m->n_bytes = size;
    gguf_str s;
    if (!gguf_get_str(&m->gguf, "general.architecture", &s)) {
        if (gguf_find_kv(&m->gguf, "general.architecture"))
            ge_errorf(err, es, "general.architecture has the wrong type (expected a string)");
        else
            ge_errorf(err, es, "the GGUF file has no general.architecture");
        rc = GGUFEMBED_ERR_FORMAT;
        goto fail;
    }
    snprintf(m->arch, sizeof m->arch, "%.*s", (int)(s.len > 60 ? 60 : s.len), s.ptr);
    const int arch_clean = s.len == strlen(m->arch); /* no NUL inside, not truncated */
    if (gguf_get_str(&m->gguf, "general.name", &s))
        snprintf(m->name, sizeof m->name, "%.*s", (int)(s.len > 120 ? 120 : s.len), s.ptr);
    /* a file without tensors is a vocabulary (llama.cpp's ggml-vocab-*.gguf): it tokenizes */
    m->vocab_only = m->gguf.n_tensors == 0 && gguf_find_kv(&m->gguf, "tokenizer.ggml.model") != NULL;
    m->arch_ops = arch_clean ? ge_arch_find(m->arch, strlen(m->arch)) : NULL;
    if (!m->arch_ops && !m->vocab_only) {
        ge_errorf(err, es, "architecture '%s' is not supported (supported: %s)", m->arch, ge_arch_names());
        rc = GGUFEMBED_ERR_UNSUPPORTED;
        goto fail;
    }
    if ((rc = ge_vocab_load(&m->vocab, &m->gguf, err, es))) goto fail;
    m->prompts = ge_prompts_for(&m->gguf, m->arch);
    if (m->vocab_only) goto done;
    ge_loader L = {m, err, es, {0}, {0}};
    if ((rc = m->arch_ops->load(&L))) goto fail;
    if ((flags & GGUFEMBED_OPEN_VALIDATE) && (rc = ge_validate_weights(m, err, es))) goto fail;
    ge_summarize_types(m);
    if (!(m->gelu_table = ge_gelu_table_new())) {
        ge_errorf(err, es, "out of memory");
        rc = GGUFEMBED_ERR_OUT_OF_MEMORY;
        goto fail;
    }
    if (flags & GGUFEMBED_OPEN_F32_ACTIVATIONS)
        ge_model_float_activations(m);
    else if ((flags & GGUFEMBED_OPEN_REPACK) && (rc = ge_model_repack(m, ge_kernels_active(), owner, err, es)))
        goto fail;
done:
    if (owner) m->owner = *owner;
    *out = m;
    return GGUFEMBED_OK;
fail:
    ggufembed_model_free(m);
    return (ggufembed_status)rc;
}

ggufembed_status ggufembed_model_open_memory(const void *data, size_t size, ggufembed_model **out, char *err,
                                             size_t es) {
    return ge_model_open_bytes(data, size, 0, NULL, out, err, es);
}

ggufembed_status ggufembed_model_open_memory_v2(const void *data, size_t size, unsigned flags, ggufembed_model **out,
                                                char *err, size_t es) {
    return ge_model_open_bytes(data, size, flags, NULL, out, err, es);
}

void ggufembed_model_free(ggufembed_model *m) {
    if (!m) return;
    while (m->owned) {
        ge_owned *next = m->owned->next;
        ge_free(m->owned);
        m->owned = next;
    }
    ge_free(m->layers);
    ge_free(m->gelu_table);
    ge_vocab_free(&m->vocab);
    gguf_release(&m->gguf);
    if (m->owner.release) m->owner.release(m->owner.user);
    ge_free(m);
}

/* ------------------------------------------------------------ versioned structs */

/* A caller's struct of `size` bytes over dst, which holds the defaults of all `known`
 * bytes this library has (ggufembed.h, "ABI stability"): at least min_size bytes (the
 * first versioned layout), and beyond `known` only zeros. 1 = ok. */
static int copy_versioned(void *dst, size_t known, const void *src, size_t size, size_t min_size) {
    if (size < min_size) return 0;
    for (size_t i = known; i < size; i++)
        if (((const unsigned char *)src)[i]) return 0;
    memcpy(dst, src, size < known ? size : known);
    return 1;
}

#define GE_OPTIONS_V1_SIZE (offsetof(ggufembed_embed_options, instruction) + sizeof(const char *))
#define GE_PARAMS_V1_SIZE (offsetof(ggufembed_context_params, n_threads) + sizeof(int32_t))

ggufembed_status ggufembed_model_get_info(const ggufembed_model *m, ggufembed_model_info *out, size_t info_size) {
    if (!m || !out || info_size < sizeof(size_t)) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    ggufembed_model_info full, *info = &full;
    memset(info, 0, sizeof *info);
    info->struct_size = info_size < sizeof full ? info_size : sizeof full;
    info->architecture = m->arch;
    info->name = m->name;
    info->dimension = m->hp.n_out;
    info->hidden_size = m->hp.n_embd;
    info->context_length = m->hp.n_ctx;
    info->vocab_size = m->vocab.n_tokens;
    info->n_layers = m->hp.n_layer;
    info->n_heads = m->hp.n_head;
    info->n_kv_heads = m->hp.n_kv_head;
    info->head_dim = m->hp.head_dim;
    info->ffn_size = m->hp.n_ff;
    info->sliding_window = m->hp.n_swa;
    info->has_dense = m->dense2.data != NULL;
    /* gemma-embedding is EmbeddingGemma: its sentence-transformers model ends in two
     * Dense layers (768 -> 3072 -> 768). Files converted without
     * --sentence-transformers-dense-modules (the ggml-org release among them) lack
     * them; such a file still runs, but its vectors live in another space. */
    info->missing_dense = !m->vocab_only && strcmp(m->arch, "gemma-embedding") == 0 && !info->has_dense;
    info->warning = info->missing_dense
                        ? "this gemma-embedding file has no dense_2/dense_3 projections: its vectors are the pooled "
                          "hidden state, not EmbeddingGemma's embeddings (they will not match sentence-transformers "
                          "or files with the projections); convert with --sentence-transformers-dense-modules"
                        : "";
    info->n_tensors = (int32_t)m->gguf.n_tensors;
    info->weight_types = m->weight_types;
    info->n_params = m->n_params;
    info->file_size = m->n_bytes;
    info->bos_id = m->vocab.add_bos ? m->vocab.bos : -1;
    info->eos_id = m->vocab.add_eos ? m->vocab.eos : -1;
    info->add_bos = m->vocab.add_bos;
    info->add_eos = m->vocab.add_eos;
    info->prompts = m->prompts->name;
    info->tasks = m->prompts->tasks;
    info->tokenizer = m->vocab.model;
    info->vocab_only = m->vocab_only;
    info->reranker = m->hp.pooling == GE_POOL_RANK;
    static const char *const pooling_names[] = {"", "mean", "cls", "last", "rank"};
    info->pooling = m->vocab_only ? "" : pooling_names[m->hp.pooling];
    memcpy(out, info, info->struct_size);
    return GGUFEMBED_OK;
}

int ggufembed_model_metadata_count(const ggufembed_model *m) { return m ? (int)m->gguf.n_kv : 0; }

ggufembed_status ggufembed_model_metadata_line(const ggufembed_model *m, int index, char *buf, size_t n) {
    if (!m || !buf || n == 0 || index < 0 || (uint64_t)index >= m->gguf.n_kv) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    const gguf_kv *kv = &m->gguf.kv[index];
    int key_len = (int)(kv->key.len > 200 ? 200 : kv->key.len);
    switch (kv->type) {
    case GGUF_TYPE_STRING:
        snprintf(buf, n, "%.*s = \"%.*s\"", key_len, kv->key.ptr, (int)(kv->v.str.len > 200 ? 200 : kv->v.str.len),
                 kv->v.str.ptr);
        break;
    case GGUF_TYPE_ARRAY:
        snprintf(buf, n, "%.*s = [%llu x %s]", key_len, kv->key.ptr, (unsigned long long)kv->arr_n,
                 gguf_type_name(kv->arr_type));
        break;
    case GGUF_TYPE_FLOAT32: case GGUF_TYPE_FLOAT64:
        snprintf(buf, n, "%.*s = %g", key_len, kv->key.ptr, kv->v.f64);
        break;
    case GGUF_TYPE_BOOL:
        snprintf(buf, n, "%.*s = %s", key_len, kv->key.ptr, kv->v.u64 ? "true" : "false");
        break;
    case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32: case GGUF_TYPE_INT64:
        snprintf(buf, n, "%.*s = %lld", key_len, kv->key.ptr, (long long)kv->v.i64);
        break;
    default:
        snprintf(buf, n, "%.*s = %llu", key_len, kv->key.ptr, (unsigned long long)kv->v.u64);
        break;
    }
    return GGUFEMBED_OK;
}

const char *ggufembed_token_text(const ggufembed_model *m, int32_t id, size_t *len) {
    if (!m || id < 0 || id >= m->vocab.n_tokens || !len) return NULL;
    return ge_vocab_piece(&m->vocab, id, len);
}

/* ------------------------------------------------------------ context */

void ggufembed_context_params_init(ggufembed_context_params *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
}

ggufembed_status ggufembed_context_new(const ggufembed_model *m, const ggufembed_context_params *params,
                                       ggufembed_context **out) {
    if (!out) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!m) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    ggufembed_context_params p;
    ggufembed_context_params_init(&p);
    if (params && !copy_versioned(&p, sizeof p, params, params->struct_size, GE_PARAMS_V1_SIZE))
        return GGUFEMBED_ERR_INVALID_ARGUMENT; /* not from ggufembed_context_params_init() */
    int n_threads = p.n_threads;
    if (n_threads < 0 || n_threads > 256) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    ggufembed_context *ctx = ge_calloc(1, sizeof *ctx);
    if (!ctx) return GGUFEMBED_ERR_OUT_OF_MEMORY;
    ctx->model = m;
    ctx->kern = ge_kernels_active();
    ctx->pool = ge_pool_create(n_threads);
    if (!ctx->pool) {
        ge_free(ctx);
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    ctx->n_threads = ge_pool_size(ctx->pool);
    *out = ctx;
    return GGUFEMBED_OK;
}

void ggufembed_context_free(ggufembed_context *ctx) {
    if (!ctx) return;
    ge_pool_free(ctx->pool);
    ge_tok_scratch_free(&ctx->tok);
    ge_scratch_free(&ctx->s);
    ge_free(ctx->tokens);
    ge_free(ctx->tok_off);
    ge_free(ctx->prompt);
    ge_free(ctx->pass_off);
    ge_free(ctx->pass_out);
    ge_free(ctx);
}

const char *ggufembed_context_last_error(const ggufembed_context *ctx) { return ctx ? ctx->err : "context is NULL"; }

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static ggufembed_status fail(ggufembed_context *ctx, ggufembed_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
    va_end(ap);
    return st;
}

/* ------------------------------------------------------------ tasks */

/* the task names, indexed by ggufembed_task (the texts are per model: prompts.c) */
static const char *const k_task_names[GGUFEMBED_TASK_COUNT_] = {
    [GGUFEMBED_TASK_NONE] = "none",
    [GGUFEMBED_TASK_QUERY] = "query",
    [GGUFEMBED_TASK_DOCUMENT] = "document",
    [GGUFEMBED_TASK_QUESTION_ANSWERING] = "question-answering",
    [GGUFEMBED_TASK_FACT_CHECKING] = "fact-checking",
    [GGUFEMBED_TASK_CLASSIFICATION] = "classification",
    [GGUFEMBED_TASK_CLUSTERING] = "clustering",
    [GGUFEMBED_TASK_SENTENCE_SIMILARITY] = "sentence-similarity",
    [GGUFEMBED_TASK_CODE_RETRIEVAL] = "code-retrieval",
    [GGUFEMBED_TASK_SUMMARIZATION] = "summarization",
};

/* The prompt names of EmbeddingGemma's config_sentence_transformers.json (MTEB task
 * kinds) and the task whose prompt is the same text there. */
static const struct {
    const char *name;
    ggufembed_task task;
} k_task_aliases[] = {
    {"bitextmining", GGUFEMBED_TASK_QUERY},
    {"reranking", GGUFEMBED_TASK_QUERY},
    {"retrieval", GGUFEMBED_TASK_QUERY},
    {"retrieval-query", GGUFEMBED_TASK_QUERY},
    {"retrieval-document", GGUFEMBED_TASK_DOCUMENT},
    {"instructionretrieval", GGUFEMBED_TASK_CODE_RETRIEVAL},
    {"multilabelclassification", GGUFEMBED_TASK_CLASSIFICATION},
    {"pairclassification", GGUFEMBED_TASK_SENTENCE_SIMILARITY},
    {"sts", GGUFEMBED_TASK_SENTENCE_SIMILARITY},
};

const char *ggufembed_task_name(ggufembed_task task) {
    return (unsigned)task < GGUFEMBED_TASK_COUNT_ ? k_task_names[task] : NULL;
}

/* name == canonical, ignoring case and taking '_' and ' ' for '-' */
static int task_name_is(const char *name, const char *canonical) {
    const char *a = name, *b = canonical;
    while (*a && *b) {
        char c = *a;
        if (c == '_' || c == ' ') c = '-';
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != *b) return 0;
        a++, b++;
    }
    return !*a && !*b;
}

ggufembed_status ggufembed_task_from_name(const char *name, ggufembed_task *out) {
    if (!name || !out) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    for (int t = 0; t < GGUFEMBED_TASK_COUNT_; t++) {
        if (task_name_is(name, k_task_names[t])) {
            *out = (ggufembed_task)t;
            return GGUFEMBED_OK;
        }
    }
    for (size_t i = 0; i < sizeof k_task_aliases / sizeof k_task_aliases[0]; i++) {
        if (task_name_is(name, k_task_aliases[i].name)) {
            *out = k_task_aliases[i].task;
            return GGUFEMBED_OK;
        }
    }
    return GGUFEMBED_ERR_INVALID_ARGUMENT;
}

void ggufembed_embed_options_init(ggufembed_embed_options *o) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->normalize = 1;
}

int32_t ggufembed_output_dimension(const ggufembed_model *m, const ggufembed_embed_options *o) {
    if (!m) return 0;
    if (o && o->struct_size < GE_OPTIONS_V1_SIZE) return 0; /* not from ggufembed_embed_options_init() */
    if (o && o->dimensions > 0 && o->dimensions < m->hp.n_out) return o->dimensions;
    return m->hp.n_out;
}

static int grow_bytes(void **p, size_t *cap, size_t need) {
    if (need <= *cap) return 1;
    size_t nc = *cap ? *cap : 256;
    while (nc < need) nc *= 2;
    void *np = ge_malloc(nc);
    if (!np) return 0;
    if (*p) memcpy(np, *p, *cap);
    ge_free(*p);
    *p = np;
    *cap = nc;
    return 1;
}

/* The text with its task template applied (or the free-text prefix), in ctx->prompt
 * (or the text itself), then stripped as o->whitespace says (sentence-transformers
 * strips the prompted text as a whole: a prompt's trailing space stays before a
 * non-empty text). Templates hold "{title}" / "{instruction}" (prompts.h). */
static ggufembed_status apply_task(ggufembed_context *ctx, const ggufembed_embed_options *o, const char *text,
                                   size_t len, const char **out, size_t *out_len) {
    const ge_prompt_set *ps = ctx->model->prompts;
    const char *tmpl = o->prefix ? o->prefix : ps->tmpl[o->task];
    if (!tmpl[0]) {
        *out = text;
        *out_len = len;
        if (o->whitespace == GGUFEMBED_WHITESPACE_STRIP) *out = ge_strip_whitespace(text, len, out_len);
        return GGUFEMBED_OK;
    }
    const char *title = o->title ? o->title : "none";
    const char *instr = o->instruction ? o->instruction : ps->default_instruction ? ps->default_instruction : "";
    /* two passes over the template: the length, then the bytes (a free-text prefix is
     * taken literally) */
    size_t need = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t n = 0;
        char *p = pass ? ctx->prompt : NULL;
        for (const char *c = tmpl; *c;) {
            const char *sub = NULL;
            size_t skip = 1;
            if (!o->prefix && !strncmp(c, "{title}", 7)) sub = title, skip = 7;
            else if (!o->prefix && !strncmp(c, "{instruction}", 13)) sub = instr, skip = 13;
            const size_t l = sub ? strlen(sub) : 1;
            if (p) memcpy(p + n, sub ? sub : c, l);
            n += l;
            c += skip;
        }
        if (p && len) memcpy(p + n, text, len);
        if (!pass) {
            need = n;
            if (len > SIZE_MAX - need - 1 || !grow_bytes((void **)&ctx->prompt, &ctx->prompt_cap, need + len))
                return fail(ctx, GGUFEMBED_ERR_OUT_OF_MEMORY, "out of memory applying the task prompt");
        }
    }
    *out = ctx->prompt;
    *out_len = need + len;
    if (o->whitespace == GGUFEMBED_WHITESPACE_STRIP) *out = ge_strip_whitespace(ctx->prompt, *out_len, out_len);
    return GGUFEMBED_OK;
}

static ggufembed_status check_options(ggufembed_context *ctx, const ggufembed_embed_options *o) {
    const ge_prompt_set *ps = ctx->model->prompts;
    if ((unsigned)o->task >= GGUFEMBED_TASK_COUNT_)
        return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "unknown task %d", (int)o->task);
    if (!ps->tmpl[o->task])
        return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "this model (%s prompts) has no task '%s'; its tasks: %s",
                    ps->name, k_task_names[o->task], ps->tasks);
    if (o->prefix && o->task != GGUFEMBED_TASK_NONE)
        return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "a prefix replaces the task prompt: give one or the other");
    const char *tmpl = o->prefix ? "" : ps->tmpl[o->task];
    if (o->title && !strstr(tmpl, "{title}"))
        return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "a title is only used with %s",
                    ps->tmpl[GGUFEMBED_TASK_DOCUMENT] && strstr(ps->tmpl[GGUFEMBED_TASK_DOCUMENT], "{title}")
                        ? "the document task" : "EmbeddingGemma's document task (this model has no titles)");
    if (o->instruction && !strstr(tmpl, "{instruction}"))
        return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "an instruction is only used with %s",
                    ps->default_instruction ? "the query task" : "Qwen3's query task (this model has no instructions)");
    if (o->dimensions < 0 || o->dimensions > ctx->model->hp.n_out)
        return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "dimensions %d is out of range (1 to %d, or 0 for all)",
                    o->dimensions, ctx->model->hp.n_out);
    if (o->truncation != GGUFEMBED_TRUNCATE_ERROR && o->truncation != GGUFEMBED_TRUNCATE_END)
        return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "unknown truncation policy %d", (int)o->truncation);
    if (o->normalize != 0 && o->normalize != 1)
        return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "normalize must be 0 or 1");
    if (o->whitespace != GGUFEMBED_WHITESPACE_STRIP && o->whitespace != GGUFEMBED_WHITESPACE_KEEP)
        return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "unknown whitespace policy %d", (int)o->whitespace);
    return GGUFEMBED_OK;
}

/* Tokenizes text `index` for embedding (task prompt, truncation) and, when used is not
 * NULL, appends its ids to ctx->tokens at *used; with used NULL it only checks it. */
static ggufembed_status tokenize_for_embedding(ggufembed_context *ctx, const ggufembed_embed_options *o, size_t index,
                                               const char *text, size_t len, size_t *used) {
    const ggufembed_model *m = ctx->model;
    const char *prompt = NULL;
    size_t plen = 0;
    ggufembed_status st = apply_task(ctx, o, text, len, &prompt, &plen);
    if (st) return st;
    if (ge_tokenize(&m->vocab, &ctx->tok, prompt, plen, GGUFEMBED_TOKENIZE_DEFAULT))
        return fail(ctx, GGUFEMBED_ERR_OUT_OF_MEMORY, "out of memory tokenizing text %zu", index);
    size_t n = ctx->tok.n_ids;
    const size_t n_ctx = (size_t)m->hp.n_ctx;
    if (n > n_ctx) {
        if (o->truncation == GGUFEMBED_TRUNCATE_ERROR)
            return fail(ctx, GGUFEMBED_ERR_TOO_LONG,
                        "text %zu is %zu tokens long (special tokens included) but the model's context is %zu tokens; "
                        "shorten it or enable truncation",
                        index, n, n_ctx);
        n = n_ctx;
        /* keep the closing special token (SEP for WordPiece, else EOS) */
        if (m->vocab.add_sep) ctx->tok.ids[n - 1] = m->vocab.sep;
        else if (m->vocab.add_eos) ctx->tok.ids[n - 1] = m->vocab.eos;
    }
    if (n == 0) return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "text %zu has no tokens (the model adds no BOS/EOS)", index);
    if (!used) return GGUFEMBED_OK;
    if (!grow_bytes((void **)&ctx->tokens, &ctx->tokens_cap, (*used + n) * sizeof(int32_t)))
        return fail(ctx, GGUFEMBED_ERR_OUT_OF_MEMORY, "out of memory");
    memcpy(ctx->tokens + *used, ctx->tok.ids, n * sizeof(int32_t));
    *used += n;
    return GGUFEMBED_OK;
}

/* The output vector from the pooled one; 0 when it is not finite (NaN or Inf in the
 * weights, or an overflow: the sum of squares in double is finite exactly when every
 * float value is). */
static int finish_vector(const float *raw, int32_t dim, int normalize, float *out) {
    double ss = 0.0;
    for (int32_t i = 0; i < dim; i++) ss += (double)raw[i] * raw[i];
    const double sd = normalize && ss > 0.0 ? 1.0 / sqrt(ss) : 1.0;
    const float scale = (float)sd;
    if (isfinite(scale))
        for (int32_t i = 0; i < dim; i++) out[i] = raw[i] * scale;
    else /* a tiny vector (norm < ~3e-39): 1/norm overflows a float, so scale in double (found by fuzz_model) */
        for (int32_t i = 0; i < dim; i++) out[i] = (float)(raw[i] * sd);
    return isfinite(ss);
}

static ggufembed_status not_finite(ggufembed_context *ctx, size_t i) {
    return fail(ctx, GGUFEMBED_ERR_FORMAT,
                "the model's output for text %zu is not finite (NaN or Inf): the file's weights hold NaN/Inf or "
                "overflow (GGUFEMBED_OPEN_VALIDATE finds such weights at load)",
                i);
}

/* Runs the network over the n token lists in ctx->tokens (list j at tok_off[j] ..
 * tok_off[j+1], text first + j of the call's total), consecutive texts packed into
 * forward passes of up to GE_PACK_TOKENS tokens, and hands each text's raw output
 * (hp.n_out floats) to emit, in order. */
typedef ggufembed_status (*emit_fn)(ggufembed_context *ctx, size_t i, size_t n, const float *raw, void *user);

static ggufembed_status run_passes(ggufembed_context *ctx, size_t first, size_t n, size_t total, emit_fn emit,
                                   void *user) {
    const int32_t n_out = ctx->model->hp.n_out;
    size_t done = 0;
    while (done < n) {
        size_t end = done + 1;
        while (end < n && ctx->tok_off[end + 1] - ctx->tok_off[done] <= GE_PACK_TOKENS) end++;
        size_t n_seq = end - done;
        /* token offsets relative to this pass; pooled vectors before normalization */
        size_t base = ctx->tok_off[done];
        if (!grow_bytes((void **)&ctx->pass_off, &ctx->pass_off_cap, (n_seq + 1) * sizeof(size_t)) ||
            !grow_bytes((void **)&ctx->pass_out, &ctx->pass_out_cap, (size_t)n_out * n_seq * sizeof(float)))
            return fail(ctx, GGUFEMBED_ERR_OUT_OF_MEMORY, "out of memory");
        size_t *offs = ctx->pass_off;
        float *raw = ctx->pass_out;
        for (size_t i = 0; i <= n_seq; i++) offs[i] = ctx->tok_off[done + i] - base;
        int rc = ctx->model->arch_ops->forward(ctx, ctx->tokens + base, offs, (int)n_seq, raw);
        if (rc) return fail(ctx, (ggufembed_status)rc, "out of memory for the activations of %zu tokens", offs[n_seq]);
        for (size_t i = 0; i < n_seq; i++) {
            ggufembed_status st = emit(ctx, first + done + i, total, raw + i * (size_t)n_out, user);
            if (st) return st;
        }
        done = end;
    }
    return GGUFEMBED_OK;
}

typedef struct embed_emit_state {
    const ggufembed_embed_options *o;
    int32_t dim;
    float *out;
} embed_emit_state;

static ggufembed_status embed_emit(ggufembed_context *ctx, size_t i, size_t n, const float *raw, void *user) {
    const embed_emit_state *e = user;
    if (!finish_vector(raw, e->dim, e->o->normalize, e->out + i * (size_t)e->dim)) return not_finite(ctx, i);
    if (e->o->progress && e->o->progress(e->o->progress_user, i + 1, n))
        return fail(ctx, GGUFEMBED_ERR_CANCELLED, "cancelled after %zu of %zu texts", i + 1, n);
    return GGUFEMBED_OK;
}

/* The checks every embedding entry point starts with (embed_batch, embed_tokens,
 * count_tokens): a model that can embed, options that are versioned and valid; *full gets
 * the options with the defaults for the fields an older caller's struct lacks. */
static ggufembed_status embed_preamble(ggufembed_context *ctx, const ggufembed_embed_options *opts,
                                       ggufembed_embed_options *full) {
    ctx->err[0] = 0;
    if (ctx->model->vocab_only)
        return fail(ctx, GGUFEMBED_ERR_UNSUPPORTED,
                    "this GGUF file holds a vocabulary only (no tensors): it can tokenize but not embed");
    if (ctx->model->hp.pooling == GE_POOL_RANK)
        return fail(ctx, GGUFEMBED_ERR_UNSUPPORTED,
                    "this model is a reranker (pooling type rank): it scores query/document pairs "
                    "(ggufembed_rerank), it does not embed");
    ggufembed_embed_options_init(full);
    if (opts && !copy_versioned(full, sizeof *full, opts, opts->struct_size, GE_OPTIONS_V1_SIZE))
        return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT,
                    opts->struct_size < GE_OPTIONS_V1_SIZE
                        ? "options.struct_size is %zu: start the options with ggufembed_embed_options_init()"
                        : "options.struct_size is %zu and sets fields this library version (" GGUFEMBED_VERSION_STRING
                          ") does not have",
                    opts->struct_size);
    return check_options(ctx, full);
}

ggufembed_status ggufembed_embed_batch(ggufembed_context *ctx, const char *const *texts, const size_t *lens, size_t n,
                                       const ggufembed_embed_options *opts, float *out, size_t out_len) {
    if (!ctx) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    ggufembed_embed_options full;
    ggufembed_status st = embed_preamble(ctx, opts, &full);
    if (st) return st;
    const ggufembed_embed_options *o = &full;
    const ggufembed_model *m = ctx->model;
    const int32_t dim = ggufembed_output_dimension(m, o);
    if (n == 0) return GGUFEMBED_OK;
    if (!texts) return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "texts is NULL");
    if (!out) return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "out is NULL");
    if (n > SIZE_MAX / (size_t)dim / 2 || out_len < n * (size_t)dim)
        return fail(ctx, GGUFEMBED_ERR_BUFFER_TOO_SMALL, "out holds %zu floats but %zu texts of dimension %d need %zu",
                    out_len, n, dim, n * (size_t)dim);

    /* Tokenize everything first, so that errors (too long, bad options) surface before any
     * work. The ids are kept while the batch fits GE_BATCH_TEXTS / GE_BATCH_TOKENS; a
     * larger one is tokenized again chunk by chunk below, so a call's memory is bounded
     * whatever n is (ggufembed.h, "Limits"). */
    int keep = n <= GE_BATCH_TEXTS;
    if (keep && !grow_bytes((void **)&ctx->tok_off, &ctx->tok_off_cap, (n + 1) * sizeof(size_t)))
        return fail(ctx, GGUFEMBED_ERR_OUT_OF_MEMORY, "out of memory");
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (!texts[i] && (!lens || lens[i])) return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "text %zu is NULL", i);
        size_t len = lens ? lens[i] : strlen(texts[i]);
        if (keep) ctx->tok_off[i] = used;
        if ((st = tokenize_for_embedding(ctx, o, i, texts[i] ? texts[i] : "", len, keep ? &used : NULL))) return st;
        if (used > GE_BATCH_TOKENS) keep = 0;
    }
    embed_emit_state es = {o, dim, out};
    if (keep) {
        ctx->tok_off[n] = used;
        return run_passes(ctx, 0, n, n, embed_emit, &es);
    }
    if (!grow_bytes((void **)&ctx->tok_off, &ctx->tok_off_cap, (GE_BATCH_TEXTS + 1) * sizeof(size_t)))
        return fail(ctx, GGUFEMBED_ERR_OUT_OF_MEMORY, "out of memory");
    for (size_t first = 0, count; first < n; first += count) {
        used = 0;
        for (count = 0; first + count < n && count < GE_BATCH_TEXTS && (count == 0 || used < GE_BATCH_TOKENS); count++) {
            size_t i = first + count, len = lens ? lens[i] : strlen(texts[i]);
            ctx->tok_off[count] = used;
            if ((st = tokenize_for_embedding(ctx, o, i, texts[i] ? texts[i] : "", len, &used))) return st;
        }
        ctx->tok_off[count] = used;
        if ((st = run_passes(ctx, first, count, n, embed_emit, &es))) return st;
    }
    return GGUFEMBED_OK;
}

ggufembed_status ggufembed_embed(ggufembed_context *ctx, const char *text, size_t len,
                                 const ggufembed_embed_options *opts, float *out, size_t out_len) {
    if (!ctx) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    if (!text && len) return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "text is NULL");
    const char *t = text ? text : "";
    return ggufembed_embed_batch(ctx, &t, &len, 1, opts, out, out_len);
}

ggufembed_status ggufembed_count_tokens(ggufembed_context *ctx, const char *text, size_t len,
                                        const ggufembed_embed_options *opts, size_t *n_tokens) {
    if (!ctx) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    if (n_tokens) *n_tokens = 0;
    ggufembed_embed_options full;
    ggufembed_status st = embed_preamble(ctx, opts, &full);
    if (st) return st;
    if (!text && len) return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "text is NULL");
    if ((st = tokenize_for_embedding(ctx, &full, 0, text ? text : "", len, NULL))) return st;
    size_t n = ctx->tok.n_ids;
    if (n > (size_t)ctx->model->hp.n_ctx) n = (size_t)ctx->model->hp.n_ctx; /* truncated */
    if (n_tokens) *n_tokens = n;
    return GGUFEMBED_OK;
}

ggufembed_status ggufembed_embed_tokens(ggufembed_context *ctx, const int32_t *const *ids, const size_t *n_ids,
                                        size_t n, const ggufembed_embed_options *opts, float *out, size_t out_len) {
    if (!ctx) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    ggufembed_embed_options full;
    ggufembed_status st = embed_preamble(ctx, opts, &full);
    if (st) return st;
    const ggufembed_embed_options *o = &full;
    if (o->task != GGUFEMBED_TASK_NONE || o->prefix)
        return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "token ids are embedded as given: no task or prefix");
    const ggufembed_model *m = ctx->model;
    const int32_t dim = ggufembed_output_dimension(m, o);
    const size_t n_ctx = (size_t)m->hp.n_ctx;
    if (n == 0) return GGUFEMBED_OK;
    if (!ids || !n_ids) return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "ids or n_ids is NULL");
    if (!out) return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "out is NULL");
    if (n > SIZE_MAX / (size_t)dim / 2 || out_len < n * (size_t)dim)
        return fail(ctx, GGUFEMBED_ERR_BUFFER_TOO_SMALL, "out holds %zu floats but %zu texts of dimension %d need %zu",
                    out_len, n, dim, n * (size_t)dim);
    /* every list is checked before any work, as embed_batch tokenizes everything first */
    for (size_t i = 0; i < n; i++) {
        if (n_ids[i] == 0) return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "token list %zu is empty", i);
        if (!ids[i]) return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "token list %zu is NULL", i);
        if (n_ids[i] > n_ctx && o->truncation == GGUFEMBED_TRUNCATE_ERROR)
            return fail(ctx, GGUFEMBED_ERR_TOO_LONG,
                        "token list %zu has %zu tokens but the model's context is %zu tokens; shorten it or enable "
                        "truncation",
                        i, n_ids[i], n_ctx);
        for (size_t j = 0; j < n_ids[i]; j++)
            if (ids[i][j] < 0 || ids[i][j] >= m->vocab.n_tokens)
                return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT,
                            "token list %zu: id %ld at position %zu is out of range (the vocabulary has %d tokens)", i,
                            (long)ids[i][j], j, (int)m->vocab.n_tokens);
    }
    if (!grow_bytes((void **)&ctx->tok_off, &ctx->tok_off_cap, (GE_BATCH_TEXTS + 1) * sizeof(size_t)))
        return fail(ctx, GGUFEMBED_ERR_OUT_OF_MEMORY, "out of memory");
    embed_emit_state es = {o, dim, out};
    for (size_t first = 0, count; first < n; first += count) {
        size_t used = 0;
        for (count = 0; first + count < n && count < GE_BATCH_TEXTS && (count == 0 || used < GE_BATCH_TOKENS); count++) {
            const size_t i = first + count, len = n_ids[i] < n_ctx ? n_ids[i] : n_ctx; /* truncation: the first n_ctx */
            if (!grow_bytes((void **)&ctx->tokens, &ctx->tokens_cap, (used + len) * sizeof(int32_t)))
                return fail(ctx, GGUFEMBED_ERR_OUT_OF_MEMORY, "out of memory");
            ctx->tok_off[count] = used;
            memcpy(ctx->tokens + used, ids[i], len * sizeof(int32_t));
            used += len;
        }
        ctx->tok_off[count] = used;
        if ((st = run_passes(ctx, first, count, n, embed_emit, &es))) return st;
    }
    return GGUFEMBED_OK;
}

/* ------------------------------------------------------------ rerank */

/* Appends bytes to ctx->prompt at *n; 1 = ok */
static int prompt_put(ggufembed_context *ctx, size_t *n, const char *p, size_t len) {
    if (len > SIZE_MAX - *n - 1 || !grow_bytes((void **)&ctx->prompt, &ctx->prompt_cap, *n + len + 1)) return 0;
    if (len) memcpy(ctx->prompt + *n, p, len);
    *n += len;
    return 1;
}

/* The text llama.cpp's llama-embedding feeds a reranker for one pair (then tokenized
 * with special tokens added and parsed): the rerank template of the file
 * (tokenizer.chat_template.rerank, {query} and {document} replaced), or
 * query + EOS text (when the tokenizer adds EOS) + SEP text (when the vocabulary's add_sep
 * flag is set: ge_vocab.add_sep_flag) + document. */
static int rerank_text(ggufembed_context *ctx, const char *q, size_t ql, const char *d, size_t dl, size_t *n) {
    const ggufembed_model *m = ctx->model;
    const ge_vocab *v = &m->vocab;
    *n = 0;
    gguf_str tmpl;
    if (gguf_get_str(&m->gguf, "tokenizer.chat_template.rerank", &tmpl)) {
        for (size_t i = 0; i < tmpl.len;) {
            if (tmpl.len - i >= 7 && !memcmp(tmpl.ptr + i, "{query}", 7)) {
                if (!prompt_put(ctx, n, q, ql)) return 0;
                i += 7;
            } else if (tmpl.len - i >= 10 && !memcmp(tmpl.ptr + i, "{document}", 10)) {
                if (!prompt_put(ctx, n, d, dl)) return 0;
                i += 10;
            } else {
                if (!prompt_put(ctx, n, tmpl.ptr + i, 1)) return 0;
                i++;
            }
        }
        return 1;
    }
    size_t len;
    const char *t;
    if (!prompt_put(ctx, n, q, ql)) return 0;
    if (v->add_eos && (t = ge_vocab_piece(v, v->eos, &len)) && !prompt_put(ctx, n, t, len)) return 0;
    if (v->add_sep_flag && (t = ge_vocab_piece(v, v->sep, &len)) && !prompt_put(ctx, n, t, len)) return 0;
    return prompt_put(ctx, n, d, dl);
}

typedef struct rerank_emit_state {
    float *scores;
} rerank_emit_state;

static ggufembed_status rerank_emit(ggufembed_context *ctx, size_t i, size_t n, const float *raw, void *user) {
    (void)n;
    ((rerank_emit_state *)user)->scores[i] = raw[0]; /* llama-server's score: the first output */
    return isfinite(raw[0]) ? GGUFEMBED_OK : not_finite(ctx, i);
}

ggufembed_status ggufembed_rerank(ggufembed_context *ctx, const char *query, size_t query_len,
                                  const char *const *docs, const size_t *doc_lens, size_t n_docs, float *scores) {
    if (!ctx) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    ctx->err[0] = 0;
    const ggufembed_model *m = ctx->model;
    if (m->vocab_only || m->hp.pooling != GE_POOL_RANK)
        return fail(ctx, GGUFEMBED_ERR_UNSUPPORTED,
                    "this model is not a reranker (its pooling type is not rank): use an embedding call");
    if (!query && query_len) return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "query is NULL");
    if (n_docs == 0) return GGUFEMBED_OK;
    if (!docs) return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "docs is NULL");
    if (!scores) return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "scores is NULL");
    if (!grow_bytes((void **)&ctx->tok_off, &ctx->tok_off_cap, (n_docs + 1) * sizeof(size_t)))
        return fail(ctx, GGUFEMBED_ERR_OUT_OF_MEMORY, "out of memory");
    size_t used = 0;
    for (size_t i = 0; i < n_docs; i++) {
        if (!docs[i] && (!doc_lens || doc_lens[i])) return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "document %zu is NULL", i);
        const char *d = docs[i] ? docs[i] : "";
        size_t dl = doc_lens ? doc_lens[i] : strlen(d), n;
        if (!rerank_text(ctx, query ? query : "", query_len, d, dl, &n) ||
            ge_tokenize(&m->vocab, &ctx->tok, ctx->prompt, n, GGUFEMBED_TOKENIZE_DEFAULT))
            return fail(ctx, GGUFEMBED_ERR_OUT_OF_MEMORY, "out of memory tokenizing document %zu", i);
        size_t nt = ctx->tok.n_ids;
        if (nt > (size_t)m->hp.n_ctx)
            return fail(ctx, GGUFEMBED_ERR_TOO_LONG,
                        "query + document %zu is %zu tokens long but the model's context is %d tokens", i, nt,
                        m->hp.n_ctx);
        if (nt == 0) return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "query + document %zu has no tokens", i);
        if (!grow_bytes((void **)&ctx->tokens, &ctx->tokens_cap, (used + nt) * sizeof(int32_t)))
            return fail(ctx, GGUFEMBED_ERR_OUT_OF_MEMORY, "out of memory");
        ctx->tok_off[i] = used;
        memcpy(ctx->tokens + used, ctx->tok.ids, nt * sizeof(int32_t));
        used += nt;
    }
    ctx->tok_off[n_docs] = used;
    rerank_emit_state st = {scores};
    return run_passes(ctx, 0, n_docs, n_docs, rerank_emit, &st);
}

ggufembed_status ggufembed_tokenize(ggufembed_context *ctx, const char *text, size_t len, unsigned flags, int32_t *out,
                                    size_t cap, size_t *n_tokens) {
    if (!ctx) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    ctx->err[0] = 0;
    if (!text && len) return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "text is NULL");
    if (!out && cap) return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "out is NULL");
    if (flags & ~(unsigned)GGUFEMBED_TOKENIZE_DEFAULT)
        return fail(ctx, GGUFEMBED_ERR_INVALID_ARGUMENT, "unknown tokenize flags 0x%x", flags);
    if (ge_tokenize(&ctx->model->vocab, &ctx->tok, text ? text : "", len, flags))
        return fail(ctx, GGUFEMBED_ERR_OUT_OF_MEMORY, "out of memory tokenizing");
    size_t n = ctx->tok.n_ids;
    if (n_tokens) *n_tokens = n;
    if (out && n) memcpy(out, ctx->tok.ids, (n < cap ? n : cap) * sizeof(int32_t)); /* ids is NULL before the first token */
    if (cap < n)
        return fail(ctx, GGUFEMBED_ERR_BUFFER_TOO_SMALL, "the text has %zu tokens but the buffer holds %zu", n, cap);
    return GGUFEMBED_OK;
}
