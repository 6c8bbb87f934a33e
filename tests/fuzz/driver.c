/* driver.c - runs a fuzz target without libFuzzer: each file given on the command
 * line, then N deterministic mutations of them (byte flips, truncations,
 * insertions of interesting values). Prints the standard summary line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t g_rng = 0x243F6A8885A308D3ull;
static uint64_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

int main(int argc, char **argv) {
    long iters = argc > 1 ? atol(argv[1]) : 1000;
    size_t max_prefix = argc > 2 ? (size_t)atol(argv[2]) : (1u << 20); /* bytes of each seed file used */
    int runs = 0;
    for (int f = 3; f < argc; f++) {
        FILE *fp = fopen(argv[f], "rb");
        if (!fp) {
            fprintf(stderr, "cannot open %s\n", argv[f]);
            return 1;
        }
        uint8_t *seed = malloc(max_prefix);
        size_t n = fread(seed, 1, max_prefix, fp);
        fclose(fp);
        LLVMFuzzerTestOneInput(seed, n);
        runs++;
        uint8_t *buf = malloc(n + 64);
        for (long i = 0; i < iters; i++) {
            memcpy(buf, seed, n);
            size_t len = n;
            int k = 1 + (int)(rnd() % 8);
            for (int j = 0; j < k && len; j++) {
                size_t pos = (size_t)(rnd() % len);
                switch (rnd() % 5) {
                case 0: buf[pos] ^= (uint8_t)(1u << (rnd() % 8)); break;
                case 1: buf[pos] = (uint8_t)rnd(); break;
                case 2: len = pos; break; /* truncate */
                case 3: buf[pos] = (uint8_t[]){0x00, 0xff, 0x7f, 0x80, 0xc0, 0xe0, 0xf0, '<'}[rnd() % 8]; break;
                default: { /* overwrite 8 bytes with a huge or small count */
                    uint64_t v = (uint64_t[]){0, 1, 0xffffffffull, 1ull << 62, 0xffffffffffffffffull}[rnd() % 5];
                    if (pos + 8 <= len) memcpy(buf + pos, &v, 8);
                }
                }
            }
            LLVMFuzzerTestOneInput(buf, len);
            runs++;
        }
        free(buf);
        free(seed);
    }
    printf("fuzz: %d passed, 0 failed\n", runs);
    return 0;
}
