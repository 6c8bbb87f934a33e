/* fuzz_embed.c - fuzz target for ggufembed_embed, ggufembed_embed_batch and
 * ggufembed_rerank with options decoded from the input, on the small models of
 * tests/fuzz/seeds/model/ (one per family and tokenizer, loaded once).
 *
 * Input layout (tests/fuzz/make_seeds.py writes seeds in it):
 *   [0] model index (mod the number of models, in name order)
 *   [1] task (mod GGUFEMBED_TASK_COUNT_ + 2: two values past the last task)
 *   [2] bits: 0 normalize, 1 truncate at the end, 2 keep whitespace, 3 title, 4 prefix,
 *       5 instruction, 6 batch call, 7 progress callback
 *   [3] dimensions as a signed byte; [4] bit 7 multiplies it by 1000 (out of range),
 *       bits 0-1: out_len short by that many floats, bit 2: lens NULL (NUL-terminated
 *       texts), bits 3-5: the text index at which the progress callback cancels
 *       bit 6: fail the library's allocations from the Nth on (N = 1 + [5] >> 3) for
 *       the main call, whose out-of-memory path must then fail cleanly; after an
 *       out-of-memory failure the call is made again without, and the context must work
 *   [5] bits 0-2: number of texts - 1 (single calls use the first)
 *   then fields separated by 0x1E: title, prefix, instruction, text 0, text 1, ...
 * Every call must return a status (never ERR_INTERNAL); an OK call must have had room
 * for its vectors and give finite ones, unit length when normalized; the same single
 * call twice must give the same bits. */
#include "../../core/alloc.h"
#include "fuzz_common.h"

#define MAX_MODELS 32
#define MAX_TEXTS 8

static ggufembed_model *g_models[MAX_MODELS];
static ggufembed_context *g_ctxs[MAX_MODELS];
static ggufembed_model_info g_info[MAX_MODELS];
static int g_n;

static void init(void) {
    char err[256];
    static fz_file *fs; /* kept: the models point into it */
    int n = fz_load_seeds("model", "fuzz_embed", &fs);
    for (int i = 0; i < n && g_n < MAX_MODELS; i++) {
        ggufembed_context_params cp;
        ggufembed_context_params_init(&cp);
        cp.n_threads = 1;
        /* every 4th model packed for the VNNI kernels, to fuzz that path as well */
        unsigned flags = i % 4 == 3 ? GGUFEMBED_OPEN_REPACK : 0;
        if (ggufembed_model_open_memory_v2(fs[i].data, fs[i].size, flags, &g_models[g_n], err, sizeof err) != GGUFEMBED_OK)
            FZ_FAIL("fuzz_embed: seed %s does not open: %s", fs[i].name, err);
        if (ggufembed_model_get_info(g_models[g_n], &g_info[g_n], sizeof g_info[g_n]) != GGUFEMBED_OK ||
            ggufembed_context_new(g_models[g_n], &cp, &g_ctxs[g_n]) != GGUFEMBED_OK)
            FZ_FAIL("fuzz_embed: no context for %s", fs[i].name);
        g_n++;
    }
}

typedef struct progress_state {
    size_t cancel_at, calls, total;
} progress_state;

static int progress(void *user, size_t done, size_t total) {
    progress_state *p = user;
    if (done > total || total != p->total) FZ_FAIL("progress %zu of %zu (batch of %zu)", done, total, p->total);
    p->calls++;
    return done == p->cancel_at;
}

