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
 *
 * nomic-bert (nomic-embed-text v1/v1.5, arctic-embed-m-long) is the same graph in
 * llama.cpp (it reuses bert's): no position embeddings but NEOX RoPE on q and k, a
 * fused attn_qkv, and a SwiGLU FFN (silu(x Wgate) * x Wup) Wdown with no biases
 * (llama.cpp ignores FFN biases there even when a file has them).
 *
 * jina-bert-v2 (jina-embeddings-v2, jina-reranker-v1) too: no positions at all but
 * ALiBi (score + slope_h * -|i - j|, max bias 8), optional LayerNorms of the whole q and
 * k rows, and a GEGLU FFN: gelu(x Wgate) * (x Wup + b), the gate being either its own
 * ffn_gate or the first n_ff rows of an ffn_up of 2 n_ff rows.
 *
 * nomic-bert-moe (nomic-embed-text-v2-moe): nomic-bert's attention (RoPE, fused qkv with
 * bias) with bert's GELU FFN, and every moe_every_n_layers-th layer (il % n == 1) a
 * mixture of experts instead (moe.c).
 */
#include "alloc.h"
#include "arch.h"
#include "moe.h"
#include "ops.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* How an architecture of the bert family differs from bert itself */
typedef enum bert_ffn {
    FFN_GELU,   /* gelu(x Wup + b) Wdown + b                                     */
    FFN_SWIGLU, /* (silu(x Wgate) * x Wup) Wdown, biases ignored (llama.cpp)       */
    FFN_GEGLU   /* (gelu(x Wgate) * (x Wup + b)) Wdown + b                         */
} bert_ffn;

typedef struct bert_variant {
    const char *arch;
    int learned_pos; /* position_embd rows added to the embeddings              */
    int rope;        /* NEOX RoPE on q and k                                     */
    int alibi;       /* ALiBi biases on the attention scores (max bias 8)        */
    int moe;         /* mixture-of-experts FFN every moe_every_n_layers layers   */
    bert_ffn ffn;
} bert_variant;

static const bert_variant k_variants[] = {
    {.arch = "bert", .learned_pos = 1, .ffn = FFN_GELU},
    {.arch = "nomic-bert", .rope = 1, .ffn = FFN_SWIGLU},
    {.arch = "jina-bert-v2", .alibi = 1, .ffn = FFN_GEGLU},
    {.arch = "nomic-bert-moe", .rope = 1, .moe = 1, .ffn = FFN_GELU},
};

static const bert_variant *variant_of(const ggufembed_model *m) {
    for (size_t i = 0; i < sizeof k_variants / sizeof k_variants[0]; i++)
        if (!strcmp(m->arch, k_variants[i].arch)) return &k_variants[i];
    return &k_variants[0];
}

/* ALiBi slopes per head as ggml's soft_max computes them (m0^(h+1), then m1^(2(h-n)+1)),
 * the powers in double and rounded once: the same bits with any libm */
