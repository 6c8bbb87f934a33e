/*
 * arch.h - the architecture table: one entry per general.architecture value, each in
 * its own file (gemma.c, bert.c, ...), written with the shared building blocks of
 * loader.h (hyperparameters, tensors) and ops.h (norms, products, attention, pooling).
 */
#ifndef GE_ARCH_H
#define GE_ARCH_H

#include "loader.h"

typedef struct ge_arch {
    const char *name; /* general.architecture */
    /* Reads the hyperparameters and carves the weights out of the file into m->hp,
     * m->layers, ... Returns 0 or a ggufembed_status, with a message in L->err. */
    int (*load)(ge_loader *L);
    /* Runs the network over n_seq packed sequences (tokens[seq_off[i] .. seq_off[i+1]))
     * and writes the pooled (pre-normalization) vector of each into out + i*hp.n_out. */
    int (*forward)(ggufembed_context *ctx, const int32_t *tokens, const size_t *seq_off, int n_seq, float *out);
} ge_arch;

extern const ge_arch ge_arch_gemma_embedding, ge_arch_bert, ge_arch_nomic_bert, ge_arch_qwen3, ge_arch_gemma3, ge_arch_jina_bert_v2, ge_arch_nomic_bert_moe;

/* the entry for an architecture name, or NULL */
const ge_arch *ge_arch_find(const char *name, size_t len);
/* "gemma-embedding, bert" */
const char *ge_arch_names(void);

/* The pooling type from "{arch}.pooling_type" (absent: dflt): mean, CLS, last, and
 * rank where the architecture can be a reranker (allow_rank). */
int ge_load_pooling(ge_loader *L, ge_pooling dflt, int allow_rank);
/* Rank pooling: the classifier head (cls.weight/.bias, then cls.output.weight/.bias,
 * each optional) and m->hp.n_out = the scores per input (classifier.output_labels).
 * Call after the hyperparameters; a no-op for the other pooling types. */
int ge_load_rank_head(ge_loader *L);

#endif
