/*
 * cli_index.c - `ggufembed index build|search|info`: the vector index (ggufembed_index)
 * from the command line. Documents are lines of a text file (their id is the line
 * number, from 0); the index file is the format of core/index_format.h.
 *
 *   ggufembed index build -m MODEL -o OUT.geix [--type f32|int8|binary] [--dim N]
 *                         [--metric cosine|dot] [--keep-f32] [--task T] [--threads N] [DOCS.txt]
 *   ggufembed index search -m MODEL -i IDX.geix [-k 10] [--rescore R] [--task T]
 *                         [--docs DOCS.txt] QUERY [QUERY ...]
 *   ggufembed index info IDX.geix
 */
#include "cli_index.h"

#include "ggufembed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct args {
    const char *sub, *model, *out, *index, *docs, *task;
    int type, metric, keep_f32, dim, threads, k, rescore;
    const char **rest;
    int n_rest;
} args;

static int fail(const char *fmt, const char *a) {
    fprintf(stderr, "ggufembed index: ");
    fprintf(stderr, fmt, a);
    fputc('\n', stderr);
    return 1;
}

static void index_usage(FILE *f) {
    fprintf(f, "usage:\n"
               "  ggufembed index build -m MODEL -o OUT.geix [--type f32|int8|binary] [--dim N] [--metric cosine|dot]\n"
               "                        [--keep-f32] [--task T] [--threads N] [DOCS.txt]\n"
               "      Embeds every line of DOCS.txt (stdin without it; id = line number from 0) and saves the index.\n"
               "      --dim N stores the first N dimensions (Matryoshka); --keep-f32 keeps f32 vectors beside\n"
               "      int8/binary codes for --rescore. The default task is document.\n"
               "  ggufembed index search -m MODEL -i IDX.geix [-k 10] [--rescore R] [--task T] [--docs DOCS.txt] QUERY...\n"
               "      Prints, per query, the k best as 'score<TAB>id[<TAB>line of DOCS.txt]'. Default task: query.\n"
               "  ggufembed index info IDX.geix\n");
}

static int parse_int(const char *s, int lo, int hi, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

static int parse(int argc, char **argv, args *a) {
    memset(a, 0, sizeof *a);
    a->type = GGUFEMBED_INDEX_F32;
    a->metric = GGUFEMBED_METRIC_COSINE;
    a->k = 10;
    a->sub = argv[1];
    a->rest = calloc((size_t)argc, sizeof *a->rest);
    if (!a->rest) return fail("out of memory%s", "");
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(o, "--")) {
            while (++i < argc) a->rest[a->n_rest++] = argv[i];
            break;
        } else if (o[0] != '-' || !o[1]) {
            a->rest[a->n_rest++] = o;
        } else if (!strcmp(o, "--keep-f32")) {
            a->keep_f32 = 1;
        } else if (!has) {
            return fail("%s needs a value", o);
        } else if (!strcmp(o, "-m") || !strcmp(o, "--model")) {
            a->model = argv[++i];
        } else if (!strcmp(o, "-o") || !strcmp(o, "--out")) {
            a->out = argv[++i];
        } else if (!strcmp(o, "-i") || !strcmp(o, "--index")) {
            a->index = argv[++i];
        } else if (!strcmp(o, "--docs")) {
            a->docs = argv[++i];
        } else if (!strcmp(o, "--task")) {
            a->task = argv[++i];
        } else if (!strcmp(o, "--type")) {
            const char *t = argv[++i];
            a->type = !strcmp(t, "f32") ? GGUFEMBED_INDEX_F32 : !strcmp(t, "int8") ? GGUFEMBED_INDEX_INT8
                      : !strcmp(t, "binary") ? GGUFEMBED_INDEX_BINARY : -1;
            if (a->type < 0) return fail("--type must be f32, int8 or binary, not '%s'", t);
        } else if (!strcmp(o, "--metric")) {
            const char *t = argv[++i];
            a->metric = !strcmp(t, "cosine") ? GGUFEMBED_METRIC_COSINE : !strcmp(t, "dot") ? GGUFEMBED_METRIC_DOT : -1;
            if (a->metric < 0) return fail("--metric must be cosine or dot, not '%s'", t);
        } else if (!strcmp(o, "--dim")) {
            if (parse_int(argv[++i], 1, 65536, &a->dim)) return fail("--dim must be from 1 to 65536, not '%s'", argv[i]);
        } else if (!strcmp(o, "--threads")) {
            if (parse_int(argv[++i], 0, 256, &a->threads)) return fail("--threads must be from 0 to 256, not '%s'", argv[i]);
        } else if (!strcmp(o, "-k") || !strcmp(o, "--k")) {
            if (parse_int(argv[++i], 1, 100000, &a->k)) return fail("-k must be from 1 to 100000, not '%s'", argv[i]);
        } else if (!strcmp(o, "--rescore")) {
            if (parse_int(argv[++i], 0, 1000, &a->rescore)) return fail("--rescore must be from 0 to 1000, not '%s'", argv[i]);
        } else {
            return fail("unknown option '%s' (see ggufembed index --help)", o);
        }
    }
    return 0;
}

