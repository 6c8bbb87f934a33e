/*
 * qwen3.c - the qwen3 architecture (Qwen3-Embedding 0.6B/4B/8B), computed as llama.cpp
 * computes it (src/models/qwen3.cpp):
 *
 *   x = tok_embd[ids]
 *   per layer (pre-norm, no biases):
 *     h  = RMSNorm(x) * attn_norm
 *     q, k, v = h Wq, h Wk, h Wv; per-head RMSNorm of q and k; NEOX RoPE (rope.freq_base)
 *     x  = x + softmax(q k^T / sqrt(head_dim), causal) v Wo      (GQA)
 *     h  = RMSNorm(x) * ffn_norm
 *     x  = x + (silu(h Wgate) * h Wup) Wdown
 *   RMSNorm(x) * output_norm, pooled (Qwen3-Embedding: the last token, which is the EOS
 *   the tokenizer appends: tokenizer.ggml.add_eos_token).
 */
#include "alloc.h"
#include "arch.h"
#include "ops.h"
#include "util.h"

#include <math.h>
#include <string.h>

static int qwen3_load(ge_loader *L) {
    ggufembed_model *m = L->m;
    ge_hparams *hp = &m->hp;
    int rc, causal;
    int32_t key_len, val_len;
    if ((rc = ge_hp_int(L, "embedding_length", -1, 1, 1 << 16, &hp->n_embd)) ||
        (rc = ge_hp_int(L, "block_count", -1, 1, 1024, &hp->n_layer)) ||
        (rc = ge_hp_int(L, "feed_forward_length", -1, 1, 1 << 18, &hp->n_ff)) ||
        (rc = ge_hp_int(L, "attention.head_count", -1, 1, 1024, &hp->n_head)) ||
        (rc = ge_hp_int(L, "attention.head_count_kv", hp->n_head, 1, hp->n_head, &hp->n_kv_head)) ||
        (rc = ge_hp_int(L, "attention.key_length", hp->n_embd / hp->n_head, 2, 1 << 14, &key_len)) ||
        (rc = ge_hp_int(L, "attention.value_length", key_len, 2, 1 << 14, &val_len)) ||
        (rc = ge_hp_int(L, "rope.dimension_count", key_len, 2, key_len, &hp->n_rot)) ||
        (rc = ge_hp_int(L, "context_length", -1, 2, 1 << 20, &hp->n_ctx)) ||
        (rc = ge_hp_float(L, "attention.layer_norm_rms_epsilon", -1, 0.0, 1.0, &hp->eps)) ||
        (rc = ge_hp_float(L, "rope.freq_base", 10000.0, 1.0, 1e12, &hp->rope_base)) ||
        (rc = ge_hp_bool(L, "attention.causal", 1, &causal)) ||
        (rc = ge_load_pooling(L, GE_POOL_LAST, 1)))
        return rc;
    /* llama.cpp asserts head_dim == n_rot for qwen3 */
    if (key_len != val_len || hp->n_rot != key_len || key_len % 8 || hp->n_head % hp->n_kv_head != 0) {
        ge_errorf(L->err, L->es,
                  "unsupported attention shape: key_length %d, value_length %d, rope dims %d, %d heads / %d kv heads",
                  key_len, val_len, hp->n_rot, hp->n_head, hp->n_kv_head);
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    hp->head_dim = key_len;
    hp->n_swa = 0;
    hp->rope_base_swa = hp->rope_base;
    hp->mask = causal ? GE_MASK_CAUSAL : GE_MASK_ALL;
    hp->attn_scale = 1.0f / sqrtf((float)key_len);
    hp->embd_scale = 1.0f;
    hp->n_out = hp->n_embd;

    const int64_t E = hp->n_embd, F = hp->n_ff, HD = (int64_t)hp->n_head * key_len,
                  KVD = (int64_t)hp->n_kv_head * key_len;
    if ((rc = ge_get_matrix(L, "token_embd.weight", E, m->vocab.n_tokens, 1, &m->tok_embd)) ||
        (rc = ge_get_vector(L, "output_norm.weight", E, 1, &m->output_norm)))
        return rc;
    m->layers = ge_calloc((size_t)hp->n_layer, sizeof(ge_layer));
    if (!m->layers) {
        ge_errorf(L->err, L->es, "out of memory");
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
            (rc = ge_get_vector(L, TN("ffn_norm.weight"), E, 1, &ly->ffn_norm)) ||
            (rc = ge_get_matrix(L, TN("ffn_gate.weight"), E, F, 1, &ly->gate)) ||
            (rc = ge_get_matrix(L, TN("ffn_up.weight"), E, F, 1, &ly->up)) ||
            (rc = ge_get_matrix(L, TN("ffn_down.weight"), F, E, 1, &ly->down)))
            return rc;
    }
#undef TN
    return ge_load_rank_head(L);
}

static int qwen3_forward(ggufembed_context *ctx, const int32_t *tokens, const size_t *seq_off, int n_seq, float *out) {
    const ggufembed_model *m = ctx->model;
    const ge_hparams *hp = &m->hp;
    const int64_t T = (int64_t)seq_off[n_seq];
    int rc = ge_batch_begin(ctx, seq_off, n_seq);
    if (rc) return rc;
    ge_scratch *s = &ctx->s;
    const int64_t E = hp->n_embd, HD = (int64_t)hp->n_head * hp->head_dim;

    for (int64_t t = 0; t < T; t++) ge_gather_row(&m->tok_embd, tokens[t], s->x + t * E);

#define RMS(w) {GE_NORM_RMS, (w), NULL}
    const ge_residual_step first = {.next = RMS(m->layers[0].attn_norm)};
    ge_residual(ctx, &first, T);
    for (int il = 0; il < hp->n_layer; il++) {
        const ge_layer *ly = &m->layers[il];
        ge_linear_n(ctx, s->xn, T, &ly->wq, s->q, &ly->wk, s->k, &ly->wv, s->v);
        ge_qk_norm_rope(ctx, ly, T);
        ge_attention(ctx, hp->mask, T);
        ge_prepare_input(ctx, s->att, T, HD);
        ge_linear(ctx, &ly->wo, s->att, s->xn, T);
        const ge_residual_step after_attn = {.add = 1, .next = RMS(ly->ffn_norm)};
        ge_residual(ctx, &after_attn, T);

        ge_linear_n(ctx, s->xn, T, &ly->gate, s->g, &ly->up, s->u, NULL, NULL);
        ge_ffn_act(ctx, GE_ACT_SILU, 1, T);
        ge_linear(ctx, &ly->down, s->g, s->xn, T);
        const ge_residual_step after_ffn = {.add = 1,
                                            .next = RMS(il + 1 < hp->n_layer ? m->layers[il + 1].attn_norm : NULL)};
        ge_residual(ctx, &after_ffn, T);
    }
    const ge_norm final = RMS(m->output_norm);
#undef RMS
    ge_norm_rows(&final, s->x, s->x, T, E, hp->eps);
    for (int i = 0; i < n_seq; i++)
        ge_pool_seq(ctx, (int64_t)seq_off[i], (int64_t)seq_off[i + 1], out + (size_t)i * (size_t)hp->n_out);
    return 0;
}

const ge_arch ge_arch_qwen3 = {
    .name = "qwen3",
    .load = qwen3_load,
    .forward = qwen3_forward,
};
