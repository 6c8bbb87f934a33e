/* check.h - a minimal test harness: CHECK counts, the summary line is the one
 * CI reads ("N passed, N failed"), and the exit status is non-zero on failure. */
#ifndef GE_CHECK_H
#define GE_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int g_pass, g_fail;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            g_pass++;                                                      \
        } else {                                                           \
            g_fail++;                                                      \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

static int check_summary(const char *name) {
    printf("%s: %d passed, %d failed\n", name, g_pass, g_fail);
    return g_fail ? 1 : (g_pass ? 0 : 1);
}

/* cosine of two float vectors, in double (the agreement tests) */
static inline double cosine(const float *a, const float *b, int n) {
    double d = 0, na = 0, nb = 0;
    for (int i = 0; i < n; i++) {
        d += (double)a[i] * b[i];
        na += (double)a[i] * a[i];
        nb += (double)b[i] * b[i];
    }
    return d / sqrt(na * nb + 1e-300);
}

#endif
