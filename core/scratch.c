/* scratch.c - a context's activation buffers, grown to the largest pass seen and
 * reused (no allocation in the steady state), and the RoPE tables. */
#include "alloc.h"
#include "model.h"

#include <math.h>
#include <string.h>

static int grow_floats(float **p, size_t n) {
    ge_aligned_free(*p);
    *p = ge_aligned_alloc(64, n * sizeof(float));
    return *p != NULL;
}

void ge_scratch_free(ge_scratch *s) {
    float **fs[] = {&s->x, &s->xn, &s->q, &s->k, &s->v, &s->att, &s->g, &s->u, &s->scores, &s->rowbuf, &s->pooled,
                    &s->rope_cos[0], &s->rope_cos[1], &s->rope_sin[0], &s->rope_sin[1], &s->seq_rows[0], &s->seq_rows[1]};
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++) {
        ge_aligned_free(*fs[i]);
        *fs[i] = NULL;
    }
    ge_aligned_free(s->a.q8_0);
    ge_aligned_free(s->a.q8_K);
    ge_aligned_free(s->a.sum_q81);
    ge_aligned_free(s->dec);
    ge_free(s->pos);
    ge_free(s->seq_start);
    ge_free(s->seq_len);
    ge_free(s->qblk);
    ge_free(s->moe_sel);
    ge_free(s->moe_idx);
    ge_free(s->moe_w);
    memset(s, 0, sizeof *s);
}

int ge_scratch_seq_rows(ge_scratch *s, int i, size_t n) {
    if (n <= s->seq_rows_cap[i]) return 0;
    size_t cap = s->seq_rows_cap[i] ? s->seq_rows_cap[i] : 4096;
    while (cap < n) cap *= 2;
    ge_aligned_free(s->seq_rows[i]);
    s->seq_rows_cap[i] = 0;
    if (!(s->seq_rows[i] = ge_aligned_alloc(64, cap * sizeof(float)))) return GGUFEMBED_ERR_OUT_OF_MEMORY;
    s->seq_rows_cap[i] = cap;
    return 0;
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
        ge_aligned_free(s->a.q8_0);
        s->a.q8_0 = ge_aligned_alloc(64, (size_t)(cap * (max_in / QK8_0)) * sizeof(block_q8_0));
        /* the other activation formats only when some matrix reads them (ops.h GE_NEED_*) */
        const unsigned need = m->act_need;
        ge_aligned_free(s->a.q8_K);
        ge_aligned_free(s->a.sum_q81);
        s->a.q8_K = NULL, s->a.sum_q81 = NULL;
        if (((need & GE_NEED_Q8_K) &&
             !(s->a.q8_K = ge_aligned_alloc(64, (size_t)(cap * (max_in / QK_K) + 1) * sizeof(block_q8_K)))) ||
            ((need & GE_NEED_Q8_1) && !grow_floats(&s->a.sum_q81, (size_t)(cap * (max_in / 32) + 1))))
            return GGUFEMBED_ERR_OUT_OF_MEMORY;
        ge_free(s->pos);
        ge_free(s->seq_start);
        ge_free(s->seq_len);
        ge_free(s->qblk);
        s->qblk = ge_malloc((size_t)cap * sizeof(int32_t));
        s->pos = ge_malloc((size_t)cap * sizeof(int32_t));
        s->seq_start = ge_malloc((size_t)cap * sizeof(int32_t));
        s->seq_len = ge_malloc((size_t)cap * sizeof(int32_t));
        if (!s->a.q8_0 || !s->pos || !s->seq_start || !s->seq_len || !s->qblk) return GGUFEMBED_ERR_OUT_OF_MEMORY;
        s->cap_tokens = cap;
    }
    if (!s->scores) {
        int ok = grow_floats(&s->scores, (size_t)ctx->n_threads * QBLK * (size_t)hp->n_ctx) &&
                 grow_floats(&s->rowbuf, (size_t)ctx->n_threads * (size_t)max_in) &&
                 grow_floats(&s->pooled, 2 * (size_t)max_in);
        if (ok && (m->act_need & GE_NEED_DECODE)) { /* ops.c matmul_decoded's strip of 16 rows */
            s->dec_bytes = ge_gemm_quant_buf_size(max_in);
            ge_aligned_free(s->dec);
            s->dec = ge_aligned_alloc(64, (size_t)ctx->n_threads * s->dec_bytes);
            ok = s->dec != NULL;
        }
        /* s->scores says "this block is done": set only when all of it is, or the next call
         * would skip it and use a NULL rowbuf/pooled/dec (found by fuzz_embed) */
        if (!ok) {
            ge_aligned_free(s->scores);
            s->scores = NULL;
            return GGUFEMBED_ERR_OUT_OF_MEMORY;
        }
    }
    if (max_pos > s->rope_cap && hp->n_rot > 0) {
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

