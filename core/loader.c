/* loader.c - hyperparameters and tensors by name, with checks (see loader.h). */
#include "loader.h"

#include "alloc.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *ge_arch_key(ge_loader *L, const char *suffix) {
    snprintf(L->key, sizeof L->key, "%s.%s", L->m->arch, suffix);
    return L->key;
}

int ge_hp_int(ge_loader *L, const char *suffix, int64_t dflt, int64_t lo, int64_t hi, int32_t *out) {
    int64_t v;
    const char *key = ge_arch_key(L, suffix);
    if (!gguf_get_int(&L->m->gguf, key, &v)) {
        if (gguf_find_kv(&L->m->gguf, key)) {
            ge_errorf(L->err, L->es, "metadata %s has the wrong type (expected an integer)", key);
            return GGUFEMBED_ERR_FORMAT;
        }
        if (dflt < 0) {
            ge_errorf(L->err, L->es, "required metadata %s is missing", key);
            return GGUFEMBED_ERR_FORMAT;
        }
        v = dflt;
    }
    if (v < lo || v > hi) {
        ge_errorf(L->err, L->es, "metadata %s = %lld is out of range [%lld, %lld]", key, (long long)v,
                  (long long)lo, (long long)hi);
        return GGUFEMBED_ERR_FORMAT;
    }
    *out = (int32_t)v;
    return 0;
}

int ge_hp_float(ge_loader *L, const char *suffix, double dflt, double lo, double hi, float *out) {
    double v;
    const char *key = ge_arch_key(L, suffix);
    if (!gguf_get_float(&L->m->gguf, key, &v)) {
        if (gguf_find_kv(&L->m->gguf, key)) {
            ge_errorf(L->err, L->es, "metadata %s has the wrong type (expected a number)", key);
            return GGUFEMBED_ERR_FORMAT;
        }
        if (dflt < 0) {
            ge_errorf(L->err, L->es, "required metadata %s is missing", key);
            return GGUFEMBED_ERR_FORMAT;
        }
        v = dflt;
    }
    if (!(v >= lo && v <= hi)) {
        ge_errorf(L->err, L->es, "metadata %s = %g is out of range", key, v);
        return GGUFEMBED_ERR_FORMAT;
    }
    *out = (float)v;
    return 0;
}

int ge_hp_bool(ge_loader *L, const char *suffix, int dflt, int *out) {
    const char *key = ge_arch_key(L, suffix);
    int b;
    if (gguf_get_bool(&L->m->gguf, key, &b)) {
        *out = b;
        return 0;
    }
    if (gguf_find_kv(&L->m->gguf, key)) {
        ge_errorf(L->err, L->es, "metadata %s has the wrong type (expected a bool)", key);
        return GGUFEMBED_ERR_FORMAT;
    }
    *out = dflt;
    return 0;
}

const char *ge_tn(ge_loader *L, const char *pattern, int layer) {
    snprintf(L->name, sizeof L->name, pattern, layer);
    return L->name;
}

/* A weight type ggufembed multiplies with (quant.h), rows of n_in values a whole number
 * of its blocks; records the activation format its products read. */
