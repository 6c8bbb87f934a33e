/*
 * model.h - the insides of ggufembed_model and ggufembed_context (private).
 *
 * Names follow the GGUF tensor names. Shapes are written math-style as
 * [rows x cols]; a linear layer's weight W [n_out x n_in] is stored row-major,
 * one row of n_in values per output, which is ggml's ne = {n_in, n_out}.
 */
#ifndef GE_MODEL_H
#define GE_MODEL_H

#include "ggufembed.h"
#include "gguf.h"
#include "platform.h"
#include "quant.h"
#include "tokenizer.h"

#include "../simd/kernels.h"

/* y = W x (+ b) with W [n_out x n_in], any supported element type */
typedef struct ge_matrix {
    const void *data;  /* n_out rows; view into the file (or NULL when absent) */
    uint32_t type;     /* a ggml type with traits (quant.h) */
    int64_t n_in, n_out;
    const float *bias; /* [n_out] added after the product, or NULL */
    /* GGUFEMBED_OPEN_REPACK: the rows decoded (quant.h) into packed_for's layout (simd/kernels.h:
     * pack_q8_0 for the types multiplied as Q8_0 blocks, pack_q8_K for the K-quants),
     * used by contexts running those kernels; NULL when not packed */
    const void *packed;
    const ge_kernels *packed_for;
    /* packed rows of a type with a min (Q4_1, Q5_1, Q2_K, Q4_K, Q5_K): the decoded
     * offsets [n_out x n_in/sub] the product adds (quant.h); NULL otherwise */
    const float *packed_mn;
    /* 1: the input stays f32 and the rows are widened to float (Q8_0 dequantized, which
     * is exact), instead of quantizing the input to Q8_0 blocks (see gemma.c's dense_2) */
    int float_input;
} ge_matrix;

/* One transformer block: the union of what the architectures use (llama.cpp's
 * llama_layer); a field an architecture does not have stays NULL / absent. Vector
 * fields are [n_embd] unless noted. */
typedef struct ge_layer {
    const float *attn_norm, *attn_norm_b; /* pre-attention norm (Gemma: RMSNorm, weight already 1 + w) */
    ge_matrix wq;                /* [n_head*head_dim x n_embd]                                */
    ge_matrix wk;                /* [n_kv_head*head_dim x n_embd]                             */
    ge_matrix wv;                /* [n_kv_head*head_dim x n_embd]                             */
    ge_matrix wqkv;              /* fused [(n_head + 2 n_kv_head)*head_dim x n_embd] (nomic)  */
    const float *q_norm;         /* [head_dim] per-head RMSNorm of q                          */
    const float *k_norm;         /* [head_dim] per-head RMSNorm of k                          */
    const float *q_ln, *q_ln_b;  /* jina-bert-v2: LayerNorm of the whole q row [n_head*head_dim] */
    const float *k_ln, *k_ln_b;  /* ... and of the k row [n_kv_head*head_dim]                  */
    ge_matrix wo;                /* [n_embd x n_head*head_dim]                                */
    const float *post_attn_norm; /* Gemma: RMSNorm of the attention output                    */
    const float *attn_out_norm, *attn_out_norm_b; /* BERT: LayerNorm(x + attention)           */
    const float *attn_norm2, *attn_norm2_b; /* jina-bert-v2: LayerNorm(that + x) again     */
    const float *ffn_norm;       /* pre-FFN norm                                              */
    ge_matrix gate;              /* [n_ff x n_embd]                                           */
    ge_matrix up;                /* [n_ff x n_embd]                                           */
    ge_matrix down;              /* [n_embd x n_ff]                                           */
    const float *post_ffn_norm;  /* Gemma: RMSNorm of the FFN output                          */
    const float *out_norm, *out_norm_b; /* BERT: LayerNorm(x + FFN) ("layer_output_norm")     */
    ge_matrix router;            /* MoE layers: [n_expert x n_embd] (ffn_gate_inp); else absent */
    ge_matrix *up_exps;          /* MoE: [n_expert] views [n_ff x n_embd] of ffn_up_exps      */
    ge_matrix *down_exps;        /* MoE: [n_expert] views [n_embd x n_ff] of ffn_down_exps    */
    int is_local;                /* sliding-window layer (symmetric window, local RoPE base)  */
} ge_layer;

typedef enum ge_pooling { GE_POOL_NONE = 0, GE_POOL_MEAN = 1, GE_POOL_CLS = 2, GE_POOL_LAST = 3, GE_POOL_RANK = 4 } ge_pooling;

