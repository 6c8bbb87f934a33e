/* gguf_writer.h - builds small GGUF files in memory for the reader's tests. */
#ifndef GE_GGUF_WRITER_H
#define GE_GGUF_WRITER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct gw {
    uint8_t *p;
    size_t n, cap;
} gw;

static inline void gw_bytes(gw *w, const void *b, size_t n) {
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2 + 64;
        w->p = realloc(w->p, w->cap);
    }
    memcpy(w->p + w->n, b, n);
    w->n += n;
}
static inline void gw_u32(gw *w, uint32_t v) { gw_bytes(w, &v, 4); }
static inline void gw_u64(gw *w, uint64_t v) { gw_bytes(w, &v, 8); }
static inline void gw_str(gw *w, const char *s) {
    gw_u64(w, strlen(s));
    gw_bytes(w, s, strlen(s));
}
static inline void gw_pad(gw *w, size_t align) {
    while (w->n % align) gw_bytes(w, "", 1);
}

#endif
