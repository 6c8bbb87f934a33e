/* ops.c - the shared building blocks of the forward passes (see ops.h). */
#include "ops.h"

#include "alloc.h"
#include "util.h"

#include <math.h>
#include <string.h>

void ge_parallel(ggufembed_context *ctx, ge_task_fn fn, void *arg) {
    if (ctx->pool && ctx->n_threads > 1) ge_pool_run(ctx->pool, fn, arg);
    else fn(arg, 0, 1);
}

/* this thread's share [*t0, *t1) of T token rows */
static void token_range(int64_t T, int ith, int nth, int64_t *t0, int64_t *t1) {
    const int64_t per = (T + nth - 1) / nth;
    *t0 = per * ith;
    *t1 = *t0 + per < T ? *t0 + per : T;
}

/* ------------------------------------------------------------ norms */

/* sum of f(x[i]) in double: 8 independent partial sums (one serial chain of double adds
 * was 7% of a batch's time), combined in a fixed order */
static double sum_sq(const float *x, int64_t d, float mean) {
    double p[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= d; i += 8)
        for (int k = 0; k < 8; k++) {
            const float v = x[i + k] - mean;
            p[k] += (double)v * v;
        }
    for (; i < d; i++) {
        const float v = x[i] - mean;
        p[0] += (double)v * v;
    }
    return ((p[0] + p[4]) + (p[2] + p[6])) + ((p[1] + p[5]) + (p[3] + p[7]));
}

static double sum_plain(const float *x, int64_t d) {
    double p[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= d; i += 8)
        for (int k = 0; k < 8; k++) p[k] += x[i + k];
    for (; i < d; i++) p[0] += x[i];
    return ((p[0] + p[4]) + (p[2] + p[6])) + ((p[1] + p[5]) + (p[3] + p[7]));
}

void ge_norm_rows(const ge_norm *nm, const float *x, float *y, int64_t n, int64_t d, float eps) {
    for (int64_t r = 0; r < n; r++) {
        const float *xr = x + r * d;
        float *yr = y + r * d;
        if (nm->kind == GE_NORM_RMS) {
            /* x - 0.0f is x exactly: the same sums as a plain sum of squares */
            const float scale = 1.0f / sqrtf((float)(sum_sq(xr, d, 0.0f) / (double)d) + eps);
            for (int64_t i = 0; i < d; i++) yr[i] = xr[i] * scale * nm->w[i];
        } else { /* ggml_norm: mean, then the variance of x - mean */
            const float mean = (float)(sum_plain(xr, d) / (double)d);
            const float scale = 1.0f / sqrtf((float)(sum_sq(xr, d, mean) / (double)d) + eps);
            for (int64_t i = 0; i < d; i++) yr[i] = (xr[i] - mean) * scale * nm->w[i];
        }
        if (nm->b)
            for (int64_t i = 0; i < d; i++) yr[i] += nm->b[i];
    }
}

typedef struct norm_job {
    ggufembed_context *ctx;
    const ge_norm *nm;
    float *x;
    int64_t T, d;
} norm_job;

static void norm_task(void *arg, int ith, int nth) {
    const norm_job *j = arg;
    int64_t t0, t1;
    token_range(j->T, ith, nth, &t0, &t1);
    if (t0 < t1) ge_norm_rows(j->nm, j->x + t0 * j->d, j->x + t0 * j->d, t1 - t0, j->d, j->ctx->model->hp.eps);
}

void ge_norm_rows_tokens(ggufembed_context *ctx, const ge_norm *nm, float *x, int64_t T, int64_t d) {
    norm_job j = {ctx, nm, x, T, d};
    ge_parallel(ctx, norm_task, &j);
}

typedef struct residual_job {
    ggufembed_context *ctx;
    const ge_residual_step *st;
    int64_t T;
} residual_job;

