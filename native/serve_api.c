/*
 * serve_api.c - the server's endpoints: request JSON in, a job through the model's
 * batching queue, response JSON out (OpenAI's shapes; llama-server's for rerank and
 * tokenize). Every problem with a request is a 4xx naming the field; 5xx only for
 * the server's own trouble (out of memory, a model whose output is not finite).
 */
#define _POSIX_C_SOURCE 200809L
#include "serve.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sv_error(sv_reply *r, int status, const char *type, const char *code, const char *param, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' '; /* one line */
    sj_buf_free(&r->body);
    r->body.failed = 0;
    r->status = status;
    r->content_type = "application/json";
    sj_puts(&r->body, "{\"error\":{\"message\":");
    sj_put_string(&r->body, msg, strlen(msg));
    sj_puts(&r->body, ",\"type\":");
    sj_put_string(&r->body, type, strlen(type));
    sj_puts(&r->body, ",\"param\":");
    if (param) sj_put_string(&r->body, param, strlen(param));
    else sj_puts(&r->body, "null");
    sj_puts(&r->body, ",\"code\":");
    if (code) sj_put_string(&r->body, code, strlen(code));
    else sj_puts(&r->body, "null");
    sj_puts(&r->body, "}}");
}

#define BAD(c, param, ...) sv_error((c)->reply, 400, "invalid_request_error", "invalid_value", param, __VA_ARGS__)

/* The request's "model": a served name, or absent/empty for the first. NULL = replied. */
static sv_model *pick_model(sv_call *c) {
    const sj_value *v = sj_get(c->body, "model");
    if (!v || v->type == SJ_NULL || (v->type == SJ_STRING && v->len == 0)) return &c->srv->models[0];
    if (v->type != SJ_STRING) {
        BAD(c, "model", "'model' must be a string, not %s", sj_type_name(v->type));
        return NULL;
    }
    for (int i = 0; i < c->srv->n_models; i++)
        if (!strcmp(c->srv->models[i].name, v->str)) return &c->srv->models[i];
    sj_buf names = {0};
    for (int i = 0; i < c->srv->n_models; i++) sj_printf(&names, "%s%s", i ? ", " : "", c->srv->models[i].name);
    sv_error(c->reply, 404, "not_found_error", "model_not_found", "model",
             "the model '%.128s' is not served here (served: %.256s)", v->str, names.data ? names.data : "");
    sj_buf_free(&names);
    return NULL;
}

/* Optional typed fields: 1 = absent or good, 0 = replied with a 400. */
static int opt_string(sv_call *c, const char *key, const char **out) {
    const sj_value *v = sj_get(c->body, key);
    if (!v || v->type == SJ_NULL) return 1;
    if (v->type != SJ_STRING) return BAD(c, key, "'%s' must be a string, not %s", key, sj_type_name(v->type)), 0;
    *out = v->str;
    return 1;
}

static int opt_bool(sv_call *c, const char *key, int *out) {
    const sj_value *v = sj_get(c->body, key);
    if (!v || v->type == SJ_NULL) return 1;
    if (v->type != SJ_BOOL) return BAD(c, key, "'%s' must be true or false, not %s", key, sj_type_name(v->type)), 0;
    *out = v->boolean;
    return 1;
}

static int opt_int(sv_call *c, const char *key, long long lo, long long hi, long long *out) {
    const sj_value *v = sj_get(c->body, key);
    if (!v || v->type == SJ_NULL) return 1;
    if (v->type != SJ_NUMBER || !v->is_int)
        return BAD(c, key, "'%s' must be an integer, not %s", key, v->type == SJ_NUMBER ? "a fraction" : sj_type_name(v->type)), 0;
    if (v->integer < lo || v->integer > hi)
        return BAD(c, key, "'%s' is %lld: it must be %lld to %lld", key, (long long)v->integer, lo, hi), 0;
    *out = v->integer;
    return 1;
}

/* The request field a library message about options is about ("a title is only used
 * with ...", "dimensions 9999 is out of range"), else the input itself. */
