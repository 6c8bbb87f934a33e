/*
 * test_reference.c - EmbeddingGemma against its own reference implementation:
 * sentence-transformers in fp32 on the original weights (tests/golden/st/, written by
 * tests/golden/st_generate.sh; see its header for the sections).
 *
 *   test_reference MODEL.gguf ST_DIR CORPUS.jsonl MIN_EACH MIN_MEAN [LLAMACPP.jsonl]
 *
 * MIN_EACH / MIN_MEAN are the cosine every text / the mean should reach: 0.99999 with the
 * F32 file, 0.999 / 0.9995 with Q8_0 (issue #8). llama.cpp itself does not reach them on
 * every text of this corpus (measured: tests/golden/st/llamacpp-*.jsonl, written by
 * st_llamacpp.py: llama.cpp's two readings of the same file, each compared with
 * sentence-transformers). With that file given, a text passes at
 *     min(MIN_EACH, min(on, off) - 2 (1 - MIN_EACH))
 * (as close to the truth as llama.cpp's farther reading, less twice the bar's slack), the
 * mean at min(MIN_MEAN, mean(on) - (1 - MIN_MEAN) / 5); every text under MIN_EACH is
 * printed with llama.cpp's numbers and counted in the summary. Without it, MIN_EACH and
 * MIN_MEAN apply as they are.
 * Checked, with the library's defaults (whitespace stripped, as sentence-transformers does):
 *   1. token ids equal to sentence-transformers' for every text but the one named in
 *      k_known (a difference the GGUF file itself makes; ggufembed = llama.cpp there);
 *   2. the full vector of every text;
 *   3. Matryoshka 512/256/128 against encode(truncate_dim=N);
 *   4. every prompt of the model's config_sentence_transformers.json: the task of
 *      the same name (ggufembed_task_from_name) against encode(prompt_name=...), and
 *      the task's template equal to the config's prompt text (bit-identical vectors
 *      with the prompt prepended by hand);
 *   5. the two whitespace policies: STRIP(text) is bit-identical to KEEP(strip(text)),
 *      and KEEP differs from STRIP exactly on the texts that have surrounding whitespace.
 * GGUFEMBED_REFERENCE_STRIDE=k keeps every k-th text of each section, and
 * GGUFEMBED_REFERENCE_MAX_BYTES=n skips texts longer than n bytes in sections 2-4 (slow
 * builds: the sanitizers).
 */
#include "../core/ggufembed.h"
#include "../core/util.h"
#include "check.h"
#include "jsonl.h"

#include <math.h>
#include <string.h>

/* Texts where llama.cpp's reading of the GGUF file and sentence-transformers' of the
 * original tokenizer differ by construction: not compared (reason printed). */
static const struct {
    const char *id, *why;
} k_known[] = {
    {"edge-012", "the text is two literal U+2581 characters; the GGUF converter rewrites the user-defined "
                 "token 138 from U+2581 U+2581 to two spaces (convert_hf_to_gguf.py: 'pre-normalize user-defined "
                 "spaces'), so llama.cpp (and ggufembed) give 236743 236743 where sentence-transformers gives 138"},
};

static const char *known_reason(const char *corpus_line) {
    size_t len;
    char *id = json_get_string(corpus_line, "id", &len);
    const char *why = NULL;
    for (size_t k = 0; id && k < sizeof k_known / sizeof k_known[0]; k++)
        if (!strcmp(id, k_known[k].id)) why = k_known[k].why;
    free(id);
    return why;
}

