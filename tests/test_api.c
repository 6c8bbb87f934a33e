/*
 * test_api.c - the C API with the real model: options, task prompts, errors on
 * bad files and bad input, truncation, several threads on one model, and fault
 * injection (fail the Nth allocation for every N: a clean error, no leak).
 *
 *   test_api MODEL.gguf SCRATCH_DIR
 */
#define _POSIX_C_SOURCE 200809L
#include "../core/alloc.h"
#include "../core/ggufembed.h"
#include "check.h"
#include "gguf_writer.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

static const char *g_model;
static ggufembed_model *g_m;

static int write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static void embed_text(ggufembed_context *ctx, const char *t, const ggufembed_embed_options *o, float *v) {
    ggufembed_status s = ggufembed_embed(ctx, t, strlen(t), o, v, 768);
    CHECK(s == GGUFEMBED_OK, "embed '%s': %s", t, ggufembed_context_last_error(ctx));
}

typedef struct thread_job {
    const char *text;
    float v[768];
    int rc;
} thread_job;

static void *thread_main(void *p) {
    thread_job *j = p;
    ggufembed_context *ctx;
    ggufembed_context_params cp;
    ggufembed_context_params_init(&cp);
    cp.n_threads = 1;
    j->rc = ggufembed_context_new(g_m, &cp, &ctx);
    for (int rep = 0; rep < 3 && !j->rc; rep++) j->rc = ggufembed_embed(ctx, j->text, strlen(j->text), NULL, j->v, 768);
    ggufembed_context_free(ctx);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: test_api MODEL.gguf SCRATCH_DIR\n");
        return 2;
    }
    g_model = argv[1];
    const char *dir = argv[2];
    char err[512], path[4096];
    CHECK(ggufembed_version_number() == GGUFEMBED_VERSION_NUMBER &&
              strcmp(ggufembed_version_string(), GGUFEMBED_VERSION_STRING) == 0, "version");
    for (int s = 0; s <= GGUFEMBED_ERR_INTERNAL; s++)
        CHECK(ggufembed_status_string((ggufembed_status)s)[0] != 0, "status text %d", s);

    /* ---- bad files: one clear message each, never a crash */
    ggufembed_model *m = (ggufembed_model *)1;
    CHECK(ggufembed_model_open_file("/nonexistent/model.gguf", &m, err, sizeof err) == GGUFEMBED_ERR_IO && m == NULL &&
              strstr(err, "No such file"), "missing file: %s", err);
    snprintf(path, sizeof path, "%s/not-gguf.bin", dir);
    write_file(path, "hello, I am a text file\n", 24);
    CHECK(ggufembed_model_open_file(path, &m, err, sizeof err) == GGUFEMBED_ERR_FORMAT && strstr(err, "not a GGUF"),
          "not gguf: %s", err);
    snprintf(path, sizeof path, "%s/empty.gguf", dir);
    write_file(path, "", 0);
    CHECK(ggufembed_model_open_file(path, &m, err, sizeof err) == GGUFEMBED_ERR_FORMAT, "empty: %s", err);
    CHECK(ggufembed_model_open_file(dir, &m, err, sizeof err) == GGUFEMBED_ERR_IO, "directory: %s", err);
    {
        gw w = {0};
        gw_bytes(&w, "GGUF", 4), gw_u32(&w, 3), gw_u64(&w, 0), gw_u64(&w, 1);
        gw_str(&w, "general.architecture"), gw_u32(&w, 8), gw_str(&w, "mamba");
        CHECK(ggufembed_model_open_memory(w.p, w.n, &m, err, sizeof err) == GGUFEMBED_ERR_UNSUPPORTED &&
                  strstr(err, "'mamba'"), "other architecture: %s", err);
        free(w.p);
    }

    /* the real model, then truncated copies of it */
    ggufembed_status st = ggufembed_model_open_file(g_model, &g_m, err, sizeof err);
    CHECK(st == GGUFEMBED_OK, "open %s: %s", g_model, err);
    if (st) return check_summary("test_api");
    ggufembed_model_info info;
    CHECK(ggufembed_model_get_info(g_m, &info, sizeof info) == GGUFEMBED_OK && info.dimension == 768 && info.context_length == 2048 &&
              info.vocab_size == 262144 && strcmp(info.architecture, "gemma-embedding") == 0,
          "info");
    {
        FILE *f = fopen(g_model, "rb");
        size_t cut[] = {100, 4u << 20, 200u << 20, (size_t)info.file_size - 1};
        char *buf = malloc(cut[3]);
        size_t got = fread(buf, 1, cut[3], f);
        fclose(f);
        for (int i = 0; i < 4 && got == cut[3]; i++) {
            snprintf(path, sizeof path, "%s/truncated.gguf", dir);
            write_file(path, buf, cut[i]);
            st = ggufembed_model_open_file(path, &m, err, sizeof err);
            CHECK(st == GGUFEMBED_ERR_FORMAT && strstr(err, "truncated"), "truncated at %zu: %d %s", cut[i], st, err);
        }
        free(buf);
        remove(path);
    }

    ggufembed_context *ctx;
    CHECK(ggufembed_context_new(g_m, NULL, &ctx) == GGUFEMBED_OK, "context");
    float a[768], b[768];

    /* ---- GGUFEMBED_OPEN_REPACK: the same bits as the zero-copy model; bad flags refused */
    CHECK(ggufembed_model_open_file_v2(g_model, 0x80, &m, err, sizeof err) == GGUFEMBED_ERR_INVALID_ARGUMENT && !m &&
              strstr(err, "flags"),
          "unknown open flags: %s", err);
    {
        ggufembed_model *pm = NULL;
        ggufembed_context *pc = NULL;
        st = ggufembed_model_open_file_v2(g_model, GGUFEMBED_OPEN_REPACK, &pm, err, sizeof err);
        CHECK(st == GGUFEMBED_OK && ggufembed_context_new(pm, NULL, &pc) == GGUFEMBED_OK, "open repacked: %s", err);
        const char *txt = "Repacked weights give the same vector, bit for bit.";
        embed_text(ctx, txt, NULL, a);
        if (pc) embed_text(pc, txt, NULL, b);
        CHECK(pc && memcmp(a, b, sizeof a) == 0, "repacked model: vector differs from the zero-copy model's");
        ggufembed_context_free(pc);
        ggufembed_model_free(pm);
    }

    /* ---- task prompts are exactly the model card's templates */
    ggufembed_embed_options o;
    ggufembed_embed_options_init(&o);
    o.task = GGUFEMBED_TASK_QUERY;
    embed_text(ctx, "Which planet is the largest?", &o, a);
    embed_text(ctx, "task: search result | query: Which planet is the largest?", NULL, b);
    CHECK(memcmp(a, b, sizeof a) == 0, "query template");
    o.task = GGUFEMBED_TASK_DOCUMENT;
    o.title = "Jupiter";
    embed_text(ctx, "Jupiter is the largest planet.", &o, a);
    embed_text(ctx, "title: Jupiter | text: Jupiter is the largest planet.", NULL, b);
    CHECK(memcmp(a, b, sizeof a) == 0, "document template with title");
    o.title = NULL;
    embed_text(ctx, "Jupiter is the largest planet.", &o, a);
    embed_text(ctx, "title: none | text: Jupiter is the largest planet.", NULL, b);
    CHECK(memcmp(a, b, sizeof a) == 0, "document template without title");
    const char *names[] = {"none", "query", "document", "question-answering", "fact_checking", "Classification",
                           "clustering", "sentence similarity", "code-retrieval"};
    for (int t = 0; t < 9; t++) {
        ggufembed_task task;
        CHECK(ggufembed_task_from_name(names[t], &task) == GGUFEMBED_OK && (int)task == t, "task name %s", names[t]);
    }
    ggufembed_task task;
    CHECK(ggufembed_task_from_name("search", &task) == GGUFEMBED_ERR_INVALID_ARGUMENT, "unknown task name");
    o.task = GGUFEMBED_TASK_SUMMARIZATION;
    embed_text(ctx, "Which planet is the largest?", &o, a);
    embed_text(ctx, "task: summarization | query: Which planet is the largest?", NULL, b);
    CHECK(memcmp(a, b, sizeof a) == 0, "summarization template");
    /* ---- a free-text prefix is the same as writing it before the text; the options
     * that do not fit the model are refused with a message */
    {
        ggufembed_embed_options p;
        ggufembed_embed_options_init(&p);
        p.prefix = "task: summarization | query: ";
        embed_text(ctx, "Which planet is the largest?", &p, b);
        CHECK(memcmp(a, b, sizeof a) == 0, "prefix = the summarization template");
        p.task = GGUFEMBED_TASK_QUERY;
        CHECK(ggufembed_embed(ctx, "x", 1, &p, b, 768) == GGUFEMBED_ERR_INVALID_ARGUMENT &&
                  strstr(ggufembed_context_last_error(ctx), "prefix"),
              "prefix with a task: %s", ggufembed_context_last_error(ctx));
        ggufembed_embed_options_init(&p);
        p.task = GGUFEMBED_TASK_QUERY;
        p.instruction = "Find passages";
        CHECK(ggufembed_embed(ctx, "x", 1, &p, b, 768) == GGUFEMBED_ERR_INVALID_ARGUMENT &&
                  strstr(ggufembed_context_last_error(ctx), "instruction"),
              "instruction on EmbeddingGemma: %s", ggufembed_context_last_error(ctx));
        float score;
        const char *doc = "Mars is red.";
        CHECK(ggufembed_rerank(ctx, "q", 1, &doc, NULL, 1, &score) == GGUFEMBED_ERR_UNSUPPORTED &&
                  strstr(ggufembed_context_last_error(ctx), "not a reranker"),
              "rerank on an embedding model: %s", ggufembed_context_last_error(ctx));
        ggufembed_model_info mi;
        ggufembed_model_get_info(g_m, &mi, sizeof mi);
        CHECK(!strcmp(mi.prompts, "embeddinggemma") && strstr(mi.tasks, "summarization") && !strcmp(mi.pooling, "mean") &&
                  !mi.reranker && !mi.vocab_only && !strcmp(mi.tokenizer, "llama"),
              "info: prompts %s, pooling %s, tokenizer %s", mi.prompts, mi.pooling, mi.tokenizer);
    }
    /* the sentence-transformers prompt names resolve to the task with the same prompt */
    const struct {
        const char *name;
        ggufembed_task task;
    } aliases[] = {{"STS", GGUFEMBED_TASK_SENTENCE_SIMILARITY}, {"Retrieval-document", GGUFEMBED_TASK_DOCUMENT},
                   {"retrieval_query", GGUFEMBED_TASK_QUERY}, {"InstructionRetrieval", GGUFEMBED_TASK_CODE_RETRIEVAL},
                   {"MultilabelClassification", GGUFEMBED_TASK_CLASSIFICATION}, {"Summarization", GGUFEMBED_TASK_SUMMARIZATION}};
    for (size_t t = 0; t < sizeof aliases / sizeof aliases[0]; t++)
        CHECK(ggufembed_task_from_name(aliases[t].name, &task) == GGUFEMBED_OK && task == aliases[t].task,
              "task alias %s", aliases[t].name);

    /* ---- whitespace: stripped by default (sentence-transformers), kept on request (llama.cpp) */
    ggufembed_embed_options_init(&o);
    CHECK(o.whitespace == GGUFEMBED_WHITESPACE_STRIP, "default whitespace policy is strip");
    embed_text(ctx, " \t\xe3\x80\x80Mars is red.\r\n\xc2\xa0", NULL, a); /* U+3000, U+00A0 are whitespace too */
    embed_text(ctx, "Mars is red.", NULL, b);
    CHECK(memcmp(a, b, sizeof a) == 0, "surrounding whitespace is stripped by default");
    o.whitespace = GGUFEMBED_WHITESPACE_KEEP;
    embed_text(ctx, " Mars is red.", &o, a);
    CHECK(memcmp(a, b, sizeof a) != 0, "KEEP embeds the leading space");
    ggufembed_embed_options_init(&o);
    o.task = GGUFEMBED_TASK_QUERY; /* strip(prompt + text): the space after the prompt stays */
    embed_text(ctx, "  Mars  ", &o, a);
    embed_text(ctx, "task: search result | query:   Mars", NULL, b);
    CHECK(memcmp(a, b, sizeof a) == 0, "query prompt + text stripped as a whole");
    embed_text(ctx, "", &o, a);
    embed_text(ctx, "task: search result | query:", NULL, b);
    CHECK(memcmp(a, b, sizeof a) == 0, "query prompt + empty text loses the prompt's trailing space");
    ggufembed_embed_options_init(&o);
    o.whitespace = (ggufembed_whitespace)7;
    CHECK(ggufembed_embed(ctx, "x", 1, &o, a, 768) == GGUFEMBED_ERR_INVALID_ARGUMENT &&
              strstr(ggufembed_context_last_error(ctx), "whitespace"), "bad whitespace policy");

    /* ---- the complete model: projections present, no warning */
    CHECK(info.has_dense && !info.missing_dense && info.warning && info.warning[0] == 0,
          "the test model should be the complete file (dense_2/dense_3): has_dense %d, warning '%s'", info.has_dense,
          info.warning ? info.warning : "(null)");

    /* ---- options: normalization off, dimensions, bad values */
    ggufembed_embed_options_init(&o);
    o.normalize = 0;
    embed_text(ctx, "raw vector", &o, a);
    double nrm = 0;
    for (int i = 0; i < 768; i++) nrm += (double)a[i] * a[i];
    CHECK(fabs(nrm - 1.0) > 1e-3, "unnormalized vector has norm^2 %g", nrm);
    ggufembed_embed_options_init(&o);
    o.dimensions = 769;
    CHECK(ggufembed_embed(ctx, "x", 1, &o, a, 768) == GGUFEMBED_ERR_INVALID_ARGUMENT &&
              strstr(ggufembed_context_last_error(ctx), "dimensions"), "dimensions out of range");
    o.dimensions = 0;
    o.task = (ggufembed_task)99;
    CHECK(ggufembed_embed(ctx, "x", 1, &o, a, 768) == GGUFEMBED_ERR_INVALID_ARGUMENT, "bad task");
    o.task = GGUFEMBED_TASK_QUERY;
    o.title = "t";
    CHECK(ggufembed_embed(ctx, "x", 1, &o, a, 768) == GGUFEMBED_ERR_INVALID_ARGUMENT, "title without document task");
    CHECK(ggufembed_embed(ctx, "x", 1, NULL, a, 100) == GGUFEMBED_ERR_BUFFER_TOO_SMALL, "small output");
    CHECK(ggufembed_embed(ctx, NULL, 5, NULL, a, 768) == GGUFEMBED_ERR_INVALID_ARGUMENT, "NULL text");
    CHECK(ggufembed_embed(NULL, "x", 1, NULL, a, 768) == GGUFEMBED_ERR_INVALID_ARGUMENT, "NULL ctx");
    CHECK(ggufembed_embed(ctx, "", 0, NULL, a, 768) == GGUFEMBED_OK, "empty text embeds (BOS EOS)");

    /* ---- invalid UTF-8 is tokenized byte-wise, never fails */
    const char bad_utf8[] = "ab\xff\xfe\xc3(\xe2\x82 \xf0\x9f\x98";
    int32_t ids[64];
    size_t nids = 0;
    CHECK(ggufembed_tokenize(ctx, bad_utf8, sizeof bad_utf8 - 1, GGUFEMBED_TOKENIZE_DEFAULT, ids, 64, &nids) ==
              GGUFEMBED_OK && nids > 4, "invalid utf-8 tokenizes");
    CHECK(ggufembed_embed(ctx, bad_utf8, sizeof bad_utf8 - 1, NULL, a, 768) == GGUFEMBED_OK, "invalid utf-8 embeds");
    CHECK(ggufembed_tokenize(ctx, "Hello world", 11, GGUFEMBED_TOKENIZE_DEFAULT, ids, 2, &nids) ==
              GGUFEMBED_ERR_BUFFER_TOO_SMALL && nids == 4, "tokenize reports the needed size");
    CHECK(ggufembed_tokenize(ctx, "Hello world", 11, 0, ids, 64, &nids) == GGUFEMBED_OK && nids == 2, "no special tokens");
    CHECK(ggufembed_tokenize(ctx, "<bos>", 5, GGUFEMBED_TOKENIZE_PARSE_SPECIAL, ids, 64, &nids) == GGUFEMBED_OK &&
              nids == 1 && ids[0] == 2, "<bos> parsed as special");
    CHECK(ggufembed_tokenize(ctx, "<bos>", 5, 0, ids, 64, &nids) == GGUFEMBED_OK && nids > 1, "<bos> as plain text");
    /* "</s>" is user-defined in Gemma's vocabulary but llama.cpp treats it as control
     * (its end-of-generation list): split out only when special tokens are parsed */
    {
        const int32_t parsed[] = {2, 236746, 212, 236763, 1}, plain[] = {2, 236746, 954, 236751, 236813, 236763, 1};
        CHECK(ggufembed_tokenize(ctx, "a</s>b", 6, GGUFEMBED_TOKENIZE_DEFAULT, ids, 64, &nids) == GGUFEMBED_OK &&
                  nids == 5 && memcmp(ids, parsed, sizeof parsed) == 0, "</s> parsed");
        CHECK(ggufembed_tokenize(ctx, "a</s>b", 6, GGUFEMBED_TOKENIZE_ADD_SPECIAL, ids, 64, &nids) == GGUFEMBED_OK &&
                  nids == 7 && memcmp(ids, plain, sizeof plain) == 0, "</s> as text like llama-tokenize --no-parse-special");
    }

    /* ---- token ids in (ggufembed_embed_tokens) and token counts (ggufembed_count_tokens) */
    {
        ggufembed_embed_options to;
        ggufembed_embed_options_init(&to);
        float c[768 * 2];
        const char *texts[2] = {"Hello world", "a</s>b"};
        int32_t t0[64], t1[64];
        size_t n0 = 0, n1 = 0, k = 0;
        CHECK(ggufembed_tokenize(ctx, texts[0], 11, GGUFEMBED_TOKENIZE_DEFAULT, t0, 64, &n0) == GGUFEMBED_OK &&
                  ggufembed_tokenize(ctx, texts[1], 6, GGUFEMBED_TOKENIZE_DEFAULT, t1, 64, &n1) == GGUFEMBED_OK,
              "tokenize for embed_tokens");
        const int32_t *lists[2] = {t0, t1};
        const size_t lens[2] = {n0, n1};
        CHECK(ggufembed_embed_batch(ctx, texts, NULL, 2, &to, c, 768 * 2) == GGUFEMBED_OK, "batch of two");
        float d[768 * 2];
        CHECK(ggufembed_embed_tokens(ctx, lists, lens, 2, &to, d, 768 * 2) == GGUFEMBED_OK &&
                  memcmp(c, d, sizeof c) == 0, "embed_tokens of the tokenized texts = embed_batch of the texts: %s",
              ggufembed_context_last_error(ctx));
        CHECK(ggufembed_count_tokens(ctx, texts[0], 11, &to, &k) == GGUFEMBED_OK && k == n0, "count_tokens = tokenize");
        to.task = GGUFEMBED_TASK_QUERY;
        CHECK(ggufembed_count_tokens(ctx, texts[0], 11, &to, &k) == GGUFEMBED_OK && k > n0 + 4, "count includes the prompt");
        CHECK(ggufembed_embed_tokens(ctx, lists, lens, 2, &to, d, 768 * 2) == GGUFEMBED_ERR_INVALID_ARGUMENT,
              "token ids refuse a task");
        to.task = GGUFEMBED_TASK_NONE;
        int32_t bad[2] = {2, 262144};
        const int32_t *bl[1] = {bad};
        const size_t bn[1] = {2}, zero[1] = {0};
        CHECK(ggufembed_embed_tokens(ctx, bl, bn, 1, &to, d, 768) == GGUFEMBED_ERR_INVALID_ARGUMENT &&
                  strstr(ggufembed_context_last_error(ctx), "out of range"), "id out of range refused");
        CHECK(ggufembed_embed_tokens(ctx, bl, zero, 1, &to, d, 768) == GGUFEMBED_ERR_INVALID_ARGUMENT, "empty list refused");
        to.dimensions = 128;
        CHECK(ggufembed_embed_tokens(ctx, lists, lens, 1, &to, d, 128) == GGUFEMBED_OK, "embed_tokens with dimensions");
        CHECK(ggufembed_count_tokens(NULL, "x", 1, &to, &k) == GGUFEMBED_ERR_INVALID_ARGUMENT, "count_tokens NULL ctx");
    }

    /* ---- token pieces: the tokens' texts joined give the text back (llama_token_to_piece) */
    {
        int32_t t[16];
        size_t nt = 0, len = 0;
        char joined[64] = {0}, piece[16];
        size_t at = 0;
        CHECK(ggufembed_tokenize(ctx, "Hello world", 11, GGUFEMBED_TOKENIZE_DEFAULT, t, 16, &nt) == GGUFEMBED_OK, "tokens");
        for (size_t i = 0; i < nt; i++) {
            CHECK(ggufembed_token_piece(g_m, t[i], piece, sizeof piece, &len) == GGUFEMBED_OK && at + len < sizeof joined,
                  "piece of %d", (int)t[i]);
            memcpy(joined + at, piece, len), at += len;
        }
        CHECK(!strcmp(joined, "<bos>Hello world<eos>"), "pieces joined: '%s'", joined);
        CHECK(ggufembed_token_piece(g_m, t[2], piece, 2, &len) == GGUFEMBED_ERR_BUFFER_TOO_SMALL && len == 6,
              "piece: needed size reported");
        CHECK(ggufembed_token_piece(g_m, -1, piece, sizeof piece, &len) == GGUFEMBED_ERR_INVALID_ARGUMENT, "piece of -1");
        int32_t byte_id = -1;
        for (int32_t id = 0; id < 1000 && byte_id < 0; id++) {
            size_t tl;
            const char *tt = ggufembed_token_text(g_m, id, &tl);
            if (tl == 6 && !memcmp(tt, "<0x41>", 6)) byte_id = id;
        }
        CHECK(byte_id >= 0 && ggufembed_token_piece(g_m, byte_id, piece, sizeof piece, &len) == GGUFEMBED_OK && len == 1 &&
                  piece[0] == 'A', "byte token <0x41> is 'A'");
    }

    /* ---- over-long text: error by default, truncation on request */
    size_t long_len = 3 * 2100;
    char *long_text = malloc(long_len + 1);
    for (size_t i = 0; i < long_len; i += 3) memcpy(long_text + i, "ab ", 3);
    long_text[long_len] = 0;
    st = ggufembed_embed(ctx, long_text, long_len, NULL, a, 768);
    CHECK(st == GGUFEMBED_ERR_TOO_LONG && strstr(ggufembed_context_last_error(ctx), "2048"), "too long: %s",
          ggufembed_context_last_error(ctx));
    ggufembed_embed_options_init(&o);
    o.truncation = GGUFEMBED_TRUNCATE_END;
    CHECK(ggufembed_embed(ctx, long_text, long_len, &o, a, 768) == GGUFEMBED_OK, "truncated embed: %s",
          ggufembed_context_last_error(ctx));

    /* ---- progress and cancellation in a batch */
    {
        const char *texts[5] = {"one", "two", "three", "four", "five"};
        float out[5 * 768];
        int calls = 0;
        struct { int *calls; } u = {&calls};
        (void)u;
        ggufembed_embed_options_init(&o);
        o.progress = NULL;
        CHECK(ggufembed_embed_batch(ctx, texts, NULL, 5, &o, out, 5 * 768) == GGUFEMBED_OK, "batch");
        embed_text(ctx, "three", NULL, a);
        double d = 0;
        for (int i = 0; i < 768; i++) d += (double)a[i] * out[2 * 768 + i];
        CHECK(d > 0.99999, "batch item equals single embed: %f", d);
    }

    /* ---- several threads on one model, each with its own context */
    {
        const char *texts[4] = {"first thread text", "Zweiter Faden", "第三个线程", "fourth, longer text about threads"};
        thread_job jobs[4];
        pthread_t th[4];
        for (int i = 0; i < 4; i++) {
            jobs[i].text = texts[i];
            pthread_create(&th[i], NULL, thread_main, &jobs[i]);
        }
        for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
        for (int i = 0; i < 4; i++) {
            embed_text(ctx, texts[i], NULL, a);
            CHECK(jobs[i].rc == 0 && memcmp(a, jobs[i].v, sizeof a) == 0, "thread %d result differs", i);
        }
    }
    ggufembed_context_free(ctx);

    /* ---- fault injection: fail allocation N for every N until the call succeeds */
    {
        int n_open = 0, n_embed = 0, bad = 0;
        for (unsigned flags = 0; flags <= GGUFEMBED_OPEN_REPACK; flags += GGUFEMBED_OPEN_REPACK)
            for (long n = 1;; n++) {
                ge_alloc_fail_after(n);
                ggufembed_model *fm = NULL;
                st = ggufembed_model_open_file_v2(g_model, flags, &fm, err, sizeof err);
                ge_alloc_fail_after(0);
                if (st == GGUFEMBED_OK) {
                    ggufembed_model_free(fm);
                    break;
                }
                n_open++;
                if (st != GGUFEMBED_ERR_OUT_OF_MEMORY || fm != NULL) bad++;
            }
        for (long n = 1;; n++) {
            ge_alloc_fail_after(n);
            ggufembed_context *fc = NULL;
            st = ggufembed_context_new(g_m, NULL, &fc);
            if (st == GGUFEMBED_OK) {
                const char *texts[2] = {"fault injection", "second text <bos> with a special token"};
                float out[2 * 768];
                ggufembed_embed_options_init(&o);
                o.task = GGUFEMBED_TASK_DOCUMENT;
                st = ggufembed_embed_batch(fc, texts, NULL, 2, &o, out, 2 * 768);
            }
            ge_alloc_fail_after(0);
            ggufembed_context_free(fc);
            if (st == GGUFEMBED_OK) break;
            n_embed++;
            if (st != GGUFEMBED_ERR_OUT_OF_MEMORY) bad++;
        }
        printf("fault injection: %d failing allocations in open, %d in context+embed, all clean\n", n_open, n_embed);
        CHECK(bad == 0 && n_open > 3 && n_embed > 3, "%d injected failures gave the wrong status", bad);
    }
    free(long_text);
    ggufembed_model_free(g_m);
    ggufembed_model_free(NULL);
    ggufembed_context_free(NULL);
    return check_summary("test_api");
}
