/*
 * quality.c - the quality column of the quant table: cosine of a model file's vectors
 * to the same model's F32 file (both run by ggufembed) on the golden corpus, texts as
 * llama-embedding takes them (whitespace kept, no prompt, default dimensions).
 *
 *   quality REF_F32.gguf CORPUS.jsonl STRIDE KERNELS|- MODEL.gguf...
 * KERNELS: a kernel table by name, "-" for the CPU's (the same bits with any of them).
 * prints one JSON line per model: {"model", "texts", "mean", "min", "min_text", "too_long"}
 * Texts longer than the context are skipped (both files refuse them alike).
 */
#include "ggufembed.h"

#include "../tests/jsonl.h"

#include <math.h>

static ggufembed_context *open_ctx(const char *path, ggufembed_model **m) {
    char err[512] = {0};
    ggufembed_context *ctx = NULL;
    if (ggufembed_model_open_file(path, m, err, sizeof err) != GGUFEMBED_OK) {
        fprintf(stderr, "quality: %s: %s\n", path, err);
        exit(1);
    }
    if (ggufembed_context_new(*m, NULL, &ctx) != GGUFEMBED_OK) {
        fprintf(stderr, "quality: context for %s\n", path);
        exit(1);
    }
    return ctx;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: quality REF_F32.gguf CORPUS.jsonl STRIDE KERNELS|- MODEL.gguf...\n");
        return 2;
    }
    (void)json_get_ints; /* jsonl.h's other reader */
    const size_t stride = atoi(argv[3]) > 0 ? (size_t)atoi(argv[3]) : 1;
    if (strcmp(argv[4], "-") != 0 && ggufembed_select_kernels(argv[4]) != GGUFEMBED_OK) {
        fprintf(stderr, "quality: no kernel table %s here\n", argv[4]);
        return 2;
    }
    char *corpus = read_file(argv[2], NULL);
    if (!corpus) {
        fprintf(stderr, "quality: cannot read %s\n", argv[2]);
        return 1;
    }
    char **lines;
    const size_t n = split_lines(corpus, &lines);
    ggufembed_embed_options o;
    ggufembed_embed_options_init(&o);
    o.whitespace = GGUFEMBED_WHITESPACE_KEEP;

    /* the reference's vectors once (NaN row: over the context) */
    ggufembed_model *mr = NULL;
    ggufembed_context *cr = open_ctx(argv[1], &mr);
    ggufembed_model_info ir;
    ggufembed_model_get_info(mr, &ir, sizeof ir);
    const int dim = ir.dimension;
    float *ref = malloc(sizeof(float) * (size_t)dim * n), *b = malloc(sizeof(float) * (size_t)dim);
    for (size_t i = 0; i < n; i += stride) {
        size_t len = 0;
        char *text = json_get_string(lines[i], "text", &len);
        const ggufembed_status st = ggufembed_embed(cr, text, len, &o, ref + i * (size_t)dim, (size_t)dim);
        free(text);
        if (st == GGUFEMBED_ERR_TOO_LONG) ref[i * (size_t)dim] = NAN;
        else if (st != GGUFEMBED_OK) {
            fprintf(stderr, "quality: text %zu: %s\n", i, ggufembed_status_string(st));
            return 1;
        }
    }
    ggufembed_context_free(cr);
    ggufembed_model_free(mr);

    for (int mi = 5; mi < argc; mi++) {
        ggufembed_model *mq = NULL;
        ggufembed_context *cq = open_ctx(argv[mi], &mq);
        double sum = 0, mn = 2;
        size_t count = 0, too_long = 0, worst = 0;
        for (size_t i = 0; i < n; i += stride) {
            size_t len = 0;
            char *text = json_get_string(lines[i], "text", &len);
            const ggufembed_status st = ggufembed_embed(cq, text, len, &o, b, (size_t)dim);
            free(text);
            const float *a = ref + i * (size_t)dim;
            if (st == GGUFEMBED_ERR_TOO_LONG && a[0] != a[0]) {
                too_long++;
                continue;
            }
            if (st != GGUFEMBED_OK || a[0] != a[0]) {
                fprintf(stderr, "quality: %s text %zu: %s\n", argv[mi], i, ggufembed_status_string(st));
                return 1;
            }
            double dot = 0, na = 0, nb = 0;
            for (int d = 0; d < dim; d++) dot += (double)a[d] * b[d], na += (double)a[d] * a[d], nb += (double)b[d] * b[d];
            const double c = dot / sqrt(na * nb);
            sum += c, count++;
            if (c < mn) mn = c, worst = i;
        }
        printf("{\"model\": \"%s\", \"texts\": %zu, \"mean\": %.7f, \"min\": %.7f, \"min_text\": %zu, \"too_long\": %zu}\n",
               argv[mi], count, count ? sum / (double)count : 0.0, mn, worst, too_long);
        fflush(stdout);
        ggufembed_context_free(cq);
        ggufembed_model_free(mq);
    }
    free(ref), free(b), free(lines), free(corpus);
    return 0;
}
