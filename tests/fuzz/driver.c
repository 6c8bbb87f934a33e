/* driver.c - runs a fuzz target without libFuzzer (gcc, ctest under ASan+UBSan):
 *
 *     driver ITERS MAX_BYTES PATH...
 *
 * Each PATH is a file or a directory (its files, in name order); each file is run as
 * given (its first MAX_BYTES bytes), then ITERS deterministic mutations of it (byte
 * flips, truncations, insertions of interesting values, overwrites with huge or small
 * 64-bit counts). ITERS 0 replays the files only (the regression inputs). Prints the
 * standard summary line; a failed check aborts (the test fails). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t g_rng = 0x243F6A8885A308D3ull;
static uint64_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static long g_runs;

static int run_file(const char *path, long iters, size_t max_bytes) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    uint8_t *seed = malloc(max_bytes ? max_bytes : 1);
    size_t n = fread(seed, 1, max_bytes, fp);
    fclose(fp);
    /* an exact-size copy, so that reading past the input is an ASan report */
    uint8_t *exact = malloc(n ? n : 1);
    memcpy(exact, seed, n);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    g_runs++;
    uint8_t *buf = malloc(n + 64);
    for (long i = 0; i < iters; i++) {
        memcpy(buf, seed, n);
        size_t len = n;
        int k = 1 + (int)(rnd() % 8);
        for (int j = 0; j < k && len; j++) {
            size_t pos = (size_t)(rnd() % len);
            switch (rnd() % 6) {
            case 0: buf[pos] ^= (uint8_t)(1u << (rnd() % 8)); break;
            case 1: buf[pos] = (uint8_t)rnd(); break;
            case 2: len = pos; break; /* truncate */
            case 3: buf[pos] = (uint8_t[]){0x00, 0xff, 0x7f, 0x80, 0xc0, 0xe0, 0xf0, '<'}[rnd() % 8]; break;
            case 4: { /* insert a byte (shifts everything after it: misaligned fields) */
                memmove(buf + pos + 1, buf + pos, len - pos);
                buf[pos] = (uint8_t)rnd();
                len++;
                break;
            }
            default: { /* overwrite 8 bytes with a huge or small count */
                uint64_t v = (uint64_t[]){0, 1, 0xffffffffull, 1ull << 62, 0xffffffffffffffffull}[rnd() % 5];
                if (pos + 8 <= len) memcpy(buf + pos, &v, 8);
            }
            }
            if (len + 8 > n + 64) break; /* room for more insertions */
        }
        uint8_t *in = malloc(len ? len : 1);
        memcpy(in, buf, len);
        LLVMFuzzerTestOneInput(in, len);
        free(in);
        g_runs++;
    }
    free(buf);
    free(seed);
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int run_path(const char *path, long iters, size_t max_bytes) {
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "cannot stat %s\n", path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) return run_file(path, iters, max_bytes);
    DIR *d = opendir(path);
    if (!d) return 1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) names = realloc(names, sizeof *names * (cap = cap ? cap * 2 : 16));
        names[n] = malloc(strlen(path) + strlen(e->d_name) + 2);
        sprintf(names[n++], "%s/%s", path, e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        rc |= run_file(names[i], iters, max_bytes);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s ITERS MAX_BYTES PATH...\n", argv[0]);
        return 2;
    }
    long iters = atol(argv[1]);
    size_t max_bytes = (size_t)atol(argv[2]);
    for (int f = 3; f < argc; f++)
        if (run_path(argv[f], iters, max_bytes)) return 1;
    if (g_runs == 0) {
        fprintf(stderr, "no inputs\n"); /* a replay of nothing must not pass */
        return 1;
    }
    printf("fuzz: %ld passed, 0 failed\n", g_runs);
    return 0;
}
