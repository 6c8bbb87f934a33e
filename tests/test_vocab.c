/*
 * test_vocab.c - ggufembed's token ids against llama.cpp's on its vocabulary-only GGUFs
 * (vendor/llama.cpp/models/ggml-vocab-*.gguf of the llama-cpp-python 0.3.36 sdist,
 * fetched by scripts/fetch-vocabs.sh):
 *   - every text of the golden corpus, against llama-tokenize's ids
 *     (tests/golden/vocab/<name>.jsonl, made by tests/golden/vocab/generate.sh). As
 *     llama-tokenize does, special tokens are added when the vocabulary adds a BOS
 *     (its add_special is the vocabulary's add_bos) and parsed;
 *   - every case of <vocab>.inp/.out, llama.cpp's own expected tokenizations, tokenized
 *     as its tests/test-tokenizer-0.cpp does: no special tokens added or parsed.
 *
 *   test_vocab VOCAB_DIR GOLDEN_DIR CORPUS.jsonl NAME...
 * GOLDEN_DIR holds <name>.jsonl (uncompressed: tests/test_vocab.sh unpacks the .gz).
 * A NAME written !NAME is a vocabulary ggufembed does not support: opening it must fail
 * with GGUFEMBED_ERR_UNSUPPORTED and a message naming its tokenizer or pre-tokenizer.
 * A vocabulary file or golden that is missing FAILS: nothing is skipped.
 */
#include "check.h"
#include "ggufembed.h"
#include "jsonl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SEP[] = "\n__ggml_vocab_test__\n";

/* ids of text as ggufembed gives them with these flags, into *ids (realloc'ed) */
static int tokenize(ggufembed_context *ctx, const char *text, size_t len, unsigned flags, int32_t **ids, size_t *n) {
    size_t need = 0;
    ggufembed_status st = ggufembed_tokenize(ctx, text, len, flags, NULL, 0, &need);
    if (st != GGUFEMBED_OK && st != GGUFEMBED_ERR_BUFFER_TOO_SMALL) return 0;
    *ids = realloc(*ids, sizeof(int32_t) * (need + 1));
    if (!*ids) return 0;
    *n = need;
    return ggufembed_tokenize(ctx, text, len, flags, *ids, need + 1, n) == GGUFEMBED_OK;
}

static int same(const int32_t *a, size_t na, const int32_t *b, size_t nb) {
    return na == nb && (na == 0 || memcmp(a, b, na * sizeof(int32_t)) == 0);
}

static void print_ids(const char *what, const int32_t *ids, size_t n) {
    fprintf(stderr, "    %s:", what);
    for (size_t i = 0; i < n && i < 40; i++) fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, n > 40 ? " ...\n" : "\n");
}

/* the golden corpus against llama-tokenize's ids; returns the mismatches */
static int check_corpus(ggufembed_context *ctx, unsigned flags, const char *golden, char **cl, size_t n_texts,
                        const char *name) {
    char *g = read_file(golden, NULL);
    CHECK(g != NULL, "%s: cannot read %s", name, golden);
    if (!g) return 1;
    char **gl;
    size_t ng = split_lines(g, &gl), checked = 0;
    int bad = 0;
    int32_t *ids = NULL;
    for (size_t k = 0; k < ng; k++) {
        long i;
        if (!json_get_long(gl[k], "i", &i) || i < 0 || (size_t)i >= n_texts) continue;
        if (json_find_key(gl[k], "error")) continue; /* llama.cpp failed on it (listed in meta.json) */
        size_t nw = 0, len = 0, n = 0;
        int32_t *want = json_get_ints(gl[k], "ids", &nw);
        char *text = json_get_string(cl[i], "text", &len);
        int ok = text && want && tokenize(ctx, text, len, flags, &ids, &n) && same(ids, n, want, nw);
        if (!ok && bad++ < 3) {
            fprintf(stderr, "  %s: text %ld differs\n", name, i);
            print_ids("llama.cpp", want, want ? nw : 0);
            print_ids("ggufembed", ids, n);
        }
        checked++;
        free(want), free(text);
    }
    CHECK(bad == 0 && checked + 5 >= n_texts, "%s: corpus %d of %zu texts differ from llama-tokenize (%zu golden lines)",
          name, bad, checked, ng);
    printf("%s: corpus %zu/%zu texts identical\n", name, checked - (size_t)bad, checked);
    free(ids), free(gl), free(g);
    return bad;
}

/* lines of buf (cut in place), empty lines kept, as std::getline reads them */
static size_t all_lines(char *buf, size_t len, char ***lines) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += buf[i] == '\n';
    *lines = malloc(sizeof(char *) * (n + 1));
    size_t k = 0;
    char *start = buf;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\n') {
            buf[i] = 0;
            (*lines)[k++] = start;
            start = buf + i + 1;
        }
    if (start < buf + len) (*lines)[k++] = start; /* a last line without '\n' */
    return k;
}