static void residual_task(void *arg, int ith, int nth) {
    const residual_job *j = arg;
    ge_scratch *s = &j->ctx->s;
    const ge_hparams *hp = &j->ctx->model->hp;
    const ge_residual_step *st = j->st;
    const int64_t E = hp->n_embd;
    int64_t t0, t1;
    token_range(j->T, ith, nth, &t0, &t1);
    if (t0 >= t1) return;
    float *x = s->x + t0 * E, *xn = s->xn + t0 * E;
    const int64_t n = t1 - t0;
    if (st->delta.w) ge_norm_rows(&st->delta, xn, xn, n, E, hp->eps);
    if (st->add)
        for (int64_t i = 0; i < n * E; i++) x[i] += xn[i];
    if (st->res.w) ge_norm_rows(&st->res, x, x, n, E, hp->eps);
    const float *q = NULL;
    if (st->next.w) {
        ge_norm_rows(&st->next, x, xn, n, E, hp->eps);
        q = xn;
    } else if (st->quantize_x) {
        q = x;
    }
    if (q)
        for (int64_t t = 0; t < n; t++) ge_quantize_input_row(j->ctx, q + t * E, t0 + t, E);
}

void ge_residual(ggufembed_context *ctx, const ge_residual_step *step, int64_t T) {
    residual_job j = {ctx, step, T};
    ge_parallel(ctx, residual_task, &j);
}

/* ------------------------------------------------------------ matrix products */

void ge_quantize_input_row(ggufembed_context *ctx, const float *x, int64_t t, int64_t n) {
    ge_quantize_act_row(ctx->kern, ctx->model->act_need, x, n, &ctx->s.a, t);
}

/* Up to 3 products of the same input (q/k/v, gate/up) in one dispatch. */
typedef struct matmul_job {
    ggufembed_context *ctx;
    const float *x;       /* [T x n_in] f32 input (float weights, float_input) */
    int64_t T;
    int n;
    const ge_matrix *w[3];
    float *y[3];          /* [T x n_out] each                                  */
} matmul_job;

static void matmul_one(const matmul_job *j, const ge_matrix *w, float *y, int ith, int nth);

static void matmul_task(void *arg, int ith, int nth) {
    const matmul_job *j = arg;
    for (int i = 0; i < j->n; i++) matmul_one(j, j->w[i], j->y[i], ith, nth);
}

/* this thread's share of the output rows: multiples of 16 (the kernels' widest strip,
 * and the decoded strips below) */
#define STRIP 16
static void row_range(int64_t n_out, int ith, int nth, int64_t *r0, int64_t *r1) {
    int64_t per = (n_out + nth - 1) / nth;
    per = (per + STRIP - 1) & ~(int64_t)(STRIP - 1);
    *r0 = per * ith;
    *r1 = *r0 + per < n_out ? *r0 + per : n_out;
}

static void matmul_rows(const matmul_job *j, const ge_matrix *w, float *y, int64_t r0, int64_t r1, int ith);

/* the product, then the bias (llama.cpp: ggml_add after ggml_mul_mat, one rounding each) */
static void matmul_one(const matmul_job *j, const ge_matrix *w, float *y, int ith, int nth) {
    int64_t r0, r1;
    row_range(w->n_out, ith, nth, &r0, &r1);
    if (r0 >= r1) return;
    matmul_rows(j, w, y, r0, r1, ith);
    if (w->bias)
        for (int64_t t = 0; t < j->T; t++)
            for (int64_t r = r0; r < r1; r++) y[t * w->n_out + r] += w->bias[r];
}

