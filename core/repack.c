/* repack.c - GGUFEMBED_OPEN_REPACK: Q8_0 weights copied once, at load, into the
 * layout the active kernel table reads fastest (simd/kernels.h: pack_q8_0). */
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

int ge_model_repack(ggufembed_model *m, const ge_kernels *k, const ge_bytes_owner *owner, char *err, size_t es) {
    if (!k->pack_q8_0) return 0;
    const int max = LAYER_MATRICES * m->hp.n_layer + 2;
    ge_matrix **all = ge_malloc(sizeof(ge_matrix *) * (size_t)max);
    if (!all) {
        ge_errorf(err, es, "out of memory");
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    const int n = model_matrices(m, all, max);
    for (int i = 0; i < n; i++) {
        ge_matrix *w = all[i];
        if (w->type != GGML_TYPE_Q8_0 || w->float_input || w->n_out % k->pack_rows) continue; /* stays in place */
        const int64_t nb = w->n_in / QK8_0;
        const size_t bytes = k->packed_size(w->n_out, nb);
        /* owned block, the packed data 64-byte aligned inside it */
        ge_owned *o = ge_malloc(sizeof(ge_owned) + bytes + 64);
        if (!o) {
            ge_free(all);
            ge_errorf(err, es, "out of memory repacking the weights (%zu bytes)", bytes);
            return GGUFEMBED_ERR_OUT_OF_MEMORY;
        }
        o->next = m->owned;
        m->owned = o;
        void *P = (void *)(((uintptr_t)o->data + 63) & ~(uintptr_t)63);
        k->pack_q8_0((const block_q8_0 *)w->data, w->n_out, nb, P);
        if (owner && owner->discard) owner->discard(owner->user, w->data, (size_t)w->n_out * (size_t)nb * sizeof(block_q8_0));
        w->packed = P;
        w->packed_for = k;
    }
    ge_free(all);
    return 0;
}

