/*
 * gemma.c - the gemma-embedding architecture (EmbeddingGemma), computed as
 * llama.cpp computes it (src/models/gemma-embedding.cpp):
 *
 *   x = tok_embd[ids] * sqrt(n_embd)
 *   per layer:
 *     h  = RMSNorm(x) * attn_norm
 *     q, k, v = h Wq, h Wk, h Wv; per-head RMSNorm of q and k; NEOX RoPE
 *       (local layers: base rope_base_swa, symmetric window; global: rope_base)
 *     a  = softmax(q k^T / sqrt(head_dim) [+ window mask]) v   (bidirectional, GQA)
 *     x  = x + RMSNorm(a Wo) * post_attention_norm
 *     h  = RMSNorm(x) * ffn_norm
 *     x  = x + RMSNorm((gelu_tanh(h Wgate) * h Wup) Wdown) * post_ffw_norm
 *   RMSNorm(x) * output_norm, pooled over each sequence, then dense_2/dense_3.
 *
 * Sequences are packed: one forward pass runs many texts, each token attending
 * only within its own sequence, so each weight row is read once per batch.
 */
#include "alloc.h"
#include "model.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ loading */

typedef struct loader {
    ggufembed_model *m;
    char *err;
    size_t es;
    char key[160];
} loader;

static const char *arch_key(loader *L, const char *suffix) {
    snprintf(L->key, sizeof L->key, "%s.%s", L->m->arch, suffix);
    return L->key;
}

/* An integer hyperparameter: required (dflt < 0) or defaulted. */
static int hp_int(loader *L, const char *suffix, int64_t dflt, int64_t lo, int64_t hi, int32_t *out) {
    int64_t v;
    const char *key = arch_key(L, suffix);
    if (!gguf_get_int(&L->m->gguf, key, &v)) {
        if (gguf_find_kv(&L->m->gguf, key)) {
            ge_errorf(L->err, L->es, "metadata %s has the wrong type (expected an integer)", key);
            return GGUFEMBED_ERR_FORMAT;
        }
        if (dflt < 0) {
            ge_errorf(L->err, L->es, "required metadata %s is missing", key);
            return GGUFEMBED_ERR_FORMAT;
        }
        v = dflt;
    }
    if (v < lo || v > hi) {
        ge_errorf(L->err, L->es, "metadata %s = %lld is out of range [%lld, %lld]", key, (long long)v,
                  (long long)lo, (long long)hi);
        return GGUFEMBED_ERR_FORMAT;
    }
    *out = (int32_t)v;
    return 0;
}

static int hp_float(loader *L, const char *suffix, double dflt, double lo, double hi, float *out) {
    double v;
    const char *key = arch_key(L, suffix);
    if (!gguf_get_float(&L->m->gguf, key, &v)) {
        if (gguf_find_kv(&L->m->gguf, key)) {
            ge_errorf(L->err, L->es, "metadata %s has the wrong type (expected a number)", key);
            return GGUFEMBED_ERR_FORMAT;
        }
        if (dflt < 0) {
            ge_errorf(L->err, L->es, "required metadata %s is missing", key);
            return GGUFEMBED_ERR_FORMAT;
        }
        v = dflt;
    }
    if (!(v >= lo && v <= hi)) {
        ge_errorf(L->err, L->es, "metadata %s = %g is out of range", key, v);
        return GGUFEMBED_ERR_FORMAT;
    }
    *out = (float)v;
    return 0;
}

static int is_matrix_type(uint32_t t) {
    return t == GGML_TYPE_Q8_0 || t == GGML_TYPE_F16 || t == GGML_TYPE_BF16 || t == GGML_TYPE_F32;
}

static const gguf_tensor *find_tensor(loader *L, const char *name, int required) {
    const gguf_tensor *t = gguf_find_tensor(&L->m->gguf, name);
    if (!t && required) ge_errorf(L->err, L->es, "tensor '%s' is missing from the model", name);
    return t;
}