/* the whole file (NUL-terminated), or NULL with a message */
static char *slurp(const char *path, size_t *len) {
    FILE *f = path ? fopen(path, "rb") : stdin;
    if (!f) {
        fail("cannot open '%s'", path);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int err = ferror(f);
    if (path) fclose(f);
    if (!buf || err) {
        free(buf);
        fail("cannot read '%s'", path ? path : "stdin");
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* splits buf into lines in place (a final line without '\n' counts; a trailing '\n' adds none) */
static char **split_lines(char *buf, size_t len, size_t *n_lines) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += buf[i] == '\n';
    char **lines = malloc((n + 1) * sizeof *lines);
    if (!lines) return NULL;
    size_t k = 0;
    char *p = buf, *end = buf + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl) *nl = 0;
        lines[k++] = p;
        if (!nl) break;
        p = nl + 1;
    }
    *n_lines = k;
    return lines;
}

static int open_model(const args *a, ggufembed_model **m, ggufembed_context **ctx) {
    if (!a->model) return fail("-m MODEL is required%s", "");
    char err[512] = {0};
    ggufembed_status s = ggufembed_model_open_file_v2(a->model, GGUFEMBED_OPEN_REPACK, m, err, sizeof err);
    if (s != GGUFEMBED_OK) return fail("%s", err[0] ? err : ggufembed_status_string(s));
    ggufembed_context_params p;
    ggufembed_context_params_init(&p);
    p.n_threads = a->threads;
    if (ggufembed_context_new(*m, &p, ctx) != GGUFEMBED_OK) {
        ggufembed_model_free(*m);
        return fail("cannot create a context%s", "");
    }
    return 0;
}

static int embed_options(const args *a, int default_task, ggufembed_embed_options *o) {
    ggufembed_embed_options_init(o);
    o->task = default_task;
    if (a->task) {
        ggufembed_task t;
        if (ggufembed_task_from_name(a->task, &t) != GGUFEMBED_OK) return fail("unknown task '%s'", a->task);
        o->task = t;
    }
    return 0;
}

static int cmd_build(const args *a) {
    if (!a->out) return fail("build needs -o OUT.geix%s", "");
    if (a->n_rest > 1) return fail("build takes one documents file (or stdin), got more: '%s'", a->rest[1]);
    size_t len = 0, n = 0;
    char *buf = slurp(a->n_rest ? a->rest[0] : NULL, &len);
    if (!buf) return 1;
    char **lines = split_lines(buf, len, &n);
    ggufembed_model *m = NULL;
    ggufembed_context *ctx = NULL;
    ggufembed_index *ix = NULL;
    float *vec = NULL;
    uint64_t *ids = NULL;
    void *bytes = NULL;
    int rc = 1;
    ggufembed_embed_options o;
    if (!lines || embed_options(a, GGUFEMBED_TASK_DOCUMENT, &o) || open_model(a, &m, &ctx)) goto done;
    int32_t full = ggufembed_output_dimension(m, &o);
    ggufembed_index_params p;
    ggufembed_index_params_init(&p);
    p.dimension = a->dim ? a->dim : full;
    p.type = a->type;
    p.metric = a->metric;
    p.keep_f32 = a->keep_f32;
    if (p.dimension > full) {
        fprintf(stderr, "ggufembed index: --dim %d is more than the model's %d dimensions\n", (int)p.dimension, (int)full);
        goto done;
    }
    char err[256] = {0};
    if (ggufembed_index_new(&p, &ix, err, sizeof err) != GGUFEMBED_OK) {
        fail("%s", err);
        goto done;
    }
    enum { CHUNK = 256 };
    vec = malloc(sizeof(float) * CHUNK * (size_t)full);
    ids = malloc(sizeof(uint64_t) * CHUNK);
    if (!vec || !ids) goto done;
    for (size_t first = 0; first < n; first += CHUNK) {
        size_t c = n - first < CHUNK ? n - first : CHUNK;
        ggufembed_status s = ggufembed_embed_batch(ctx, (const char *const *)lines + first, NULL, c, &o, vec, c * (size_t)full);
        if (s != GGUFEMBED_OK) {
            fprintf(stderr, "ggufembed index: lines %zu..%zu: %s\n", first, first + c - 1, ggufembed_context_last_error(ctx));
            goto done;
        }
        for (size_t i = 0; i < c; i++) ids[i] = first + i;
        if (ggufembed_index_add(ix, ids, vec, c, full) != GGUFEMBED_OK) {
            fail("%s", ggufembed_index_last_error(ix));
            goto done;
        }
        fprintf(stderr, "\rggufembed index: %zu/%zu documents", first + c, n);
    }
    if (n) fputc('\n', stderr);
    size_t size = 0;
    ggufembed_index_save(ix, NULL, 0, &size);
    bytes = malloc(size);
    if (!bytes || ggufembed_index_save(ix, bytes, size, &size) != GGUFEMBED_OK) goto done;
    FILE *f = fopen(a->out, "wb");
    if (!f) {
        fail("cannot create '%s'", a->out);
        goto done;
    }
    int ok = fwrite(bytes, 1, size, f) == size;
    ok &= fclose(f) == 0;
    if (!ok) {
        fail("cannot write '%s'", a->out);
        goto done;
    }
    fprintf(stderr, "ggufembed index: %zu vectors, %d dimensions, %zu bytes -> %s\n", n, (int)p.dimension, size, a->out);
    rc = 0;
done:
    free(bytes);
    free(ids);
    free(vec);
    ggufembed_index_free(ix);
    ggufembed_context_free(ctx);
    ggufembed_model_free(m);
    free(lines);
    free(buf);
    return rc;
}

