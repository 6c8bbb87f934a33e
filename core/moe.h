/*
 * moe.h - a mixture-of-experts FFN (nomic-bert-moe), as llama.cpp's build_moe_ffn runs
 * it there: softmax router, the n_expert_used most probable experts per token, each
 * gelu(x Wup_e) Wdown_e, weighted by its probability (not renormalized) and summed in
 * the order of selection.
 */
#ifndef GE_MOE_H
#define GE_MOE_H

#include "model.h"

/* Reads the layer's router and experts (ffn_gate_inp, ffn_up_exps, ffn_down_exps). */
struct ge_loader;
int ge_load_moe(struct ge_loader *L, int il, ge_layer *ly);

/* s->xn [T x n_embd] = MoE(s->x), s->x prepared (quantized) for the router. */
int ge_moe_ffn(ggufembed_context *ctx, const ge_layer *ly, int64_t T);

#endif
