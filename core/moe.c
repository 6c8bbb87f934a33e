/* moe.c - the mixture-of-experts FFN (moe.h). */
#include "moe.h"

#include "alloc.h"
#include "loader.h"
#include "ops.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int ge_load_moe(ge_loader *L, int il, ge_layer *ly) {
    const ge_hparams *hp = &L->m->hp;
    const int64_t E = hp->n_embd, F = hp->n_ff, NE = hp->n_expert;
    char name[128];
    int rc;
    snprintf(name, sizeof name, "blk.%d.ffn_gate_inp.weight", il);
    if ((rc = ge_get_matrix(L, name, E, NE, 1, &ly->router))) return rc;
    snprintf(name, sizeof name, "blk.%d.ffn_up_exps.weight", il);
    if ((rc = ge_get_matrices(L, name, E, F, NE, &ly->up_exps))) return rc;
    snprintf(name, sizeof name, "blk.%d.ffn_down_exps.weight", il);
    return ge_get_matrices(L, name, F, E, NE, &ly->down_exps);
}

/* the K most probable experts of one token, most probable first (ties: lower index) */
static void top_k(const float *p, int32_t n, int32_t k, int32_t *sel) {
    for (int32_t i = 0; i < k; i++) {
        int32_t best = -1;
        for (int32_t e = 0; e < n; e++) {
            int taken = 0;
            for (int32_t j = 0; j < i; j++) taken |= sel[j] == e;
            if (!taken && (best < 0 || p[e] > p[best])) best = e;
        }
        sel[i] = best;
    }
}

int ge_moe_ffn(ggufembed_context *ctx, const ge_layer *ly, int64_t T) {
    const ge_hparams *hp = &ctx->model->hp;
    ge_scratch *s = &ctx->s;
    const int32_t NE = hp->n_expert, K = hp->n_expert_used;
    const int64_t E = hp->n_embd;
    /* per (token, slot): the expert, its weight, and the list of slots per expert */
    const size_t need = (size_t)T * (size_t)K;
    if (need > s->moe_cap) {
        ge_free(s->moe_sel);
        ge_free(s->moe_w);
        ge_free(s->moe_idx);
        s->moe_cap = 0;
        s->moe_sel = ge_malloc(need * sizeof(int32_t));
        s->moe_w = ge_malloc(need * sizeof(float));
        s->moe_idx = ge_malloc(need * sizeof(int32_t));
        if (!s->moe_sel || !s->moe_w || !s->moe_idx) return GGUFEMBED_ERR_OUT_OF_MEMORY;
        s->moe_cap = need;
    }
    /* 1. router: logits [T x NE] in s->u, softmax (as ggml's: max, exp, sum in double,
     * times 1/sum), the K best */
    float *logits = s->u;
    ge_linear(ctx, &ly->router, s->x, logits, T);
    for (int64_t t = 0; t < T; t++) {
        float *p = logits + t * NE;
        float mx = -INFINITY;
        for (int32_t e = 0; e < NE; e++) mx = p[e] > mx ? p[e] : mx;
        double sum = 0.0;
        for (int32_t e = 0; e < NE; e++) sum += p[e] = ge_expf(p[e] - mx);
        const float inv = (float)(1.0 / sum);
        for (int32_t e = 0; e < NE; e++) p[e] *= inv;
        top_k(p, NE, K, s->moe_sel + t * K);
        for (int32_t i = 0; i < K; i++) s->moe_w[t * K + i] = p[s->moe_sel[t * K + i]];
    }
    /* 2. per expert: its tokens gathered (s->att), gelu(x Wup) Wdown (s->g, s->q), each
     * output row times its weight into its slot of Y [T x K x E] (s->u: the logits are done) */
    float *Y = s->u;
    for (int32_t e = 0; e < NE; e++) {
        int64_t n = 0;
        for (size_t i = 0; i < need; i++)
            if (s->moe_sel[i] == e) s->moe_idx[n++] = (int32_t)i;
        if (!n) continue;
        for (int64_t r = 0; r < n; r++)
            memcpy(s->att + r * E, s->x + (s->moe_idx[r] / K) * E, sizeof(float) * (size_t)E);
        ge_prepare_input(ctx, s->att, n, E);
        ge_linear(ctx, &ly->up_exps[e], s->att, s->g, n);
        ge_ffn_act(ctx, GE_ACT_GELU, 0, n);
        ge_linear(ctx, &ly->down_exps[e], s->g, s->q, n);
        for (int64_t r = 0; r < n; r++) {
            const int32_t slot = s->moe_idx[r];
            const float w = s->moe_w[slot];
            float *y = Y + (int64_t)slot * E;
            for (int64_t i = 0; i < E; i++) y[i] = s->q[r * E + i] * w;
        }
    }
    /* 3. the slots summed in selection order (ggml: moe_out = e0 + e1 + ...) */
    for (int64_t t = 0; t < T; t++) {
        float *o = s->xn + t * E;
        memcpy(o, Y + t * K * E, sizeof(float) * (size_t)E);
        for (int32_t i = 1; i < K; i++)
            for (int64_t d = 0; d < E; d++) o[d] += Y[(t * K + i) * E + d];
    }
    return 0;
}
