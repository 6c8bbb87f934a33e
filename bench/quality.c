/*
 * quality.c - the quality column of the quant table: cosine of a model file's vectors
 * to the same model's F32 file (both run by ggufembed) on the golden corpus, texts as
 * llama-embedding takes them (whitespace kept, no prompt, default dimensions).
 *
 *   quality REF_F32.gguf MODEL.gguf CORPUS.jsonl [STRIDE [KERNELS]]
 * KERNELS: a kernel table by name (the results are the same bits with any of them).
 * prints one JSON object: {"texts": N, "mean": .., "min": .., "min_text": i, "too_long": N}
 * Texts longer than the context are skipped (both files refuse them alike).
 */
#include "ggufembed.h"

#include "../tests/jsonl.h"

#include <math.h>

/* from simd/kernels.h (the static library exports it) */
int ge_kernels_select(const char *name);

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
    if (argc < 4) {
        fprintf(stderr, "usage: quality REF_F32.gguf MODEL.gguf CORPUS.jsonl [STRIDE]\n");
        return 2;
    }
    (void)json_get_ints; /* jsonl.h's other reader */
    if (argc > 5 && ge_kernels_select(argv[5]) != 0) {
        fprintf(stderr, "quality: no kernel table %s here\n", argv[5]);
        return 2;
    }
    const size_t stride = argc > 4 && atoi(argv[4]) > 0 ? (size_t)atoi(argv[4]) : 1;
    ggufembed_model *mr = NULL, *mq = NULL;
    ggufembed_context *cr = open_ctx(argv[1], &mr), *cq = open_ctx(argv[2], &mq);
    ggufembed_model_info ir, iq;
    ggufembed_model_get_info(mr, &ir);
    ggufembed_model_get_info(mq, &iq);
    if (ir.dimension != iq.dimension) {
        fprintf(stderr, "quality: dimensions differ (%d, %d)\n", ir.dimension, iq.dimension);
        return 1;
    }
    const int dim = ir.dimension;
    char *corpus = read_file(argv[3], NULL);
    if (!corpus) {
        fprintf(stderr, "quality: cannot read %s\n", argv[3]);
        return 1;
    }
    char **lines;
    const size_t n = split_lines(corpus, &lines);
    float *a = malloc(sizeof(float) * (size_t)dim), *b = malloc(sizeof(float) * (size_t)dim);
    ggufembed_embed_options o;
    ggufembed_embed_options_init(&o);
    o.whitespace = GGUFEMBED_WHITESPACE_KEEP;
    double sum = 0, mn = 2;
    size_t count = 0, too_long = 0, worst = 0;
    for (size_t i = 0; i < n; i += stride) {
        size_t len = 0;
        char *text = json_get_string(lines[i], "text", &len);
        const ggufembed_status s1 = ggufembed_embed(cr, text, len, &o, a, (size_t)dim);
        const ggufembed_status s2 = ggufembed_embed(cq, text, len, &o, b, (size_t)dim);
        free(text);
        if (s1 == GGUFEMBED_ERR_TOO_LONG && s2 == GGUFEMBED_ERR_TOO_LONG) {
            too_long++;
            continue;
        }
        if (s1 != GGUFEMBED_OK || s2 != GGUFEMBED_OK) {
            fprintf(stderr, "quality: text %zu: %s / %s\n", i, ggufembed_status_string(s1), ggufembed_status_string(s2));
            return 1;
        }
        double dot = 0, na = 0, nb = 0;
        for (int d = 0; d < dim; d++) dot += (double)a[d] * b[d], na += (double)a[d] * a[d], nb += (double)b[d] * b[d];
        const double c = dot / sqrt(na * nb);
        sum += c, count++;
        if (c < mn) mn = c, worst = i;
    }
    printf("{\"texts\": %zu, \"mean\": %.7f, \"min\": %.7f, \"min_text\": %zu, \"too_long\": %zu}\n", count,
           count ? sum / (double)count : 0.0, mn, worst, too_long);
    free(a), free(b), free(lines), free(corpus);
    ggufembed_context_free(cr), ggufembed_context_free(cq);
    ggufembed_model_free(mr), ggufembed_model_free(mq);
    return 0;
}
