/* fuzz_tokenize.c - fuzz target for ggufembed_tokenize on arbitrary bytes (invalid UTF-8
 * included), on every tokenizer at once: the first input byte picks the vocabulary, the
 * second the flags and the output capacity, the rest is the text.
 *
 * Vocabularies, in this order (so a byte means the same vocabulary on every run):
 *   1. the .bin files of tests/fuzz/seeds/tokenizer: small vocabulary-only files of each tokenizer
 *      (SentencePiece, WordPiece, byte-level BPE with every pre-tokenizer family, Unigram
 *      with and without a charsmap), written by make_seeds.py;
 *   2. the real model when GGUFEMBED_MODEL_PATH is set (ctest passes the one
 *      scripts/test.sh fetches: Gemma's 262144-piece SentencePiece vocabulary);
 *   3. every .gguf file of GGUFEMBED_FUZZ_VOCAB_DIR when set (e.g. the llama.cpp vocabularies
 *      of scripts/fetch-vocabs.sh, $HOME/.cache/ggufembed/vocab), for campaigns.
 * Checks: only OK or BUFFER_TOO_SMALL; ids inside the vocabulary; the same ids on a second
 * call (no state leaks between calls); with too small a buffer the same count and the same
 * first ids, nothing written past it. */
#include "fuzz_common.h"

#define MAX_VOCABS 64

static ggufembed_model *g_models[MAX_VOCABS];
static ggufembed_context *g_ctxs[MAX_VOCABS];
static int32_t g_nvocab[MAX_VOCABS];
static int g_n;

static void add_model(ggufembed_model *m, const char *what) {
    if (g_n == MAX_VOCABS) return;
    ggufembed_context_params cp;
    ggufembed_context_params_init(&cp);
    cp.n_threads = 1;
    ggufembed_model_info info;
    if (ggufembed_model_get_info(m, &info, sizeof info) != GGUFEMBED_OK ||
        ggufembed_context_new(m, &cp, &g_ctxs[g_n]) != GGUFEMBED_OK)
        FZ_FAIL("fuzz_tokenize: no context for %s", what);
    g_models[g_n] = m;
    g_nvocab[g_n] = info.vocab_size;
    g_n++;
}

static void init(void) {
    char err[256];
    static fz_file *fs; /* kept: the models point into it */
    int n = fz_load_seeds("tokenizer", "fuzz_tokenize", &fs);
    for (int i = 0; i < n; i++) {
        ggufembed_model *m = NULL;
        /* the buffers stay alive for the process: the model's views point into them */
        if (ggufembed_model_open_memory(fs[i].data, fs[i].size, &m, err, sizeof err) != GGUFEMBED_OK)
            FZ_FAIL("fuzz_tokenize: seed %s does not open: %s", fs[i].name, err);
        add_model(m, fs[i].name);
    }
    const char *path = getenv("GGUFEMBED_MODEL_PATH");
    if (path && *path) {
        ggufembed_model *m = NULL;
        if (ggufembed_model_open_file(path, &m, err, sizeof err) != GGUFEMBED_OK)
            FZ_FAIL("fuzz_tokenize: %s does not open: %s", path, err);
        add_model(m, path);
    }
    const char *vd = getenv("GGUFEMBED_FUZZ_VOCAB_DIR");
    if (vd && *vd) {
        static fz_file *vs; /* kept: the models point into it */
        int nv = fz_load_dir(vd, ".gguf", &vs);
        for (int i = 0; i < nv; i++) {
            ggufembed_model *m = NULL;
            /* some of llama.cpp's vocabularies are refused on purpose (deepseek, gemma-4) */
            if (ggufembed_model_open_memory(vs[i].data, vs[i].size, &m, err, sizeof err) == GGUFEMBED_OK)
                add_model(m, vs[i].name);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_n) init();
    if (size < 2) return 0;
    const int k = data[0] % g_n;
    const unsigned flags = data[1] & 3u;
    const unsigned cap_mode = (data[1] >> 2) & 3u; /* 0, 1: room; 2: too small; 3: cap 0, out NULL */
    char *text = fz_dup(data + 2, size - 2);
    const size_t len = size - 2;
    ggufembed_context *ctx = g_ctxs[k];

    size_t cap = 4 * len + 16, n = 0;
    int32_t *ids = malloc(sizeof(int32_t) * cap);
    ggufembed_status s = fz_status(ggufembed_tokenize(ctx, text, len, flags, ids, cap, &n), "tokenize");
    if (s != GGUFEMBED_OK && s != GGUFEMBED_ERR_BUFFER_TOO_SMALL) FZ_FAIL("tokenize failed: %d", (int)s);
    if (s == GGUFEMBED_ERR_BUFFER_TOO_SMALL) { /* more tokens than 4 a byte: grow once */
        if (n <= cap) FZ_FAIL("BUFFER_TOO_SMALL with %zu <= cap %zu", n, cap);
        free(ids);
        cap = n;
        ids = malloc(sizeof(int32_t) * (cap ? cap : 1));
        s = fz_status(ggufembed_tokenize(ctx, text, len, flags, ids, cap, &n), "tokenize again");
        if (s != GGUFEMBED_OK || n != cap) FZ_FAIL("second tokenize: status %d, %zu tokens", (int)s, n);
    }
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= g_nvocab[k]) FZ_FAIL("token id %d of %d", ids[i], g_nvocab[k]);

    if (cap_mode >= 2 && n > 0) {
        size_t small = cap_mode == 3 ? 0 : n / 2, n2 = 0;
        int32_t *part = small ? malloc(sizeof(int32_t) * small) : NULL;
        s = fz_status(ggufembed_tokenize(ctx, text, len, flags, part, small, &n2), "tokenize small");
        if (s != GGUFEMBED_ERR_BUFFER_TOO_SMALL || n2 != n)
            FZ_FAIL("cap %zu of %zu: status %d, count %zu", small, n, (int)s, n2);
        if (small && memcmp(part, ids, sizeof(int32_t) * small) != 0) FZ_FAIL("a short buffer got other ids");
        free(part);
    } else if (n > 0) { /* the same call again: the same ids */
        int32_t *again = malloc(sizeof(int32_t) * n);
        size_t n2 = 0;
        s = fz_status(ggufembed_tokenize(ctx, text, len, flags, again, n, &n2), "tokenize repeat");
        if (s != GGUFEMBED_OK || n2 != n || memcmp(again, ids, sizeof(int32_t) * n) != 0)
            FZ_FAIL("tokenizing twice gave different ids");
        free(again);
    }
    /* the texts of the ids: inside the model */
    for (size_t i = 0; i < n && i < 64; i++) {
        size_t tl = 0;
        const char *t = ggufembed_token_text(g_models[k], ids[i], &tl);
        if (!t) FZ_FAIL("no text for id %d", ids[i]);
        if (tl) g_touch ^= (uint8_t)(t[0] ^ t[tl - 1]);
    }
    free(ids);
    free(text);
    return 0;
}