static int check_matrix_type(ge_loader *L, const char *name, uint32_t type, int64_t n_in, const void *data) {
    const ge_type_traits *tt = ge_type_traits_of(type);
    if (!tt) {
        ge_errorf(L->err, L->es, "tensor '%s' has type %s, which ggufembed does not support (supported: %s)", name,
                  ggml_type_name(type), ge_type_names());
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    if (n_in % tt->blck) {
        ge_errorf(L->err, L->es, "tensor '%s' is %s but its rows (%lld) are not a multiple of its block (%d)", name,
                  tt->name, (long long)n_in, tt->blck);
        return GGUFEMBED_ERR_FORMAT;
    }
    /* the kernels read floats and block structs (2-byte halves) in place; a file written
     * with general.alignment 1 or 2 (llama.cpp's writers use 32) can place them at odd
     * addresses, which C does not allow reading that way */
    const uintptr_t align = type == GGML_TYPE_F32 ? 4 : 2;
    if ((uintptr_t)data % align) {
        ge_errorf(L->err, L->es, "tensor '%s' (%s) is not %u-byte aligned in memory (general.alignment %llu)", name,
                  tt->name, (unsigned)align, (unsigned long long)L->m->gguf.alignment);
        return GGUFEMBED_ERR_FORMAT;
    }
    return ge_need_for_type(type, &L->m->act_need);
}

static const gguf_tensor *find_tensor(ge_loader *L, const char *name, int required) {
    const gguf_tensor *t = gguf_find_tensor(&L->m->gguf, name);
    if (!t && required) ge_errorf(L->err, L->es, "tensor '%s' is missing from the model", name);
    return t;
}

int ge_get_matrix(ge_loader *L, const char *name, int64_t n_in, int64_t n_out, int required, ge_matrix *out) {
    memset(out, 0, sizeof *out);
    const gguf_tensor *t = find_tensor(L, name, required);
    if (!t) return required ? GGUFEMBED_ERR_FORMAT : 0;
    if (t->ne[0] != (uint64_t)n_in || (n_out > 0 && t->ne[1] != (uint64_t)n_out) || t->ne[2] != 1 || t->ne[3] != 1) {
        ge_errorf(L->err, L->es, "tensor '%s' has shape [%llu, %llu, %llu, %llu], expected [%lld, %lld]", name,
                  (unsigned long long)t->ne[0], (unsigned long long)t->ne[1], (unsigned long long)t->ne[2],
                  (unsigned long long)t->ne[3], (long long)n_in, (long long)n_out);
        return GGUFEMBED_ERR_FORMAT;
    }
    int rc = check_matrix_type(L, name, t->type, n_in, t->data);
    if (rc) return rc;
    out->data = t->data;
    out->type = t->type;
    out->n_in = n_in;
    out->n_out = (int64_t)t->ne[1];
    return 0;
}

int ge_get_matrices(ge_loader *L, const char *name, int64_t n_in, int64_t n_out, int64_t n_mat, ge_matrix **out) {
    *out = NULL;
    const gguf_tensor *t = find_tensor(L, name, 1);
    if (!t) return GGUFEMBED_ERR_FORMAT;
    if (t->ne[0] != (uint64_t)n_in || t->ne[1] != (uint64_t)n_out || t->ne[2] != (uint64_t)n_mat || t->ne[3] != 1) {
        ge_errorf(L->err, L->es, "tensor '%s' has shape [%llu, %llu, %llu, %llu], expected [%lld, %lld, %lld]", name,
                  (unsigned long long)t->ne[0], (unsigned long long)t->ne[1], (unsigned long long)t->ne[2],
                  (unsigned long long)t->ne[3], (long long)n_in, (long long)n_out, (long long)n_mat);
        return GGUFEMBED_ERR_FORMAT;
    }
    int rc = check_matrix_type(L, name, t->type, n_in, t->data);
    if (rc) return rc;
    ge_owned *o = ge_malloc(sizeof(ge_owned) + sizeof(ge_matrix) * (size_t)n_mat);
    if (!o) {
        ge_errorf(L->err, L->es, "out of memory");
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    o->next = L->m->owned;
    L->m->owned = o;
    ge_matrix *ms = (ge_matrix *)(void *)o->data;
    for (int64_t e = 0; e < n_mat; e++) {
        memset(&ms[e], 0, sizeof ms[e]);
        ms[e].type = t->type;
        ms[e].n_in = n_in;
        ms[e].n_out = n_out;
        ms[e].data = (const uint8_t *)t->data + ge_matrix_row_bytes(&ms[e]) * (size_t)(n_out * e);
    }
    *out = ms;
    return 0;
}

int ge_get_vector(ge_loader *L, const char *name, int64_t n, int required, const float **out) {
    *out = NULL;
    const gguf_tensor *t = find_tensor(L, name, required);
    if (!t) return required ? GGUFEMBED_ERR_FORMAT : 0;
    if (t->ne[0] != (uint64_t)n || t->ne[1] != 1 || t->ne[2] != 1 || t->ne[3] != 1) {
        ge_errorf(L->err, L->es, "tensor '%s' has %llu x %llu values, expected %lld", name,
                  (unsigned long long)t->ne[0], (unsigned long long)t->ne[1], (long long)n);
        return GGUFEMBED_ERR_FORMAT;
    }
    const int aligned = ((uintptr_t)t->data & 3) == 0; /* only a caller's odd buffer is not */
    if (t->type == GGML_TYPE_F32 && aligned) {
        *out = t->data;
        return 0;
    }
    if (t->type != GGML_TYPE_F32 && t->type != GGML_TYPE_F16 && t->type != GGML_TYPE_BF16) {
        ge_errorf(L->err, L->es, "tensor '%s' has type %s, which ggufembed does not support for vectors (F32, F16, BF16)",
                  name, ggml_type_name(t->type));
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    ge_owned *o = ge_malloc(sizeof(ge_owned) + sizeof(float) * (size_t)n);
    if (!o) {
        ge_errorf(L->err, L->es, "out of memory converting '%s'", name);
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    const uint8_t *raw = t->data;
    for (int64_t i = 0; i < n; i++) {
        if (t->type == GGML_TYPE_F32) {
            memcpy(&o->data[i], raw + 4 * i, 4);
        } else {
            uint16_t h;
            memcpy(&h, raw + 2 * i, 2);
            o->data[i] = t->type == GGML_TYPE_F16 ? ge_fp16_to_fp32(h) : ge_bf16_to_fp32(h);
        }
    }
    o->next = L->m->owned;
    L->m->owned = o;
    *out = o->data;
    return 0;
}

int ge_get_bias(ge_loader *L, const char *weight_name, ge_matrix *w) {
    char name[128];
    size_t n = strlen(weight_name);
    if (n > 7 && strcmp(weight_name + n - 7, ".weight") == 0) n -= 7;
    snprintf(name, sizeof name, "%.*s.bias", (int)n, weight_name);
    return ge_get_vector(L, name, w->n_out, 0, &w->bias);
}

size_t ge_matrix_row_bytes(const ge_matrix *w) { return ge_row_bytes(w->type, w->n_in); }

void ge_summarize_types(ggufembed_model *m) {
    uint64_t count[GGML_TYPE_MAX_] = {0};
    m->n_params = 0;
    for (uint64_t i = 0; i < m->gguf.n_tensors; i++) {
        const gguf_tensor *t = &m->gguf.tensors[i];
        count[t->type]++;
        m->n_params += t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
    }
    size_t n = 0;
    m->weight_types[0] = 0;
    for (int t = 0; t < GGML_TYPE_MAX_; t++) {
        if (!count[t]) continue;
        int w = snprintf(m->weight_types + n, sizeof m->weight_types - n, "%s%s x%llu", n ? ", " : "",
                         ggml_type_name((uint32_t)t), (unsigned long long)count[t]);
        if (w < 0 || (size_t)w >= sizeof m->weight_types - n) break;
        n += (size_t)w;
    }
}

int ge_validate_weights(ggufembed_model *m, char *err, size_t es) {
    uint64_t widest = 0;
    for (uint64_t i = 0; i < m->gguf.n_tensors; i++)
        if (m->gguf.tensors[i].ne[0] > widest) widest = m->gguf.tensors[i].ne[0];
    float *row = ge_malloc(sizeof(float) * (size_t)(widest ? widest : 1));
    if (!row) {
        ge_errorf(err, es, "out of memory validating the weights");
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    int rc = 0;
    for (uint64_t i = 0; i < m->gguf.n_tensors && !rc; i++) {
        const gguf_tensor *t = &m->gguf.tensors[i];
        const uint32_t ty = t->type;
        if (ty != GGML_TYPE_F32 && ty != GGML_TYPE_F16 && ty != GGML_TYPE_BF16 && !ge_type_traits_of(ty)) continue;
        const int64_t n = (int64_t)t->ne[0];
        const uint64_t rows = t->ne[1] * t->ne[2] * t->ne[3];
        const size_t rb = (size_t)(t->nbytes / rows);
        for (uint64_t r = 0; r < rows && !rc; r++) {
            ge_row_to_float(ty, (const uint8_t *)t->data + rb * r, row, n);
            for (int64_t k = 0; k < n; k++)
                if (!isfinite(row[k])) {
                    ge_errorf(err, es, "tensor '%.*s' holds a non-finite weight (%s) at value %llu",
                              (int)(t->name.len > 96 ? 96 : t->name.len), t->name.ptr, isnan(row[k]) ? "NaN" : "Inf",
                              (unsigned long long)(r * (uint64_t)n + (uint64_t)k));
                    rc = GGUFEMBED_ERR_FORMAT;
                    break;
                }
        }
    }
    ge_free(row);
    return rc;
}