static ggufembed_index *load_index(const char *path) {
    size_t len = 0;
    char *buf = slurp(path, &len);
    if (!buf) return NULL;
    ggufembed_index *ix = NULL;
    char err[256] = {0};
    if (ggufembed_index_load(buf, len, &ix, err, sizeof err) != GGUFEMBED_OK) {
        fprintf(stderr, "ggufembed index: %s: %s\n", path, err);
        ix = NULL;
    }
    free(buf);
    return ix;
}

static int cmd_search(const args *a) {
    if (!a->index) return fail("search needs -i IDX.geix%s", "");
    if (!a->n_rest) return fail("search needs at least one QUERY%s", "");
    ggufembed_index *ix = load_index(a->index);
    if (!ix) return 1;
    char *dbuf = NULL, **docs = NULL;
    size_t n_docs = 0, dlen = 0;
    ggufembed_model *m = NULL;
    ggufembed_context *ctx = NULL;
    float *q = NULL, *scores = NULL;
    uint64_t *hits = NULL;
    int rc = 1;
    ggufembed_embed_options o;
    if (a->docs && (!(dbuf = slurp(a->docs, &dlen)) || !(docs = split_lines(dbuf, dlen, &n_docs)))) goto done;
    if (embed_options(a, GGUFEMBED_TASK_QUERY, &o) || open_model(a, &m, &ctx)) goto done;
    int32_t full = ggufembed_output_dimension(m, &o);
    if (full < ggufembed_index_dimension(ix)) {
        fprintf(stderr, "ggufembed index: the index has %d dimensions, the model gives %d\n",
                (int)ggufembed_index_dimension(ix), (int)full);
        goto done;
    }
    q = malloc(sizeof(float) * (size_t)full);
    hits = malloc(sizeof(uint64_t) * (size_t)a->k);
    scores = malloc(sizeof(float) * (size_t)a->k);
    if (!q || !hits || !scores) goto done;
    ggufembed_search_options so;
    ggufembed_search_options_init(&so);
    so.rescore = a->rescore;
    for (int qi = 0; qi < a->n_rest; qi++) {
        if (ggufembed_embed(ctx, a->rest[qi], strlen(a->rest[qi]), &o, q, (size_t)full) != GGUFEMBED_OK) {
            fail("%s", ggufembed_context_last_error(ctx));
            goto done;
        }
        size_t nf = 0;
        if (ggufembed_index_search(ix, q, full, (size_t)a->k, &so, hits, scores, &nf) != GGUFEMBED_OK) {
            fail("%s", ggufembed_index_last_error(ix));
            goto done;
        }
        if (a->n_rest > 1) printf("# %s\n", a->rest[qi]);
        for (size_t i = 0; i < nf; i++) {
            printf("%.6f\t%llu", (double)scores[i], (unsigned long long)hits[i]);
            if (docs && hits[i] < n_docs) printf("\t%s", docs[hits[i]]);
            putchar('\n');
        }
    }
    rc = 0;
done:
    free(scores);
    free(hits);
    free(q);
    ggufembed_context_free(ctx);
    ggufembed_model_free(m);
    free(docs);
    free(dbuf);
    ggufembed_index_free(ix);
    return rc;
}

static int cmd_info(const args *a) {
    if (a->n_rest != 1) return fail("info takes one index file%s", "");
    ggufembed_index *ix = load_index(a->rest[0]);
    if (!ix) return 1;
    ggufembed_index_params p;
    ggufembed_index_params_init(&p);
    ggufembed_index_get_info(ix, &p);
    static const char *types[] = {"f32", "int8", "binary"}, *metrics[] = {"cosine", "dot"};
    printf("vectors: %zu\ndimension: %d\ntype: %s\nmetric: %s\nf32 kept: %s\n", ggufembed_index_count(ix),
           (int)p.dimension, types[p.type], metrics[p.metric], p.keep_f32 ? "yes" : "no");
    ggufembed_index_free(ix);
    return 0;
}

int ge_index_main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        index_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "build") && strcmp(argv[1], "search") && strcmp(argv[1], "info")) {
        fail("unknown subcommand '%s' (build, search or info)", argv[1]);
        return 2;
    }
    args a;
    int rc = parse(argc, argv, &a);
    if (rc == 0) {
        if (!strcmp(a.sub, "build")) rc = cmd_build(&a);
        else if (!strcmp(a.sub, "search")) rc = cmd_search(&a);
        else rc = cmd_info(&a);
    } else {
        rc = 2;
    }
    free(a.rest);
    return rc;
}