typedef struct section {
    char *kind, *prompt_name, *prompt;
    long dim, offset;
    int32_t *texts;
    size_t n;
} section;

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: test_reference MODEL.gguf ST_DIR CORPUS.jsonl MIN_EACH MIN_MEAN [LLAMACPP.jsonl]\n");
        return 2;
    }
    const char *dir = argv[2];
    const double min_each = atof(argv[4]), min_mean = atof(argv[5]);
    const char *stride_env = getenv("GGUFEMBED_REFERENCE_STRIDE");
    const size_t stride = stride_env && atoi(stride_env) > 1 ? (size_t)atoi(stride_env) : 1;
    const char *max_env = getenv("GGUFEMBED_REFERENCE_MAX_BYTES");
    const size_t max_bytes = max_env && atol(max_env) > 0 ? (size_t)atol(max_env) : SIZE_MAX;
    char path[4096], err[512];
    ggufembed_model *m = NULL;
    ggufembed_status st = ggufembed_model_open_file_v2(argv[1], GGUFEMBED_OPEN_REPACK, &m, err, sizeof err);
    CHECK(st == GGUFEMBED_OK, "open %s: %s", argv[1], err);
    if (st) return check_summary("test_reference");
    ggufembed_model_info info;
    ggufembed_model_get_info(m, &info, sizeof info);
    CHECK(info.has_dense && !info.missing_dense && info.warning[0] == 0,
          "%s has no dense_2/dense_3: sentence-transformers' vectors need them", argv[1]);
    const int dim = info.dimension;

    /* inputs */
    char *corpus = read_file(argv[3], NULL);
    snprintf(path, sizeof path, "%s/tokens.jsonl", dir);
    char *tokens = read_file(path, NULL);
    snprintf(path, sizeof path, "%s/sections.jsonl", dir);
    char *sections_txt = read_file(path, NULL);
    snprintf(path, sizeof path, "%s/vectors.f16", dir);
    size_t vec_bytes = 0;
    uint16_t *vec16 = (uint16_t *)read_file(path, &vec_bytes);
    CHECK(corpus && tokens && sections_txt && vec16, "reference files missing in %s", dir);
    if (!corpus || !tokens || !sections_txt || !vec16) return check_summary("test_reference");
    char **cl, **tl, **sl;
    size_t n = split_lines(corpus, &cl), nt = split_lines(tokens, &tl), ns = split_lines(sections_txt, &sl);
    CHECK(n >= 300 && nt == n && ns >= 5, "corpus %zu texts, tokens %zu lines, %zu sections", n, nt, ns);
    if (nt != n || ns < 5) return check_summary("test_reference");
    char **texts = malloc(n * sizeof(char *));
    size_t *lens = malloc(n * sizeof(size_t));
    for (size_t i = 0; i < n; i++) texts[i] = json_get_string(cl[i], "text", &lens[i]);
    section *secs = calloc(ns, sizeof *secs);
    for (size_t k = 0; k < ns; k++) {
        size_t len;
        secs[k].kind = json_get_string(sl[k], "section", &len);
        secs[k].prompt_name = json_get_string(sl[k], "prompt_name", &len);
        secs[k].prompt = json_get_string(sl[k], "prompt", &len);
        int ok = secs[k].kind && json_get_long(sl[k], "dim", &secs[k].dim) &&
                 json_get_long(sl[k], "offset", &secs[k].offset) &&
                 (secs[k].texts = json_get_ints(sl[k], "texts", &secs[k].n)) != NULL;
        ok = ok && (size_t)(secs[k].offset + secs[k].dim * (long)secs[k].n) * 2 <= vec_bytes;
        CHECK(ok, "section %zu is malformed or outside vectors.f16", k);
        if (!ok) return check_summary("test_reference");
    }
    /* llama.cpp's own distance to sentence-transformers, per text (optional) */
    double *l_on = NULL, *l_off = NULL, l_on_sum = 0;
    size_t l_n = 0;
    if (argc > 6) {
        char *lt = read_file(argv[6], NULL);
        CHECK(lt != NULL, "cannot read %s", argv[6]);
        if (lt) {
            char **ll;
            size_t nl = split_lines(lt, &ll);
            l_on = calloc(n, sizeof *l_on), l_off = calloc(n, sizeof *l_off);
            for (size_t k = 0; k < nl; k++) {
                long idx;
                const char *pon = json_find_key(ll[k], "on"), *poff = json_find_key(ll[k], "off");
                if (json_get_long(ll[k], "index", &idx) && idx >= 0 && (size_t)idx < n && pon && poff) {
                    l_on[idx] = atof(pon), l_off[idx] = atof(poff);
                    if (!known_reason(cl[idx])) l_on_sum += l_on[idx], l_n++;
                }
            }
            CHECK(l_n + 2 >= n, "%s covers %zu of %zu texts", argv[6], l_n, n);
            free(ll);
            free(lt);
        }
    }
    ggufembed_context *ctx;
    CHECK(ggufembed_context_new(m, NULL, &ctx) == GGUFEMBED_OK, "context");
    float *v = malloc(sizeof(float) * 4096), *w = malloc(sizeof(float) * 4096), *ref = malloc(sizeof(float) * 4096);
    int32_t *ids = malloc(4096 * sizeof(int32_t));

    /* 1. tokens of strip(text), the input sentence-transformers tokenizes */
    size_t tok_ok = 0, tok_n = 0, n_st_fails = 0;
    for (size_t i = 0; i < n; i += stride) {
        size_t ng = 0, nn = 0, sl_len;
        const char *why_known = known_reason(cl[i]);
        if (why_known) {
            printf("text %zu: not compared: %s\n", i, why_known);
            continue;
        }
        if (json_find_key(tl[i], "st_error")) {
            /* a text sentence-transformers itself cannot embed (tests/golden/st_reference.py
             * says why); ggufembed embeds it as llama.cpp does (test_golden) */
            size_t el;
            char *why = json_get_string(tl[i], "st_error", &el);
            printf("text %zu: not compared: %s\n", i, why ? why : "?");
            free(why);
            n_st_fails++;
            continue;
        }
        tok_n++;
        const char *s = ge_strip_whitespace(texts[i], lens[i], &sl_len);
        int32_t *g = json_get_ints(tl[i], "tokens", &ng);
        st = ggufembed_tokenize(ctx, s, sl_len, GGUFEMBED_TOKENIZE_DEFAULT, ids, 4096, &nn);
        int same = st == GGUFEMBED_OK && g && nn == ng && memcmp(ids, g, ng * sizeof(int32_t)) == 0;
        if (!same) {
            size_t k = 0;
            while (k < nn && k < ng && ids[k] == g[k]) k++;
            printf("token mismatch text %zu (%zu vs %zu tokens, first difference at %zu: %d vs %d)\n", i, nn, ng, k,
                   k < nn ? ids[k] : -1, k < ng ? g[k] : -1);
        }
        tok_ok += same;
        free(g);
    }
    CHECK(tok_ok == tok_n, "token ids equal to sentence-transformers' for %zu of %zu texts", tok_ok, tok_n);
    CHECK(n_st_fails <= 1, "%zu texts sentence-transformers cannot embed (expected: only <image_soft_token>)", n_st_fails);

    /* 2-4. every section's vectors */
    double full_min = 1, full_sum = 0, mat_min = 1, prompt_min = 1;
    size_t full_n = 0, full_worst = 0, prompt_sections = 0, n_under = 0, n_l_under = 0;
    for (size_t k = 0; k < ns; k++) {
        section *S = &secs[k];
        ggufembed_embed_options o;
        ggufembed_embed_options_init(&o);
        const int is_full = !strcmp(S->kind, "full"), is_dim = !strncmp(S->kind, "dim-", 4),
                  is_prompt = !strcmp(S->kind, "prompt");
        CHECK(is_full || is_dim || is_prompt, "unknown section kind %s", S->kind);
        if (is_dim) o.dimensions = (int32_t)S->dim;
        if (is_prompt) {
            prompt_sections++;
            st = S->prompt_name ? ggufembed_task_from_name(S->prompt_name, &o.task) : GGUFEMBED_ERR_INVALID_ARGUMENT;
            CHECK(st == GGUFEMBED_OK, "prompt '%s' of the model's sentence-transformers config is no ggufembed task",
                  S->prompt_name ? S->prompt_name : "(null)");
            if (st) continue;
        }
        CHECK(S->dim == (is_dim ? S->dim : dim), "section %s has dimension %ld", S->kind, S->dim);
        for (size_t j = 0; j < S->n; j += stride) {
            const size_t i = (size_t)S->texts[j];
            if (i >= n) {
                CHECK(i < n, "section %s names text %zu of %zu", S->kind, i, n);
                break;
            }
            if (known_reason(cl[i]) || lens[i] > max_bytes) continue;
            for (long d = 0; d < S->dim; d++) ref[d] = ge_fp16_to_fp32(vec16[S->offset + (long)j * S->dim + d]);
            st = ggufembed_embed(ctx, texts[i], lens[i], &o, v, 4096);
            CHECK(st == GGUFEMBED_OK, "embed text %zu (%s): %s", i, S->kind, ggufembed_context_last_error(ctx));
            const double c = cosine(v, ref, (int)S->dim);
            /* the floor: the bar, or llama.cpp's own distance on this text (full vectors) */
            double floor = min_each;
            if (l_on && is_full) {
                const double lmin = l_on[i] < l_off[i] ? l_on[i] : l_off[i], slack = 2 * (1 - min_each);
                if (lmin - slack < floor) floor = lmin - slack;
            } else if (l_on) {
                /* Matryoshka and prompted vectors: llama.cpp's distance on the full, unprompted
                 * vector of the text, with the slack of fewer dimensions / another input */
                const double lmin = l_on[i] < l_off[i] ? l_on[i] : l_off[i], slack = 4 * (1 - min_each);
                if (lmin - slack < floor) floor = lmin - slack;
            }
            if (c < min_each) {
                if (l_on)
                    printf("%s%s%s text %zu: cosine %.6f (llama.cpp %.6f / %.6f, floor %.6f)\n", S->kind,
                           S->prompt_name ? " " : "", S->prompt_name ? S->prompt_name : "", i, c, l_on[i], l_off[i], floor);
                else
                    printf("%s%s%s text %zu: cosine %.6f\n", S->kind, S->prompt_name ? " " : "",
                           S->prompt_name ? S->prompt_name : "", i, c);
                if (is_full) n_under++, n_l_under += l_on && (l_on[i] < min_each || l_off[i] < min_each);
            }
            CHECK(c >= floor, "%s %s text %zu: cosine %.6f < %.6f", S->kind, S->prompt_name ? S->prompt_name : "", i, c,
                  floor);
            if (is_full) {
                full_sum += c, full_n++;
                if (c < full_min) full_min = c, full_worst = i;
            } else if (is_dim) {
                if (c < mat_min) mat_min = c;
            } else {
                if (c < prompt_min) prompt_min = c;
                /* the template is the config's prompt: prepend it by hand, no task */
                size_t pl = strlen(S->prompt);
                char *pt = malloc(pl + lens[i] + 1);
                memcpy(pt, S->prompt, pl);
                memcpy(pt + pl, texts[i], lens[i]);
                ggufembed_embed_options raw;
                ggufembed_embed_options_init(&raw);
                st = ggufembed_embed(ctx, pt, pl + lens[i], &raw, w, 4096);
                CHECK(st == GGUFEMBED_OK && memcmp(v, w, sizeof(float) * (size_t)dim) == 0,
                      "task %s differs from its prompt '%s' prepended by hand (text %zu)", S->prompt_name, S->prompt, i);
                free(pt);
            }
        }
    }
    CHECK(full_n > 0, "no full section");
    const double full_mean = full_n ? full_sum / (double)full_n : 0;
    double mean_floor = min_mean;
    if (l_n && l_on_sum / (double)l_n - (1 - min_mean) / 5 < mean_floor) mean_floor = l_on_sum / (double)l_n - (1 - min_mean) / 5;
    CHECK(full_mean >= mean_floor, "mean cosine %.6f < %.6f", full_mean, mean_floor);
    CHECK(prompt_sections >= 10, "only %zu prompt sections", prompt_sections);

    /* 5. whitespace policies */
    size_t n_ws = 0;
    ggufembed_embed_options keep;
    ggufembed_embed_options_init(&keep);
    keep.whitespace = GGUFEMBED_WHITESPACE_KEEP;
    for (size_t i = 0; i < n; i++) {
        size_t sl_len;
        const char *s = ge_strip_whitespace(texts[i], lens[i], &sl_len);
        if (sl_len == lens[i] && i % (10 * stride)) continue; /* every text with whitespace, and a few others */
        const int has_ws = sl_len != lens[i];
        n_ws += has_ws;
        CHECK(ggufembed_embed(ctx, texts[i], lens[i], NULL, v, 4096) == GGUFEMBED_OK &&
                  ggufembed_embed(ctx, s, sl_len, &keep, w, 4096) == GGUFEMBED_OK &&
                  memcmp(v, w, sizeof(float) * (size_t)dim) == 0,
              "text %zu: strip(text) != keep(stripped text)", i);
        CHECK(ggufembed_embed(ctx, texts[i], lens[i], &keep, w, 4096) == GGUFEMBED_OK &&
                  (memcmp(v, w, sizeof(float) * (size_t)dim) != 0) == has_ws,
              "text %zu: keep vs strip %s", i, has_ws ? "identical despite whitespace" : "differ without whitespace");
    }
    CHECK(n_ws >= 10, "only %zu texts with surrounding whitespace checked", n_ws);

    printf("reference (sentence-transformers fp32): %zu texts (%zu it cannot embed, %zu known differences), tokens "
           "equal %zu/%zu; cosine min %.6f (text %zu) mean %.6f (bar %.6f / %.6f: %zu texts under it%s", full_n,
           n_st_fails, sizeof k_known / sizeof k_known[0], tok_ok, tok_n, full_min, full_worst, full_mean, min_each,
           min_mean, n_under, l_on ? "" : ")");
    if (l_on)
        printf(", on %zu of them llama.cpp is under it too; llama.cpp's default reading: mean %.6f)", n_l_under,
               l_n ? l_on_sum / (double)l_n : 0);
    printf("; matryoshka min %.6f; prompts (%zu) min %.6f; %zu texts with surrounding whitespace\n", mat_min,
           prompt_sections, prompt_min, n_ws);
    for (size_t i = 0; i < n; i++) free(texts[i]);
    for (size_t k = 0; k < ns; k++) free(secs[k].kind), free(secs[k].prompt_name), free(secs[k].prompt), free(secs[k].texts);
    free(secs), free(texts), free(lens), free(cl), free(tl), free(sl), free(corpus), free(tokens), free(sections_txt);
    free(vec16), free(v), free(w), free(ref), free(ids), free(l_on), free(l_off);
    ggufembed_context_free(ctx);
    ggufembed_model_free(m);
    return check_summary("test_reference");
}