static int alibi_slopes(ge_loader *L, float max_bias) {
    ggufembed_model *m = L->m;
    const int32_t H = m->hp.n_head;
    ge_owned *o = ge_malloc(sizeof(ge_owned) + sizeof(float) * (size_t)H);
    if (!o) {
        ge_errorf(L->err, L->es, "out of memory");
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    o->next = m->owned;
    m->owned = o;
    uint32_t n_log2 = 1;
    while (n_log2 * 2 <= (uint32_t)H) n_log2 *= 2;
    const float m0 = (float)pow(2.0, (double)(-max_bias / (float)n_log2));
    const float m1 = (float)pow(2.0, (double)(-(max_bias / 2.0f) / (float)n_log2));
    for (int32_t h = 0; h < H; h++)
        o->data[h] = (uint32_t)h < n_log2 ? (float)pow((double)m0, (double)(h + 1))
                                          : (float)pow((double)m1, (double)(2 * (h - (int32_t)n_log2) + 1));
    m->alibi_slopes = o->data;
    return 0;
}

/* GEGLU's gate and up: a separate ffn_gate, or the two halves of an ffn_up of 2 n_ff
 * rows (ggml_geglu gates the first half) */
static int load_geglu(ge_loader *L, int il, int64_t E, int64_t F, ge_layer *ly) {
    char up[128], gate[128];
    int rc;
    snprintf(up, sizeof up, "blk.%d.ffn_up.weight", il);
    snprintf(gate, sizeof gate, "blk.%d.ffn_gate.weight", il);
    if (gguf_find_tensor(&L->m->gguf, gate)) {
        if ((rc = ge_get_matrix(L, gate, E, F, 1, &ly->gate)) || (rc = ge_get_matrix(L, up, E, F, 1, &ly->up)) ||
            (rc = ge_get_bias(L, up, &ly->up)))
            return rc;
        return 0;
    }
    ge_matrix both;
    if ((rc = ge_get_matrix(L, up, E, 2 * F, 1, &both)) || (rc = ge_get_bias(L, up, &both))) return rc;
    ly->gate = ly->up = both;
    ly->gate.n_out = ly->up.n_out = F;
    ly->up.data = (const uint8_t *)both.data + ge_matrix_row_bytes(&both) * (size_t)F;
    ly->gate.bias = NULL; /* llama.cpp adds the bias of the fused rows before the split */
    if (both.bias) ly->gate.bias = both.bias, ly->up.bias = both.bias + F;
    return 0;
}

/* q, k, v: separate matrices, or views of the rows of a fused attn_qkv (the same
 * products: each output row is its own dot product), each with its bias if any */
static int load_qkv(ge_loader *L, int il, int64_t E, int64_t HD, int64_t KVD, ge_layer *ly) {
    int rc;
    char name[128];
    snprintf(name, sizeof name, "blk.%d.attn_qkv.weight", il);
    if (gguf_find_tensor(&L->m->gguf, name)) {
        ge_matrix qkv;
        if ((rc = ge_get_matrix(L, name, E, HD + 2 * KVD, 1, &qkv)) || (rc = ge_get_bias(L, name, &qkv))) return rc;
        const size_t row = ge_matrix_row_bytes(&qkv);
        ly->wq = ly->wk = ly->wv = qkv;
        ly->wq.n_out = HD;
        ly->wk.n_out = ly->wv.n_out = KVD;
        ly->wk.data = (const uint8_t *)qkv.data + row * (size_t)HD;
        ly->wv.data = (const uint8_t *)qkv.data + row * (size_t)(HD + KVD);
        if (qkv.bias) ly->wk.bias = qkv.bias + HD, ly->wv.bias = qkv.bias + HD + KVD;
        return 0;
    }
    const char *const names[3] = {"blk.%d.attn_q.weight", "blk.%d.attn_k.weight", "blk.%d.attn_v.weight"};
    ge_matrix *const ws[3] = {&ly->wq, &ly->wk, &ly->wv};
    const int64_t outs[3] = {HD, KVD, KVD};
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, names[i], il);
        if ((rc = ge_get_matrix(L, name, E, outs[i], 1, ws[i])) || (rc = ge_get_bias(L, name, ws[i]))) return rc;
    }
    return 0;
}