/* What a token may attend to inside its own sequence */
typedef enum ge_mask {
    GE_MASK_ALL = 0,    /* bidirectional                                            */
    GE_MASK_WINDOW = 1, /* bidirectional within |i - j| <= n_swa/2 (Gemma's local layers) */
    GE_MASK_CAUSAL = 2, /* j <= i                                                   */
    GE_MASK_CAUSAL_WINDOW = 3 /* i - n_swa < j <= i (Gemma 3's local layers, llama.cpp's standard SWA) */
} ge_mask;

typedef enum ge_act { GE_ACT_GELU = 0, GE_ACT_SILU = 1 } ge_act;

typedef struct ge_hparams {
    int32_t n_embd;       /* hidden size                                        */
    int32_t n_layer;
    int32_t n_ff;
    int32_t n_head;
    int32_t n_kv_head;
    int32_t head_dim;     /* key_length = value_length                          */
    int32_t n_rot;        /* rotated dims per head (0: no RoPE)                 */
    int32_t n_ctx;        /* context_length                                     */
    int32_t n_swa;        /* sliding_window; 0 = no windowed layers             */
    float eps;            /* norm epsilon                                       */
    float rope_base;      /* global layers                                      */
    float rope_base_swa;  /* local layers                                       */
    float attn_scale;     /* 1/sqrt(head_dim)                                   */
    float embd_scale;     /* applied to gathered embeddings (Gemma: sqrt(n_embd); 1 otherwise) */
    ge_pooling pooling;
    ge_mask mask;         /* the global layers' mask                            */
    ge_mask mask_local;   /* the sliding-window layers' mask                    */
    int32_t n_expert, n_expert_used; /* MoE FFN layers (nomic-bert-moe); 0 = none */
    int32_t n_out;        /* output dimension (n_embd, or a projection's rows)  */
} ge_hparams;

/* a block of owned memory converted at load (non-F32 norm weights) */
typedef struct ge_owned {
    struct ge_owned *next;
    float data[];
} ge_owned;

/* What the platform layer hands ge_model_open_bytes along with the bytes:
 * release(user) when the model is freed (munmap), and discard(user, p, n), a hint
 * that bytes [p, p+n) will not be read again (their pages may be dropped). */
typedef struct ge_bytes_owner {
    void (*release)(void *user);
    void (*discard)(void *user, const void *p, size_t n);
    void *user;
} ge_bytes_owner;

struct ggufembed_model {
    gguf_file gguf;          /* parsed header; tensor views into the bytes below */
    const uint8_t *bytes;    /* the GGUF file: mapping or caller's buffer        */
    size_t n_bytes;
    ge_bytes_owner owner;    /* who frees `bytes` (munmap), or all NULL          */

    ge_hparams hp;
    ge_vocab vocab;
    const struct ge_arch *arch_ops; /* the architecture (arch.h)                     */
    ge_matrix tok_embd;      /* [n_vocab x n_embd], only gathered (tied output)  */
    ge_matrix type_embd;     /* BERT: [n_token_types x n_embd], row 0 added      */
    ge_matrix pos_embd;      /* BERT: [n_ctx x n_embd] learned absolute positions */
    const float *embd_norm, *embd_norm_b; /* BERT: LayerNorm of the summed embeddings */
    const float *alibi_slopes; /* jina-bert-v2: [n_head] ALiBi slope per head, or NULL */
    ge_layer *layers;        /* [n_layer]                                        */
    const float *output_norm;/* [n_embd] final norm (Gemma), or NULL             */
    ge_matrix cls;           /* rank pooling: [n_embd x n_embd] head, then tanh  */
    ge_matrix cls_out;       /* rank pooling: [n_cls_out x n_embd] scores        */
    int rank_softmax;        /* softmax over the scores (Qwen3 rerankers)        */
    ge_matrix dense2;        /* [d2_out x n_embd] or absent (data NULL)          */
    ge_matrix dense3;        /* [n_out x d2_out] or absent                       */
    ge_owned *owned;
    float *gelu_table;       /* [65536] gelu(x) by x's fp16 bits, rounded to fp16 as ggml does */

    int vocab_only;          /* no tensors: a vocabulary that tokenizes, no network */
    const struct ge_prompt_set *prompts; /* the task prompts of the model's family (prompts.h) */
    char arch[64];
    char name[128];
    char weight_types[160];
    uint64_t n_params;
    unsigned act_need; /* GE_NEED_* (ops.h): the activation formats its matrices read */
};

