/*
 * test_model.c - a real model other than EmbeddingGemma against its two referees, on the
 * golden corpus (tests/golden/models/<model>/, made by tests/golden/models/generate.sh):
 *   - llama.cpp on the same GGUF: token ids identical for every text (tokens.jsonl), and
 *     cosine >= MIN for every text and >= MEAN on average (llamacpp-<TYPE>.f16; texts
 *     llama.cpp failed on are NaN rows there and are counted, not compared). Q8_0 rounds
 *     every matrix product's input to 8 bits, and ggufembed's and llama.cpp's products
 *     (accumulation orders, FMA) differ in the last bits, which flips some of those
 *     roundings: two Q8_0 runs are then each about as far from the truth as from each
 *     other. A text under MIN to llama.cpp therefore passes only when the truth decides
 *     for ggufembed: its cosine to sentence-transformers at least llama.cpp's, less
 *     0.001 (each such text is printed);
 *   - sentence-transformers in fp32 on the original weights (st.f16): reported, and
 *     checked >= ST_MIN on the texts it tokenizes as llama.cpp does (st-tokens.jsonl; the
 *     others differ by design: see meta.json and README). ST_MIN "-": the directory has
 *     no sentence-transformers outputs (a model without one, e.g. Gemma 3 270M): only
 *     the exact referee below can then decide a text under MIN.
 *   - the file's own function, free of activation rounding: ggufembed on the same file
 *     opened with GGUFEMBED_OPEN_F32_ACTIVATIONS (the weights widened to float, every
 *     product in f32; "exact" below). Both ggufembed and llama.cpp approximate it, each
 *     rounding every product's input to 8 bits (per 32 values, or per 256 for the
 *     K-quants, whose coarser Q8_K activations make two implementations' last-bit
 *     differences grow further: llama.cpp with and without its weight repacking agree
 *     to only ~0.998 on EmbeddingGemma Q4_K_M; Gemma 3 270M, a causal LLM mean-pooled,
 *     moves by up to 0.01 from exact in both). A text under MIN to llama.cpp passes when
 *     ggufembed is at least as close to exact as llama.cpp is (less EXACT_SLACK) or at
 *     most EXACT_FACTOR times as far (1 - cosine), or the truth above decides for it, or
 *     it is no farther from exact than llama.cpp's farthest text on this file; a
 *     mean under MEAN passes when ggufembed's mean distance to exact (every
 *     GGUFEMBED_EXACT_STRIDE-th text, default 4) is at most EXACT_MEAN_FACTOR times
 *     llama.cpp's.
 * Texts are embedded as llama.cpp's llama-embedding does (whitespace kept, no prompt).
 *
 *   test_model MODEL.gguf GOLDEN_DIR CORPUS.jsonl TYPE MIN MEAN ST_MIN|-
 * GGUFEMBED_MODEL_STRIDE=k compares every k-th text only (the sanitizer build).
 */
#include "../core/ggufembed.h"
#include "../core/util.h"
#include "check.h"
#include "jsonl.h"

#include <math.h>
#include <string.h>

/* row i of a count x dim float16 file, or 0 when absent / NaN */
static int f16_row(const uint16_t *v, size_t n_vals, size_t i, int dim, float *out) {
    if ((i + 1) * (size_t)dim > n_vals) return 0;
    for (int d = 0; d < dim; d++) {
        out[d] = ge_fp16_to_fp32(v[i * (size_t)dim + (size_t)d]);
        if (out[d] != out[d]) return 0;
    }
    return 1;
}

#define EXACT_SLACK 0.0005
#define EXACT_FACTOR 4.0
#define EXACT_MEAN_FACTOR 1.25

/* the exact referee (see above), opened on first use */
typedef struct exact_ref {
    const char *path;
    ggufembed_model *m;
    ggufembed_context *ctx;
    int failed;
} exact_ref;

static int exact_vector(exact_ref *x, const char *text, size_t len, const ggufembed_embed_options *o, float *out,
                        int dim) {
    if (!x->ctx && !x->failed) {
        char err[512] = {0};
        x->failed = ggufembed_model_open_file_v2(x->path, GGUFEMBED_OPEN_F32_ACTIVATIONS, &x->m, err, sizeof err) ||
                    ggufembed_context_new(x->m, NULL, &x->ctx);
        if (x->failed) fprintf(stderr, "  exact referee: %s\n", err);
    }
    return x->ctx && ggufembed_embed(x->ctx, text, len, o, out, (size_t)dim) == GGUFEMBED_OK;
}