/* the next 0x1E-separated field of [*p, end) as an exact-size NUL-terminated copy */
static char *field(const uint8_t **p, const uint8_t *end, size_t *len) {
    const uint8_t *s = *p, *e = s;
    while (e < end && *e != 0x1e) e++;
    *len = (size_t)(e - s);
    char *out = malloc(*len + 1);
    memcpy(out, s, *len);
    out[*len] = 0;
    *p = e < end ? e + 1 : e;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_n) init();
    if (size < 6) return 0;
    const int k = data[0] % g_n;
    const ggufembed_model_info *info = &g_info[k];
    ggufembed_context *ctx = g_ctxs[k];
    const uint8_t bits = data[2];

    ggufembed_embed_options o;
    ggufembed_embed_options_init(&o);
    o.task = (ggufembed_task)(data[1] % (GGUFEMBED_TASK_COUNT_ + 2));
    o.normalize = bits & 1;
    o.truncation = (bits & 2) ? GGUFEMBED_TRUNCATE_END : GGUFEMBED_TRUNCATE_ERROR;
    o.whitespace = (bits & 4) ? GGUFEMBED_WHITESPACE_KEEP : GGUFEMBED_WHITESPACE_STRIP;
    o.dimensions = (int8_t)data[3] * ((data[4] & 0x80) ? 1000 : 1);
    const size_t short_by = data[4] & 3u;
    const int lens_null = (data[4] >> 2) & 1;
    const size_t n_texts = 1 + data[5] % MAX_TEXTS;
    progress_state ps = {(data[4] >> 3) & 7u, 0, n_texts};
    if (bits & 0x80) {
        o.progress = progress;
        o.progress_user = &ps;
    }

    const uint8_t *p = data + 6, *end = data + size;
    size_t len;
    char *title = field(&p, end, &len), *prefix = field(&p, end, &len), *instr = field(&p, end, &len);
    if (bits & 8) o.title = title;
    if (bits & 16) o.prefix = prefix;
    if (bits & 32) o.instruction = instr;
    char *texts[MAX_TEXTS];
    size_t lens[MAX_TEXTS];
    for (size_t i = 0; i < n_texts; i++) {
        char *t = field(&p, end, &lens[i]);
        /* exact size (no NUL) unless the call reads NUL-terminated texts */
        texts[i] = lens_null ? t : fz_dup((const uint8_t *)t, lens[i]);
        if (!lens_null) free(t);
        if (lens_null) lens[i] = strlen(t);
    }

    const long fail_at = (data[4] & 0x40) ? 1 + (data[5] >> 3) : 0;
    /* failing allocations on a fresh context: its scratch is still to be allocated (a
     * used context has it, and would fail nowhere), and the input reproduces alone */
    ggufembed_context *fresh = NULL;
    if (fail_at) {
        ggufembed_context_params cp;
        ggufembed_context_params_init(&cp);
        cp.n_threads = 1;
        if (ggufembed_context_new(g_models[k], &cp, &fresh) != GGUFEMBED_OK) FZ_FAIL("context_new");
        ctx = fresh;
    }
    const int32_t dim = ggufembed_output_dimension(g_models[k], &o);
    if (dim <= 0) FZ_FAIL("output dimension %d", (int)dim);
    ggufembed_status s;
    if (info->reranker) {
        /* text 0 is the query, the others the documents; embedding must be refused */
        const size_t nd = n_texts - 1;
        float *scores = malloc(sizeof(float) * (nd ? nd : 1));
        for (int attempt = 0; attempt < 2; attempt++) { /* with failing allocations, then without */
            ge_alloc_fail_after(attempt ? 0 : fail_at);
            s = fz_status(ggufembed_rerank(ctx, texts[0], lens[0], (const char *const *)texts + 1, lens_null ? NULL : lens + 1,
                                           nd, scores), "rerank");
            ge_alloc_fail_after(0);
            if (!fail_at || s != GGUFEMBED_ERR_OUT_OF_MEMORY) break;
        }
        for (size_t i = 0; s == GGUFEMBED_OK && i < nd; i++)
            if (!isfinite(scores[i])) FZ_FAIL("rerank score %zu is %g", i, (double)scores[i]);
        free(scores);
        float v[8];
        if (fz_status(ggufembed_embed(ctx, texts[0], lens[0], &o, v, 8), "embed on a reranker") == GGUFEMBED_OK)
            FZ_FAIL("a reranker embedded");
        if (getenv("GGUFEMBED_FUZZ_VERBOSE")) /* which calls the seeds reach (make_seeds.py) */
            fprintf(stderr, "model %d %s: rerank %s\n", k, info->name, ggufembed_status_string(s));
    } else if (bits & 0x40) {
        const size_t need = n_texts * (size_t)dim, out_len = need > short_by ? need - short_by : 0;
        float *out = malloc(sizeof(float) * (out_len ? out_len : 1));
        for (int attempt = 0; attempt < 2; attempt++) { /* with failing allocations, then without */
            ge_alloc_fail_after(attempt ? 0 : fail_at);
            ps.calls = 0;
            s = fz_status(ggufembed_embed_batch(ctx, (const char *const *)texts, lens_null ? NULL : lens, n_texts, &o, out,
                                                out_len), "embed_batch");
            ge_alloc_fail_after(0);
            if (!fail_at || s != GGUFEMBED_ERR_OUT_OF_MEMORY) break;
        }
        if (s == GGUFEMBED_OK) {
            if (out_len < need) FZ_FAIL("embed_batch OK with %zu of %zu floats", out_len, need);
            for (size_t i = 0; i < n_texts; i++) fz_check_vector(out + i * (size_t)dim, dim, o.normalize, "embed_batch");
            if (o.progress && ps.calls != n_texts) FZ_FAIL("progress called %zu times for %zu texts", ps.calls, n_texts);
        }
        if (getenv("GGUFEMBED_FUZZ_VERBOSE"))
            fprintf(stderr, "model %d %s: batch %s %s\n", k, info->name, ggufembed_status_string(s),
                    s ? ggufembed_context_last_error(ctx) : "");
        free(out);
    } else {
        const size_t out_len = (size_t)dim > short_by ? (size_t)dim - short_by : 0;
        float *a = malloc(sizeof(float) * (out_len ? out_len : 1)), *b = malloc(sizeof(float) * (out_len ? out_len : 1));
        ps.total = 1; /* a single call is a batch of one for its progress callback */
        for (int attempt = 0; attempt < 2; attempt++) { /* with failing allocations, then without */
            ge_alloc_fail_after(attempt ? 0 : fail_at);
            s = fz_status(ggufembed_embed(ctx, texts[0], lens[0], &o, a, out_len), "embed");
            ge_alloc_fail_after(0);
            if (!fail_at || s != GGUFEMBED_ERR_OUT_OF_MEMORY) break;
        }
        if (s == GGUFEMBED_OK) {
            if (out_len < (size_t)dim) FZ_FAIL("embed OK with %zu of %d floats", out_len, (int)dim);
            fz_check_vector(a, dim, o.normalize, "embed");
            if (fz_status(ggufembed_embed(ctx, texts[0], lens[0], &o, b, out_len), "embed again") != GGUFEMBED_OK ||
                memcmp(a, b, sizeof(float) * (size_t)dim) != 0)
                FZ_FAIL("the same embed call twice gave different vectors");
        }
        if (getenv("GGUFEMBED_FUZZ_VERBOSE"))
            fprintf(stderr, "model %d %s: embed %s %s\n", k, info->name, ggufembed_status_string(s),
                    s ? ggufembed_context_last_error(ctx) : "");
        free(a);
        free(b);
        /* an embedding model refuses rerank */
        const char *doc = "doc";
        float sc;
        if (fz_status(ggufembed_rerank(ctx, texts[0], lens[0], &doc, NULL, 1, &sc), "rerank on an embedder") ==
            GGUFEMBED_OK)
            FZ_FAIL("an embedding model reranked");
    }
    /* tokenize with the flags of bits 0-1 (the prompt is not applied here) */
    size_t nt = 0;
    int32_t ids[64];
    s = fz_status(ggufembed_tokenize(ctx, texts[0], lens[0], bits & 3u, ids, 64, &nt), "tokenize");
    if (s != GGUFEMBED_OK && s != GGUFEMBED_ERR_BUFFER_TOO_SMALL) FZ_FAIL("tokenize failed: %d", (int)s);
    ggufembed_context_free(fresh);
    for (size_t i = 0; i < n_texts; i++) free(texts[i]);
    free(title);
    free(prefix);
    free(instr);
    return 0;
}
