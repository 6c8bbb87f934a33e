/*
 * cli.c - the ggufembed command-line tool.
 *
 *   ggufembed embed    -m MODEL [--task NAME] [--title T] [--dim N] [--no-normalize]
 *                      [--truncate] [--keep-whitespace] [--threads N] [--format json|ndjson] [TEXT ...]
 *   ggufembed similarity -m MODEL [options as embed] [--query Q] TEXT TEXT [...]
 *   ggufembed tokenize -m MODEL [--no-special] [--no-parse-special] TEXT | --file PATH
 *   ggufembed info     -m MODEL
 *   ggufembed serve    -m MODEL [...]   (serve.c: the HTTP server)
 *   ggufembed version
 *
 * Exit status 0 on success; otherwise one line on stderr and 1 (bad usage: 2).
 */
#include "../core/ggufembed.h"
#ifdef GGUFEMBED_HAVE_SERVER
#include "serve.h"
#endif

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *g_prog = "ggufembed";

static void usage(FILE *f) {
    fprintf(f,
            "usage:\n"
            "  %s embed -m MODEL [--task NAME] [--title T] [--instruction I] [--prefix P] [--dim N]\n"
            "                 [--no-normalize] [--truncate]\n"
            "                 [--keep-whitespace] [--threads N] [--format json|ndjson] [--no-repack]\n"
            "                 [--f32-activations] [TEXT ...]\n"
            "      Embeds each TEXT, or each line of standard input when no TEXT is given.\n"
            "      --keep-whitespace: tokenize the text as given, as llama.cpp does (default: strip\n"
            "      leading/trailing whitespace of prompt+text, as sentence-transformers does).\n"
            "      --no-repack: use the weights in place (zero-copy) instead of copying them at\n"
            "      load into the layout the CPU's kernels read fastest (same results).\n"
            "      --f32-activations: multiply in f32 (weights widened, inputs not quantized to\n"
            "      8 bits): the weights' own function, a reference for quantized files; slower.\n"
            "  %s similarity -m MODEL [embed options] TEXT TEXT [...]\n"
            "      Embeds the texts and prints their cosine similarity matrix.\n"
            "  %s similarity -m MODEL [embed options] --query Q TEXT [...]\n"
            "      Embeds Q with --task query and each TEXT with --task document (--title applies\n"
            "      to the documents) and prints Q's similarity to each TEXT, one line each.\n"
            "  %s rerank -m MODEL --query Q DOC [DOC ...]\n"
            "      Reranker models (pooling type rank): one relevance score per DOC, one per line.\n"
            "  %s tokenize -m MODEL [--no-special] [--no-parse-special] TEXT | --file PATH\n"
            "      Prints the token ids (BOS/EOS added, special tokens parsed, like llama-tokenize).\n"
            "  %s info -m MODEL\n"
            "  %s serve -m MODEL [-m MODEL ...] [--port 8080] [...]\n"
            "      An OpenAI-compatible embeddings/rerank HTTP server (`%s serve --help`).\n"
            "  %s version\n"
            "tasks: none (default), query, document, question-answering, fact-checking, classification,\n"
            "       clustering, sentence-similarity, code-retrieval, summarization, as far as the model's\n"
            "       card defines them (`info` lists them); also EmbeddingGemma's sentence-transformers\n"
            "       prompt names (STS, Retrieval-document, ...). --title T: EmbeddingGemma documents;\n"
            "       --instruction I: Qwen3 queries; --prefix P: any model, free text instead of a task.\n"
            "MODEL defaults to $GGUFEMBED_MODEL.\n",
            g_prog, g_prog, g_prog, g_prog, g_prog, g_prog, g_prog, g_prog, g_prog);
}

static int die(const char *fmt, const char *a, const char *b) {
    fprintf(stderr, "%s: ", g_prog);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 1;
}

typedef struct cli {
    const char *cmd;
    const char *model_path;
    ggufembed_embed_options opts;
    int threads;
    int ndjson;
    int no_special, no_parse_special;
    const char *kernels;
    const char *query; /* similarity --query */
    const char *file;  /* tokenize --file: the text is this file's bytes */
    int no_repack;
    int f32_act;
    char **texts;
    int n_texts;
} cli;

static int parse_int(const char *s, int lo, int hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) return 0;
    *out = (int)v;
    return 1;
}

