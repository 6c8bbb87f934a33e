/*
 * loader.h - what every architecture's load() uses to read a GGUF file into its
 * structs: hyperparameters by key (required or defaulted, range-checked, wrong types
 * refused), weight matrices and vectors by tensor name with shape checks. Each error
 * is one line naming the key or tensor.
 */
#ifndef GE_LOADER_H
#define GE_LOADER_H

#include "model.h"

typedef struct ge_loader {
    ggufembed_model *m;
    char *err;
    size_t es;
    char key[160];  /* the last metadata key built ("{arch}.{suffix}") */
    char name[128]; /* scratch for tensor names (ge_tn)                */
} ge_loader;

/* "{general.architecture}.{suffix}", in L->key */
const char *ge_arch_key(ge_loader *L, const char *suffix);

/* An integer / float hyperparameter "{arch}.{suffix}": required when dflt < 0. */
int ge_hp_int(ge_loader *L, const char *suffix, int64_t dflt, int64_t lo, int64_t hi, int32_t *out);
int ge_hp_float(ge_loader *L, const char *suffix, double dflt, double lo, double hi, float *out);
/* A bool "{arch}.{suffix}" (absent: dflt). */
int ge_hp_bool(ge_loader *L, const char *suffix, int dflt, int *out);

/* Tensor name from a printf pattern with the layer number ("blk.%d.attn_q.weight"), in L->name */
const char *ge_tn(ge_loader *L, const char *pattern, int layer);

/* A weight matrix [n_out x n_in] (ggml shape {n_in, n_out}); n_out <= 0 accepts any.
 * Absent and not required: out->data stays NULL. */
int ge_get_matrix(ge_loader *L, const char *name, int64_t n_in, int64_t n_out, int required, ge_matrix *out);
/* n_mat stacked matrices [n_out x n_in] (ggml shape {n_in, n_out, n_mat}, MoE experts)
 * as n_mat views; *out is allocated (owned by the model). */
int ge_get_matrices(ge_loader *L, const char *name, int64_t n_in, int64_t n_out, int64_t n_mat, ge_matrix **out);
/* A vector of n floats (norm weights, biases): in place when F32, converted once when
 * F16/BF16. Absent and not required: *out = NULL. */
int ge_get_vector(ge_loader *L, const char *name, int64_t n, int required, const float **out);
/* The bias "{weight name without .weight}.bias" of a matrix already loaded, into w->bias
 * (optional: llama.cpp adds a bias wherever the file has one). */
int ge_get_bias(ge_loader *L, const char *weight_name, ge_matrix *w);

/* bytes of one row of w (its n_in values in its type) */
size_t ge_matrix_row_bytes(const ge_matrix *w);

/* Every tensor of a type ggufembed decodes, read as floats: GGUFEMBED_ERR_FORMAT naming
 * the first NaN/Inf value (GGUFEMBED_OPEN_VALIDATE). */
int ge_validate_weights(ggufembed_model *m, char *err, size_t es);

/* m->weight_types ("Q8_0 x169, F32 x145") and m->n_params from the tensor list */
void ge_summarize_types(ggufembed_model *m);

#endif