static const char *option_param(const char *msg, const char *param) {
    static const char *const fields[] = {"title", "instruction", "prefix", "task", "dimensions"};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (strstr(msg, fields[i])) return fields[i];
    return param;
}

/* Maps a library failure on input i to a reply. */
static void lib_error(sv_call *c, sv_model *m, ggufembed_status st, const char *param, size_t i, const char *msg) {
    if (st == GGUFEMBED_ERR_INVALID_ARGUMENT) param = option_param(msg, param);
    if (st == GGUFEMBED_ERR_TOO_LONG)
        sv_error(c->reply, 413, "invalid_request_error", "context_length_exceeded", param,
                 "%s[%zu]: %s (the model '%s' takes %d tokens; set \"truncate\": true to cut)", param, i, msg, m->name,
                 (int)m->info.context_length);
    else if (st == GGUFEMBED_ERR_INVALID_ARGUMENT || st == GGUFEMBED_ERR_UNSUPPORTED)
        BAD(c, param, "%s[%zu]: %s", strcmp(param, "documents") ? "input" : param, i, msg);
    else sv_error(c->reply, 500, "server_error", NULL, NULL, "%s[%zu]: %s: %s", param, i, ggufembed_status_string(st), msg);
}

/* Runs a job through the model's queue; 1 = finished OK, else replied (or the client
 * is gone: status 0). */
static int run_job(sv_call *c, sv_model *m, sv_job *job) {
    sv_server *s = c->srv;
    size_t q = atomic_fetch_add(&s->queued, 1);
    if (q >= s->opt.max_queue) {
        atomic_fetch_sub(&s->queued, 1);
        sv_error(c->reply, 429, "rate_limit_error", "queue_full", NULL,
                 "the server's queue is full (%zu requests, --max-queue): retry later", s->opt.max_queue);
        c->reply->retry_after = 1;
        return 0;
    }
    int done = sv_queue_run(m->queue, job, c->abandon, c->abandon_user);
    atomic_fetch_sub(&s->queued, 1);
    if (!done) {
        if (c->timed_out(c->abandon_user)) {
            sv_error(c->reply, 503, "server_error", "timeout", NULL, "the request did not finish within %d s (--timeout)",
                     s->opt.timeout);
            c->reply->retry_after = 1;
        } else {
            c->reply->status = 0; /* the client went away */
        }
        return 0;
    }
    if (job->status == GGUFEMBED_ERR_TOO_LONG) { /* a rerank pair: the template's separators tipped it over */
        sv_error(c->reply, 413, "invalid_request_error", "context_length_exceeded", NULL, "%s", job->err);
        return 0;
    }
    if (job->status == GGUFEMBED_ERR_INVALID_ARGUMENT) {
        BAD(c, NULL, "%s", job->err);
        return 0;
    }
    if (job->status != GGUFEMBED_OK) { /* out of memory, or a model whose output is not finite */
        sv_error(c->reply, 500, "server_error", NULL, NULL, "embedding failed: %s: %s",
                 ggufembed_status_string(job->status), job->err);
        return 0;
    }
    return 1;
}

typedef struct inputs {
    size_t n;
    const char **texts;
    size_t *lens;
    const int32_t **ids;
    size_t *n_ids;
    int32_t *id_store;
    size_t *n_tokens;
    int tokens; /* token-id input */
} inputs;

static void inputs_free(inputs *in) {
    free(in->texts), free(in->lens), free(in->ids), free(in->n_ids), free(in->id_store), free(in->n_tokens);
}

/* One token list from a JSON array of integers into store at *at. */
static int token_list(sv_call *c, sv_model *m, const sj_value *a, size_t i, int32_t *store, size_t *at) {
    for (size_t j = 0; j < a->len; j++) {
        const sj_value *t = &a->items[j];
        if (t->type != SJ_NUMBER || !t->is_int || t->integer < 0 || t->integer >= m->info.vocab_size)
            return BAD(c, "input", "input[%zu][%zu] is not a token id of the model '%s' (an integer 0 to %d)", i, j,
                       m->name, (int)m->info.vocab_size - 1),
                   0;
        store[(*at)++] = (int32_t)t->integer;
    }
    return 1;
}