static void matmul_rows(const matmul_job *j, const ge_matrix *w, float *y, int64_t r0, int64_t r1, int ith) {
    const ge_kernels *k = j->ctx->kern;
    ge_scratch *s = &j->ctx->s;
    if (!w->float_input) {
        const int64_t nb = w->n_in / QK8_0;
        if (w->packed && w->packed_for == k) { /* r0 is on a strip boundary: n_out % pack_rows == 0 */
            const ge_type_traits *tt = ge_type_traits_of(w->type);
            if (tt->act == GE_AF_Q8_K) {
                const size_t strip = k->packed_size_q8_K(k->pack_rows, w->n_in, tt->sub, tt->has_min);
                k->gemm_q8_K_packed(w->n_in, tt->sub, tt->has_min,
                                    (const uint8_t *)w->packed + (size_t)(r0 / k->pack_rows) * strip, r1 - r0,
                                    s->a.q8_K, j->T, y + r0, w->n_out);
            } else {
                const size_t strip = k->packed_size(k->pack_rows, nb);
                k->gemm_q8_0_packed(nb, (const uint8_t *)w->packed + (size_t)(r0 / k->pack_rows) * strip, r1 - r0,
                                    s->a.q8_0, j->T, y + r0, w->n_out);
            }
            if (w->packed_mn)
                ge_add_min_terms(k, w->type, w->packed_mn + r0 * (w->n_in / tt->sub), r1 - r0, w->n_in, &s->a, j->T,
                                 y + r0, w->n_out);
            return;
        }
        if (w->type == GGML_TYPE_Q8_0) { /* zero-copy: the file's blocks are the kernel's input */
            k->gemm_q8_0(nb, (const block_q8_0 *)w->data + r0 * nb, r1 - r0, s->a.q8_0, j->T, y + r0, w->n_out);
            return;
        }
        if (ge_type_traits_of(w->type)->decode) { /* the other quantized types: decoded strips */
            ge_gemm_quant(k, w->type, (const uint8_t *)w->data + (size_t)r0 * ge_row_bytes(w->type, w->n_in), r1 - r0,
                          w->n_in, &s->a, j->T, y + r0, w->n_out, s->dec + (size_t)ith * s->dec_bytes);
            return;
        }
    }
    /* F32 / F16 / BF16 weights (and float_input matrices of any type): widen one row
     * at a time, float dot products with the f32 input */
    float *row = s->rowbuf + (size_t)ith * (size_t)w->n_in; /* n_threads rows of the widest input */
    const size_t row_bytes = ge_row_bytes(w->type, w->n_in);
    for (int64_t r = r0; r < r1; r++) {
        const float *wr = row;
        if (w->type == GGML_TYPE_F32)
            wr = (const float *)w->data + r * w->n_in;
        else
            ge_row_to_float(w->type, (const uint8_t *)w->data + (size_t)r * row_bytes, row, w->n_in);
        for (int64_t t = 0; t < j->T; t++) y[t * w->n_out + r] = k->dot_f32(w->n_in, wr, j->x + t * w->n_in);
    }
}

typedef struct quant_job {
    ggufembed_context *ctx;
    const float *x;
    int64_t T, n;
} quant_job;

static void quant_task(void *arg, int ith, int nth) {
    quant_job *j = arg;
    for (int64_t t = ith; t < j->T; t += nth) ge_quantize_input_row(j->ctx, j->x + t * j->n, t, j->n);
}

void ge_prepare_input(ggufembed_context *ctx, const float *x, int64_t T, int64_t n_in) {
    quant_job q = {ctx, x, T, n_in};
    ge_parallel(ctx, quant_task, &q);
}

void ge_linear(ggufembed_context *ctx, const ge_matrix *w, const float *x, float *y, int64_t T) {
    matmul_job j = {ctx, x, T, 1, {w, NULL, NULL}, {y, NULL, NULL}};
    ge_parallel(ctx, matmul_task, &j);
}

void ge_linear_n(ggufembed_context *ctx, const float *x, int64_t T, const ge_matrix *w1, float *y1,
                     const ge_matrix *w2, float *y2, const ge_matrix *w3, float *y3) {
    matmul_job j = {ctx, x, T, w3 ? 3 : 2, {w1, w2, w3}, {y1, y2, y3}};
    ge_parallel(ctx, matmul_task, &j);
}


/* ------------------------------------------------------------ embeddings */

