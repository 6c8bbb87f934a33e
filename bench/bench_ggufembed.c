/*
 * bench_ggufembed.c - the ggufembed side of the benchmark, through the public C API
 * (core/ggufembed.h) only. Protocol: see bench_common.h.
 *
 * load:    ggufembed_model_open_file_v2 (GGUFEMBED_OPEN_REPACK; --no-repack: zero-copy) + ggufembed_context_new (n_threads = --threads),
 *          then one short call (RSS after first use).
 * latency: ggufembed_embed on one text (default options: no task prompt, full 768
 *          dimensions, L2-normalized), --warmup untimed + --reps timed calls.
 * batch:   ggufembed_embed_batch on the documents, --reps timed passes.
 */
#define _POSIX_C_SOURCE 200809L
#include "ggufembed.h"
#include "bench_common.h"

static void die(const char *msg, const char *detail) {
    fprintf(stderr, "bench_ggufembed: %s%s%s\n", msg, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static long count_tokens(ggufembed_context *ctx, char **docs, const size_t *lens, size_t n) {
    long total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t nt = 0;
        ggufembed_status st = ggufembed_tokenize(ctx, docs[i], lens[i], GGUFEMBED_TOKENIZE_DEFAULT, NULL, 0, &nt);
        if (st != GGUFEMBED_OK && st != GGUFEMBED_ERR_BUFFER_TOO_SMALL) die("tokenize failed", ggufembed_status_string(st));
        total += (long)nt;
    }
    return total;
}

int main(int argc, char **argv) {
    bench_opts o;
    bench_opts_init(&o);
    unsigned open_flags = GGUFEMBED_OPEN_REPACK;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-repack")) { /* zero-copy weights instead of GGUFEMBED_OPEN_REPACK */
            open_flags = 0;
            continue;
        }
        if (!strcmp(argv[i], "--kernels") && i + 1 < argc) { /* compare kernel tables side by side */
            if (ggufembed_select_kernels(argv[++i]) != GGUFEMBED_OK) die("kernels not available on this CPU", argv[i]);
            continue;
        }
        int r = bench_opts_parse(&o, argc, argv, &i);
        if (r == 1) continue;
        if (r < 0) die("missing option value", argv[i]);
        die("unknown option", argv[i]);
    }
    if (!o.model || !o.text) die("--model and --text are required", NULL);
    if (o.threads < 1) die("bad --threads", NULL);
    int batch = !strcmp(o.mode, "batch");
    if (!batch && strcmp(o.mode, "latency") && strcmp(o.mode, "load")) die("--mode must be load, latency or batch", o.mode);

    size_t text_len = 0;
    char *text = bench_read_file(o.text, &text_len);
    if (!text) die("cannot read --text file", o.text);
    char **docs;
    size_t *lens;
    size_t n_docs;
    if (batch) {
        n_docs = bench_split_lines(text, text_len, &docs, &lens);
        if (o.n_docs > 0 && (size_t)o.n_docs < n_docs) n_docs = (size_t)o.n_docs;
    } else {
        text_len = bench_chomp(text, text_len);
        docs = &text;
        lens = &text_len;
        n_docs = 1;
    }
    if (n_docs == 0) die("no text", o.text);

    bench_mem m0 = bench_mem_now();
    double t0 = bench_now_ms();
    char err[512];
    ggufembed_model *model = NULL;
    ggufembed_status st = ggufembed_model_open_file_v2(o.model, open_flags, &model, err, sizeof err);
    if (st != GGUFEMBED_OK) die("cannot open the model", err);
    ggufembed_context_params cp;
    ggufembed_context_params_init(&cp);
    cp.n_threads = o.threads;
    ggufembed_context *ctx = NULL;
    st = ggufembed_context_new(model, &cp, &ctx);
    if (st != GGUFEMBED_OK) die("cannot create a context", ggufembed_status_string(st));
    double load_ms = bench_now_ms() - t0;
    bench_mem m_load = bench_mem_now();

    int32_t dim = ggufembed_output_dimension(model, NULL);
    float *out = (float *)malloc(sizeof(float) * (size_t)dim * n_docs);
    double *samples = (double *)malloc(sizeof(double) * (size_t)(o.reps > 0 ? o.reps : 1));
    size_t n_samples = 0;
    if (!out || !samples) die("out of memory", NULL);
    long tokens = count_tokens(ctx, docs, lens, n_docs);
    bench_mem m_warm;

    if (!batch) {
        int warm = !strcmp(o.mode, "load") ? 1 : o.warmup;
        for (int r = 0; r < warm; r++) {
            st = ggufembed_embed(ctx, docs[0], lens[0], NULL, out, (size_t)dim);
            if (st != GGUFEMBED_OK) die("embed failed", ggufembed_context_last_error(ctx));
        }
        m_warm = bench_mem_now();
        for (int r = 0; !strcmp(o.mode, "latency") && r < o.reps; r++) {
            double a = bench_now_ms();
            st = ggufembed_embed(ctx, docs[0], lens[0], NULL, out, (size_t)dim);
            samples[n_samples++] = bench_now_ms() - a;
            if (st != GGUFEMBED_OK) die("embed failed", ggufembed_context_last_error(ctx));
        }
    } else {
        size_t n_warm = n_docs < 16 ? n_docs : 16;
        for (int r = 0; r < o.warmup; r++) {
            st = ggufembed_embed_batch(ctx, (const char *const *)docs, lens, n_warm, NULL, out, (size_t)dim * n_docs);
            if (st != GGUFEMBED_OK) die("embed_batch failed", ggufembed_context_last_error(ctx));
        }
        m_warm = bench_mem_now();
        for (int r = 0; r < o.reps; r++) {
            double a = bench_now_ms();
            st = ggufembed_embed_batch(ctx, (const char *const *)docs, lens, n_docs, NULL, out, (size_t)dim * n_docs);
            samples[n_samples++] = bench_now_ms() - a;
            if (st != GGUFEMBED_OK) die("embed_batch failed", ggufembed_context_last_error(ctx));
        }
    }
    bench_mem m_end = bench_mem_now();

    FILE *f = stdout;
    fprintf(f, "{\"engine\":\"ggufembed\",\"mode\":\"%s\",\"label\":\"%s\",\"threads\":%d,", o.mode, o.label, o.threads);
    fprintf(f, "\"config\":{\"api\":\"%s\"},", batch ? "ggufembed_embed_batch" : "ggufembed_embed");
    fprintf(f, "\"n_docs\":%zu,\"tokens\":%ld,\"load_ms\":%.3f,", n_docs, tokens, load_ms);
    bench_json_mem(f, "mem_start", m0);
    fputc(',', f);
    bench_json_mem(f, "mem_load", m_load);
    fputc(',', f);
    bench_json_mem(f, "mem_warm", m_warm);
    fputc(',', f);
    bench_json_mem(f, "mem_end", m_end);
    fputc(',', f);
    bench_json_doubles(f, "samples_ms", samples, n_samples, "%.4f");
    if (o.vector) {
        fputc(',', f);
        bench_json_floats(f, "vector", out, (size_t)dim);
    }
    fprintf(f, ",\"system_info\":\"ggufembed %s\"}\n", ggufembed_version_string());
    fflush(f);

    ggufembed_context_free(ctx);
    ggufembed_model_free(model);
    free(out);
    free(samples);
    if (batch) {
        free(docs);
        free(lens);
    }
    free(text);
    return 0;
}