/* "input": a string, strings, token ids, or lists of token ids. */
static int read_input(sv_call *c, sv_model *m, const sj_value *v, inputs *in) {
    const char *shape = "'input' must be a string, an array of strings, an array of token ids or an array of arrays "
                        "of token ids";
    if (!v || v->type == SJ_NULL) return BAD(c, "input", "'input' is missing"), 0;
    if (v->type != SJ_STRING && v->type != SJ_ARRAY) return BAD(c, "input", "%s, not %s", shape, sj_type_name(v->type)), 0;
    if (v->type == SJ_ARRAY && v->len == 0) return BAD(c, "input", "'input' is an empty array"), 0;
    const int single = v->type == SJ_STRING || v->items[0].type == SJ_NUMBER;
    in->n = single ? 1 : v->len;
    if (in->n > c->srv->opt.max_inputs)
        return BAD(c, "input", "'input' has %zu items; at most %zu are taken (--max-inputs)", in->n, c->srv->opt.max_inputs), 0;
    in->tokens = v->type == SJ_ARRAY && (v->items[0].type == SJ_NUMBER || v->items[0].type == SJ_ARRAY);
    in->n_tokens = calloc(in->n, sizeof *in->n_tokens);
    if (!in->n_tokens) return sv_error(c->reply, 500, "server_error", NULL, NULL, "out of memory"), 0;
    if (!in->tokens) {
        in->texts = calloc(in->n, sizeof *in->texts);
        in->lens = calloc(in->n, sizeof *in->lens);
        if (!in->texts || !in->lens) return sv_error(c->reply, 500, "server_error", NULL, NULL, "out of memory"), 0;
        for (size_t i = 0; i < in->n; i++) {
            const sj_value *t = single ? v : &v->items[i];
            if (t->type != SJ_STRING) return BAD(c, "input", "%s; input[%zu] is %s", shape, i, sj_type_name(t->type)), 0;
            in->texts[i] = t->str, in->lens[i] = t->len;
        }
        return 1;
    }
    size_t total = 0;
    for (size_t i = 0; i < in->n; i++) {
        const sj_value *a = single ? v : &v->items[i];
        if (a->type != SJ_ARRAY) return BAD(c, "input", "%s; input[%zu] is %s", shape, i, sj_type_name(a->type)), 0;
        if (a->len == 0) return BAD(c, "input", "input[%zu] is an empty list of token ids", i), 0;
        total += a->len;
    }
    in->ids = calloc(in->n, sizeof *in->ids);
    in->n_ids = calloc(in->n, sizeof *in->n_ids);
    in->id_store = malloc(total * sizeof *in->id_store);
    if (!in->ids || !in->n_ids || !in->id_store) return sv_error(c->reply, 500, "server_error", NULL, NULL, "out of memory"), 0;
    size_t at = 0;
    for (size_t i = 0; i < in->n; i++) {
        const sj_value *a = single ? v : &v->items[i];
        in->ids[i] = in->id_store + at;
        in->n_ids[i] = a->len;
        if (!token_list(c, m, a, i, in->id_store, &at)) return 0;
    }
    return 1;
}

/* Tokens each input runs (the batch budget and usage), checking each as embedding
 * would; 1 = all good. */
static int count_inputs(sv_call *c, sv_model *m, const ggufembed_embed_options *o, inputs *in, size_t *total) {
    *total = 0;
    const size_t n_ctx = (size_t)m->info.context_length;
    if (in->tokens) {
        for (size_t i = 0; i < in->n; i++) {
            if (in->n_ids[i] > n_ctx && o->truncation == GGUFEMBED_TRUNCATE_ERROR) {
                char msg[160];
                snprintf(msg, sizeof msg, "%zu token ids", in->n_ids[i]);
                return lib_error(c, m, GGUFEMBED_ERR_TOO_LONG, "input", i, msg), 0;
            }
            in->n_tokens[i] = in->n_ids[i] < n_ctx ? in->n_ids[i] : n_ctx;
            *total += in->n_tokens[i];
        }
        return 1;
    }
    pthread_mutex_lock(&m->tok_mu);
    for (size_t i = 0; i < in->n; i++) {
        ggufembed_status st = ggufembed_count_tokens(m->tok_ctx, in->texts[i], in->lens[i], o, &in->n_tokens[i]);
        if (st) {
            char msg[400];
            snprintf(msg, sizeof msg, "%s", ggufembed_context_last_error(m->tok_ctx));
            pthread_mutex_unlock(&m->tok_mu);
            return lib_error(c, m, st, "input", i, msg), 0;
        }
        *total += in->n_tokens[i];
    }
    pthread_mutex_unlock(&m->tok_mu);
    return 1;
}

