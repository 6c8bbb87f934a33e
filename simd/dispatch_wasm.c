/*
 * dispatch_wasm.c - the kernel tables of a WebAssembly build. Wasm has no run-time
 * CPU detection inside a module: each build variant is compiled for one feature
 * set (simd128, or simd128 + relaxed SIMD) and JavaScript picks the module that
 * the engine validates. So "available" is what this module was compiled with.
 */
#include "kernels.h"

#include <string.h>

#ifdef __wasm_simd128__
extern const ge_kernels ge_kernels_wasm_simd128;
#endif
#ifdef __wasm_relaxed_simd__
extern const ge_kernels ge_kernels_wasm_relaxed;
#endif

int ge_kernels_available(const ge_kernels **out, int max) {
    int n = 0;
    if (n < max) out[n++] = &ge_kernels_scalar;
#ifdef __wasm_simd128__
    if (n < max) out[n++] = &ge_kernels_wasm_simd128;
#endif
#ifdef __wasm_relaxed_simd__
    if (n < max) out[n++] = &ge_kernels_wasm_relaxed;
#endif
    return n;
}

static const ge_kernels *g_active;

const ge_kernels *ge_kernels_active(void) {
    if (!g_active) {
        const ge_kernels *all[4];
        int n = ge_kernels_available(all, 4);
        g_active = all[n - 1];
    }
    return g_active;
}

int ge_kernels_select(const char *name) {
    const ge_kernels *all[4];
    int n = ge_kernels_available(all, 4);
    for (int i = 0; i < n; i++)
        if (strcmp(all[i]->name, name) == 0) {
            g_active = all[i];
            return 0;
        }
    return -1;
}