static int same_ids(const int32_t *a, size_t na, const int32_t *b, size_t nb) {
    return na == nb && (na == 0 || memcmp(a, b, na * sizeof(int32_t)) == 0);
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: test_model MODEL.gguf GOLDEN_DIR CORPUS.jsonl TYPE MIN MEAN ST_MIN\n");
        return 2;
    }
    const char *dir = argv[2], *type = argv[4];
    const double min_cos = atof(argv[5]), mean_cos = atof(argv[6]), st_min = atof(argv[7]);
    const int with_st = strcmp(argv[7], "-") != 0;
    const char *se = getenv("GGUFEMBED_MODEL_STRIDE");
    const size_t stride = se && atoi(se) > 0 ? (size_t)atoi(se) : 1;

    char err[512] = {0}, path[1024];
    ggufembed_model *m = NULL;
    ggufembed_context *ctx = NULL;
    CHECK(ggufembed_model_open_file(argv[1], &m, err, sizeof err) == GGUFEMBED_OK, "open %s: %s", argv[1], err);
    if (!m) return check_summary("test_model");
    CHECK(ggufembed_context_new(m, NULL, &ctx) == GGUFEMBED_OK, "context");
    ggufembed_model_info info;
    ggufembed_model_get_info(m, &info, sizeof info);
    const int dim = info.dimension;

    char *corpus = read_file(argv[3], NULL);
    snprintf(path, sizeof path, "%s/tokens.jsonl", dir);
    char *tokens = read_file(path, NULL);
    snprintf(path, sizeof path, "%s/st-tokens.jsonl", dir);
    char *st_tokens = with_st ? read_file(path, NULL) : NULL;
    size_t lb = 0, sb = 0;
    snprintf(path, sizeof path, "%s/llamacpp-%s.f16", dir, type);
    uint16_t *lv = (uint16_t *)read_file(path, &lb);
    snprintf(path, sizeof path, "%s/st.f16", dir);
    uint16_t *sv = with_st ? (uint16_t *)read_file(path, &sb) : NULL;
    CHECK(corpus && tokens && lv && (!with_st || (st_tokens && sv)), "golden files missing in %s (type %s)", dir, type);
    if (!corpus || !tokens || !lv || (with_st && (!st_tokens || !sv))) return check_summary("test_model");
    char **cl, **tl, **sl = NULL;
    const size_t n = split_lines(corpus, &cl), nt = split_lines(tokens, &tl);
    const size_t ns = with_st ? split_lines(st_tokens, &sl) : n;
    if (!with_st) sb = lb;
    CHECK(nt == n && ns == n && lb / 2 == n * (size_t)dim && sb / 2 == n * (size_t)dim,
          "corpus %zu texts, tokens %zu, st-tokens %zu, vectors %zu / %zu values (dim %d)", n, nt, ns, lb / 2, sb / 2, dim);

    /* token ids of every text */
    int32_t *ids = malloc(sizeof(int32_t) * 65536);
    size_t tok_bad = 0;
    for (size_t i = 0; i < n && i < nt; i++) {
        size_t len, nw = 0, ng = 0;
        char *text = json_get_string(cl[i], "text", &len);
        int32_t *want = json_get_ints(tl[i], "tokens", &nw);
        ggufembed_status st = ggufembed_tokenize(ctx, text, len, GGUFEMBED_TOKENIZE_DEFAULT, ids, 65536, &ng);
        if (st != GGUFEMBED_OK || !want || !same_ids(ids, ng, want, nw)) {
            if (tok_bad++ < 3) fprintf(stderr, "  text %zu: token ids differ from llama-tokenize's\n", i);
        }
        free(text), free(want);
    }
    CHECK(tok_bad == 0, "%zu of %zu texts tokenize differently from llama.cpp", tok_bad, n);

    /* vectors of every stride-th text, one batch; a text over the context is refused by
     * both (llama-embedding: "exceeds batch size", ggufembed: GGUFEMBED_ERR_TOO_LONG) */
    size_t k = 0, too_long = 0;
    const char **texts = malloc(sizeof(char *) * n);
    size_t *lens = malloc(sizeof(size_t) * n), *idx = malloc(sizeof(size_t) * n);
    float *out = malloc(sizeof(float) * n * (size_t)dim), *ref = malloc(sizeof(float) * (size_t)dim);
    ggufembed_embed_options o;
    ggufembed_embed_options_init(&o);
    o.whitespace = GGUFEMBED_WHITESPACE_KEEP; /* as llama-embedding */
    for (size_t i = 0; i < n; i += stride) {
        size_t nw = 0;
        int32_t *want = json_get_ints(tl[i], "tokens", &nw);
        free(want);
        texts[k] = json_get_string(cl[i], "text", &lens[k]);
        if (nw > (size_t)info.context_length) {
            CHECK(ggufembed_embed(ctx, texts[k], lens[k], &o, out, (size_t)dim) == GGUFEMBED_ERR_TOO_LONG &&
                      !f16_row(lv, lb / 2, i, dim, ref),
                  "text %zu (%zu tokens) is refused by both", i, nw);
            free((void *)texts[k]);
            too_long++;
            continue;
        }
        idx[k++] = i;
    }
    ggufembed_status st = ggufembed_embed_batch(ctx, texts, lens, k, &o, out, k * (size_t)dim);
    CHECK(st == GGUFEMBED_OK, "embed_batch: %s", ggufembed_context_last_error(ctx));
    double lmin = 1, lsum = 0, smin = 1, ssum = 0;
    size_t ln = 0, sn = 0, failed = 0, worst = 0, by_truth = 0, missed = 0;
    float *lref = malloc(sizeof(float) * (size_t)dim), *xv = malloc(sizeof(float) * (size_t)dim);
    exact_ref exact = {argv[1], NULL, NULL, 0};
    /* texts neither rule below decides, settled after the loop against llama.cpp's own range */
    size_t *pend = malloc(sizeof(size_t) * (k ? k : 1)), n_pend = 0;
    double *pend_dist = malloc(sizeof(double) * (k ? k : 1)), l_worst_x = 0;
    for (size_t j = 0; st == GGUFEMBED_OK && j < k; j++) {
        const float *v = out + j * (size_t)dim;
        const int have_l = f16_row(lv, lb / 2, idx[j], dim, lref);
        double c_l = 0.0;
        if (have_l) {
            c_l = cosine(v, lref, dim);
            if (c_l < lmin) lmin = c_l, worst = idx[j];
            lsum += c_l, ln++;
        } else {
            failed++;
        }
        /* sentence-transformers, where it saw the same tokens (not truncated, same WordPiece) */
        size_t ns1 = 0, nl1 = 0;
        int32_t *a = with_st ? json_get_ints(sl[idx[j]], "tokens", &ns1) : NULL;
        int32_t *b = with_st ? json_get_ints(tl[idx[j]], "tokens", &nl1) : NULL;
        const int have_s = a && b && same_ids(a, ns1, b, nl1) && f16_row(sv, sb / 2, idx[j], dim, ref);
        double cs = 0.0;
        if (have_s) {
            cs = cosine(v, ref, dim);
            smin = cs < smin ? cs : smin;
            ssum += cs, sn++;
        }
        if (have_l && c_l < min_cos) {
            const double truth_l = have_s ? cosine(lref, ref, dim) : 2.0;
            const int by_st = have_s && cs >= truth_l - 0.001;
            double ex_g = 0, ex_l = 0;
            const int have_x = exact_vector(&exact, texts[j], lens[j], &o, xv, dim);
            if (have_x) ex_g = cosine(v, xv, dim), ex_l = cosine(lref, xv, dim);
            /* at least as close as llama.cpp (less the slack), or at most EXACT_FACTOR times as
             * far: two implementations rounding alike are two draws of the same noise (Gemma 3
             * 270M Q4_K_M, 131 texts under 0.999: ggufembed the closer on 59, up to 3.5x the
             * farther on text 269, llama.cpp up to 2.0x the farther on text 322; on average
             * over every 4th text ggufembed is the closer) */
            const int by_x = have_x && (ex_g >= ex_l - EXACT_SLACK || 1.0 - ex_g <= EXACT_FACTOR * (1.0 - ex_l));
            if (have_x && 1.0 - ex_l > l_worst_x) l_worst_x = 1.0 - ex_l;
            by_truth += by_st || by_x;
            if (!(by_st || by_x)) pend[n_pend] = idx[j], pend_dist[n_pend++] = have_x ? 1.0 - ex_g : 2.0;
            fprintf(stderr,
                    "  text %zu: cosine %.6f to llama.cpp; to exact: ggufembed %.6f, llama.cpp %.6f%s; "
                    "to sentence-transformers: ggufembed %.6f, llama.cpp %.6f: %s\n",
                    idx[j], c_l, ex_g, ex_l, have_x ? "" : " (none)", cs, have_s ? truth_l : 0.0,
                    by_x ? "exact decides for ggufembed" : by_st ? "the truth decides for ggufembed" : "see below");
        }
        free(a), free(b);
    }
    /* The last rule: llama.cpp's own worst distance to exact over the texts above bounds the
     * noise of this file's rounding. On EmbeddingGemma Q4_K_M (445 of 461 texts under 0.999:
     * llama.cpp is the farther from exact on 433 of them, 0.0018 on average vs ggufembed's
     * 0.0009, with flash attention on or off: README, Weight types) both have heavy tails,
     * ggufembed's largest 0.030 and llama.cpp's 0.024, and a per-text factor leaves one text
     * of 445 (443: 0.0105 vs 0.0026) to chance. A broken kernel is far outside that range,
     * and the mean rule below holds ggufembed to llama.cpp's average. */
    for (size_t p = 0; p < n_pend; p++) {
        const int ok = pend_dist[p] <= l_worst_x;
        by_truth += ok, missed += !ok;
        fprintf(stderr, "  text %zu: %.6f from exact, llama.cpp's worst on this file %.6f: %s\n", pend[p], pend_dist[p],
                l_worst_x, ok ? "within llama.cpp's own range" : "FAIL");
    }
    free(pend), free(pend_dist);
    /* a mean under MEAN: ggufembed and llama.cpp against exact, on every ex_stride-th text */
    const double l_mean = ln ? lsum / (double)ln : 0.0;
    int mean_ok = ln > 0 && l_mean >= mean_cos;
    if (ln > 0 && !mean_ok) {
        const char *xe = getenv("GGUFEMBED_EXACT_STRIDE");
        const size_t ex_stride = xe && atoi(xe) > 0 ? (size_t)atoi(xe) : 4;
        double sg = 0, sx = 0;
        size_t nx = 0;
        for (size_t j = 0; j < k; j += ex_stride) {
            if (!f16_row(lv, lb / 2, idx[j], dim, lref) || !exact_vector(&exact, texts[j], lens[j], &o, xv, dim)) continue;
            sg += cosine(out + j * (size_t)dim, xv, dim), sx += cosine(lref, xv, dim), nx++;
        }
        /* mean distance (1 - cosine) to exact at most EXACT_MEAN_FACTOR times llama.cpp's:
         * "the closer of the two" alone is a coin toss on a noisy model (Gemma 3 270M:
         * ggufembed 0.9989674 vs 0.9989598 on every 4th text, 0.9991148 vs 0.9991748 on
         * every 8th) */
        mean_ok = nx > 0 && (double)nx - sg <= EXACT_MEAN_FACTOR * ((double)nx - sx);
        printf("%s: mean %.7f to llama.cpp is under %g; to exact (%zu texts): ggufembed %.7f, llama.cpp %.7f: %s\n", type,
               l_mean, mean_cos, nx, nx ? sg / (double)nx : 0.0, nx ? sx / (double)nx : 0.0,
               mean_ok ? "ggufembed within 1.25x of llama.cpp's distance" : "FAIL");
    }
    ggufembed_context_free(exact.ctx);
    ggufembed_model_free(exact.m);
    free(lref), free(xv);
    printf("%s vs llama.cpp: %zu texts, min cosine %.7f (text %zu), mean %.7f; %zu over the context refused by both, "
           "%zu others llama.cpp failed on\n", type, ln, lmin, worst, ln ? lsum / (double)ln : 0.0, too_long, failed);
    printf("%s vs sentence-transformers (fp32): %zu texts with the same tokens, min %.7f, mean %.7f\n", type, sn, smin,
           sn ? ssum / (double)sn : 0.0);
    printf("%s: %zu texts under %g to llama.cpp, %zu of them decided for ggufembed by exact or the truth\n", type,
           by_truth + missed, min_cos, by_truth);
    CHECK(ln > 0 && missed == 0 && mean_ok,
          "%s vs llama.cpp: %zu texts under %g that neither exact nor the truth decides for ggufembed; mean %.7f (want >= %g "
          "or ggufembed closer to exact)", type, missed, min_cos, l_mean, mean_cos);
    if (with_st) CHECK(sn > 0 && smin >= st_min, "%s vs sentence-transformers: min %.7f (want >= %g)", type, smin, st_min);

    for (size_t j = 0; j < k; j++) free((void *)texts[j]);
    free(texts), free(lens), free(idx), free(out), free(ref), free(ids);
    free(cl), free(tl), free(sl), free(corpus), free(tokens), free(st_tokens), free(lv), free(sv);
    ggufembed_context_free(ctx);
    ggufembed_model_free(m);
    return check_summary("test_model");
}
