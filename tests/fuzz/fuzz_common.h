/* fuzz_common.h - what the fuzz targets share: finding and loading the committed seed
 * models (tests/fuzz/seeds/, written by make_seeds.py), exact-size copies of inputs so
 * that ASan sees every over-read, and the status check every call goes through.
 *
 * The seed directories are compiled in (FUZZ_SEED_DIR, set by tests/CMakeLists.txt)
 * and can be overridden with GGUFEMBED_FUZZ_SEED_DIR, so a libFuzzer binary runs from
 * any working directory. */
#ifndef GE_FUZZ_COMMON_H
#define GE_FUZZ_COMMON_H

#include "../../core/ggufembed.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_SEED_DIR
#define FUZZ_SEED_DIR "tests/fuzz/seeds"
#endif

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FZ_ASAN 1
#endif
#ifdef FZ_ASAN
#include <sanitizer/asan_interface.h>
#define FZ_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define FZ_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define FZ_POISON(p, n) ((void)(p), (void)(n))
#define FZ_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_FAIL(...)                                                                                                  \
    do {                                                                                                              \
        fprintf(stderr, "fuzz check failed at %s:%d: ", __FILE__, __LINE__);                                          \
        fprintf(stderr, __VA_ARGS__);                                                                                 \
        fprintf(stderr, "\n");                                                                                        \
        abort();                                                                                                      \
    } while (0)

/* a sink for bytes read only to make ASan check them */
static volatile uint8_t g_touch;

/* Every call must give a documented status; ERR_INTERNAL is the library saying "a bug". */
static inline ggufembed_status fz_status(ggufembed_status s, const char *what) {
    if ((unsigned)s > GGUFEMBED_ERR_CANCELLED) FZ_FAIL("%s returned status %d", what, (int)s);
    return s;
}

/* A 64-byte aligned copy (the API asks for 32-byte aligned model buffers) whose bytes
 * past `size` are poisoned, so an over-read by even one byte is reported. */
static inline uint8_t *fz_aligned_copy(const uint8_t *data, size_t size, size_t *alloc_size) {
    size_t cap = (size + 63) / 64 * 64 + 64;
    uint8_t *p = aligned_alloc(64, cap);
    if (!p) return NULL;
    memcpy(p, data, size);
    FZ_POISON(p + size, cap - size);
    *alloc_size = cap;
    return p;
}
static inline void fz_aligned_free(uint8_t *p, size_t cap) {
    if (!p) return;
    FZ_UNPOISON(p, cap);
    free(p);
}

/* An exact-size heap copy of a text (malloc(0) avoided: a 1-byte buffer, 0 used). */
static inline char *fz_dup(const uint8_t *p, size_t n) {
    char *s = malloc(n ? n : 1);
    if (s && n) memcpy(s, p, n);
    return s;
}

static inline const char *fz_seed_root(void) {
    const char *d = getenv("GGUFEMBED_FUZZ_SEED_DIR");
    return d && *d ? d : FUZZ_SEED_DIR;
}

typedef struct fz_file {
    char name[256];
    uint8_t *data;
    size_t size, cap;
} fz_file;

static int fz_cmp_name(const void *a, const void *b) {
    return strcmp(((const fz_file *)a)->name, ((const fz_file *)b)->name);
}

/* Every regular file of dir whose name ends in `suffix`, sorted by name (so an input's
 * model index means the same model on every machine), read into aligned buffers. */
static inline int fz_load_dir(const char *dir, const char *suffix, fz_file **out) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0, cap = 0;
    fz_file *fs = NULL;
    struct dirent *e;
    size_t sl = strlen(suffix);
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < sl || strcmp(e->d_name + l - sl, suffix) != 0 || l >= sizeof fs->name) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            fs = realloc(fs, sizeof *fs * (size_t)cap);
        }
        memcpy(fs[n].name, e->d_name, l + 1);
        n++;
    }
    closedir(d);
    if (n) qsort(fs, (size_t)n, sizeof *fs, fz_cmp_name);
    for (int i = 0; i < n; i++) {
        char path[1024];
        if (snprintf(path, sizeof path, "%s/%s", dir, fs[i].name) >= (int)sizeof path) FZ_FAIL("path too long");
        FILE *f = fopen(path, "rb");
        if (!f) FZ_FAIL("cannot open %s", path);
        fseek(f, 0, SEEK_END);
        long sz = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *buf = malloc(sz > 0 ? (size_t)sz : 1);
        if (!buf || fread(buf, 1, (size_t)sz, f) != (size_t)sz) FZ_FAIL("cannot read %s", path);
        fclose(f);
        fs[i].data = fz_aligned_copy(buf, (size_t)sz, &fs[i].cap);
        fs[i].size = (size_t)sz;
        free(buf);
    }
    *out = fs;
    return n;
}

/* The committed seeds of one kind (the .bin files of tests/fuzz/seeds/<sub>); none is a setup error,
 * named for `target`. The buffers stay alive for the process (models point into them). */
static inline int fz_load_seeds(const char *sub, const char *target, fz_file **out) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", fz_seed_root(), sub);
    int n = fz_load_dir(dir, ".bin", out);
    if (n == 0) FZ_FAIL("%s: no seeds in %s (set GGUFEMBED_FUZZ_SEED_DIR)", target, dir);
    return n;
}

/* A vector from an OK call: finite, and of unit length when normalize was asked, or all
 * zeros (a mutated model can output zeros; normalizing them gives zeros, as llama.cpp). */
static inline void fz_check_vector(const float *v, int32_t dim, int normalized, const char *what) {
    double ss = 0;
    for (int32_t i = 0; i < dim; i++) {
        if (!isfinite(v[i])) FZ_FAIL("%s: value %d of %d is %g", what, (int)i, (int)dim, (double)v[i]);
        ss += (double)v[i] * v[i];
    }
    if (normalized && ss != 0.0 && fabs(ss - 1.0) > 1e-3) FZ_FAIL("%s: normalized vector has squared norm %g", what, ss);
}

#endif