/* queries handled together in attention (one K/V row load serves all of them) */
#define QBLK 8

/* Per-token activations for a packed batch of up to cap_tokens tokens. */
typedef struct ge_scratch {
    int64_t cap_tokens;
    float *x;        /* [T x n_embd]   residual stream                          */
    float *xn;       /* [T x n_embd]   normed input of a sub-block / its output */
    float *q;        /* [T x n_head*head_dim]                                   */
    float *k;        /* [T x n_kv*head_dim]                                     */
    float *v;        /* [T x n_kv*head_dim]                                     */
    float *att;      /* [T x n_head*head_dim] attention output                  */
    float *g;        /* [T x n_ff]     gate, then gelu(gate)*up                 */
    float *u;        /* [T x n_ff]     up                                       */
    ge_act_bufs a;   /* [T x max_in] rows of the quantized input in every format the
                        model's matrices read (quant.h)                               */
    uint8_t *dec;    /* [n_threads x dec_bytes] one strip of 16 weight rows decoded   */
    size_t dec_bytes;
    int32_t *pos;    /* [T] position of each token inside its sequence          */
    int32_t *seq_start; /* [T] first token of the token's sequence              */
    int32_t *seq_len;   /* [T] length of that sequence                          */
    float *scores;   /* [n_threads x QBLK x n_ctx] attention scores per thread   */
    int32_t *qblk;   /* [T] first token of each block of <= QBLK queries         */
    int64_t n_qblk;  /* blocks in the current pass (no block spans two texts)    */
    float *rowbuf;   /* [n_threads x max_in] widened weight rows (float products)     */
    float *pooled;   /* [max(n_embd, dense dims)] x 2: pooled, dense work      */
    float *seq_rows[2]; /* [n_seq x ...] per-sequence rows of a pass (the dense projections), */
    size_t seq_rows_cap[2]; /* grown by ge_scratch_seq_rows                              */
    float *rope_cos[2], *rope_sin[2]; /* [rope_cap x n_rot/2], 0 local 1 global */
    int32_t *moe_sel, *moe_idx; /* MoE: [T x n_expert_used] expert per slot; slots per expert */
    float *moe_w;               /* MoE: [T x n_expert_used] weight per slot                  */
    size_t moe_cap;
    int64_t rope_cap;
} ge_scratch;

struct ggufembed_context {
    const ggufembed_model *model;
    const ge_kernels *kern;
    ge_pool *pool;
    int n_threads;
    ge_tok_scratch tok;
    ge_scratch s;
    int32_t *tokens;     /* tokens of the texts of one batch call */
    size_t tokens_cap;
    size_t *tok_off;     /* [n+1] where text i's tokens start      */
    size_t tok_off_cap;
    char *prompt;        /* task template applied to one text      */
    size_t prompt_cap;
    size_t *pass_off;    /* [n_seq+1] token offsets of one forward pass */
    size_t pass_off_cap;
    float *pass_out;     /* [n_seq x n_out] its pooled vectors          */
    size_t pass_out_cap;
    char err[512];
};


/* api.c: open from bytes (flags: GGUFEMBED_OPEN_*); owner may be NULL */
ggufembed_status ge_model_open_bytes(const void *data, size_t size, unsigned flags, const ge_bytes_owner *owner,
                                     ggufembed_model **out, char *err, size_t err_size);

/* repack.c: copies every Q8_0 matrix whose rows fit k's packed layout into it (no-op
 * when k has none); the file bytes they replace are passed to owner->discard. */
int ge_model_repack(ggufembed_model *m, const ge_kernels *k, const ge_bytes_owner *owner, char *err, size_t err_size);

/* repack.c: GGUFEMBED_OPEN_F32_ACTIVATIONS: every matrix reads the f32 input */
void ge_model_float_activations(ggufembed_model *m);

/* scratch.c: makes room for a pass of n_tokens tokens, sequences up to max_pos long */
int ge_scratch_reserve(ggufembed_context *ctx, int64_t n_tokens, int64_t max_pos);
void ge_scratch_free(ge_scratch *s);
/* s->seq_rows[i] with room for n floats (grown, never shrunk); 0 or out of memory */
int ge_scratch_seq_rows(ge_scratch *s, int i, size_t n);

#endif
