/* fuzz_tokenize.c - fuzz target for ggufembed_tokenize with the real vocabulary
 * (GGUFEMBED_MODEL_PATH) on arbitrary bytes, invalid UTF-8 included, with and
 * without special-token parsing. */
#include "../../core/ggufembed.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ggufembed_model *g_model;
static ggufembed_context *g_ctx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_model) {
        const char *path = getenv("GGUFEMBED_MODEL_PATH");
        char err[256];
        if (!path || ggufembed_model_open_file(path, &g_model, err, sizeof err) != GGUFEMBED_OK ||
            ggufembed_context_new(g_model, NULL, &g_ctx) != GGUFEMBED_OK) {
            fprintf(stderr, "fuzz_tokenize: set GGUFEMBED_MODEL_PATH to the model\n");
            abort();
        }
    }
    static int32_t ids[1 << 16];
    size_t n = 0;
    for (unsigned flags = 0; flags < 4; flags++) {
        ggufembed_status s = ggufembed_tokenize(g_ctx, (const char *)data, size, flags, ids, 1 << 16, &n);
        if (s != GGUFEMBED_OK && s != GGUFEMBED_ERR_BUFFER_TOO_SMALL) abort();
        for (size_t i = 0; i < n && i < (1 << 16); i++)
            if (ids[i] < 0 || ids[i] >= 262144 * 64) abort();
    }
    return 0;
}
