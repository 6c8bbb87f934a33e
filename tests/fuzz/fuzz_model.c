/* fuzz_model.c - fuzz target for ggufembed_model_open_memory_v2 on arbitrary bytes, and,
 * when the bytes open, everything a caller does next: info and metadata printing, a
 * context, tokenize, and one embed (or rerank, for a reranker). Any input must give a
 * status, never a crash, over-read, leak or a non-finite vector returned as OK.
 *
 * Seeded with the complete small models of tests/fuzz/seeds/model/ (every architecture
 * and tokenizer, tests/fuzz/make_seeds.py), so mutations land in the vocabulary,
 * hyperparameter and tensor checks and the forward pass, not only in the GGUF header.
 * The open flags come from the input's length (a mutation that changes the length
 * changes them), so REPACK and F32_ACTIVATIONS are fuzzed too without a prefix byte that
 * would make the seeds invalid GGUF. One input in four also fails the library's Nth
 * allocation and every later one (ge_alloc_fail_after, N from a hash of the input), so the
 * out-of-memory paths of open, context and embed are fuzzed: they must fail cleanly,
 * leaking nothing. */
#include "../../core/alloc.h"
#include "fuzz_common.h"

static const char k_text[] = "The quick brown fox: <bos> [CLS] <|im_end|> \xc3\xa9\xe6\x97\xa5 12";

/* GGUFEMBED_FUZZ_STRICT=1 (ctest fuzz_model_seeds): every input must open and embed (or
 * rerank): a seed that is refused fuzzes nothing past the check that refuses it */
static int g_strict = -1;

static void strict_fail(ggufembed_status s, const char *what, const char *msg) {
    if (g_strict) FZ_FAIL("strict: %s failed (%s): %s", what, ggufembed_status_string(s), msg);
}

static void use_model(ggufembed_model *m) {
    ggufembed_model_info info;
    memset(&info, 0, sizeof info);
    if (fz_status(ggufembed_model_get_info(m, &info, sizeof info), "get_info") != GGUFEMBED_OK)
        FZ_FAIL("get_info failed on an open model");
    int nm = ggufembed_model_metadata_count(m);
    for (int i = -1; i <= nm; i++) {
        char line[200], tiny[4];
        fz_status(ggufembed_model_metadata_line(m, i, line, sizeof line), "metadata_line");
        fz_status(ggufembed_model_metadata_line(m, i, tiny, sizeof tiny), "metadata_line small");
    }
    int32_t probe[] = {-1, 0, 1, info.vocab_size - 1, info.vocab_size, info.bos_id, info.eos_id};
    for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++) {
        size_t len = 0;
        const char *t = ggufembed_token_text(m, probe[i], &len);
        if (t && len) g_touch ^= (uint8_t)(t[0] ^ t[len - 1]);
    }

    ggufembed_context_params cp;
    ggufembed_context_params_init(&cp);
    cp.n_threads = 1;
    ggufembed_context *ctx = NULL;
    ggufembed_status s = fz_status(ggufembed_context_new(m, &cp, &ctx), "context_new");
    if (s != GGUFEMBED_OK) {
        strict_fail(s, "context_new", "");
        return;
    }

    int32_t ids[256];
    size_t n = 0;
    s = fz_status(ggufembed_tokenize(ctx, k_text, sizeof k_text - 1, GGUFEMBED_TOKENIZE_DEFAULT, ids,
                                                      256, &n), "tokenize");
    if (s == GGUFEMBED_OK)
        for (size_t i = 0; i < n; i++)
            if (ids[i] < 0 || ids[i] >= info.vocab_size) FZ_FAIL("token id %d of %d", ids[i], info.vocab_size);

    if (info.reranker) {
        const char *docs[2] = {"a fox", "the dog is lazy"};
        float scores[2];
        s = fz_status(ggufembed_rerank(ctx, "fox?", 4, docs, NULL, 2, scores), "rerank");
        if (s == GGUFEMBED_OK)
            for (int i = 0; i < 2; i++)
                if (!isfinite(scores[i])) FZ_FAIL("rerank score %g returned as OK", (double)scores[i]);
        if (s != GGUFEMBED_OK) strict_fail(s, "rerank", ggufembed_context_last_error(ctx));
        if (g_strict) fprintf(stderr, "seed ok: %s %s reranker, scores %g %g\n", info.architecture, info.tokenizer,
                              (double)scores[0], (double)scores[1]);
    } else if (info.vocab_only) {
        float v[4];
        if (fz_status(ggufembed_embed(ctx, "x", 1, NULL, v, 4), "embed on a vocabulary") == GGUFEMBED_OK)
            FZ_FAIL("a vocabulary-only model embedded");
        if (g_strict) fprintf(stderr, "seed ok: vocabulary %s (%d tokens)\n", info.tokenizer, info.vocab_size);
    } else if (info.dimension > 0 && info.dimension <= (1 << 16)) {
        ggufembed_embed_options o;
        ggufembed_embed_options_init(&o);
        o.truncation = GGUFEMBED_TRUNCATE_END; /* a mutated context length still embeds */
        /* exactly the dimension: a write past it is an ASan report */
        float *v = malloc(sizeof(float) * (size_t)info.dimension);
        s = fz_status(ggufembed_embed(ctx, k_text, sizeof k_text - 1, &o, v, (size_t)info.dimension), "embed");
        if (s == GGUFEMBED_OK) fz_check_vector(v, info.dimension, 1, "embed");
        if (s != GGUFEMBED_OK) {
            strict_fail(s, "embed", ggufembed_context_last_error(ctx));
        } else if (g_strict) {
            fprintf(stderr, "seed ok: %s %s %s, %d dims, %zu tokens, weights %s\n", info.architecture, info.tokenizer,
                    info.pooling, info.dimension, n, info.weight_types);
        }
        free(v);
    }
    ggufembed_context_free(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (g_strict < 0) g_strict = getenv("GGUFEMBED_FUZZ_STRICT") && atoi(getenv("GGUFEMBED_FUZZ_STRICT"));
    size_t cap;
    uint8_t *copy = fz_aligned_copy(data, size, &cap);
    if (!copy) return 0;
    static const unsigned flags_by_len[3] = {0, GGUFEMBED_OPEN_REPACK, GGUFEMBED_OPEN_F32_ACTIVATIONS};
    unsigned flags = flags_by_len[size % 3] | ((size & 8) ? GGUFEMBED_OPEN_VALIDATE : 0);
    uint32_t h = 2166136261u; /* FNV-1a of the size and the first 64 bytes */
    for (size_t i = 0; i < size && i < 64; i++) h = (h ^ data[i]) * 16777619u;
    h = (h ^ (uint32_t)size) * 16777619u;
    const int inject = !g_strict && (h & 3) == 0;
    if (inject) ge_alloc_fail_after(1 + (long)((h >> 2) % 160));
    ggufembed_model *m = NULL;
    char err[256];
    ggufembed_status s = fz_status(ggufembed_model_open_memory_v2(copy, size, flags, &m, err, sizeof err), "open");
    if (s == GGUFEMBED_OK) {
        if (!m) FZ_FAIL("open returned OK and no model");
        use_model(m);
        ggufembed_model_free(m);
    } else {
        if (m) FZ_FAIL("open failed (%d) but returned a model", (int)s);
        strict_fail(s, "open", err);
        if (!memchr(err, 0, sizeof err)) FZ_FAIL("error message not terminated");
    }
    if (inject) ge_alloc_fail_after(0);
    fz_aligned_free(copy, cap);
    return 0;
}