void ge_gather_row(const ge_matrix *w, int64_t row, float *x) {
    ge_row_to_float(w->type, (const uint8_t *)w->data + (size_t)row * ge_row_bytes(w->type, w->n_in), x, w->n_in);
}

int ge_batch_begin(ggufembed_context *ctx, const size_t *seq_off, int n_seq) {
    int64_t max_len = 0;
    for (int i = 0; i < n_seq; i++)
        if ((int64_t)(seq_off[i + 1] - seq_off[i]) > max_len) max_len = (int64_t)(seq_off[i + 1] - seq_off[i]);
    const int rc = ge_scratch_reserve(ctx, (int64_t)seq_off[n_seq], max_len);
    if (rc) return rc;
    ge_scratch *s = &ctx->s;
    s->n_qblk = 0;
    for (int i = 0; i < n_seq; i++)
        for (size_t t = seq_off[i]; t < seq_off[i + 1]; t++) {
            s->pos[t] = (int32_t)(t - seq_off[i]);
            s->seq_start[t] = (int32_t)seq_off[i];
            s->seq_len[t] = (int32_t)(seq_off[i + 1] - seq_off[i]);
            if (s->pos[t] % QBLK == 0) s->qblk[s->n_qblk++] = (int32_t)t;
        }
    return 0;
}

/* ------------------------------------------------------------ attention */

/* per-head RMSNorm (w may be NULL) and NEOX RoPE (pairs i, i + n_rot/2) on rows of n_heads x head_dim */
static void norm_rope(ggufembed_context *ctx, float *qk, int64_t t0, int64_t t1, int n_heads, const float *w, int local) {
    const ge_hparams *hp = &ctx->model->hp;
    const int32_t D = hp->head_dim, half = hp->n_rot / 2;
    const float *cs = ctx->s.rope_cos[local ? 0 : 1], *sn = ctx->s.rope_sin[local ? 0 : 1];
    const ge_norm nm = {GE_NORM_RMS, w, NULL};
    for (int64_t t = t0; t < t1; t++) {
        const int32_t p = ctx->s.pos[t];
        for (int h = 0; h < n_heads; h++) {
            float *v = qk + (t * n_heads + h) * D;
            if (w) ge_norm_rows(&nm, v, v, 1, D, hp->eps);
            if (!half) continue;
            const float *c = cs + (int64_t)p * half, *s = sn + (int64_t)p * half;
            for (int32_t i = 0; i < half; i++) {
                const float x0 = v[i], x1 = v[i + half];
                v[i] = x0 * c[i] - x1 * s[i];
                v[i + half] = x0 * s[i] + x1 * c[i];
            }
        }
    }
}

typedef struct qk_job {
    ggufembed_context *ctx;
    const ge_layer *ly;
    int64_t T;
} qk_job;

static void qk_task(void *arg, int ith, int nth) {
    const qk_job *j = arg;
    const ge_hparams *hp = &j->ctx->model->hp;
    int64_t t0, t1;
    token_range(j->T, ith, nth, &t0, &t1);
    if (t0 >= t1) return;
    norm_rope(j->ctx, j->ctx->s.q, t0, t1, hp->n_head, j->ly->q_norm, j->ly->is_local);
    norm_rope(j->ctx, j->ctx->s.k, t0, t1, hp->n_kv_head, j->ly->k_norm, j->ly->is_local);
}

void ge_qk_norm_rope(ggufembed_context *ctx, const ge_layer *ly, int64_t T) {
    if (!ly->q_norm && !ly->k_norm && ctx->model->hp.n_rot == 0) return;
    qk_job j = {ctx, ly, T};
    ge_parallel(ctx, qk_task, &j);
}

typedef struct attn_job {
    ggufembed_context *ctx;
    int64_t T;
    ge_mask mask;
} attn_job;

/* Attention for one head and a block of up to QBLK consecutive queries of one
 * text: scores against the keys the block can see (the union of its queries'
 * windows: [lo of the first, hi of the last), as windows only move right), a
 * softmax per query over its own window, then P V (zeros outside the window). */