/* llama.cpp's .inp/.out cases (test-tokenizer-0.cpp's read_tests) */
static void check_inp_out(ggufembed_context *ctx, const char *inp_path, const char *out_path, const char *name) {
    size_t il, ol;
    char *inp = read_file(inp_path, &il), *out = read_file(out_path, &ol);
    CHECK(inp && out, "%s: cannot read %s / %s", name, inp_path, out_path);
    if (!inp || !out) {
        free(inp), free(out);
        return;
    }
    char **lines;
    size_t n_lines = all_lines(out, ol, &lines);
    size_t pos = 0, cases = 0;
    int bad = 0;
    int32_t *ids = NULL;
    while (pos <= il && cases < n_lines) {
        const char *hit = NULL;
        for (size_t p = pos; p + sizeof SEP - 1 <= il; p++)
            if (memcmp(inp + p, SEP, sizeof SEP - 1) == 0) { hit = inp + p; break; }
        const size_t len = hit ? (size_t)(hit - (inp + pos)) : il - pos;
        /* expected: space-separated ids, surrounding whitespace stripped */
        int32_t *want = malloc(sizeof(int32_t) * (strlen(lines[cases]) / 2 + 1)); /* ids are >= 2 chars apart */
        size_t nw = 0;
        for (char *c = lines[cases], *end; want && *c;) {
            long v = strtol(c, &end, 10);
            if (end == c) break;
            want[nw++] = (int32_t)v;
            c = end;
        }
        size_t n = 0;
        int ok = tokenize(ctx, inp + pos, len, 0, &ids, &n) && same(ids, n, want, nw);
        if (!ok && bad++ < 3) {
            fprintf(stderr, "  %s: .inp case %zu (%zu bytes) differs\n", name, cases, len);
            print_ids("expected", want, nw);
            print_ids("ggufembed", ids, n);
        }
        free(want);
        cases++;
        if (!hit) break;
        pos = (size_t)(hit - inp) + sizeof SEP - 1;
    }
    CHECK(cases == n_lines, "%s: %zu .inp cases but %zu .out lines", name, cases, n_lines);
    CHECK(bad == 0, "%s: %d of %zu .inp/.out cases differ", name, bad, cases);
    printf("%s: .inp/.out %zu/%zu cases identical\n", name, cases - (size_t)bad, cases);
    free(ids), free(lines), free(inp), free(out);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: test_vocab VOCAB_DIR GOLDEN_DIR CORPUS.jsonl NAME...\n");
        return 2;
    }
    char *corpus = read_file(argv[3], NULL);
    CHECK(corpus != NULL, "cannot read %s", argv[3]);
    if (!corpus) return check_summary("test_vocab");
    char **cl;
    const size_t n_texts = split_lines(corpus, &cl);
    for (int a = 4; a < argc; a++) {
        const int refused = argv[a][0] == '!';
        const char *name = argv[a] + refused;
        char path[1024], golden[1024], inp[1100], out[1100], err[512] = {0};
        snprintf(path, sizeof path, "%s/ggml-vocab-%s.gguf", argv[1], name);
        if (refused) {
            ggufembed_model *m = NULL;
            const ggufembed_status st = ggufembed_model_open_file(path, &m, err, sizeof err);
            CHECK(st == GGUFEMBED_ERR_UNSUPPORTED && m == NULL && strstr(err, "not supported"),
                  "%s: expected a refusal, got status %d: %s", name, (int)st, err);
            printf("%s: refused: %s\n", name, err);
            ggufembed_model_free(m);
            continue;
        }
        snprintf(golden, sizeof golden, "%s/%s.jsonl", argv[2], name);
        ggufembed_model *m = NULL;
        ggufembed_context *ctx = NULL;
        ggufembed_status st = ggufembed_model_open_file(path, &m, err, sizeof err);
        CHECK(st == GGUFEMBED_OK, "%s: cannot open %s: %s", name, path, err);
        if (st != GGUFEMBED_OK) continue;
        ggufembed_context_params cp;
        ggufembed_context_params_init(&cp);
        cp.n_threads = 1;
        CHECK(ggufembed_context_new(m, &cp, &ctx) == GGUFEMBED_OK, "%s: no context", name);
        ggufembed_model_info info;
        ggufembed_model_get_info(m, &info, sizeof info);
        CHECK(info.vocab_only == 1, "%s: a vocabulary-only file is not reported as one", name);
        /* embedding with a vocabulary is a clear error */
        float v[4];
        CHECK(ggufembed_embed(ctx, "x", 1, NULL, v, 4) == GGUFEMBED_ERR_UNSUPPORTED &&
                  strstr(ggufembed_context_last_error(ctx), "vocabulary only"),
              "%s: embed on a vocabulary: %s", name, ggufembed_context_last_error(ctx));
        const unsigned flags = (info.add_bos ? GGUFEMBED_TOKENIZE_ADD_SPECIAL : 0) | GGUFEMBED_TOKENIZE_PARSE_SPECIAL;
        check_corpus(ctx, flags, golden, cl, n_texts, name);
        snprintf(inp, sizeof inp, "%s.inp", path);
        snprintf(out, sizeof out, "%s.out", path);
        FILE *f = fopen(inp, "rb");
        if (f) {
            fclose(f);
            check_inp_out(ctx, inp, out, name);
        }
        ggufembed_context_free(ctx);
        ggufembed_model_free(m);
    }
    free(cl), free(corpus);
    return check_summary("test_vocab");
}
