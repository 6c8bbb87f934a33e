/*
 * bench_common.h - small helpers shared by the benchmark drivers
 * (bench_ggufembed.c in C11, bench_llamacpp.cpp in C++17): wall clock, text files,
 * /proc/self/status memory figures, JSON output. Linux only.
 *
 * Driver protocol (both drivers, one process = one engine, one scenario):
 *   --model PATH --threads N --mode load|latency|batch --text FILE
 *   [--reps R] [--warmup W] [--n DOCS] [--label NAME] [--vector 0|1]
 *   latency: FILE is one text (a trailing newline is dropped); W untimed + R timed calls.
 *   batch:   FILE has one document per line; the first DOCS lines (default all) are
 *            embedded R times (each pass timed) after W untimed warm-up passes over the
 *            first min(16, DOCS) documents.
 *   load:    load and one short warm call (RSS after first use), nothing else.
 * Output: one JSON object on stdout (see bench_json_* below); errors on stderr, exit 1.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Reads a whole file; returns a malloc'ed NUL-terminated buffer, *len = bytes. */
static inline char *bench_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = (char *)malloc(cap + 1);
    if (!buf) { fclose(f); return NULL; }
    for (;;) {
        if (n == cap) {
            char *nb = (char *)realloc(buf, cap * 2 + 1);
            if (!nb) { free(buf); fclose(f); return NULL; }
            buf = nb; cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

/* Drops one trailing "\n" (or "\r\n"). */
static inline size_t bench_chomp(char *s, size_t n) {
    if (n > 0 && s[n - 1] == '\n') s[--n] = 0;
    if (n > 0 && s[n - 1] == '\r') s[--n] = 0;
    return n;
}

/* Splits buf in place into non-empty lines; returns the count, *out = malloc'ed array. */
static inline size_t bench_split_lines(char *buf, size_t len, char ***out, size_t **lens) {
    size_t cap = 16, n = 0;
    char **v = (char **)malloc(cap * sizeof *v);
    size_t *l = (size_t *)malloc(cap * sizeof *l);
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && buf[j] != '\n') j++;
        size_t e = j;
        if (e > i && buf[e - 1] == '\r') e--;
        buf[e] = 0;
        if (e > i) {
            if (n == cap) {
                cap *= 2;
                v = (char **)realloc(v, cap * sizeof *v);
                l = (size_t *)realloc(l, cap * sizeof *l);
            }
            v[n] = buf + i; l[n] = e - i; n++;
        }
        i = j + 1;
    }
    *out = v; *lens = l;
    return n;
}

/* A "Key:   123 kB" line of /proc/self/status, in kB; -1 when absent. */
static inline long bench_status_kb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    size_t kl = strlen(key);
    long v = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            v = strtol(line + kl + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

typedef struct bench_mem {
    long rss_kb, anon_kb, file_kb, hwm_kb;
} bench_mem;

static inline bench_mem bench_mem_now(void) {
    bench_mem m;
    m.rss_kb = bench_status_kb("VmRSS");
    m.anon_kb = bench_status_kb("RssAnon");
    m.file_kb = bench_status_kb("RssFile");
    m.hwm_kb = bench_status_kb("VmHWM");
    return m;
}

static inline void bench_json_mem(FILE *o, const char *name, bench_mem m) {
    fprintf(o, "\"%s\":{\"rss_kb\":%ld,\"anon_kb\":%ld,\"file_kb\":%ld,\"hwm_kb\":%ld}", name,
            m.rss_kb, m.anon_kb, m.file_kb, m.hwm_kb);
}

static inline void bench_json_doubles(FILE *o, const char *name, const double *v, size_t n, const char *fmt) {
    fprintf(o, "\"%s\":[", name);
    for (size_t i = 0; i < n; i++) {
        if (i) fputc(',', o);
        fprintf(o, fmt, v[i]);
    }
    fputc(']', o);
}

static inline void bench_json_floats(FILE *o, const char *name, const float *v, size_t n) {
    fprintf(o, "\"%s\":[", name);
    for (size_t i = 0; i < n; i++) {
        if (i) fputc(',', o);
        fprintf(o, "%.6g", (double)v[i]);
    }
    fputc(']', o);
}

/* Common options of both drivers. */
typedef struct bench_opts {
    const char *model, *mode, *text, *label;
    int threads, reps, warmup, n_docs, vector;
} bench_opts;

static inline void bench_opts_init(bench_opts *o) {
    o->model = NULL; o->mode = "latency"; o->text = NULL; o->label = "";
    o->threads = 1; o->reps = 10; o->warmup = 2; o->n_docs = 0; o->vector = 0;
}

/* Parses one common option at argv[*i]; returns 1 when consumed, 0 when unknown,
 * -1 on a missing value. */
static inline int bench_opts_parse(bench_opts *o, int argc, char **argv, int *i) {
    const char *a = argv[*i];
#define BENCH_VAL() ((*i) + 1 < argc ? argv[++(*i)] : NULL)
    const char *v;
    if (!strcmp(a, "--model")) { if (!(v = BENCH_VAL())) return -1; o->model = v; return 1; }
    if (!strcmp(a, "--mode")) { if (!(v = BENCH_VAL())) return -1; o->mode = v; return 1; }
    if (!strcmp(a, "--text")) { if (!(v = BENCH_VAL())) return -1; o->text = v; return 1; }
    if (!strcmp(a, "--label")) { if (!(v = BENCH_VAL())) return -1; o->label = v; return 1; }
    if (!strcmp(a, "--threads")) { if (!(v = BENCH_VAL())) return -1; o->threads = atoi(v); return 1; }
    if (!strcmp(a, "--reps")) { if (!(v = BENCH_VAL())) return -1; o->reps = atoi(v); return 1; }
    if (!strcmp(a, "--warmup")) { if (!(v = BENCH_VAL())) return -1; o->warmup = atoi(v); return 1; }
    if (!strcmp(a, "--n")) { if (!(v = BENCH_VAL())) return -1; o->n_docs = atoi(v); return 1; }
    if (!strcmp(a, "--vector")) { if (!(v = BENCH_VAL())) return -1; o->vector = atoi(v); return 1; }
#undef BENCH_VAL
    return 0;
}

#endif
