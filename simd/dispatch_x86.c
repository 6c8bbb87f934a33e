/*
 * dispatch_x86.c - choose the kernel table once, from what the CPU has and what
 * the OS saves on context switches (XGETBV: YMM state, and for AVX-512 the
 * opmask and ZMM state). Native builds on x86-64; other native targets fall
 * back to scalar.
 */
#include "kernels.h"

#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
extern const ge_kernels ge_kernels_avx2;
extern const ge_kernels ge_kernels_avx512;

static int cpu_has_avx2_fma_f16c(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx || !fma || !f16c) return 0;
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    if ((xlo & 6) != 6) return 0; /* XMM and YMM state saved by the OS */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b >> 5) & 1; /* AVX2 */
}

/* AVX512F, DQ, BW, VL and VNNI, and the OS saving opmask + ZMM state (XCR0 bits 5-7) */
static int cpu_has_avx512_vnni(void) {
    if (!cpu_has_avx2_fma_f16c()) return 0;
    unsigned a, b, c, d;
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    if ((xlo & 0xe6) != 0xe6) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    const int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1, vnni = (c >> 11) & 1;
    return f && dq && bw && vl && vnni;
}
#endif

int ge_kernels_available(const ge_kernels **out, int max) {
    int n = 0;
    if (n < max) out[n++] = &ge_kernels_scalar;
#if defined(__x86_64__) || defined(__i386__)
    if (n < max && cpu_has_avx2_fma_f16c()) out[n++] = &ge_kernels_avx2;
    if (n < max && cpu_has_avx512_vnni()) out[n++] = &ge_kernels_avx512;
#endif
    return n;
}

/* Chosen on first use; atomic because the first use may come from several
 * threads at once (they all compute the same answer). */
static _Atomic(const ge_kernels *) g_active;

const ge_kernels *ge_kernels_active(void) {
    const ge_kernels *k = atomic_load(&g_active);
    if (!k) {
        const ge_kernels *all[8];
        int n = ge_kernels_available(all, 8);
        k = all[n - 1];
        atomic_store(&g_active, k);
    }
    return k;
}

int ge_kernels_select(const char *name) {
    const ge_kernels *all[8];
    int n = ge_kernels_available(all, 8);
    for (int i = 0; i < n; i++)
        if (strcmp(all[i]->name, name) == 0) {
            atomic_store(&g_active, all[i]);
            return 0;
        }
    return -1;
}
