/* repack.c - GGUFEMBED_OPEN_REPACK: quantized weights copied once, at load, into the
 * layout the active kernel table reads fastest (simd/kernels.h: pack_q8_0, pack_q8_K).
 * Types of fewer bits than Q8_0 grow to about Q8_0's size doing so (they are decoded
 * to int8 levels): speed for memory, the caller's choice. */
#include "alloc.h"
#include "model.h"
#include "util.h"

#include <string.h>

/* Every weight matrix of the model, for walks like ge_model_repack's. */
#define LAYER_MATRICES 8
static int model_matrices(ggufembed_model *m, ge_matrix **out, int max) {
    int n = 0;
    for (int il = 0; il < m->hp.n_layer; il++) {
        ge_layer *ly = &m->layers[il];
        ge_matrix *ws[LAYER_MATRICES] = {&ly->wq, &ly->wk, &ly->wv, &ly->wqkv, &ly->wo, &ly->gate, &ly->up, &ly->down};
        for (size_t i = 0; i < LAYER_MATRICES; i++)
            if (ws[i]->data && n < max) out[n++] = ws[i];
    }
    if (m->dense2.data && n < max) out[n++] = &m->dense2;
    if (m->dense3.data && n < max) out[n++] = &m->dense3;
    return n;
}

/* an owned block of `bytes`, 64-byte aligned inside, on the model's list */
static void *owned_alloc(ggufembed_model *m, size_t bytes) {
    ge_owned *o = ge_malloc(sizeof(ge_owned) + bytes + 64);
    if (!o) return NULL;
    o->next = m->owned;
    m->owned = o;
    return (void *)(((uintptr_t)o->data + 63) & ~(uintptr_t)63);
}

/* Packs one matrix for k, or leaves it in place (returns 0 either way; an error code
 * when memory runs out). Q8_0 rows are packed as they are; the other quantized types
 * are decoded first (quant.h): into Q8_0 blocks for pack_q8_0, or into int8 levels and
 * scales for pack_q8_K; their min terms, when they have them, into packed_mn. */
static int repack_matrix(ggufembed_model *m, ge_matrix *w, const ge_kernels *k, const ge_bytes_owner *owner) {
    const ge_type_traits *tt = ge_type_traits_of(w->type);
    if (!tt || !tt->decode || w->float_input || w->n_out % k->pack_rows) return 0; /* stays in place */
    const int k_type = tt->act == GE_AF_Q8_K;
    if (k_type ? !k->pack_q8_K : !k->pack_q8_0) return 0;
    const int64_t n = w->n_in, nb = n / QK8_0, ns = n / tt->sub, rows = w->n_out;
    const size_t row_bytes = ge_row_bytes(w->type, n);
    const size_t bytes = k_type ? k->packed_size_q8_K(rows, n, tt->sub, tt->has_min) : k->packed_size(rows, nb);
    void *P = owned_alloc(m, bytes);
    /* Q4_1 / Q5_1: their float min offsets beside the packed rows (the K-quants' mins go
     * into the packed layout) */
    float *mn = tt->has_min && !k_type ? owned_alloc(m, sizeof(float) * (size_t)(rows * ns)) : NULL;
    if (!P || (tt->has_min && !k_type && !mn)) return GGUFEMBED_ERR_OUT_OF_MEMORY;
    if (w->type == GGML_TYPE_Q8_0) {
        k->pack_q8_0((const block_q8_0 *)w->data, rows, nb, P);
    } else {
        /* the whole matrix decoded once (temporary), then packed */
        const int64_t nsb = n / QK_K;
        int8_t *q = k_type ? ge_malloc((size_t)(rows * n)) : NULL;
        float *sc = k_type ? ge_malloc(sizeof(float) * (size_t)(rows * ns)) : NULL;
        int8_t *mi = k_type && tt->mins ? ge_malloc((size_t)(rows * ns)) : NULL;
        float *dm = k_type && tt->mins ? ge_malloc(sizeof(float) * (size_t)(rows * nsb + 1)) : NULL;
        float *tmn = ge_malloc(sizeof(float) * (size_t)ns);
        block_q8_0 *blk = k_type ? NULL : ge_malloc(sizeof(block_q8_0) * (size_t)(rows * nb));
        if (!tmn || (k_type && (!q || !sc || (tt->mins && (!mi || !dm)))) || (!k_type && !blk)) {
            ge_free(q), ge_free(sc), ge_free(mi), ge_free(dm), ge_free(tmn), ge_free(blk);
            return GGUFEMBED_ERR_OUT_OF_MEMORY;
        }
        for (int64_t r = 0; r < rows; r++) {
            const uint8_t *row = (const uint8_t *)w->data + (size_t)r * row_bytes;
            if (k_type) {
                tt->decode(row, n, q + r * n, sc + r * ns, tmn);
                if (tt->mins) tt->mins(row, n, mi + r * ns, dm + r * nsb);
            } else {
                tt->decode_q8_0(row, n, blk + r * nb, mn ? mn + r * ns : tmn);
            }
        }
        if (k_type)
            k->pack_q8_K(q, sc, mi, dm, rows, n, tt->sub, P);
        else
            k->pack_q8_0(blk, rows, nb, P);
        ge_free(q), ge_free(sc), ge_free(mi), ge_free(dm), ge_free(tmn), ge_free(blk);
    }
    if (owner && owner->discard) owner->discard(owner->user, w->data, (size_t)rows * row_bytes);
    w->packed = P;
    w->packed_for = k;
    w->packed_mn = mn;
    return 0;
}

void ge_model_float_activations(ggufembed_model *m) {
    for (int il = 0; il < m->hp.n_layer; il++) {
        ge_layer *ly = &m->layers[il];
        ge_matrix *ws[] = {&ly->wq, &ly->wk, &ly->wv, &ly->wqkv, &ly->wo, &ly->gate, &ly->up, &ly->down, &ly->router};
        for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++) ws[i]->float_input = 1;
        for (int e = 0; ly->up_exps && e < m->hp.n_expert; e++) ly->up_exps[e].float_input = 1;
        for (int e = 0; ly->down_exps && e < m->hp.n_expert; e++) ly->down_exps[e].float_input = 1;
    }
    m->dense2.float_input = m->dense3.float_input = m->cls.float_input = m->cls_out.float_input = 1;
}

int ge_model_repack(ggufembed_model *m, const ge_kernels *k, const ge_bytes_owner *owner, char *err, size_t es) {
    if (!k->pack_q8_0 && !k->pack_q8_K) return 0;
    const int max = LAYER_MATRICES * m->hp.n_layer + 2;
    ge_matrix **all = ge_malloc(sizeof(ge_matrix *) * (size_t)max);
    if (!all) {
        ge_errorf(err, es, "out of memory");
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    const int n = model_matrices(m, all, max);
    for (int i = 0; i < n; i++)
        if (repack_matrix(m, all[i], k, owner)) {
            ge_free(all);
            ge_errorf(err, es, "out of memory repacking the weights");
            return GGUFEMBED_ERR_OUT_OF_MEMORY;
        }
    ge_free(all);
    return 0;
}