static void attn_task(void *arg, int ith, int nth) {
    attn_job *j = arg;
    ggufembed_context *ctx = j->ctx;
    const ge_hparams *hp = &ctx->model->hp;
    const ge_kernels *k = ctx->kern;
    const ge_scratch *s = &ctx->s;
    const int32_t D = hp->head_dim, H = hp->n_head, KV = hp->n_kv_head;
    const int64_t HD = (int64_t)H * D, KVD = (int64_t)KV * D;
    const int32_t half_window = j->mask == GE_MASK_WINDOW ? hp->n_swa / 2 : INT32_MAX;
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
        /* keys [lo, hi) of query p inside the text: all; [p - w, p + w]; [0, p]; or
         * (p - n_swa, p]. The block's union is [lo of the first, hi of the last). */
        int32_t lo[QBLK], hi[QBLK];
        for (int64_t i = 0; i < m; i++) {
            const int32_t p = s->pos[t0 + i];
            lo[i] = half_window == INT32_MAX || p - half_window < 0 ? 0 : p - half_window;
            hi[i] = half_window == INT32_MAX || p + half_window + 1 > len ? len : p + half_window + 1;
            if (j->mask == GE_MASK_CAUSAL || j->mask == GE_MASK_CAUSAL_WINDOW) hi[i] = p + 1;
            if (j->mask == GE_MASK_CAUSAL_WINDOW && p - hp->n_swa + 1 > 0) lo[i] = p - hp->n_swa + 1;
        }
        const int32_t ulo = lo[0], uhi = hi[m - 1], n = uhi - ulo;
        const float *K = s->k + ((int64_t)(start + ulo) * KV + kvh) * D;
        const float *V = s->v + ((int64_t)(start + ulo) * KV + kvh) * D;
        k->scores_f32(m, n, D, s->q + t0 * HD + (int64_t)h * D, HD, K, KVD, hp->attn_scale, sc, n_ctx);
        if (ctx->model->alibi_slopes) { /* + slope * -|i - j|, the distance as ggml's fp16 mask holds it */
            const float slope = ctx->model->alibi_slopes[h];
            for (int64_t i = 0; i < m; i++) {
                const int32_t p = s->pos[t0 + i];
                for (int32_t jj = 0; jj < n; jj++) {
                    const int32_t dist = p > ulo + jj ? p - (ulo + jj) : ulo + jj - p;
                    sc[i * n_ctx + jj] += slope * ge_fp16_to_fp32(ge_fp32_to_fp16(-(float)dist));
                }
            }
        }
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


void ge_attention(ggufembed_context *ctx, ge_mask mask, int64_t T) {
    attn_job j = {ctx, T, mask};
    ge_parallel(ctx, attn_task, &j);
}

/* ------------------------------------------------------------ feed-forward activations */

static float gelu_tanh(float x) { /* tanh in double: the same bits with any libm */
    const float c = 0.79788456080286535587989211986876f; /* sqrt(2/pi) */
    return 0.5f * x * (1.0f + (float)tanh((double)(c * x * (1.0f + 0.044715f * x * x))));
}

/* Matching ggml's table keeps us closest to llama.cpp, and a lookup is cheaper than tanhf. */
float *ge_gelu_table_new(void) {
    float *t = ge_malloc(sizeof(float) * 65536);
    if (!t) return NULL;
    for (uint32_t h = 0; h < 65536; h++) t[h] = ge_fp16_to_fp32(ge_fp32_to_fp16(gelu_tanh(ge_fp16_to_fp32((uint16_t)h))));
    return t;
}

static float silu(float x) { return x / (1.0f + ge_expf(-x)); } /* ggml_silu_f32 with our exp */

typedef struct act_job {
    ggufembed_context *ctx;
    ge_act act;
    int gated;
    int64_t T;
} act_job;

static void act_task(void *arg, int ith, int nth) {
    const act_job *j = arg;
    ge_scratch *s = &j->ctx->s;
    const ge_kernels *k = j->ctx->kern;
    const float *table = j->ctx->model->gelu_table;
    const int64_t F = j->ctx->model->hp.n_ff;
    int64_t t0, t1;
    token_range(j->T, ith, nth, &t0, &t1);
    if (t0 >= t1) return;
    float *g = s->g + t0 * F;
    const float *u = s->u + t0 * F;
    const int64_t n = (t1 - t0) * F;
    if (j->act == GE_ACT_GELU && j->gated) {
        /* tables filled before this kernel existed (wasm) fall back to the reference */
        void (*gelu_mul)(int64_t, float *, const float *, const float *) =
            k->gelu_mul_f32 ? k->gelu_mul_f32 : ge_kernels_scalar.gelu_mul_f32;
        gelu_mul(n, g, u, table);
    } else if (j->act == GE_ACT_GELU) {
        for (int64_t i = 0; i < n; i++) {
            const float x = g[i];
            g[i] = x <= -10.0f ? 0.0f : x >= 10.0f ? x : table[ge_fp32_to_fp16(x)];
        }
    } else {
        for (int64_t i = 0; i < n; i++) g[i] = j->gated ? silu(g[i]) * u[i] : silu(g[i]);
    }
    if (F % QK8_0 == 0)
        for (int64_t t = t0; t < t1; t++) ge_quantize_input_row(j->ctx, s->g + t * F, t, F);
}

void ge_ffn_act(ggufembed_context *ctx, ge_act act, int gated, int64_t T) {
    act_job j = {ctx, act, gated, T};
    ge_parallel(ctx, act_task, &j);
}

/* ------------------------------------------------------------ pooling */

void ge_pool_seq(ggufembed_context *ctx, int64_t a, int64_t b, float *out) {
    const ggufembed_model *m = ctx->model;
    const ge_hparams *hp = &m->hp;
    const int64_t E = hp->n_embd;
    const float *x = ctx->s.x;
    if (hp->pooling == GE_POOL_MEAN) {
        for (int64_t d = 0; d < E; d++) {
            double acc = 0.0;
            for (int64_t t = a; t < b; t++) acc += x[t * E + d];
            out[d] = (float)(acc / (double)(b - a));
        }
        return;
    }
    const int last = hp->pooling == GE_POOL_LAST || (hp->pooling == GE_POOL_RANK && hp->mask != GE_MASK_ALL);
    if (hp->pooling != GE_POOL_RANK) {
        memcpy(out, x + (last ? b - 1 : a) * E, sizeof(float) * (size_t)E);
        return;
    }
    /* the reranker's head on one token: h = tanh(cls x + b); scores = cls.output h + b */
    float *h = ctx->s.pooled, *h2 = ctx->s.pooled + E;
    memcpy(h, x + (last ? b - 1 : a) * E, sizeof(float) * (size_t)E);
    int64_t n = E;
    if (m->cls.data) {
        ge_prepare_input(ctx, h, 1, E);
        ge_linear(ctx, &m->cls, h, h2, 1);
        n = m->cls.n_out;
        for (int64_t i = 0; i < n; i++) h[i] = (float)tanh((double)h2[i]); /* same bits with any libm */
    }
    if (m->cls_out.data) {
        ge_prepare_input(ctx, h, 1, n);
        ge_linear(ctx, &m->cls_out, h, out, 1);
    } else {
        memcpy(out, h, sizeof(float) * (size_t)n);
    }
    if (m->rank_softmax) {
        float mx = -INFINITY;
        for (int32_t i = 0; i < hp->n_out; i++) mx = out[i] > mx ? out[i] : mx;
        double sum = 0.0;
        for (int32_t i = 0; i < hp->n_out; i++) sum += out[i] = ge_expf(out[i] - mx);
        for (int32_t i = 0; i < hp->n_out; i++) out[i] = (float)(out[i] / sum);
    }
}
