/*
 * json.h - a small strict JSON reader (RFC 8259) and writer for the HTTP server.
 *
 * The reader parses a whole body into a tree in one arena: strings are decoded (escapes,
 * surrogate pairs) into NUL-terminated UTF-8 with their byte length (they may hold NUL);
 * raw bytes must be valid UTF-8 (no overlongs, no surrogates), lone surrogate escapes are
 * refused, nesting is limited to SJ_MAX_DEPTH; on error it gives a one-line message
 * with the byte offset. Nothing in the tree outlives sj_free().
 *
 * The writer (sj_buf) appends to a growing buffer; a failed allocation marks the buffer
 * failed and later appends do nothing (checked once at the end).
 */
#ifndef GGUFEMBED_JSON_H
#define GGUFEMBED_JSON_H

#include <stddef.h>
#include <stdint.h>

#define SJ_MAX_DEPTH 64

typedef enum sj_type { SJ_NULL, SJ_BOOL, SJ_NUMBER, SJ_STRING, SJ_ARRAY, SJ_OBJECT } sj_type;

typedef struct sj_value sj_value;
struct sj_value {
    sj_type type;
    size_t len;          /* string: bytes; array/object: members                       */
    int boolean;         /* SJ_BOOL                                                    */
    double number;       /* SJ_NUMBER                                                  */
    int is_int;          /* SJ_NUMBER written without fraction/exponent, fits int64    */
    int64_t integer;     /* its value when is_int                                      */
    const char *str;     /* SJ_STRING: decoded bytes, NUL-terminated                   */
    sj_value *items;     /* SJ_ARRAY / SJ_OBJECT: [len] members                        */
    const char **keys;   /* SJ_OBJECT: [len] NUL-terminated keys                       */
};

typedef struct sj_doc sj_doc; /* owns the tree */

/* Parses text[0 .. len); returns the document (root via sj_root) or NULL with a message
 * in err ("out of memory" included). */
sj_doc *sj_parse(const char *text, size_t len, char *err, size_t err_size);
const sj_value *sj_root(const sj_doc *doc);
void sj_free(sj_doc *doc); /* accepts NULL */

/* The member named key of an object (the last one if repeated), or NULL. */
const sj_value *sj_get(const sj_value *obj, const char *key);
const char *sj_type_name(sj_type t); /* "null", "boolean", "number", ... */

typedef struct sj_buf {
    char *data;
    size_t len, cap;
    int failed; /* an allocation failed: the contents are incomplete */
} sj_buf;

void sj_put(sj_buf *b, const char *s, size_t n);
void sj_puts(sj_buf *b, const char *s);
void sj_printf(sj_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void sj_put_string(sj_buf *b, const char *s, size_t n); /* quoted and escaped; invalid UTF-8 -> U+FFFD */
int sj_valid_utf8(const char *s, size_t n);
void sj_put_float(sj_buf *b, float v);                  /* 9 significant digits: round-trips */
void sj_put_base64(sj_buf *b, const void *data, size_t n); /* quoted */
void sj_buf_free(sj_buf *b);

#endif