/* returns 0 ok, 2 usage error (message printed) */
static int parse_args(int argc, char **argv, cli *c) {
    memset(c, 0, sizeof *c);
    ggufembed_embed_options_init(&c->opts);
    c->model_path = getenv("GGUFEMBED_MODEL");
    c->cmd = argv[1];
    c->texts = calloc((size_t)argc, sizeof(char *));
    if (!c->texts) return 2;
    int only_texts = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VAL()                                                                     \
    do {                                                                               \
        if (!val) {                                                                    \
            fprintf(stderr, "%s: option %s needs a value\n", g_prog, a);               \
            return 2;                                                                  \
        }                                                                              \
        i++;                                                                           \
    } while (0)
        if (only_texts || a[0] != '-' || strcmp(a, "-") == 0) {
            c->texts[c->n_texts++] = argv[i];
        } else if (strcmp(a, "--") == 0) {
            only_texts = 1;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            NEED_VAL();
            c->model_path = val;
        } else if (!strcmp(a, "--task")) {
            NEED_VAL();
            if (ggufembed_task_from_name(val, &c->opts.task) != GGUFEMBED_OK) {
                fprintf(stderr, "%s: unknown task '%s' (see --help)\n", g_prog, val);
                return 2;
            }
        } else if (!strcmp(a, "--title")) {
            NEED_VAL();
            c->opts.title = val;
        } else if (!strcmp(a, "--prefix")) {
            NEED_VAL();
            c->opts.prefix = val;
        } else if (!strcmp(a, "--instruction")) {
            NEED_VAL();
            c->opts.instruction = val;
        } else if (!strcmp(a, "--dim")) {
            NEED_VAL();
            if (!parse_int(val, 1, 1 << 20, &c->opts.dimensions)) {
                fprintf(stderr, "%s: --dim needs a positive integer, got '%s'\n", g_prog, val);
                return 2;
            }
        } else if (!strcmp(a, "--no-normalize")) {
            c->opts.normalize = 0;
        } else if (!strcmp(a, "--truncate")) {
            c->opts.truncation = GGUFEMBED_TRUNCATE_END;
        } else if (!strcmp(a, "--keep-whitespace")) {
            c->opts.whitespace = GGUFEMBED_WHITESPACE_KEEP;
        } else if (!strcmp(a, "--query")) {
            NEED_VAL();
            c->query = val;
        } else if (!strcmp(a, "--threads") || !strcmp(a, "-t")) {
            NEED_VAL();
            if (!parse_int(val, 1, 256, &c->threads)) {
                fprintf(stderr, "%s: --threads needs an integer from 1 to 256, got '%s'\n", g_prog, val);
                return 2;
            }
        } else if (!strcmp(a, "--format")) {
            NEED_VAL();
            if (!strcmp(val, "json")) c->ndjson = 0;
            else if (!strcmp(val, "ndjson")) c->ndjson = 1;
            else {
                fprintf(stderr, "%s: --format must be json or ndjson, got '%s'\n", g_prog, val);
                return 2;
            }
        } else if (!strcmp(a, "--no-special")) {
            c->no_special = 1;
        } else if (!strcmp(a, "--no-parse-special")) {
            c->no_parse_special = 1;
        } else if (!strcmp(a, "--file")) {
            NEED_VAL();
            c->file = val;
        } else if (!strcmp(a, "--no-repack")) {
            c->no_repack = 1;
        } else if (!strcmp(a, "--f32-activations")) {
            c->f32_act = 1;
        } else if (!strcmp(a, "--kernels")) {
            NEED_VAL();
            c->kernels = val;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", g_prog, a);
            return 2;
        }
#undef NEED_VAL
    }
    if (c->query && strcmp(c->cmd, "similarity") != 0 && strcmp(c->cmd, "rerank") != 0) {
        fprintf(stderr, "%s: --query goes with the similarity and rerank commands\n", g_prog);
        return 2;
    }
    if (!c->query && strcmp(c->cmd, "rerank") == 0) {
        fprintf(stderr, "%s: rerank needs --query Q and at least one document\n", g_prog);
        return 2;
    }
    if (c->query && c->opts.task != GGUFEMBED_TASK_NONE) {
        fprintf(stderr, "%s: --query sets the tasks itself (query and document); drop --task\n", g_prog);
        return 2;
    }
    if (c->query && strcmp(c->cmd, "similarity") == 0) c->opts.task = GGUFEMBED_TASK_DOCUMENT;
    if (c->opts.title && c->opts.task == GGUFEMBED_TASK_NONE) c->opts.task = GGUFEMBED_TASK_DOCUMENT;
    if (c->opts.instruction && c->opts.task == GGUFEMBED_TASK_NONE && !c->query) c->opts.task = GGUFEMBED_TASK_QUERY;
    if (c->opts.title && c->opts.task != GGUFEMBED_TASK_DOCUMENT) {
        fprintf(stderr, "%s: --title goes with --task document\n", g_prog);
        return 2;
    }
    if (!c->model_path) {
        fprintf(stderr, "%s: no model: pass -m MODEL or set GGUFEMBED_MODEL\n", g_prog);
        return 2;
    }
    if (c->kernels && ggufembed_select_kernels(c->kernels) != GGUFEMBED_OK) {
        fprintf(stderr, "%s: kernels '%s' are not available on this CPU\n", g_prog, c->kernels);
        return 2;
    }
    return 0;
}

