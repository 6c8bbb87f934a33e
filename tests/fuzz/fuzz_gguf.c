/* fuzz_gguf.c - fuzz target for ggufembed_model_open_memory (GGUF reader, vocab
 * and model loading) on arbitrary bytes: any input must give a status, never a
 * crash, over-read or leak. Built for libFuzzer (clang -fsanitize=fuzzer) or
 * with driver.c, which ctest runs under ASan+UBSan. */
#include "../../core/ggufembed.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* a private copy of the exact size, so reads past the end are caught */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    ggufembed_model *m = NULL;
    char err[256];
    if (ggufembed_model_open_memory(copy, size, &m, err, sizeof err) == GGUFEMBED_OK) {
        ggufembed_context *ctx = NULL;
        if (ggufembed_context_new(m, NULL, &ctx) == GGUFEMBED_OK) {
            float v[4096];
            ggufembed_embed(ctx, "fuzz", 4, NULL, v, 4096);
        }
        ggufembed_context_free(ctx);
        ggufembed_model_free(m);
    }
    free(copy);
    return 0;
}