void sv_embeddings(sv_call *c) {
    sv_model *m = pick_model(c);
    if (!m) return;
    if (m->info.reranker) {
        BAD(c, "model", "the model '%s' is a reranker: it scores query/document pairs (POST /v1/rerank)", m->name);
        return;
    }
    ggufembed_embed_options o;
    ggufembed_embed_options_init(&o);
    const char *format = NULL, *task = NULL;
    int normalize = 1, truncate = 0;
    long long dims = 0;
    if (!opt_string(c, "encoding_format", &format) || !opt_string(c, "task", &task) ||
        !opt_string(c, "title", &o.title) || !opt_string(c, "prefix", &o.prefix) ||
        !opt_string(c, "instruction", &o.instruction) || !opt_bool(c, "normalize", &normalize) ||
        !opt_bool(c, "truncate", &truncate) || !opt_int(c, "dimensions", 1, m->info.dimension, &dims))
        return;
    const char *user = NULL;
    if (!opt_string(c, "user", &user)) return;
    int base64 = 0;
    if (format && !strcmp(format, "base64")) base64 = 1;
    else if (format && strcmp(format, "float"))
        return (void)BAD(c, "encoding_format", "'encoding_format' is '%.64s': it must be \"float\" or \"base64\"", format);
    if (task && ggufembed_task_from_name(task, &o.task) != GGUFEMBED_OK)
        return (void)BAD(c, "task", "unknown task '%.64s' (the model '%s' has: %s)", task, m->name, m->info.tasks);
    o.dimensions = (int32_t)dims;
    o.normalize = normalize;
    o.truncation = truncate ? GGUFEMBED_TRUNCATE_END : GGUFEMBED_TRUNCATE_ERROR;

    inputs in = {0};
    float *vecs = NULL;
    size_t total = 0;
    if (!read_input(c, m, sj_get(c->body, "input"), &in)) goto done;
    if (in.tokens && (o.task != GGUFEMBED_TASK_NONE || o.prefix || o.title || o.instruction)) {
        BAD(c, "input", "token ids are embedded as given: 'task', 'title', 'prefix' and 'instruction' do not apply");
        goto done;
    }
    if (!count_inputs(c, m, &o, &in, &total)) goto done;
    const size_t dim = (size_t)ggufembed_output_dimension(m->model, &o);
    vecs = malloc(in.n * dim * sizeof *vecs);
    if (!vecs) {
        sv_error(c->reply, 500, "server_error", NULL, NULL, "out of memory for %zu vectors", in.n);
        goto done;
    }
    sv_job job = {.kind = in.tokens ? SV_EMBED_TOKENS : SV_EMBED_TEXTS, .opts = o, .n = in.n, .texts = in.texts,
                  .lens = in.lens, .ids = in.ids, .n_ids = in.n_ids, .n_tokens = in.n_tokens, .out = vecs};
    if (!run_job(c, m, &job)) goto done;

    sj_buf *b = &c->reply->body;
    c->reply->status = 200;
    c->reply->content_type = "application/json";
    c->reply->prompt_tokens = total;
    sj_puts(b, "{\"object\":\"list\",\"data\":[");
    for (size_t i = 0; i < in.n; i++) {
        sj_printf(b, "%s{\"object\":\"embedding\",\"index\":%zu,\"embedding\":", i ? "," : "", i);
        const float *v = vecs + i * dim;
        if (base64) {
            sj_put_base64(b, v, dim * sizeof(float)); /* x86_64 and wasm are little-endian, as OpenAI's format */
        } else {
            sj_puts(b, "[");
            for (size_t k = 0; k < dim; k++) {
                if (k) sj_puts(b, ",");
                sj_put_float(b, v[k]);
            }
            sj_puts(b, "]");
        }
        sj_puts(b, "}");
    }
    sj_puts(b, "],\"model\":");
    sj_put_string(b, m->name, strlen(m->name));
    sj_printf(b, ",\"usage\":{\"prompt_tokens\":%zu,\"total_tokens\":%zu}}", total, total);
done:
    free(vecs);
    inputs_free(&in);
}