/* Reads standard input, one text per line (a trailing '\r' is kept: the text is
 * the bytes between newlines). */
static int read_lines(cli *c, char **buf_out) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) return 0;
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, stdin)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return 0;
            }
            buf = nb;
            cap *= 2;
        }
    }
    buf[n] = 0;
    size_t lines = 0;
    for (size_t i = 0; i < n; i++) lines += buf[i] == '\n';
    char **texts = realloc(c->texts, (lines + 2) * sizeof(char *));
    if (!texts) {
        free(buf);
        return 0;
    }
    c->texts = texts;
    c->n_texts = 0;
    char *p = buf, *end = buf + n;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl) *nl = 0;
        c->texts[c->n_texts++] = p;
        if (!nl) break;
        p = nl + 1;
    }
    *buf_out = buf;
    return 1;
}

static void print_vector(const float *v, int dim) {
    putchar('[');
    for (int i = 0; i < dim; i++) printf(i ? ",%.9g" : "%.9g", (double)v[i]);
    putchar(']');
}

static int open_model(const cli *c, ggufembed_model **m, ggufembed_context **ctx) {
    char err[512] = {0};
    ggufembed_status s =
        ggufembed_model_open_file_v2(c->model_path,
                                     c->f32_act ? GGUFEMBED_OPEN_F32_ACTIVATIONS
                                                : c->no_repack ? 0 : GGUFEMBED_OPEN_REPACK,
                                     m, err, sizeof err);
    if (s != GGUFEMBED_OK) return die("%s%s", err[0] ? err : ggufembed_status_string(s), "");
    ggufembed_context_params p;
    ggufembed_context_params_init(&p);
    p.n_threads = c->threads;
    s = ggufembed_context_new(*m, &p, ctx);
    if (s != GGUFEMBED_OK) {
        ggufembed_model_free(*m);
        return die("cannot create a context: %s%s", ggufembed_status_string(s), "");
    }
    return 0;
}

static double cosine(const float *a, const float *b, int dim) {
    double dot = 0, na = 0, nb = 0;
    for (int k = 0; k < dim; k++) {
        dot += (double)a[k] * b[k];
        na += (double)a[k] * a[k];
        nb += (double)b[k] * b[k];
    }
    return dot / (na > 0 && nb > 0 ? sqrt(na * nb) : 1.0);
}

/* One line on stderr when the file is known to give vectors other than the model's. */
static void warn_about_model(const ggufembed_model *m) {
    ggufembed_model_info in;
    if (ggufembed_model_get_info(m, &in, sizeof in) == GGUFEMBED_OK && in.warning && in.warning[0])
        fprintf(stderr, "%s: warning: %s\n", g_prog, in.warning);
}