static int bert_load(ge_loader *L) {
    ggufembed_model *m = L->m;
    const bert_variant *var = variant_of(m);
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
        (rc = ge_hp_float(L, "rope.freq_base", 10000.0, 1.0, 1e12, &hp->rope_base)) ||
        (rc = ge_load_pooling(L, GE_POOL_MEAN, 1)))
        return rc;
    if (key_len != val_len || key_len % 8 || hp->n_head % hp->n_kv_head != 0 || hp->n_head * key_len != hp->n_embd) {
        ge_errorf(L->err, L->es,
                  "unsupported attention shape: key_length %d, value_length %d, %d heads / %d kv heads, n_embd %d",
                  key_len, val_len, hp->n_head, hp->n_kv_head, hp->n_embd);
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    hp->head_dim = key_len;
    hp->n_rot = 0;
    if (var->rope && (rc = ge_hp_int(L, "rope.dimension_count", key_len, 2, key_len, &hp->n_rot))) return rc;
    if (var->alibi && (rc = alibi_slopes(L, 8.0f))) return rc; /* llama.cpp: f_max_alibi_bias = 8 */
    int32_t moe_every = 0;
    if (var->moe && ((rc = ge_hp_int(L, "moe_every_n_layers", 0, 0, 1 << 10, &moe_every)) ||
                     (rc = ge_hp_int(L, "expert_count", moe_every ? -1 : 0, 0, 1 << 10, &hp->n_expert)) ||
                     (rc = ge_hp_int(L, "expert_used_count", moe_every ? -1 : 0, 0, hp->n_expert, &hp->n_expert_used))))
        return rc;
    if (moe_every && (hp->n_expert_used < 1 || (int64_t)hp->n_expert_used * hp->n_embd > hp->n_ff || hp->n_expert > hp->n_ff)) {
        ge_errorf(L->err, L->es, "unsupported mixture of experts: %d of %d experts, n_embd %d, n_ff %d", hp->n_expert_used,
                  hp->n_expert, hp->n_embd, hp->n_ff);
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    if (hp->n_rot % 2) {
        ge_errorf(L->err, L->es, "rope.dimension_count %d is odd", hp->n_rot);
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    hp->rope_base_swa = hp->rope_base;
    hp->n_swa = 0;
    hp->mask = causal ? GE_MASK_CAUSAL : GE_MASK_ALL;
    hp->attn_scale = 1.0f / sqrtf((float)key_len);
    hp->embd_scale = 1.0f;
    hp->n_out = hp->n_embd;

    const int64_t E = hp->n_embd, F = hp->n_ff, KVD = (int64_t)hp->n_kv_head * key_len;
    if ((rc = ge_get_matrix(L, "token_embd.weight", E, m->vocab.n_tokens, 1, &m->tok_embd)) ||
        (rc = ge_get_matrix(L, "token_types.weight", E, 0, var->alibi, &m->type_embd)) ||
        (rc = ge_get_matrix(L, "position_embd.weight", E, 0, var->learned_pos, &m->pos_embd)) ||
        (rc = ge_get_vector(L, "token_embd_norm.weight", E, 1, &m->embd_norm)) ||
        (rc = ge_get_vector(L, "token_embd_norm.bias", E, 1, &m->embd_norm_b)))
        return rc;
    if (var->learned_pos && m->pos_embd.n_out < hp->n_ctx) {
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
        if ((rc = load_qkv(L, il, E, E, KVD, ly))) return rc;
        char name[128];
        snprintf(name, sizeof name, "blk.%d.attn_output.weight", il);
        if ((rc = ge_get_matrix(L, name, E, E, 1, &ly->wo)) || (rc = ge_get_bias(L, name, &ly->wo))) return rc;
        snprintf(name, sizeof name, "blk.%d.ffn_down.weight", il);
        const int moe_layer = moe_every && il % moe_every == 1;
        if (!moe_layer && ((rc = ge_get_matrix(L, name, F, E, 1, &ly->down)) ||
                           (var->ffn != FFN_SWIGLU && (rc = ge_get_bias(L, name, &ly->down)))))
            return rc;
        if (moe_every && il % moe_every == 1) { /* llama.cpp's rule for which layers are MoE */
            if ((rc = ge_load_moe(L, il, ly))) return rc;
        } else if (var->ffn == FFN_GEGLU) {
            if ((rc = load_geglu(L, il, E, F, ly))) return rc;
        } else {
            snprintf(name, sizeof name, "blk.%d.ffn_up.weight", il);
            if ((rc = ge_get_matrix(L, name, E, F, 1, &ly->up)) ||
                (var->ffn == FFN_GELU && (rc = ge_get_bias(L, name, &ly->up))))
                return rc;
            snprintf(name, sizeof name, "blk.%d.ffn_gate.weight", il);
            if (var->ffn == FFN_SWIGLU && (rc = ge_get_matrix(L, name, E, F, 1, &ly->gate))) return rc;
        }
        /* jina-bert-v2: LayerNorms of the whole q and k rows (optional) */
        if (var->alibi &&
            ((rc = ge_get_vector(L, ge_tn(L, "blk.%d.attn_q_norm.weight", il), E, 0, &ly->q_ln)) ||
             (rc = ge_get_vector(L, ge_tn(L, "blk.%d.attn_q_norm.bias", il), E, 0, &ly->q_ln_b)) ||
             (rc = ge_get_vector(L, ge_tn(L, "blk.%d.attn_k_norm.weight", il), KVD, 0, &ly->k_ln)) ||
             (rc = ge_get_vector(L, ge_tn(L, "blk.%d.attn_k_norm.bias", il), KVD, 0, &ly->k_ln_b))))
            return rc;
        /* jina-bert-v2 (code models): a second LayerNorm that re-adds the layer input */
        if ((rc = ge_get_vector(L, ge_tn(L, "blk.%d.attn_norm_2.weight", il), E, 0, &ly->attn_norm2)) ||
            (ly->attn_norm2 && (rc = ge_get_vector(L, ge_tn(L, "blk.%d.attn_norm_2.bias", il), E, 1, &ly->attn_norm2_b))))
            return rc;
        if (ly->attn_norm2 && F < E) {
            ge_errorf(L->err, L->es, "attn_norm_2 needs feed_forward_length >= embedding_length");
            return GGUFEMBED_ERR_UNSUPPORTED;
        }
        if ((rc = ge_get_vector(L, ge_tn(L, "blk.%d.attn_output_norm.weight", il), E, 1, &ly->attn_out_norm)) ||
            (rc = ge_get_vector(L, ge_tn(L, "blk.%d.attn_output_norm.bias", il), E, 1, &ly->attn_out_norm_b)) ||
            (rc = ge_get_vector(L, ge_tn(L, "blk.%d.layer_output_norm.weight", il), E, 1, &ly->out_norm)) ||
            (rc = ge_get_vector(L, ge_tn(L, "blk.%d.layer_output_norm.bias", il), E, 1, &ly->out_norm_b)))
            return rc;
    }
    return ge_load_rank_head(L);
}

static int bert_forward(ggufembed_context *ctx, const int32_t *tokens, const size_t *seq_off, int n_seq, float *out) {
    const ggufembed_model *m = ctx->model;
    const ge_hparams *hp = &m->hp;
    const int64_t T = (int64_t)seq_off[n_seq];
    int rc = ge_batch_begin(ctx, seq_off, n_seq);
    if (rc) return rc;
    ge_scratch *s = &ctx->s;
    const int64_t E = hp->n_embd;

    /* 1. token + type-0 + position embeddings (in llama.cpp's order of additions), LayerNorm */
    float *type0 = s->pooled, *pos = s->pooled + E; /* two rows of work space */
    if (m->type_embd.data) ge_gather_row(&m->type_embd, 0, type0);
    for (int64_t t = 0; t < T; t++) {
        float *x = s->x + t * E;
        ge_gather_row(&m->tok_embd, tokens[t], x);
        if (m->type_embd.data)
            for (int64_t i = 0; i < E; i++) x[i] += type0[i];
        if (!m->pos_embd.data) continue; /* RoPE instead */
        ge_gather_row(&m->pos_embd, s->pos[t], pos);
        for (int64_t i = 0; i < E; i++) x[i] = pos[i] + x[i];
    }
#define LN(w, b) {GE_NORM_LAYER, (w), (b)}
    const ge_residual_step embd = {.res = LN(m->embd_norm, m->embd_norm_b), .quantize_x = 1};
    ge_residual(ctx, &embd, T);

    /* 2. the layers: each sub-block reads x (already quantized) and ends in x = LN(x + out) */
    for (int il = 0; il < hp->n_layer; il++) {
        const ge_layer *ly = &m->layers[il];
        if (ly->attn_norm2) memcpy(s->u, s->x, sizeof(float) * (size_t)(T * E)); /* the layer input, kept */
        ge_linear_n(ctx, s->x, T, &ly->wq, s->q, &ly->wk, s->k, &ly->wv, s->v);
        if (ly->q_ln) ge_norm_rows_tokens(ctx, &(ge_norm)LN(ly->q_ln, ly->q_ln_b), s->q, T, E);
        if (ly->k_ln) ge_norm_rows_tokens(ctx, &(ge_norm)LN(ly->k_ln, ly->k_ln_b), s->k, T, ly->wk.n_out);
        ge_qk_norm_rope(ctx, ly, T);
        ge_attention(ctx, hp->mask, T);
        ge_prepare_input(ctx, s->att, T, E);
        ge_linear(ctx, &ly->wo, s->att, s->xn, T);
        const ge_residual_step after_attn = {.add = 1, .res = LN(ly->attn_out_norm, ly->attn_out_norm_b),
                                             .quantize_x = !ly->attn_norm2};
        ge_residual(ctx, &after_attn, T);
        if (ly->attn_norm2) { /* x = LN2(x + layer input) */
            memcpy(s->xn, s->u, sizeof(float) * (size_t)(T * E));
            const ge_residual_step again = {.add = 1, .res = LN(ly->attn_norm2, ly->attn_norm2_b), .quantize_x = 1};
            ge_residual(ctx, &again, T);
        }

        if (ly->router.data) {
            if ((rc = ge_moe_ffn(ctx, ly, T))) return rc;
        } else if (ly->gate.data) { /* SwiGLU / GEGLU */
            ge_linear_n(ctx, s->x, T, &ly->gate, s->g, &ly->up, s->u, NULL, NULL);
            ge_ffn_act(ctx, variant_of(m)->ffn == FFN_SWIGLU ? GE_ACT_SILU : GE_ACT_GELU, 1, T);
        } else {
            ge_linear(ctx, &ly->up, s->x, s->g, T);
            ge_ffn_act(ctx, GE_ACT_GELU, 0, T);
        }
        if (!ly->router.data) ge_linear(ctx, &ly->down, s->g, s->xn, T);
        const ge_residual_step after_ffn = {.add = 1, .res = LN(ly->out_norm, ly->out_norm_b), .quantize_x = 1};
        ge_residual(ctx, &after_ffn, T);
    }
#undef LN

    /* 3. pooling */
    for (int i = 0; i < n_seq; i++)
        ge_pool_seq(ctx, (int64_t)seq_off[i], (int64_t)seq_off[i + 1], out + (size_t)i * (size_t)hp->n_out);
    return 0;
}

const ge_arch ge_arch_bert = {
    .name = "bert",
    .load = bert_load,
    .forward = bert_forward,
};

const ge_arch ge_arch_nomic_bert = {
    .name = "nomic-bert",
    .load = bert_load,
    .forward = bert_forward,
};

const ge_arch ge_arch_nomic_bert_moe = {
    .name = "nomic-bert-moe",
    .load = bert_load,
    .forward = bert_forward,
};

const ge_arch ge_arch_jina_bert_v2 = {
    .name = "jina-bert-v2",
    .load = bert_load,
    .forward = bert_forward,
};
