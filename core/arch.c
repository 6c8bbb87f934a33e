/* arch.c - the architecture table (arch.h). */
#include "arch.h"

#include "util.h"

#include <string.h>

static const ge_arch *const k_archs[] = {&ge_arch_gemma_embedding, &ge_arch_bert, &ge_arch_nomic_bert, &ge_arch_qwen3, &ge_arch_gemma3, &ge_arch_jina_bert_v2, &ge_arch_nomic_bert_moe};

const ge_arch *ge_arch_find(const char *name, size_t len) {
    for (size_t i = 0; i < sizeof k_archs / sizeof k_archs[0]; i++)
        if (strlen(k_archs[i]->name) == len && memcmp(k_archs[i]->name, name, len) == 0) return k_archs[i];
    return NULL;
}

const char *ge_arch_names(void) { return "gemma-embedding, gemma3, bert, nomic-bert, nomic-bert-moe, jina-bert-v2, qwen3"; }

int ge_load_pooling(ge_loader *L, ge_pooling dflt, int allow_rank) {
    int32_t pooling;
    int rc = ge_hp_int(L, "pooling_type", dflt, -1, 10, &pooling);
    if (rc) return rc;
    if (pooling != GE_POOL_MEAN && pooling != GE_POOL_CLS && pooling != GE_POOL_LAST &&
        !(allow_rank && pooling == GE_POOL_RANK)) {
        ge_errorf(L->err, L->es, "%s = %d is not supported for %s (mean = 1, cls = 2, last = 3%s)", L->key, pooling,
                  L->m->arch, allow_rank ? ", rank = 4" : "");
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    L->m->hp.pooling = (ge_pooling)pooling;
    return 0;
}

int ge_load_rank_head(ge_loader *L) {
    ggufembed_model *m = L->m;
    if (m->hp.pooling != GE_POOL_RANK) return 0;
    const int64_t E = m->hp.n_embd;
    int rc;
    /* cls: [E x E] before cls.output (RoBERTa's head), or the only layer: [1 x E]
     * (jina-reranker-v1, whose score is tanh(cls x + b)) */
    if ((rc = ge_get_matrix(L, "cls.weight", E, 0, 0, &m->cls)) || (rc = ge_get_bias(L, "cls.weight", &m->cls))) return rc;
    if ((rc = ge_get_matrix(L, "cls.output.weight", m->cls.data ? m->cls.n_out : E, 0, 0, &m->cls_out)) ||
        (rc = ge_get_bias(L, "cls.output.weight", &m->cls_out)))
        return rc;
    if (!m->cls.data && !m->cls_out.data) {
        ge_errorf(L->err, L->es, "a rank-pooling (reranker) model needs cls.weight or cls.output.weight");
        return GGUFEMBED_ERR_FORMAT;
    }
    m->hp.n_out = (int32_t)(m->cls_out.data ? m->cls_out.n_out : m->cls.n_out);
    const gguf_kv *labels = gguf_find_kv(&m->gguf, ge_arch_key(L, "classifier.output_labels"));
    if (labels && (labels->type != GGUF_TYPE_ARRAY || labels->arr_n != (uint64_t)m->hp.n_out)) {
        ge_errorf(L->err, L->es, "%s must list one label per classifier output (%d)", L->key, m->hp.n_out);
        return GGUFEMBED_ERR_FORMAT;
    }
    /* llama.cpp: Qwen3 rerankers' two outputs (yes/no logits) go through a softmax */
    m->rank_softmax = strcmp(m->arch, "qwen3") == 0;
    return 0;
}