static int cmd_embed(cli *c, int similarity) {
    char *stdin_buf = NULL;
    if (c->n_texts == 0) {
        if (similarity && c->query) return die("similarity --query needs at least one TEXT%s%s", "", "");
        if (similarity) return die("similarity needs at least two texts%s%s", "", "");
        if (!read_lines(c, &stdin_buf)) return die("cannot read standard input%s%s", "", "");
    }
    ggufembed_model *m;
    ggufembed_context *ctx;
    if (open_model(c, &m, &ctx)) {
        free(stdin_buf);
        return 1;
    }
    warn_about_model(m);
    if (c->query) { /* query/document prompts where the model has them, the texts as they are otherwise */
        ggufembed_model_info in;
        ggufembed_model_get_info(m, &in, sizeof in);
        if (!strcmp(in.prompts, "none")) c->opts.task = GGUFEMBED_TASK_NONE;
    }
    int rc = 0;
    int dim = ggufembed_output_dimension(m, &c->opts);
    /* one extra row for the --query vector */
    float *out = malloc(sizeof(float) * (size_t)dim * (size_t)(c->n_texts + 1));
    if (!out) {
        rc = die("out of memory%s%s", "", "");
        goto done;
    }
    ggufembed_status s = ggufembed_embed_batch(ctx, (const char *const *)c->texts, NULL, (size_t)c->n_texts, &c->opts,
                                               out, (size_t)dim * (size_t)c->n_texts);
    float *qv = out + (size_t)dim * (size_t)c->n_texts;
    if (s == GGUFEMBED_OK && c->query) {
        ggufembed_embed_options qo = c->opts;
        qo.task = c->opts.task == GGUFEMBED_TASK_DOCUMENT ? GGUFEMBED_TASK_QUERY : GGUFEMBED_TASK_NONE;
        qo.title = NULL;
        s = ggufembed_embed(ctx, c->query, strlen(c->query), &qo, qv, (size_t)dim);
    }
    if (s != GGUFEMBED_OK) {
        const char *msg = ggufembed_context_last_error(ctx);
        rc = die("%s%s", msg[0] ? msg : ggufembed_status_string(s), "");
        goto done;
    }
    if (similarity && c->query) {
        for (int i = 0; i < c->n_texts; i++) printf("%.4f  %s\n", cosine(qv, out + (size_t)i * dim, dim), c->texts[i]);
    } else if (similarity) {
        for (int i = 0; i < c->n_texts; i++) {
            for (int j = 0; j < c->n_texts; j++)
                printf("%s%.4f", j ? "  " : "", cosine(out + (size_t)i * dim, out + (size_t)j * dim, dim));
            printf("  %s\n", c->texts[i]);
        }
    } else if (c->ndjson) {
        for (int i = 0; i < c->n_texts; i++) {
            print_vector(out + (size_t)i * dim, dim);
            putchar('\n');
        }
    } else {
        putchar('[');
        for (int i = 0; i < c->n_texts; i++) {
            if (i) putchar(',');
            print_vector(out + (size_t)i * dim, dim);
        }
        puts("]");
    }
done:
    free(out);
    free(stdin_buf);
    ggufembed_context_free(ctx);
    ggufembed_model_free(m);
    return rc;
}

/* rerank: one score per document, in order, one per line */
static int cmd_rerank(cli *c) {
    if (c->n_texts == 0) return die("rerank needs at least one document after --query Q%s%s", "", "");
    ggufembed_model *m;
    ggufembed_context *ctx;
    if (open_model(c, &m, &ctx)) return 1;
    int rc = 0;
    float *scores = malloc(sizeof(float) * (size_t)c->n_texts);
    ggufembed_status s = scores ? ggufembed_rerank(ctx, c->query, strlen(c->query), (const char *const *)c->texts, NULL,
                                                   (size_t)c->n_texts, scores)
                                : GGUFEMBED_ERR_OUT_OF_MEMORY;
    if (s != GGUFEMBED_OK) {
        const char *msg = ggufembed_context_last_error(ctx);
        rc = die("%s%s", msg[0] ? msg : ggufembed_status_string(s), "");
    } else {
        for (int i = 0; i < c->n_texts; i++) printf("%.9g\n", scores[i]);
    }
    free(scores);
    ggufembed_context_free(ctx);
    ggufembed_model_free(m);
    return rc;
}

/* the whole of a file's bytes (NUL-terminated for convenience) */
static char *read_file_bytes(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
        n += got;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) { free(buf); return NULL; }
    buf[n] = 0;
    *len = n;
    return buf;
}

static int cmd_tokenize(cli *c) {
    if (c->n_texts != (c->file ? 0 : 1))
        return die("tokenize takes exactly one TEXT or --file PATH (got %s)%s", c->n_texts ? "several" : "none", "");
    size_t len = 0;
    char *file_text = NULL;
    if (c->file && !(file_text = read_file_bytes(c->file, &len))) return die("cannot read %s%s", c->file, "");
    const char *text = file_text ? file_text : c->texts[0];
    if (!file_text) len = strlen(text);
    ggufembed_model *m;
    ggufembed_context *ctx;
    if (open_model(c, &m, &ctx)) {
        free(file_text);
        return 1;
    }
    unsigned flags = (c->no_special ? 0 : GGUFEMBED_TOKENIZE_ADD_SPECIAL) |
                     (c->no_parse_special ? 0 : GGUFEMBED_TOKENIZE_PARSE_SPECIAL);
    size_t n = 0;
    int rc = 0;
    ggufembed_tokenize(ctx, text, len, flags, NULL, 0, &n);
    int32_t *ids = malloc(sizeof(int32_t) * (n + 1));
    ggufembed_status s = ids ? ggufembed_tokenize(ctx, text, len, flags, ids, n, &n) : GGUFEMBED_ERR_OUT_OF_MEMORY;
    if (s != GGUFEMBED_OK) {
        rc = die("%s%s", ggufembed_status_string(s), "");
    } else {
        putchar('[');
        for (size_t i = 0; i < n; i++) printf(i ? ", %d" : "%d", ids[i]);
        puts("]");
    }
    free(ids);
    free(file_text);
    ggufembed_context_free(ctx);
    ggufembed_model_free(m);
    return rc;
}

