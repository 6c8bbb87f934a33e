/*
 * ops.h - the building blocks every architecture's forward pass is written with.
 *
 * They work on a packed batch of T tokens (many texts; each token attends only within
 * its own text) held in the context's scratch (model.h: ge_scratch): x the residual
 * stream, xn a sub-block's normed input or output, q/k/v/att, g/u the FFN's hidden
 * activations, aq the Q8_0-quantized copy of whatever the next matrix product reads.
 * Each op is one parallel dispatch over tokens or output rows, and each output element
 * is computed in one fixed order whatever the thread count or kernel table, so every
 * build gives the same bits (simd/kernels.h).
 */
#ifndef GE_OPS_H
#define GE_OPS_H

#include "model.h"

/* fn over the context's worker pool (or inline with one thread) */
void ge_parallel(ggufembed_context *ctx, ge_task_fn fn, void *arg);

/* ---- norms */
typedef enum ge_norm_kind { GE_NORM_RMS = 0, GE_NORM_LAYER = 1 } ge_norm_kind;
typedef struct ge_norm {
    ge_norm_kind kind;
    const float *w, *b; /* [d] weight (NULL: the step is skipped) and optional bias */
} ge_norm;

/* y = norm(x) * w (+ b) for n rows of width d; y may alias x. Sums in double with
 * 8 partial sums combined in a fixed order. */
void ge_norm_rows(const ge_norm *nm, const float *x, float *y, int64_t n, int64_t d, float eps);

/* ge_norm_rows over T token rows of width d, split over the workers */
void ge_norm_rows_tokens(ggufembed_context *ctx, const ge_norm *nm, float *x, int64_t T, int64_t d);

/* The steps between a sub-block's products and the next one's, fused into one
 * dispatch over tokens. Per token row, in this order:
 *   delta.w:  xn = norm(xn)           (Gemma: the post-attention / post-FFN norms)
 *   add:      x  = x + xn             (the residual)
 *   res.w:    x  = norm(x)            (BERT: post-LayerNorm of the sum)
 *   next.w:   xn = norm(x), quantized (the next sub-block's pre-norm)
 *   else quantize_x: x quantized      (BERT: x itself is the next input)
 * Rows are [n_embd]. */
typedef struct ge_residual_step {
    ge_norm delta;
    int add;
    ge_norm res;
    ge_norm next;
    int quantize_x;
} ge_residual_step;
void ge_residual(ggufembed_context *ctx, const ge_residual_step *step, int64_t T);

/* ---- matrix products */
/* Quantizes row t of an input (x = that row, n values) into every activation format
 * the model reads (scratch aq / ak and the sums), at row t of those buffers. */
void ge_quantize_input_row(ggufembed_context *ctx, const float *x, int64_t t, int64_t n);
/* Quantizes x [T x n_in] into the scratch's activation buffers, which every quantized
 * product reads (F32/F16/BF16 and float_input products read x itself). */
void ge_prepare_input(ggufembed_context *ctx, const float *x, int64_t T, int64_t n_in);
/* y [T x n_out] = x [T x n_in] W^T (+ bias), the input already prepared */
void ge_linear(ggufembed_context *ctx, const ge_matrix *w, const float *x, float *y, int64_t T);
/* two or three products of the same prepared input in one dispatch (w3 may be NULL) */
void ge_linear_n(ggufembed_context *ctx, const float *x, int64_t T, const ge_matrix *w1, float *y1,
                 const ge_matrix *w2, float *y2, const ge_matrix *w3, float *y3);

/* ---- embeddings */
/* out[0 .. w->n_in) = row `row` of w, widened to float */
void ge_gather_row(const ge_matrix *w, int64_t row, float *out);
/* Starts a forward pass over n_seq packed sequences (tokens seq_off[i] .. seq_off[i+1]):
 * makes room in the scratch (ge_scratch_reserve) and fills positions, sequence
 * starts/lengths and query blocks. Returns 0 or GGUFEMBED_ERR_OUT_OF_MEMORY. */
int ge_batch_begin(ggufembed_context *ctx, const size_t *seq_off, int n_seq);

/* ---- attention */
/* Per-head RMSNorm of q and k (when q_norm/k_norm are set) and NEOX RoPE (when
 * hp.n_rot > 0), on s->q [T x n_head*head_dim] and s->k [T x n_kv*head_dim]. */
void ge_qk_norm_rope(ggufembed_context *ctx, const ge_layer *ly, int64_t T);
/* s->att = softmax(q k^T * attn_scale, masked) v per head (GQA: heads share kv heads) */
void ge_attention(ggufembed_context *ctx, ge_mask mask, int64_t T);

/* ---- feed-forward activations */
/* s->g = act(s->g) (* s->u when gated), then quantized for the down projection.
 * GELU is ggml's fp16 table (model->gelu_table); rows are [n_ff]. */
void ge_ffn_act(ggufembed_context *ctx, ge_act act, int gated, int64_t T);
/* ggml's CPU GELU table (GGML_GELU_FP16): [65536] gelu_tanh(x) by x's fp16 bits, each
 * result rounded to fp16. Identity above 10, zero below -10 (applied by the users). */
float *ge_gelu_table_new(void);

/* ---- pooling */
/* out [hp.n_out] = the pooled hidden state of tokens [a, b) of s->x: MEAN (in double),
 * CLS (the first token), LAST (the last); RANK: the first token (the last for causal
 * models), then the classifier head: tanh(cls x + b), cls.output x + b, and a softmax
 * over the scores for Qwen3 (llama.cpp's build_pooling) */
void ge_pool_seq(ggufembed_context *ctx, int64_t a, int64_t b, float *out);

#endif
