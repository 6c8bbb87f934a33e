/*
 * bert.c - the bert architecture (all-MiniLM, bge, mxbai-embed-large, snowflake-arctic-embed,
 * granite-embedding, e5; with an XLM-RoBERTa vocabulary: bge-m3, multilingual-e5), computed
 * as llama.cpp computes it (src/models/bert.cpp):
 *
 *   x = tok_embd[ids] + token_types[0] + position_embd[pos]     (learned absolute positions;
 *       XLM-R's offset of 2 position rows is removed by the converter, so pos starts at 0)
 *   x = LayerNorm(x) * token_embd_norm + b
 *   per layer (post-LayerNorm blocks, every product with its bias):
 *     q, k, v = x Wq + bq, x Wk + bk, x Wv + bv
 *     a  = softmax(q k^T / sqrt(head_dim)) v                  (bidirectional)
 *     x  = LayerNorm(x + a Wo + bo) * attn_output_norm + b
 *     x  = LayerNorm(x + gelu(x Wup + bup) Wdown + bdown) * layer_output_norm + b
 *   pooled over each sequence (mean / CLS from bert.pooling_type).
 */
#include "alloc.h"
#include "arch.h"
#include "ops.h"
#include "util.h"

#include <math.h>
#include <string.h>

static int bert_load(ge_loader *L) {
    ggufembed_model *m = L->m;
    ge_hparams *hp = &m->hp;
    int rc, causal;
    int32_t key_len, val_len;
    if ((rc = ge_hp_int(L, "embedding_length", -1, 1, 1 << 16, &hp->n_embd)) ||
        (rc = ge_hp_int(L, "block_count", -1, 1, 1024, &hp->n_layer)) ||
        (rc = ge_hp_int(L, "feed_forward_length", -1, 1, 1 << 18, &hp->n_ff)) ||
        (rc = ge_hp_int(L, "attention.head_count", -1, 1, 1024, &hp->n_head)) ||
        (rc = ge_hp_int(L, "attention.head_count_kv", hp->n_head, 1, hp->n_head, &hp->n_kv_head)) ||
        (rc = ge_hp_int(L, "attention.key_length", hp->n_embd / hp->n_head, 1, 1 << 14, &key_len)) ||
        (rc = ge_hp_int(L, "attention.value_length", key_len, 1, 1 << 14, &val_len)) ||
        (rc = ge_hp_int(L, "context_length", -1, 1, 1 << 20, &hp->n_ctx)) ||
        (rc = ge_hp_float(L, "attention.layer_norm_epsilon", -1, 0.0, 1.0, &hp->eps)) ||
        (rc = ge_hp_bool(L, "attention.causal", 0, &causal)) ||
        (rc = ge_load_pooling(L, GE_POOL_MEAN)))
        return rc;
    if (key_len != val_len || key_len % 8 || hp->n_head % hp->n_kv_head != 0 || hp->n_head * key_len != hp->n_embd) {
        ge_errorf(L->err, L->es,
                  "unsupported attention shape: key_length %d, value_length %d, %d heads / %d kv heads, n_embd %d",
                  key_len, val_len, hp->n_head, hp->n_kv_head, hp->n_embd);
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    hp->head_dim = key_len;
    hp->n_rot = 0;
    hp->n_swa = 0;
    hp->mask = causal ? GE_MASK_CAUSAL : GE_MASK_ALL;
    hp->attn_scale = 1.0f / sqrtf((float)key_len);
    hp->embd_scale = 1.0f;
    hp->n_out = hp->n_embd;

    const int64_t E = hp->n_embd, F = hp->n_ff, KVD = (int64_t)hp->n_kv_head * key_len;
    if ((rc = ge_get_matrix(L, "token_embd.weight", E, m->vocab.n_tokens, 1, &m->tok_embd)) ||
        (rc = ge_get_matrix(L, "token_types.weight", E, 0, 0, &m->type_embd)) ||
        (rc = ge_get_matrix(L, "position_embd.weight", E, 0, 1, &m->pos_embd)) ||
        (rc = ge_get_vector(L, "token_embd_norm.weight", E, 1, &m->embd_norm)) ||
        (rc = ge_get_vector(L, "token_embd_norm.bias", E, 1, &m->embd_norm_b)))
        return rc;
    if (m->pos_embd.n_out < hp->n_ctx) {
        ge_errorf(L->err, L->es, "position_embd.weight has %lld rows, fewer than the context length %d",
                  (long long)m->pos_embd.n_out, hp->n_ctx);
        return GGUFEMBED_ERR_FORMAT;
    }

    m->layers = ge_calloc((size_t)hp->n_layer, sizeof(ge_layer));
    if (!m->layers) {
        ge_errorf(L->err, L->es, "out of memory");
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    for (int il = 0; il < hp->n_layer; il++) {
        ge_layer *ly = &m->layers[il];
        struct {
            const char *name;
            int64_t n_in, n_out;
            ge_matrix *w;
        } mats[] = {
            {"blk.%d.attn_q.weight", E, E, &ly->wq},        {"blk.%d.attn_k.weight", E, KVD, &ly->wk},
            {"blk.%d.attn_v.weight", E, KVD, &ly->wv},      {"blk.%d.attn_output.weight", E, E, &ly->wo},
            {"blk.%d.ffn_up.weight", E, F, &ly->up},        {"blk.%d.ffn_down.weight", F, E, &ly->down},
        };
        for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++) {
            const char *name = ge_tn(L, mats[i].name, il);
            char saved[128];
            memcpy(saved, name, sizeof saved);
            if ((rc = ge_get_matrix(L, saved, mats[i].n_in, mats[i].n_out, 1, mats[i].w)) ||
                (rc = ge_get_bias(L, saved, mats[i].w)))
                return rc;
        }
        if ((rc = ge_get_vector(L, ge_tn(L, "blk.%d.attn_output_norm.weight", il), E, 1, &ly->attn_out_norm)) ||
            (rc = ge_get_vector(L, ge_tn(L, "blk.%d.attn_output_norm.bias", il), E, 1, &ly->attn_out_norm_b)) ||
            (rc = ge_get_vector(L, ge_tn(L, "blk.%d.layer_output_norm.weight", il), E, 1, &ly->out_norm)) ||
            (rc = ge_get_vector(L, ge_tn(L, "blk.%d.layer_output_norm.bias", il), E, 1, &ly->out_norm_b)))
            return rc;
    }
    return 0;
}

static int bert_forward(ggufembed_context *ctx, const int32_t *tokens, const size_t *seq_off, int n_seq, float *out) {
    const ggufembed_model *m = ctx->model;
    const ge_hparams *hp = &m->hp;
    const int64_t T = (int64_t)seq_off[n_seq];
    int64_t max_len = 0;
    for (int i = 0; i < n_seq; i++)
        if ((int64_t)(seq_off[i + 1] - seq_off[i]) > max_len) max_len = (int64_t)(seq_off[i + 1] - seq_off[i]);
    int rc = ge_scratch_reserve(ctx, T, max_len);
    if (rc) return rc;
    ge_scratch *s = &ctx->s;
    const int64_t E = hp->n_embd;
    ge_batch_layout(ctx, seq_off, n_seq);

    /* 1. token + type-0 + position embeddings (in llama.cpp's order of additions), LayerNorm */
    float *type0 = s->pooled, *pos = s->pooled + E; /* two rows of work space */
    if (m->type_embd.data) ge_gather_row(&m->type_embd, 0, type0);
    for (int64_t t = 0; t < T; t++) {
        float *x = s->x + t * E;
        ge_gather_row(&m->tok_embd, tokens[t], x);
        if (m->type_embd.data)
            for (int64_t i = 0; i < E; i++) x[i] += type0[i];
        ge_gather_row(&m->pos_embd, s->pos[t], pos);
        for (int64_t i = 0; i < E; i++) x[i] = pos[i] + x[i];
    }
#define LN(w, b) {GE_NORM_LAYER, (w), (b)}
    const ge_residual_step embd = {.res = LN(m->embd_norm, m->embd_norm_b), .quantize_x = 1};
    ge_residual(ctx, &embd, T);

    /* 2. the layers: each sub-block reads x (already quantized) and ends in x = LN(x + out) */
    for (int il = 0; il < hp->n_layer; il++) {
        const ge_layer *ly = &m->layers[il];
        ge_linear_n(ctx, s->x, T, &ly->wq, s->q, &ly->wk, s->k, &ly->wv, s->v);
        ge_attention(ctx, hp->mask, T);
        ge_prepare_input(ctx, s->att, T, E);
        ge_linear(ctx, &ly->wo, s->att, s->xn, T);
        const ge_residual_step after_attn = {.add = 1, .res = LN(ly->attn_out_norm, ly->attn_out_norm_b), .quantize_x = 1};
        ge_residual(ctx, &after_attn, T);

        ge_linear(ctx, &ly->up, s->x, s->g, T);
        ge_ffn_act(ctx, GE_ACT_GELU, 0, T);
        ge_linear(ctx, &ly->down, s->g, s->xn, T);
        const ge_residual_step after_ffn = {.add = 1, .res = LN(ly->out_norm, ly->out_norm_b), .quantize_x = 1};
        ge_residual(ctx, &after_ffn, T);
    }
#undef LN

    /* 3. pooling */
    for (int i = 0; i < n_seq; i++)
        ge_pool_seq(ctx, hp->pooling, (int64_t)seq_off[i], (int64_t)seq_off[i + 1], out + (size_t)i * (size_t)hp->n_out);
    return 0;
}

const ge_arch ge_arch_bert = {
    .name = "bert",
    .load = bert_load,
    .forward = bert_forward,
};