static int cmd_info(cli *c) {
    char err[512] = {0};
    ggufembed_model *m;
    ggufembed_status s = ggufembed_model_open_file(c->model_path, &m, err, sizeof err);
    if (s != GGUFEMBED_OK) return die("%s%s", err[0] ? err : ggufembed_status_string(s), "");
    ggufembed_model_info in;
    ggufembed_model_get_info(m, &in, sizeof in);
    printf("file:            %s (%llu bytes)\n", c->model_path, (unsigned long long)in.file_size);
    printf("architecture:    %s\n", in.architecture);
    printf("name:            %s\n", in.name);
    printf("output dimension %d%s\n", in.dimension, in.has_dense ? " (after dense_2/dense_3)" : "");
    printf("projections:     %s\n", in.has_dense ? "dense_2/dense_3 present"
                                    : in.missing_dense ? "MISSING (dense_2/dense_3 absent)" : "none");
    if (in.warning[0]) printf("warning:         %s\n", in.warning);
    printf("hidden size:     %d\nlayers:          %d\nheads:           %d (kv heads %d, head dim %d)\n", in.hidden_size,
           in.n_layers, in.n_heads, in.n_kv_heads, in.head_dim);
    printf("feed-forward:    %d\ncontext length:  %d\nsliding window:  %d\n", in.ffn_size, in.context_length,
           in.sliding_window);
    printf("vocabulary:      %d tokens, tokenizer %s (BOS %d, EOS %d added)%s\n", in.vocab_size, in.tokenizer,
           in.bos_id, in.eos_id, in.vocab_only ? ", vocabulary only: tokenizes, does not embed" : "");
    if (!in.vocab_only)
        printf("pooling:         %s%s\n", in.pooling, in.reranker ? " (a reranker: use the rerank command)" : "");
    printf("task prompts:    %s: %s\n", in.prompts, in.tasks);
    printf("tensors:         %d, %.1f M parameters: %s\n", in.n_tensors, (double)in.n_params / 1e6, in.weight_types);
    printf("kernels:         %s\n", ggufembed_kernels());
    printf("metadata:\n");
    char line[512];
    for (int i = 0; i < ggufembed_model_metadata_count(m); i++)
        if (ggufembed_model_metadata_line(m, i, line, sizeof line) == GGUFEMBED_OK) printf("  %s\n", line);
    ggufembed_model_free(m);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        printf("ggufembed %s\n", ggufembed_version_string());
        return 0;
    }
    if (!strcmp(argv[1], "serve")) {
#ifdef GGUFEMBED_HAVE_SERVER
        return ge_serve_main(argc - 1, argv + 1);
#else
        fprintf(stderr, "%s: this build has no server (libmicrohttpd was not found at configure time)\n", g_prog);
        return 2;
#endif
    }
    const char *cmds[] = {"embed", "similarity", "rerank", "tokenize", "info"};
    int known = 0;
    for (int i = 0; i < 5; i++) known |= !strcmp(argv[1], cmds[i]);
    if (!known) {
        fprintf(stderr, "%s: unknown command '%s' (see --help)\n", g_prog, argv[1]);
        return 2;
    }
    cli c;
    int rc = parse_args(argc, argv, &c);
    if (rc == 0) {
        if (!strcmp(c.cmd, "embed")) rc = cmd_embed(&c, 0);
        else if (!strcmp(c.cmd, "similarity")) rc = cmd_embed(&c, 1);
        else if (!strcmp(c.cmd, "rerank")) rc = cmd_rerank(&c);
        else if (!strcmp(c.cmd, "tokenize")) rc = cmd_tokenize(&c);
        else rc = cmd_info(&c);
    }
    free(c.texts);
    return rc;
}