typedef struct ranked {
    size_t index;
    float score;
} ranked;

static int by_score(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return x->index < y->index ? -1 : x->index > y->index; /* stable for ties */
}

void sv_rerank(sv_call *c) {
    sv_model *m = pick_model(c);
    if (!m) return;
    if (!m->info.reranker) {
        BAD(c, "model", "the model '%s' is an embedding model, not a reranker (pooling %s): POST /v1/embeddings", m->name,
            m->info.pooling);
        return;
    }
    const sj_value *q = sj_get(c->body, "query"), *docs = sj_get(c->body, "documents");
    if (!q || q->type != SJ_STRING)
        return (void)BAD(c, "query", "'query' must be a string%s", q ? "" : " (it is missing)");
    if (!docs || docs->type != SJ_ARRAY || docs->len == 0)
        return (void)BAD(c, "documents", "'documents' must be a non-empty array of strings");
    if (docs->len > c->srv->opt.max_inputs)
        return (void)BAD(c, "documents", "'documents' has %zu items; at most %zu are taken (--max-inputs)", docs->len,
                         c->srv->opt.max_inputs);
    long long top_n = (long long)docs->len;
    int return_docs = 0;
    if (!opt_int(c, "top_n", 1, 1LL << 40, &top_n) || !opt_bool(c, "return_documents", &return_docs)) return;
    if (top_n > (long long)docs->len) top_n = (long long)docs->len;
    const size_t n = docs->len;
    const char **texts = calloc(n, sizeof *texts);
    size_t *lens = calloc(n, sizeof *lens);
    float *scores = calloc(n, sizeof *scores);
    ranked *r = calloc(n, sizeof *r);
    if (!texts || !lens || !scores || !r) {
        sv_error(c->reply, 500, "server_error", NULL, NULL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const sj_value *d = &docs->items[i];
        if (d->type != SJ_STRING) {
            BAD(c, "documents", "documents[%zu] must be a string, not %s", i, sj_type_name(d->type));
            goto done;
        }
        texts[i] = d->str, lens[i] = d->len;
    }
    /* tokens for usage: the query's and each document's own (the pair adds a few
     * separators); lengths are checked by the rerank call itself */
    pthread_mutex_lock(&m->tok_mu);
    size_t tokens = 0, k = 0;
    ggufembed_tokenize(m->tok_ctx, q->str, q->len, GGUFEMBED_TOKENIZE_DEFAULT, NULL, 0, &k);
    size_t qk = k;
    for (size_t i = 0; i < n; i++) {
        ggufembed_tokenize(m->tok_ctx, texts[i], lens[i], GGUFEMBED_TOKENIZE_DEFAULT, NULL, 0, &k);
        tokens += qk + k;
        if (qk + k > (size_t)m->info.context_length) {
            pthread_mutex_unlock(&m->tok_mu);
            sv_error(c->reply, 413, "invalid_request_error", "context_length_exceeded", "documents",
                     "documents[%zu] with the query is %zu tokens; the model '%s' takes %d", i, qk + k, m->name,
                     (int)m->info.context_length);
            goto done;
        }
    }
    pthread_mutex_unlock(&m->tok_mu);
    sv_job job = {.kind = SV_RERANK, .n = n, .texts = texts, .lens = lens, .query = q->str, .query_len = q->len,
                  .out = scores};
    ggufembed_embed_options_init(&job.opts);
    if (!run_job(c, m, &job)) goto done;
    for (size_t i = 0; i < n; i++) r[i] = (ranked){i, scores[i]};
    qsort(r, n, sizeof *r, by_score);
    sj_buf *b = &c->reply->body;
    c->reply->status = 200;
    c->reply->content_type = "application/json";
    c->reply->prompt_tokens = tokens;
    sj_puts(b, "{\"object\":\"list\",\"model\":");
    sj_put_string(b, m->name, strlen(m->name));
    sj_printf(b, ",\"usage\":{\"prompt_tokens\":%zu,\"total_tokens\":%zu},\"results\":[", tokens, tokens);
    for (long long i = 0; i < top_n; i++) {
        sj_printf(b, "%s{\"index\":%zu,\"relevance_score\":", i ? "," : "", r[i].index);
        sj_put_float(b, r[i].score);
        if (return_docs) {
            sj_puts(b, ",\"document\":{\"text\":");
            sj_put_string(b, texts[r[i].index], lens[r[i].index]);
            sj_puts(b, "}");
        }
        sj_puts(b, "}");
    }
    sj_puts(b, "]}");
done:
    free(texts), free(lens), free(scores), free(r);
}

void sv_tokenize(sv_call *c) {
    sv_model *m = pick_model(c);
    if (!m) return;
    const sj_value *t = sj_get(c->body, "content");
    if (!t || t->type != SJ_STRING) return (void)BAD(c, "content", "'content' must be a string%s", t ? "" : " (it is missing)");
    int add_special = 1, parse_special = 1, pieces = 0;
    if (!opt_bool(c, "add_special", &add_special) || !opt_bool(c, "parse_special", &parse_special) ||
        !opt_bool(c, "with_pieces", &pieces))
        return;
    unsigned flags = (add_special ? GGUFEMBED_TOKENIZE_ADD_SPECIAL : 0u) | (parse_special ? GGUFEMBED_TOKENIZE_PARSE_SPECIAL : 0u);
    pthread_mutex_lock(&m->tok_mu);
    size_t n = 0;
    ggufembed_status st = ggufembed_tokenize(m->tok_ctx, t->str, t->len, flags, NULL, 0, &n);
    int32_t *ids = NULL;
    if (st == GGUFEMBED_OK || st == GGUFEMBED_ERR_BUFFER_TOO_SMALL) {
        ids = malloc((n ? n : 1) * sizeof *ids);
        st = ids ? ggufembed_tokenize(m->tok_ctx, t->str, t->len, flags, ids, n, &n) : GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    pthread_mutex_unlock(&m->tok_mu);
    if (st) {
        free(ids);
        return (void)sv_error(c->reply, 500, "server_error", NULL, NULL, "tokenize failed: %s", ggufembed_status_string(st));
    }
    sj_buf *b = &c->reply->body;
    c->reply->status = 200;
    c->reply->content_type = "application/json";
    c->reply->prompt_tokens = n;
    sj_puts(b, "{\"tokens\":[");
    for (size_t i = 0; i < n; i++) {
        if (!pieces) {
            sj_printf(b, i ? ",%d" : "%d", (int)ids[i]);
            continue;
        }
        /* the token's text (llama-server's piece); bytes that are not UTF-8 on their own
         * (a byte token, part of a character) as an array of byte values, as llama-server */
        char piece[256];
        size_t len = 0;
        if (ggufembed_token_piece(m->model, ids[i], piece, sizeof piece, &len)) len = len < sizeof piece ? len : sizeof piece;
        sj_printf(b, "%s{\"id\":%d,\"piece\":", i ? "," : "", (int)ids[i]);
        if (sj_valid_utf8(piece, len)) {
            sj_put_string(b, piece, len);
        } else {
            sj_puts(b, "[");
            for (size_t k = 0; k < len; k++) sj_printf(b, k ? ",%u" : "%u", (unsigned char)piece[k]);
            sj_puts(b, "]");
        }
        sj_puts(b, "}");
    }
    sj_puts(b, "]}");
    free(ids);
}

void sv_models(sv_server *s, sv_reply *r) {
    sj_buf *b = &r->body;
    r->status = 200;
    r->content_type = "application/json";
    sj_puts(b, "{\"object\":\"list\",\"data\":[");
    for (int i = 0; i < s->n_models; i++) {
        const sv_model *m = &s->models[i];
        sj_puts(b, i ? ",{\"id\":" : "{\"id\":");
        sj_put_string(b, m->name, strlen(m->name));
        sj_printf(b, ",\"object\":\"model\",\"created\":%lld,\"owned_by\":\"ggufembed\",\"meta\":{\"dimension\":%d,"
                     "\"n_ctx\":%d,\"architecture\":",
                  s->started, (int)m->info.dimension, (int)m->info.context_length);
        sj_put_string(b, m->info.architecture, strlen(m->info.architecture));
        sj_printf(b, ",\"reranker\":%s,\"pooling\":", m->info.reranker ? "true" : "false");
        sj_put_string(b, m->info.pooling, strlen(m->info.pooling));
        sj_puts(b, ",\"tasks\":");
        sj_put_string(b, m->info.tasks, strlen(m->info.tasks));
        sj_printf(b, ",\"file_size\":%llu}}", (unsigned long long)m->info.file_size);
    }
    sj_puts(b, "]}");
}

/* ---------------------------------------------------------- the models */

int sv_model_open(sv_server *s, sv_model *m, const char *arg, sv_batch_hook hook, void *hook_user) {
    const char *eq = strchr(arg, '=');
    m->path = eq ? eq + 1 : arg;
    const char *base = strrchr(m->path, '/');
    base = base ? base + 1 : m->path;
    size_t n = eq ? (size_t)(eq - arg) : strlen(base);
    if (!eq && n > 5 && !strcmp(base + n - 5, ".gguf")) n -= 5;
    if (n == 0 || n >= sizeof m->name) {
        fprintf(stderr, "ggufembed serve: bad model name in '%s' (1 to %zu bytes)\n", arg, sizeof m->name - 1);
        return 0;
    }
    memcpy(m->name, eq ? arg : base, n);
    m->name[n] = 0;
    for (sv_model *o = s->models; o < m; o++)
        if (!strcmp(o->name, m->name)) {
            fprintf(stderr, "ggufembed serve: two models are named '%s' (give one NAME=PATH)\n", m->name);
            return 0;
        }
    char err[512];
    ggufembed_status st = ggufembed_model_open_file_v2(m->path, s->opt.open_flags, &m->model, err, sizeof err);
    if (st) {
        fprintf(stderr, "ggufembed serve: %s: %s\n", m->path, err);
        return 0;
    }
    if ((st = ggufembed_model_get_info(m->model, &m->info, sizeof m->info))) return 0;
    if (m->info.vocab_only) {
        fprintf(stderr, "ggufembed serve: %s holds a vocabulary only: it cannot embed\n", m->path);
        return 0;
    }
    if (m->info.warning[0]) fprintf(stderr, "ggufembed serve: warning: %s: %s\n", m->name, m->info.warning);
    ggufembed_context_params p;
    ggufembed_context_params_init(&p);
    p.n_threads = 1;
    pthread_mutex_init(&m->tok_mu, NULL);
    m->tok_mu_ready = 1;
    if ((st = ggufembed_context_new(m->model, &p, &m->tok_ctx)) ||
        (st = sv_queue_start(m->model, s->opt.threads, s->opt.max_batch_tokens, hook, hook_user, &m->queue))) {
        fprintf(stderr, "ggufembed serve: %s: %s\n", m->name, ggufembed_status_string(st));
        return 0;
    }
    return 1;
}

void sv_models_close(sv_server *s) {
    for (int i = 0; i < s->n_models; i++) {
        sv_model *m = &s->models[i];
        sv_queue_stop(m->queue);
        ggufembed_context_free(m->tok_ctx);
        if (m->tok_mu_ready) pthread_mutex_destroy(&m->tok_mu);
        ggufembed_model_free(m->model);
    }
    free(s->models);
    s->models = NULL;
    s->n_models = 0;
}