/* A weight matrix [n_out x n_in]: ggml shape {n_in, n_out}. */
static int get_matrix(loader *L, const char *name, int64_t n_in, int64_t n_out, int required, ge_matrix *out) {
    memset(out, 0, sizeof *out);
    const gguf_tensor *t = find_tensor(L, name, required);
    if (!t) return required ? GGUFEMBED_ERR_FORMAT : 0;
    if (t->ne[0] != (uint64_t)n_in || (n_out > 0 && t->ne[1] != (uint64_t)n_out) || t->ne[2] != 1 || t->ne[3] != 1) {
        ge_errorf(L->err, L->es, "tensor '%s' has shape [%llu, %llu, %llu, %llu], expected [%lld, %lld]", name,
                  (unsigned long long)t->ne[0], (unsigned long long)t->ne[1], (unsigned long long)t->ne[2],
                  (unsigned long long)t->ne[3], (long long)n_in, (long long)n_out);
        return GGUFEMBED_ERR_FORMAT;
    }
    if (!is_matrix_type(t->type)) {
        ge_errorf(L->err, L->es, "tensor '%s' has type %s, which ggufembed does not support (supported: Q8_0, F16, BF16, F32)",
                  name, ggml_type_name(t->type));
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    out->data = t->data;
    out->type = t->type;
    out->n_in = n_in;
    out->n_out = (int64_t)t->ne[1];
    return 0;
}

/* A norm weight vector [n]: used in place when F32, converted once otherwise. */
static int get_vector(loader *L, const char *name, int64_t n, const float **out) {
    const gguf_tensor *t = find_tensor(L, name, 1);
    if (!t) return GGUFEMBED_ERR_FORMAT;
    if (t->ne[0] != (uint64_t)n || t->ne[1] != 1 || t->ne[2] != 1 || t->ne[3] != 1) {
        ge_errorf(L->err, L->es, "tensor '%s' has %llu x %llu values, expected %lld", name,
                  (unsigned long long)t->ne[0], (unsigned long long)t->ne[1], (long long)n);
        return GGUFEMBED_ERR_FORMAT;
    }
    const int aligned = ((uintptr_t)t->data & 3) == 0; /* only a caller's odd buffer is not */
    if (t->type == GGML_TYPE_F32 && aligned) {
        *out = t->data;
        return 0;
    }
    if (t->type != GGML_TYPE_F32 && t->type != GGML_TYPE_F16 && t->type != GGML_TYPE_BF16) {
        ge_errorf(L->err, L->es, "tensor '%s' has type %s, which ggufembed does not support for norm weights (F32, F16, BF16)",
                  name, ggml_type_name(t->type));
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    ge_owned *o = ge_malloc(sizeof(ge_owned) + sizeof(float) * (size_t)n);
    if (!o) {
        ge_errorf(L->err, L->es, "out of memory converting '%s'", name);
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    const uint8_t *raw = t->data;
    for (int64_t i = 0; i < n; i++) {
        if (t->type == GGML_TYPE_F32) {
            memcpy(&o->data[i], raw + 4 * i, 4);
        } else {
            uint16_t h;
            memcpy(&h, raw + 2 * i, 2);
            o->data[i] = t->type == GGML_TYPE_F16 ? ge_fp16_to_fp32(h) : ge_bf16_to_fp32(h);
        }
    }
    o->next = L->m->owned;
    L->m->owned = o;
    *out = o->data;
    return 0;
}

/* Which layers use the sliding window: an array of bools per layer, or a period
 * n (layer il is local when il % n < n - 1; absent: 6). */
static int load_swa_pattern(loader *L) {
    ggufembed_model *m = L->m;
    const gguf_kv *kv = gguf_find_kv(&m->gguf, arch_key(L, "attention.sliding_window_pattern"));
    if (kv && kv->type == GGUF_TYPE_ARRAY) {
        if (kv->arr_n != (uint64_t)m->hp.n_layer || (kv->arr_type != GGUF_TYPE_BOOL && kv->arr_type != GGUF_TYPE_UINT8 &&
                                                     kv->arr_type != GGUF_TYPE_INT32 && kv->arr_type != GGUF_TYPE_UINT32)) {
            ge_errorf(L->err, L->es, "metadata %s must have one bool per layer", L->key);
            return GGUFEMBED_ERR_FORMAT;
        }
        size_t esz = gguf_type_size(kv->arr_type);
        for (int il = 0; il < m->hp.n_layer; il++) {
            uint32_t v = 0;
            memcpy(&v, kv->arr_data + esz * (size_t)il, esz);
            m->layers[il].is_local = v != 0;
        }
    } else {
        int32_t period;
        int rc = hp_int(L, "attention.sliding_window_pattern", 6, 0, 1 << 20, &period);
        if (rc) return rc;
        for (int il = 0; il < m->hp.n_layer; il++)
            m->layers[il].is_local = period == 0 || (il % period < period - 1);
    }
    if (m->hp.n_swa == 0)
        for (int il = 0; il < m->hp.n_layer; il++) m->layers[il].is_local = 0;
    return 0;
}

static void summarize_types(ggufembed_model *m) {
    uint64_t count[GGML_TYPE_MAX_] = {0};
    m->n_params = 0;
    for (uint64_t i = 0; i < m->gguf.n_tensors; i++) {
        const gguf_tensor *t = &m->gguf.tensors[i];
        count[t->type]++;
        m->n_params += t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
    }
    size_t n = 0;
    m->weight_types[0] = 0;
    for (int t = 0; t < GGML_TYPE_MAX_; t++) {
        if (!count[t]) continue;
        int w = snprintf(m->weight_types + n, sizeof m->weight_types - n, "%s%s x%llu", n ? ", " : "",
                         ggml_type_name((uint32_t)t), (unsigned long long)count[t]);
        if (w < 0 || (size_t)w >= sizeof m->weight_types - n) break;
        n += (size_t)w;
    }
}

int ge_model_load_gemma(ggufembed_model *m, char *err, size_t es) {
    loader L = {m, err, es, {0}};
    ge_hparams *hp = &m->hp;
    int rc;
    int32_t key_len, val_len, pooling;
    if ((rc = hp_int(&L, "embedding_length", -1, 1, 1 << 16, &hp->n_embd)) ||
        (rc = hp_int(&L, "block_count", -1, 1, 1024, &hp->n_layer)) ||
        (rc = hp_int(&L, "feed_forward_length", -1, 1, 1 << 18, &hp->n_ff)) ||
        (rc = hp_int(&L, "attention.head_count", -1, 1, 1024, &hp->n_head)) ||
        (rc = hp_int(&L, "attention.head_count_kv", hp->n_head, 1, hp->n_head, &hp->n_kv_head)) ||
        (rc = hp_int(&L, "attention.key_length", hp->n_embd / hp->n_head, 2, 1 << 14, &key_len)) ||
        (rc = hp_int(&L, "attention.value_length", key_len, 2, 1 << 14, &val_len)) ||
        (rc = hp_int(&L, "rope.dimension_count", key_len, 2, key_len, &hp->n_rot)) ||
        (rc = hp_int(&L, "context_length", -1, 2, 1 << 20, &hp->n_ctx)) ||
        (rc = hp_int(&L, "attention.sliding_window", 0, 0, 1 << 24, &hp->n_swa)) ||
        (rc = hp_int(&L, "pooling_type", GE_POOL_MEAN, 0, 10, &pooling)) ||
        (rc = hp_float(&L, "attention.layer_norm_rms_epsilon", -1, 0.0, 1.0, &hp->eps)) ||
        (rc = hp_float(&L, "rope.freq_base", 10000.0, 1.0, 1e12, &hp->rope_base)) ||
        (rc = hp_float(&L, "rope.freq_base_swa", 10000.0, 1.0, 1e12, &hp->rope_base_swa)))
        return rc;
    if (key_len != val_len || hp->n_rot % 2 != 0 || hp->n_head % hp->n_kv_head != 0) {
        ge_errorf(err, es, "unsupported attention shape: key_length %d, value_length %d, rope dims %d, %d heads / %d kv heads",
                  key_len, val_len, hp->n_rot, hp->n_head, hp->n_kv_head);
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    if (pooling != GE_POOL_MEAN && pooling != GE_POOL_CLS && pooling != GE_POOL_LAST) {
        ge_errorf(err, es, "pooling_type %d is not supported (mean = 1, cls = 2, last = 3)", pooling);
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    if (hp->n_embd % QK8_0 || hp->n_ff % QK8_0 || (hp->n_head * key_len) % QK8_0) {
        ge_errorf(err, es, "hidden sizes must be multiples of 32 (n_embd %d, n_ff %d)", hp->n_embd, hp->n_ff);
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    hp->head_dim = key_len;
    hp->pooling = (ge_pooling)pooling;
    hp->attn_scale = 1.0f / sqrtf((float)key_len);
    hp->embd_scale = sqrtf((float)hp->n_embd);

    const int64_t E = hp->n_embd, F = hp->n_ff, HD = (int64_t)hp->n_head * key_len,
                  KVD = (int64_t)hp->n_kv_head * key_len;
    if ((rc = get_matrix(&L, "token_embd.weight", E, m->vocab.n_tokens, 1, &m->tok_embd)) ||
        (rc = get_vector(&L, "output_norm.weight", E, &m->output_norm)))
        return rc;

    m->layers = ge_calloc((size_t)hp->n_layer, sizeof(ge_layer));
    if (!m->layers) {
        ge_errorf(err, es, "out of memory");
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    char name[96];
#define TN(suffix) (snprintf(name, sizeof name, "blk.%d." suffix, il), name)
    for (int il = 0; il < hp->n_layer; il++) {
        ge_layer *ly = &m->layers[il];
        if ((rc = get_vector(&L, TN("attn_norm.weight"), E, &ly->attn_norm)) ||
            (rc = get_matrix(&L, TN("attn_q.weight"), E, HD, 1, &ly->wq)) ||
            (rc = get_matrix(&L, TN("attn_k.weight"), E, KVD, 1, &ly->wk)) ||
            (rc = get_matrix(&L, TN("attn_v.weight"), E, KVD, 1, &ly->wv)) ||
            (rc = get_vector(&L, TN("attn_q_norm.weight"), key_len, &ly->q_norm)) ||
            (rc = get_vector(&L, TN("attn_k_norm.weight"), key_len, &ly->k_norm)) ||
            (rc = get_matrix(&L, TN("attn_output.weight"), HD, E, 1, &ly->wo)) ||
            (rc = get_vector(&L, TN("post_attention_norm.weight"), E, &ly->post_attn_norm)) ||
            (rc = get_vector(&L, TN("ffn_norm.weight"), E, &ly->ffn_norm)) ||
            (rc = get_matrix(&L, TN("ffn_gate.weight"), E, F, 1, &ly->gate)) ||
            (rc = get_matrix(&L, TN("ffn_up.weight"), E, F, 1, &ly->up)) ||
            (rc = get_matrix(&L, TN("ffn_down.weight"), F, E, 1, &ly->down)) ||
            (rc = get_vector(&L, TN("post_ffw_norm.weight"), E, &ly->post_ffn_norm)))
            return rc;
    }
#undef TN
    if ((rc = load_swa_pattern(&L))) return rc;

    /* optional sentence-transformers projections, applied after pooling */
    if ((rc = get_matrix(&L, "dense_2.weight", E, 0, 0, &m->dense2))) return rc;
    if (m->dense2.data) {
        if (m->dense2.n_out % QK8_0 ||
            (rc = get_matrix(&L, "dense_3.weight", m->dense2.n_out, 0, 1, &m->dense3))) {
            if (!rc) {
                ge_errorf(err, es, "dense_2 output size %lld is not a multiple of 32", (long long)m->dense2.n_out);
                rc = GGUFEMBED_ERR_UNSUPPORTED;
            }
            return rc;
        }
        if (m->dense3.n_out % QK8_0) {
            ge_errorf(err, es, "dense_3 output size %lld is not a multiple of 32", (long long)m->dense3.n_out);
            return GGUFEMBED_ERR_UNSUPPORTED;
        }
        hp->n_out = (int32_t)m->dense3.n_out;
        /* Their inputs stay f32 (rows widened, exact for Q8_0): llama.cpp quantizes the
         * pooled vector to Q8_0 blocks before dense_2 and dense_2's output before
         * dense_3, and the two projections amplify that rounding. Measured on the golden
         * corpus against sentence-transformers (tests/test_reference.c, Q8_0 file): mean
         * cosine 0.999367 with quantized inputs (llama.cpp: 0.999369), 0.999566 with f32
         * inputs; texts under 0.999: 44 -> 31. Cost: 4.7 M float multiply-adds a text. */
        m->dense2.float_input = m->dense3.float_input = 1;
    } else if (gguf_find_tensor(&m->gguf, "dense_3.weight")) {
        ge_errorf(err, es, "the model has dense_3.weight but no dense_2.weight");
        return GGUFEMBED_ERR_FORMAT;
    } else {
        hp->n_out = hp->n_embd;
    }
    summarize_types(m);
    return 0;
}

/* ------------------------------------------------------------ scratch */

static int grow_floats(float **p, size_t n) {
    ge_aligned_free(*p);
    *p = ge_aligned_alloc(64, n * sizeof(float));
    return *p != NULL;
}

void ge_scratch_free(ge_scratch *s) {
    float **fs[] = {&s->x, &s->xn, &s->q, &s->k, &s->v, &s->att, &s->g, &s->u, &s->scores, &s->rowbuf, &s->pooled,
                    &s->rope_cos[0], &s->rope_cos[1], &s->rope_sin[0], &s->rope_sin[1]};
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++) {
        ge_aligned_free(*fs[i]);
        *fs[i] = NULL;
    }
    ge_aligned_free(s->aq);
    ge_free(s->pos);
    ge_free(s->seq_start);
    ge_free(s->seq_len);
    ge_free(s->qblk);
    memset(s, 0, sizeof *s);
}

/* cos/sin of pos * base^(-2i/n_rot), with theta built the way ggml does (the
 * same float factor multiplied in dimension after dimension). The transcendental
 * functions run in double and round once to float, which gives the same bits
 * with any C library (float cosf/sinf differ between libms in the last bit). */
static void rope_fill(float *cs, float *sn, int64_t from, int64_t to, int32_t n_rot, float base) {
    const float theta_scale = (float)pow((double)base, (double)(-2.0f / (float)n_rot));
    for (int64_t p = from; p < to; p++) {
        float theta = (float)p;
        for (int32_t i = 0; i < n_rot / 2; i++) {
            cs[p * (n_rot / 2) + i] = (float)cos((double)theta);
            sn[p * (n_rot / 2) + i] = (float)sin((double)theta);
            theta *= theta_scale;
        }
    }
}

int ge_scratch_reserve(ggufembed_context *ctx, int64_t T, int64_t max_pos) {
    const ggufembed_model *m = ctx->model;
    const ge_hparams *hp = &m->hp;
    ge_scratch *s = &ctx->s;
    const int64_t E = hp->n_embd, F = hp->n_ff, HD = (int64_t)hp->n_head * hp->head_dim,
                  KVD = (int64_t)hp->n_kv_head * hp->head_dim;
    int64_t max_in = E > F ? E : F;
    if (HD > max_in) max_in = HD;
    if (m->dense2.n_out > max_in) max_in = m->dense2.n_out;
    if (m->dense3.n_out > max_in) max_in = m->dense3.n_out;

    if (T > s->cap_tokens) {
        int64_t cap = s->cap_tokens ? s->cap_tokens : 16;
        while (cap < T) cap *= 2;
        float **fs[] = {&s->x, &s->xn, &s->q, &s->k, &s->v, &s->att, &s->g, &s->u};
        const int64_t width[] = {E, E, HD, KVD, KVD, HD, F, F};
        s->cap_tokens = 0;
        for (size_t i = 0; i < 8; i++)
            if (!grow_floats(fs[i], (size_t)(cap * width[i]))) return GGUFEMBED_ERR_OUT_OF_MEMORY;
        ge_aligned_free(s->aq);
        s->aq = ge_aligned_alloc(64, (size_t)(cap * (max_in / QK8_0)) * sizeof(block_q8_0));
        ge_free(s->pos);
        ge_free(s->seq_start);
        ge_free(s->seq_len);
        ge_free(s->qblk);
        s->qblk = ge_malloc((size_t)cap * sizeof(int32_t));
        s->pos = ge_malloc((size_t)cap * sizeof(int32_t));
        s->seq_start = ge_malloc((size_t)cap * sizeof(int32_t));
        s->seq_len = ge_malloc((size_t)cap * sizeof(int32_t));
        if (!s->aq || !s->pos || !s->seq_start || !s->seq_len || !s->qblk) return GGUFEMBED_ERR_OUT_OF_MEMORY;
        s->cap_tokens = cap;
    }
    if (!s->scores) {
        if (!grow_floats(&s->scores, (size_t)ctx->n_threads * QBLK * (size_t)hp->n_ctx) ||
            !grow_floats(&s->rowbuf, (size_t)ctx->n_threads * (size_t)max_in) ||
            !grow_floats(&s->pooled, 2 * (size_t)max_in))
            return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    if (max_pos > s->rope_cap) {
        int64_t cap = s->rope_cap ? s->rope_cap : 64;
        while (cap < max_pos) cap *= 2;
        if (cap > hp->n_ctx) cap = hp->n_ctx;
        const size_t half = (size_t)hp->n_rot / 2;
        float *nc[2], *ns[2];
        for (int b = 0; b < 2; b++) {
            nc[b] = ge_aligned_alloc(64, (size_t)cap * half * sizeof(float));
            ns[b] = ge_aligned_alloc(64, (size_t)cap * half * sizeof(float));
        }
        if (!nc[0] || !nc[1] || !ns[0] || !ns[1]) {
            for (int b = 0; b < 2; b++) { ge_aligned_free(nc[b]); ge_aligned_free(ns[b]); }
            return GGUFEMBED_ERR_OUT_OF_MEMORY;
        }
        for (int b = 0; b < 2; b++) {
            if (s->rope_cap) {
                memcpy(nc[b], s->rope_cos[b], (size_t)s->rope_cap * half * sizeof(float));
                memcpy(ns[b], s->rope_sin[b], (size_t)s->rope_cap * half * sizeof(float));
            }
            rope_fill(nc[b], ns[b], s->rope_cap, cap, hp->n_rot, b == 0 ? hp->rope_base_swa : hp->rope_base);
            ge_aligned_free(s->rope_cos[b]);
            ge_aligned_free(s->rope_sin[b]);
            s->rope_cos[b] = nc[b];
            s->rope_sin[b] = ns[b];
        }
        s->rope_cap = cap;
    }
    return 0;
}

/* ------------------------------------------------------------ building blocks */

static void parallel(ggufembed_context *ctx, ge_task_fn fn, void *arg) {
    if (ctx->pool && ctx->n_threads > 1) ge_pool_run(ctx->pool, fn, arg);
    else fn(arg, 0, 1);
}

/* RMSNorm of each of n rows of width d, times weight w: y may alias x. */
/* Every weight matrix of the model, for walks like ge_model_repack's. */
static int model_matrices(ggufembed_model *m, ge_matrix **out, int max) {
    int n = 0;
    for (int il = 0; il < m->hp.n_layer; il++) {
        ge_layer *ly = &m->layers[il];
        ge_matrix *ws[] = {&ly->wq, &ly->wk, &ly->wv, &ly->wo, &ly->gate, &ly->up, &ly->down};
        for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++)
            if (n < max) out[n++] = ws[i];
    }
    if (m->dense2.data && n < max) out[n++] = &m->dense2;
    if (m->dense3.data && n < max) out[n++] = &m->dense3;
    return n;
}

int ge_model_repack(ggufembed_model *m, const ge_kernels *k, const ge_bytes_owner *owner, char *err, size_t es) {
    if (!k->pack_q8_0) return 0;
    const int max = 7 * m->hp.n_layer + 2;
    ge_matrix **all = ge_malloc(sizeof(ge_matrix *) * (size_t)max);
    if (!all) {
        ge_errorf(err, es, "out of memory");
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    const int n = model_matrices(m, all, max);
    for (int i = 0; i < n; i++) {
        ge_matrix *w = all[i];
        if (w->type != GGML_TYPE_Q8_0 || w->float_input || w->n_out % k->pack_rows) continue; /* stays in place */
        const int64_t nb = w->n_in / QK8_0;
        const size_t bytes = k->packed_size(w->n_out, nb);
        /* owned block, the packed data 64-byte aligned inside it */
        ge_owned *o = ge_malloc(sizeof(ge_owned) + bytes + 64);
        if (!o) {
            ge_free(all);
            ge_errorf(err, es, "out of memory repacking the weights (%zu bytes)", bytes);
            return GGUFEMBED_ERR_OUT_OF_MEMORY;
        }
        o->next = m->owned;
        m->owned = o;
        void *P = (void *)(((uintptr_t)o->data + 63) & ~(uintptr_t)63);
        k->pack_q8_0((const block_q8_0 *)w->data, w->n_out, nb, P);
        if (owner && owner->discard) owner->discard(owner->user, w->data, (size_t)w->n_out * (size_t)nb * sizeof(block_q8_0));
        w->packed = P;
        w->packed_for = k;
    }
    ge_free(all);
    return 0;
}

static void rms_norm_rows(const float *x, const float *w, float *y, int64_t n, int64_t d, float eps) {
    for (int64_t r = 0; r < n; r++) {
        const float *xr = x + r * d;
        float *yr = y + r * d;
        /* sum of squares in double, 8 independent partial sums (one serial chain
         * of double adds was 7% of a batch's time), combined in a fixed order */
        double p[8] = {0};
        int64_t i = 0;
        for (; i + 8 <= d; i += 8)
            for (int k = 0; k < 8; k++) p[k] += (double)xr[i + k] * xr[i + k];
        for (; i < d; i++) p[0] += (double)xr[i] * xr[i];
        const double ss = ((p[0] + p[4]) + (p[2] + p[6])) + ((p[1] + p[5]) + (p[3] + p[7]));
        const float scale = 1.0f / sqrtf((float)(ss / (double)d) + eps);
        for (i = 0; i < d; i++) yr[i] = xr[i] * scale * w[i];
    }
}

/* Up to 3 products of the same input (q/k/v, gate/up) in one dispatch. */
typedef struct matmul_job {
    ggufembed_context *ctx;
    const float *x;       /* [T x n_in] f32 input (non-Q8_0 weights)      */
    const block_q8_0 *a;  /* [T x n_in/32] quantized input (Q8_0 weights) */
    int64_t T;
    int n;
    const ge_matrix *w[3];
    float *y[3];          /* [T x n_out] each                              */
} matmul_job;

static void matmul_one(const matmul_job *j, const ge_matrix *w, float *y, int ith, int nth);

static void matmul_task(void *arg, int ith, int nth) {
    const matmul_job *j = arg;
    for (int i = 0; i < j->n; i++) matmul_one(j, j->w[i], j->y[i], ith, nth);
}

static void matmul_one(const matmul_job *j, const ge_matrix *w, float *y, int ith, int nth) {
    const ge_kernels *k = j->ctx->kern;
    /* split the output rows in multiples of 16 (the kernels' widest row strip) */
    int64_t per = (w->n_out + nth - 1) / nth;
    per = (per + 15) & ~(int64_t)15;
    int64_t r0 = per * ith, r1 = r0 + per < w->n_out ? r0 + per : w->n_out;
    if (r0 >= r1) return;
    const int64_t nb = w->n_in / QK8_0;
    if (w->packed && w->packed_for == k && !w->float_input) { /* r0 is on a strip boundary: n_out % pack_rows == 0 */
        const size_t strip = k->packed_size(k->pack_rows, nb);
        k->gemm_q8_0_packed(nb, (const uint8_t *)w->packed + (size_t)(r0 / k->pack_rows) * strip, r1 - r0, j->a, j->T,
                            y + r0, w->n_out);
        return;
    }
    if (w->type == GGML_TYPE_Q8_0 && !w->float_input) {
        k->gemm_q8_0(nb, (const block_q8_0 *)w->data + r0 * nb, r1 - r0, j->a, j->T, y + r0, w->n_out);
        return;
    }
    /* F32 / F16 / BF16 weights (and float_input Q8_0): widen one row at a time, float dot products */
    float *row = j->ctx->s.rowbuf + (size_t)ith * (size_t)w->n_in; /* n_threads rows of the widest input */
    for (int64_t r = r0; r < r1; r++) {
        const float *wr;
        if (w->type == GGML_TYPE_F32) {
            wr = (const float *)w->data + r * w->n_in;
        } else if (w->type == GGML_TYPE_Q8_0) {
            const block_q8_0 *b = (const block_q8_0 *)w->data + r * nb;
            for (int64_t ib = 0; ib < nb; ib++) {
                const float d = ge_fp16_to_fp32(b[ib].d);
                for (int i = 0; i < QK8_0; i++) row[ib * QK8_0 + i] = d * (float)b[ib].qs[i];
            }
            wr = row;
        } else {
            const uint16_t *h = (const uint16_t *)w->data + r * w->n_in;
            for (int64_t i = 0; i < w->n_in; i++)
                row[i] = w->type == GGML_TYPE_F16 ? ge_fp16_to_fp32(h[i]) : ge_bf16_to_fp32(h[i]);
            wr = row;
        }
        for (int64_t t = 0; t < j->T; t++) y[t * w->n_out + r] = k->dot_f32(w->n_in, wr, j->x + t * w->n_in);
    }
}

typedef struct quant_job {
    const ge_kernels *k;
    const float *x;
    block_q8_0 *a;
    int64_t T, n;
} quant_job;

static void quant_task(void *arg, int ith, int nth) {
    quant_job *j = arg;
    for (int64_t t = ith; t < j->T; t += nth) j->k->quantize_q8_0(j->x + t * j->n, j->a + t * (j->n / QK8_0), j->n);
}

/* Quantizes x [T x n_in] into the shared activation buffer (when any of the
 * matrices that read it is Q8_0). */
static void prepare_input(ggufembed_context *ctx, const float *x, int64_t T, int64_t n_in) {
    quant_job q = {ctx->kern, x, ctx->s.aq, T, n_in};
    parallel(ctx, quant_task, &q);
}

/* y [T x n_out] = x [T x n_in] W^T, x already quantized into ctx->s.aq. */
static void linear(ggufembed_context *ctx, const ge_matrix *w, const float *x, float *y, int64_t T) {
    matmul_job j = {ctx, x, ctx->s.aq, T, 1, {w, NULL, NULL}, {y, NULL, NULL}};
    parallel(ctx, matmul_task, &j);
}

/* two or three products of the same input in one dispatch (w3 may be NULL) */
static void linear_n(ggufembed_context *ctx, const float *x, int64_t T, const ge_matrix *w1, float *y1,
                     const ge_matrix *w2, float *y2, const ge_matrix *w3, float *y3) {
    matmul_job j = {ctx, x, ctx->s.aq, T, w3 ? 3 : 2, {w1, w2, w3}, {y1, y2, y3}};
    parallel(ctx, matmul_task, &j);
}

/* per-head RMSNorm and RoPE on rows of n_heads x head_dim */
static void norm_rope(ggufembed_context *ctx, float *qk, int64_t t0, int64_t t1, int n_heads, const float *w, int local) {
    const ge_hparams *hp = &ctx->model->hp;
    const int32_t D = hp->head_dim, half = hp->n_rot / 2;
    const float *cs = ctx->s.rope_cos[local ? 0 : 1], *sn = ctx->s.rope_sin[local ? 0 : 1];
    for (int64_t t = t0; t < t1; t++) {
        const int32_t p = ctx->s.pos[t];
        for (int h = 0; h < n_heads; h++) {
            float *v = qk + (t * n_heads + h) * D;
            rms_norm_rows(v, w, v, 1, D, hp->eps);
            const float *c = cs + (int64_t)p * half, *s = sn + (int64_t)p * half;
            for (int32_t i = 0; i < half; i++) {
                const float x0 = v[i], x1 = v[i + half];
                v[i] = x0 * c[i] - x1 * s[i];
                v[i + half] = x0 * s[i] + x1 * c[i];
            }
        }
    }
}

typedef struct attn_job {
    ggufembed_context *ctx;
    int64_t T;
    int local;
} attn_job;

/* Attention for one head and a block of up to QBLK consecutive queries of one
 * text: scores against the keys the block can see (the union of its queries'
 * windows), a softmax per query over its own window, then P V. */
static void attn_task(void *arg, int ith, int nth) {
    attn_job *j = arg;
    ggufembed_context *ctx = j->ctx;
    const ge_hparams *hp = &ctx->model->hp;
    const ge_kernels *k = ctx->kern;
    const ge_scratch *s = &ctx->s;
    const int32_t D = hp->head_dim, H = hp->n_head, KV = hp->n_kv_head;
    const int64_t HD = (int64_t)H * D, KVD = (int64_t)KV * D;
    const int32_t half_window = j->local ? hp->n_swa / 2 : INT32_MAX;
    const int64_t n_ctx = hp->n_ctx;
    float *sc = s->scores + (size_t)ith * QBLK * (size_t)n_ctx;
    const int64_t items = s->n_qblk * H;
    const int64_t per = (items + nth - 1) / nth;
    const int64_t i0 = per * ith, i1 = i0 + per < items ? i0 + per : items;
    for (int64_t it = i0; it < i1; it++) {
        const int64_t b = it / H;
        const int h = (int)(it % H), kvh = h / (H / KV);
        const int64_t t0 = s->qblk[b];
        const int32_t start = s->seq_start[t0], len = s->seq_len[t0];
        const int64_t m = len - s->pos[t0] < QBLK ? len - s->pos[t0] : QBLK;
        /* window of query p: [p - w, p + w] inside the text; the block's union */
        int32_t lo[QBLK], hi[QBLK];
        for (int64_t i = 0; i < m; i++) {
            const int32_t p = s->pos[t0 + i];
            lo[i] = half_window == INT32_MAX || p - half_window < 0 ? 0 : p - half_window;
            hi[i] = half_window == INT32_MAX || p + half_window + 1 > len ? len : p + half_window + 1;
        }
        const int32_t ulo = lo[0], uhi = hi[m - 1], n = uhi - ulo;
        const float *K = s->k + ((int64_t)(start + ulo) * KV + kvh) * D;
        const float *V = s->v + ((int64_t)(start + ulo) * KV + kvh) * D;
        k->scores_f32(m, n, D, s->q + t0 * HD + (int64_t)h * D, HD, K, KVD, hp->attn_scale, sc, n_ctx);
        for (int64_t i = 0; i < m; i++) {
            float *row = sc + i * n_ctx;
            const int32_t a = lo[i] - ulo, e = hi[i] - ulo;
            float mx = -INFINITY;
            for (int32_t jj = a; jj < e; jj++) mx = row[jj] > mx ? row[jj] : mx;
            (k->exp_sub_f32 ? k->exp_sub_f32 : ge_kernels_scalar.exp_sub_f32)(e - a, row + a, mx);
            /* in double, 8 partial sums in a fixed order (as rms_norm_rows) */
            double ps[8] = {0};
            int32_t jj = a;
            for (; jj + 8 <= e; jj += 8)
                for (int q = 0; q < 8; q++) ps[q] += row[jj + q];
            for (; jj < e; jj++) ps[0] += row[jj];
            const double sum = ((ps[0] + ps[4]) + (ps[2] + ps[6])) + ((ps[1] + ps[5]) + (ps[3] + ps[7]));
            const float inv = (float)(1.0 / sum);
            for (jj = 0; jj < n; jj++) row[jj] = jj >= a && jj < e ? row[jj] * inv : 0.0f;
        }
        k->pv_f32(m, n, D, sc, n_ctx, V, KVD, s->att + t0 * HD + (int64_t)h * D, HD);
    }
}

static float gelu_tanh(float x) { /* tanh in double: the same bits with any libm */
    const float c = 0.79788456080286535587989211986876f; /* sqrt(2/pi) */
    return 0.5f * x * (1.0f + (float)tanh((double)(c * x * (1.0f + 0.044715f * x * x))));
}

/* ggml's CPU GELU (GGML_GELU_FP16): x rounded to fp16, looked up in a table of
 * fp16-rounded results; identity above 10, zero below -10. Matching it keeps us
 * closest to llama.cpp, and a lookup is cheaper than tanhf. */
float *ge_gelu_table_new(void) {
    float *t = ge_malloc(sizeof(float) * 65536);
    if (!t) return NULL;
    for (uint32_t h = 0; h < 65536; h++) t[h] = ge_fp16_to_fp32(ge_fp32_to_fp16(gelu_tanh(ge_fp16_to_fp32((uint16_t)h))));
    return t;
}

/* The per-token steps between the matrix products, one dispatch each, split
 * over tokens (each row's arithmetic is the same as done serially). */
typedef enum rows_stage {
    ROWS_NORM,      /* xn = RMSNorm(x) * pre, quantized for the next products            */
    ROWS_RESIDUAL,  /* xn = RMSNorm(xn) * post; x += xn; then ROWS_NORM when pre is set  */
    ROWS_NORM_ROPE, /* per-head RMSNorm and RoPE of q and k                              */
    ROWS_GEGLU      /* g = gelu(g) * u, quantized for the down projection                */
} rows_stage;

typedef struct rows_job {
    ggufembed_context *ctx;
    const ge_layer *ly;
    rows_stage stage;
    const float *post, *pre; /* norm weights [n_embd] (pre may be NULL after ROWS_RESIDUAL) */
    int64_t T;
} rows_job;

static void rows_task(void *arg, int ith, int nth) {
    const rows_job *j = arg;
    ggufembed_context *ctx = j->ctx;
    const ge_hparams *hp = &ctx->model->hp;
    ge_scratch *s = &ctx->s;
    const int64_t E = hp->n_embd, F = hp->n_ff;
    const int64_t per = (j->T + nth - 1) / nth, t0 = per * ith, t1 = t0 + per < j->T ? t0 + per : j->T;
    if (t0 >= t1) return;
    const ge_kernels *k = ctx->kern;
    switch (j->stage) {
    case ROWS_RESIDUAL:
    case ROWS_NORM:
        if (j->stage == ROWS_RESIDUAL) {
            rms_norm_rows(s->xn + t0 * E, j->post, s->xn + t0 * E, t1 - t0, E, hp->eps);
            for (int64_t i = t0 * E; i < t1 * E; i++) s->x[i] += s->xn[i];
        }
        if (j->pre) { /* the next sub-block's input */
            rms_norm_rows(s->x + t0 * E, j->pre, s->xn + t0 * E, t1 - t0, E, hp->eps);
            for (int64_t t = t0; t < t1; t++) k->quantize_q8_0(s->xn + t * E, s->aq + t * (E / QK8_0), E);
        }
        break;
    case ROWS_NORM_ROPE:
        norm_rope(ctx, s->q, t0, t1, hp->n_head, j->ly->q_norm, j->ly->is_local);
        norm_rope(ctx, s->k, t0, t1, hp->n_kv_head, j->ly->k_norm, j->ly->is_local);
        break;
    case ROWS_GEGLU: {
        /* tables filled before this kernel existed (wasm) fall back to the reference */
        void (*gelu)(int64_t, float *, const float *, const float *) =
            k->gelu_mul_f32 ? k->gelu_mul_f32 : ge_kernels_scalar.gelu_mul_f32;
        gelu((t1 - t0) * F, s->g + t0 * F, s->u + t0 * F, ctx->model->gelu_table);
        for (int64_t t = t0; t < t1; t++) k->quantize_q8_0(s->g + t * F, s->aq + t * (F / QK8_0), F);
        break;
    }
    }
}

static void rows(ggufembed_context *ctx, rows_stage stage, const ge_layer *ly, const float *post, const float *pre,
                 int64_t T) {
    rows_job j = {ctx, ly, stage, post, pre, T};
    parallel(ctx, rows_task, &j);
}

/* ------------------------------------------------------------ the forward pass */

int ge_model_forward(ggufembed_context *ctx, const int32_t *tokens, const size_t *seq_off, int n_seq, float *out) {
    const ggufembed_model *m = ctx->model;
    const ge_hparams *hp = &m->hp;
    const int64_t T = (int64_t)seq_off[n_seq];
    int64_t max_len = 0;
    for (int i = 0; i < n_seq; i++)
        if ((int64_t)(seq_off[i + 1] - seq_off[i]) > max_len) max_len = (int64_t)(seq_off[i + 1] - seq_off[i]);
    int rc = ge_scratch_reserve(ctx, T, max_len);
    if (rc) return rc;
    ge_scratch *s = &ctx->s;
    const int64_t E = hp->n_embd, HD = (int64_t)hp->n_head * hp->head_dim;

    s->n_qblk = 0;
    for (int i = 0; i < n_seq; i++)
        for (size_t t = seq_off[i]; t < seq_off[i + 1]; t++) {
            s->pos[t] = (int32_t)(t - seq_off[i]);
            s->seq_start[t] = (int32_t)seq_off[i];
            s->seq_len[t] = (int32_t)(seq_off[i + 1] - seq_off[i]);
            if (s->pos[t] % QBLK == 0) s->qblk[s->n_qblk++] = (int32_t)t;
        }

    /* 1. gather and scale the token embeddings */
    for (int64_t t = 0; t < T; t++) {
        float *x = s->x + t * E;
        const int32_t id = tokens[t];
        if (m->tok_embd.type == GGML_TYPE_Q8_0) {
            const block_q8_0 *row = (const block_q8_0 *)m->tok_embd.data + (int64_t)id * (E / QK8_0);
            for (int64_t b = 0; b < E / QK8_0; b++) {
                const float d = ge_fp16_to_fp32(row[b].d);
                for (int jx = 0; jx < QK8_0; jx++) x[b * QK8_0 + jx] = d * (float)row[b].qs[jx];
            }
        } else if (m->tok_embd.type == GGML_TYPE_F32) {
            memcpy(x, (const float *)m->tok_embd.data + (int64_t)id * E, sizeof(float) * (size_t)E);
        } else {
            const uint16_t *h = (const uint16_t *)m->tok_embd.data + (int64_t)id * E;
            for (int64_t i = 0; i < E; i++)
                x[i] = m->tok_embd.type == GGML_TYPE_F16 ? ge_fp16_to_fp32(h[i]) : ge_bf16_to_fp32(h[i]);
        }
        for (int64_t i = 0; i < E; i++) x[i] *= hp->embd_scale;
    }

    /* 2. the layers. Each sub-block: input norm (+ quantize), products, output
     * norm + residual, fused with the next sub-block's input norm. */
    rows(ctx, ROWS_NORM, NULL, NULL, m->layers[0].attn_norm, T);
    for (int il = 0; il < hp->n_layer; il++) {
        const ge_layer *ly = &m->layers[il];
        /* attention block */
        linear_n(ctx, s->xn, T, &ly->wq, s->q, &ly->wk, s->k, &ly->wv, s->v);
        rows(ctx, ROWS_NORM_ROPE, ly, NULL, NULL, T);
        attn_job aj = {ctx, T, ly->is_local};
        parallel(ctx, attn_task, &aj);
        prepare_input(ctx, s->att, T, HD);
        linear(ctx, &ly->wo, s->att, s->xn, T);
        rows(ctx, ROWS_RESIDUAL, ly, ly->post_attn_norm, ly->ffn_norm, T);

        /* feed-forward block */
        linear_n(ctx, s->xn, T, &ly->gate, s->g, &ly->up, s->u, NULL, NULL);
        rows(ctx, ROWS_GEGLU, ly, NULL, NULL, T);
        linear(ctx, &ly->down, s->g, s->xn, T);
        rows(ctx, ROWS_RESIDUAL, ly, ly->post_ffn_norm, il + 1 < hp->n_layer ? m->layers[il + 1].attn_norm : NULL, T);
    }

    /* 3. final norm, 4. pooling, 5. optional dense projections */
    rms_norm_rows(s->x, m->output_norm, s->x, T, E, hp->eps);
    for (int i = 0; i < n_seq; i++) {
        const int64_t a = (int64_t)seq_off[i], b = (int64_t)seq_off[i + 1];
        float *p = s->pooled;
        if (hp->pooling == GE_POOL_MEAN) {
            for (int64_t d = 0; d < E; d++) {
                double acc = 0.0;
                for (int64_t t = a; t < b; t++) acc += s->x[t * E + d];
                p[d] = (float)(acc / (double)(b - a));
            }
        } else {
            memcpy(p, s->x + (hp->pooling == GE_POOL_CLS ? a : b - 1) * E, sizeof(float) * (size_t)E);
        }
        if (m->dense2.data) {
            float *h = s->pooled + (E > m->dense2.n_out ? E : m->dense2.n_out);
            prepare_input(ctx, p, 1, E);
            linear(ctx, &m->dense2, p, h, 1);
            prepare_input(ctx, h, 1, m->dense2.n_out);
            linear(ctx, &m->dense3, h, p, 1);
        }
        memcpy(out + (size_t)i * (size_t)hp->n_out, p, sizeof(float) * (size_t)hp->n_out);
    }
    return 0;
}
