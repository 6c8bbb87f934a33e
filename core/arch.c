/* arch.c - the architecture table (arch.h). */
#include "arch.h"

#include "util.h"

#include <string.h>

static const ge_arch *const k_archs[] = {&ge_arch_gemma_embedding, &ge_arch_bert, &ge_arch_nomic_bert, &ge_arch_qwen3};

const ge_arch *ge_arch_find(const char *name, size_t len) {
    for (size_t i = 0; i < sizeof k_archs / sizeof k_archs[0]; i++)
        if (strlen(k_archs[i]->name) == len && memcmp(k_archs[i]->name, name, len) == 0) return k_archs[i];
    return NULL;
}

const char *ge_arch_names(void) { return "gemma-embedding, bert, nomic-bert, qwen3"; }

int ge_load_pooling(ge_loader *L, ge_pooling dflt) {
    int32_t pooling;
    int rc = ge_hp_int(L, "pooling_type", dflt, -1, 10, &pooling);
    if (rc) return rc;
    if (pooling != GE_POOL_MEAN && pooling != GE_POOL_CLS && pooling != GE_POOL_LAST) {
        ge_errorf(L->err, L->es, "%s = %d is not supported (mean = 1, cls = 2, last = 3)", L->key, pooling);
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    L->m->hp.pooling = (ge_pooling)pooling;
    return 0;
}
