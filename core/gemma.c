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
#include "arch.h"
#include "ops.h"
#include "util.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------ loading */

/* Which layers use the sliding window: an array of bools per layer, or a period
 * n (layer il is local when il % n < n - 1; absent: 6). */
static int load_swa_pattern(ge_loader *L) {
    ggufembed_model *m = L->m;
    const gguf_kv *kv = gguf_find_kv(&m->gguf, ge_arch_key(L, "attention.sliding_window_pattern"));
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
        int rc = ge_hp_int(L, "attention.sliding_window_pattern", 6, 0, 1 << 20, &period);
        if (rc) return rc;
        for (int il = 0; il < m->hp.n_layer; il++)
            m->layers[il].is_local = period == 0 || (il % period < period - 1);
    }
    if (m->hp.n_swa == 0)
        for (int il = 0; il < m->hp.n_layer; il++) m->layers[il].is_local = 0;
    return 0;
}

static int gemma_load(ge_loader *L) {
    ggufembed_model *m = L->m;
    char *err = L->err;
    const size_t es = L->es;
    ge_hparams *hp = &m->hp;
    int rc;
    int32_t key_len, val_len;
    const int gemma3 = strcmp(m->arch, "gemma3") == 0;
    if ((rc = ge_hp_int(L, "embedding_length", -1, 1, 1 << 16, &hp->n_embd)) ||
        (rc = ge_hp_int(L, "block_count", -1, 1, 1024, &hp->n_layer)) ||
        (rc = ge_hp_int(L, "feed_forward_length", -1, 1, 1 << 18, &hp->n_ff)) ||
        (rc = ge_hp_int(L, "attention.head_count", -1, 1, 1024, &hp->n_head)) ||
        (rc = ge_hp_int(L, "attention.head_count_kv", hp->n_head, 1, hp->n_head, &hp->n_kv_head)) ||
        (rc = ge_hp_int(L, "attention.key_length", hp->n_embd / hp->n_head, 2, 1 << 14, &key_len)) ||
        (rc = ge_hp_int(L, "attention.value_length", key_len, 2, 1 << 14, &val_len)) ||
        (rc = ge_hp_int(L, "rope.dimension_count", key_len, 2, key_len, &hp->n_rot)) ||
        (rc = ge_hp_int(L, "context_length", -1, 2, 1 << 20, &hp->n_ctx)) ||
        /* llama.cpp requires the window of gemma-embedding; Gemma 3 may have none */
        (rc = ge_hp_int(L, "attention.sliding_window", gemma3 ? 0 : -1, 0, 1 << 24, &hp->n_swa)) ||
        (rc = ge_hp_float(L, "attention.layer_norm_rms_epsilon", -1, 0.0, 1.0, &hp->eps)) ||
        (rc = ge_hp_float(L, "rope.freq_base", 10000.0, 1.0, 1e12, &hp->rope_base)) ||
        (rc = ge_hp_float(L, "rope.freq_base_swa", 10000.0, 1.0, 1e12, &hp->rope_base_swa)) ||
        (rc = ge_load_pooling(L, GE_POOL_MEAN, 0)))
        return rc;
    if (key_len != val_len || hp->n_rot % 2 != 0 || hp->n_head % hp->n_kv_head != 0) {
        ge_errorf(err, es, "unsupported attention shape: key_length %d, value_length %d, rope dims %d, %d heads / %d kv heads",
                  key_len, val_len, hp->n_rot, hp->n_head, hp->n_kv_head);
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    if (hp->n_embd % QK8_0 || hp->n_ff % QK8_0 || (hp->n_head * key_len) % QK8_0) {
        ge_errorf(err, es, "hidden sizes must be multiples of 32 (n_embd %d, n_ff %d)", hp->n_embd, hp->n_ff);
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    hp->head_dim = key_len;
    /* gemma-embedding: bidirectional, symmetric windows; Gemma 3: causal, windows behind */
    hp->mask = gemma3 ? GE_MASK_CAUSAL : GE_MASK_ALL;
    hp->mask_local = gemma3 ? GE_MASK_CAUSAL_WINDOW : GE_MASK_WINDOW;
    /* llama.cpp (gemma3.cpp): Gemma 3 27B (62 layers) scales by 1/sqrt(n_embd / n_head) */
    hp->attn_scale = 1.0f / sqrtf((float)(gemma3 && hp->n_layer == 62 ? hp->n_embd / hp->n_head : key_len));
    hp->embd_scale = sqrtf((float)hp->n_embd);

    const int64_t E = hp->n_embd, F = hp->n_ff, HD = (int64_t)hp->n_head * key_len,
                  KVD = (int64_t)hp->n_kv_head * key_len;
    if ((rc = ge_get_matrix(L, "token_embd.weight", E, m->vocab.n_tokens, 1, &m->tok_embd)) ||
        (rc = ge_get_vector(L, "output_norm.weight", E, 1, &m->output_norm)))
        return rc;

    m->layers = ge_calloc((size_t)hp->n_layer, sizeof(ge_layer));
    if (!m->layers) {
        ge_errorf(err, es, "out of memory");
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
#define TN(suffix) ge_tn(L, "blk.%d." suffix, il)
    for (int il = 0; il < hp->n_layer; il++) {
        ge_layer *ly = &m->layers[il];
        if ((rc = ge_get_vector(L, TN("attn_norm.weight"), E, 1, &ly->attn_norm)) ||
            (rc = ge_get_matrix(L, TN("attn_q.weight"), E, HD, 1, &ly->wq)) ||
            (rc = ge_get_matrix(L, TN("attn_k.weight"), E, KVD, 1, &ly->wk)) ||
            (rc = ge_get_matrix(L, TN("attn_v.weight"), E, KVD, 1, &ly->wv)) ||
            (rc = ge_get_vector(L, TN("attn_q_norm.weight"), key_len, 1, &ly->q_norm)) ||
            (rc = ge_get_vector(L, TN("attn_k_norm.weight"), key_len, 1, &ly->k_norm)) ||
            (rc = ge_get_matrix(L, TN("attn_output.weight"), HD, E, 1, &ly->wo)) ||
            (rc = ge_get_vector(L, TN("post_attention_norm.weight"), E, 1, &ly->post_attn_norm)) ||
            (rc = ge_get_vector(L, TN("ffn_norm.weight"), E, 1, &ly->ffn_norm)) ||
            (rc = ge_get_matrix(L, TN("ffn_gate.weight"), E, F, 1, &ly->gate)) ||
            (rc = ge_get_matrix(L, TN("ffn_up.weight"), E, F, 1, &ly->up)) ||
            (rc = ge_get_matrix(L, TN("ffn_down.weight"), F, E, 1, &ly->down)) ||
            (rc = ge_get_vector(L, TN("post_ffw_norm.weight"), E, 1, &ly->post_ffn_norm)))
            return rc;
    }
#undef TN
    if ((rc = load_swa_pattern(L))) return rc;

    /* optional sentence-transformers projections, applied after pooling */
    if ((rc = ge_get_matrix(L, "dense_2.weight", E, 0, 0, &m->dense2))) return rc;
    if (m->dense2.data) {
        if (m->dense2.n_out % QK8_0 ||
            (rc = ge_get_matrix(L, "dense_3.weight", m->dense2.n_out, 0, 1, &m->dense3))) {
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
    return 0;
}

/* ------------------------------------------------------------ the forward pass */

static int gemma_forward(ggufembed_context *ctx, const int32_t *tokens, const size_t *seq_off, int n_seq, float *out) {
    const ggufembed_model *m = ctx->model;
    const ge_hparams *hp = &m->hp;
    const int64_t T = (int64_t)seq_off[n_seq];
    int rc = ge_batch_begin(ctx, seq_off, n_seq);
    if (rc) return rc;
    ge_scratch *s = &ctx->s;
    const int64_t E = hp->n_embd, HD = (int64_t)hp->n_head * hp->head_dim;

    /* 1. gather and scale the token embeddings */
    for (int64_t t = 0; t < T; t++) {
        float *x = s->x + t * E;
        ge_gather_row(&m->tok_embd, tokens[t], x);
        for (int64_t i = 0; i < E; i++) x[i] *= hp->embd_scale;
    }

    /* 2. the layers. Each sub-block: input norm (+ quantize), products, output
     * norm + residual, fused with the next sub-block's input norm. */
#define RMS(w) {GE_NORM_RMS, (w), NULL}
    const ge_residual_step first = {.next = RMS(m->layers[0].attn_norm)};
    ge_residual(ctx, &first, T);
    for (int il = 0; il < hp->n_layer; il++) {
        const ge_layer *ly = &m->layers[il];
        /* attention block */
        ge_linear_n(ctx, s->xn, T, &ly->wq, s->q, &ly->wk, s->k, &ly->wv, s->v);
        ge_qk_norm_rope(ctx, ly, T);
        ge_attention(ctx, ly->is_local ? hp->mask_local : hp->mask, T);
        ge_prepare_input(ctx, s->att, T, HD);
        ge_linear(ctx, &ly->wo, s->att, s->xn, T);
        const ge_residual_step after_attn = {.delta = RMS(ly->post_attn_norm), .add = 1, .next = RMS(ly->ffn_norm)};
        ge_residual(ctx, &after_attn, T);

        /* feed-forward block */
        ge_linear_n(ctx, s->xn, T, &ly->gate, s->g, &ly->up, s->u, NULL, NULL);
        ge_ffn_act(ctx, GE_ACT_GELU, 1, T);
        ge_linear(ctx, &ly->down, s->g, s->xn, T);
        const ge_residual_step after_ffn = {.delta = RMS(ly->post_ffn_norm), .add = 1,
                                            .next = RMS(il + 1 < hp->n_layer ? m->layers[il + 1].attn_norm : NULL)};
        ge_residual(ctx, &after_ffn, T);
    }

    /* 3. final norm, 4. pooling, 5. optional dense projections */
    const ge_norm final = RMS(m->output_norm);
#undef RMS
    ge_norm_rows(&final, s->x, s->x, T, E, hp->eps);
    if (!m->dense2.data) {
        for (int i = 0; i < n_seq; i++) ge_pool_seq(ctx, (int64_t)seq_off[i], (int64_t)seq_off[i + 1], out + (size_t)i * (size_t)E);
        return 0;
    }
    /* the projections for every sequence of the pass at once (each weight row widened once
     * per pass, not once per text): P [n_seq x E] -> H [n_seq x D2] -> out [n_seq x n_out] */
    const int64_t D2 = m->dense2.n_out;
    if ((rc = ge_scratch_seq_rows(s, 0, (size_t)n_seq * (size_t)E)) ||
        (rc = ge_scratch_seq_rows(s, 1, (size_t)n_seq * (size_t)D2)))
        return rc;
    float *P = s->seq_rows[0], *H = s->seq_rows[1];
    for (int i = 0; i < n_seq; i++) ge_pool_seq(ctx, (int64_t)seq_off[i], (int64_t)seq_off[i + 1], P + (size_t)i * (size_t)E);
    ge_prepare_input(ctx, P, n_seq, E);
    ge_linear(ctx, &m->dense2, P, H, n_seq);
    ge_prepare_input(ctx, H, n_seq, D2);
    ge_linear(ctx, &m->dense3, H, out, n_seq);
    return 0;
}

const ge_arch ge_arch_gemma_embedding = {
    .name = "gemma-embedding",
    .load = gemma_load,
    .forward = gemma_forward,
};

/* Gemma 3 text models: the same blocks, causal (llama.cpp's gemma3.cpp) */
const ge_arch ge_arch_gemma3 = {
    .name = "gemma3",
    .load = gemma_load,
    .forward = gemma_forward,
};
