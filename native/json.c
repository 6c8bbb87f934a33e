/*
 * json.c - strict JSON reader and writer (json.h).
 *
 * Reader: recursive descent over the bytes. Members of the array or object being read
 * sit on one growable stack; when it closes they are copied into the arena, so a tree
 * costs one arena plus that stack whatever its shape.
 */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ arena */

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    _Alignas(max_align_t) unsigned char data[];
} arena_block;

struct sj_doc {
    arena_block *blocks;
    sj_value root;
};

static void *arena_alloc(sj_doc *d, size_t n) {
    n = (n + 15) & ~(size_t)15;
    arena_block *b = d->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = d->blocks, b->used = 0, b->cap = cap;
        d->blocks = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

void sj_free(sj_doc *d) {
    if (!d) return;
    for (arena_block *b = d->blocks, *n; b; b = n) n = b->next, free(b);
    free(d);
}

const sj_value *sj_root(const sj_doc *d) { return d ? &d->root : NULL; }

/* ----------------------------------------------------------------- parser */

typedef struct parser {
    const unsigned char *p, *begin, *end;
    sj_doc *doc;
    sj_value *stack; /* members of the open containers */
    const char **skeys;
    size_t sp, scap;
    char *err;
    size_t err_size;
    int failed;
} parser;

static int perr(parser *ps, const char *what) {
    if (!ps->failed) snprintf(ps->err, ps->err_size, "invalid JSON at byte %zu: %s", (size_t)(ps->p - ps->begin), what);
    ps->failed = 1;
    return 0;
}

static void skip_ws(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static int push(parser *ps, const sj_value *v, const char *key) {
    if (ps->sp == ps->scap) {
        size_t cap = ps->scap ? ps->scap * 2 : 64;
        sj_value *s = realloc(ps->stack, cap * sizeof *s);
        if (!s) return perr(ps, "out of memory");
        ps->stack = s;
        const char **k = realloc(ps->skeys, cap * sizeof *k);
        if (!k) return perr(ps, "out of memory");
        ps->skeys = k;
        ps->scap = cap;
    }
    ps->stack[ps->sp] = *v;
    ps->skeys[ps->sp++] = key;
    return 1;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF). */
static int utf8_len(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    if (c < 0x80) return 1;
    int n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (!n || c > 0xF4 || end - p < n) return 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0; /* overlong */
    if (c == 0xED && p[1] > 0x9F) return 0; /* surrogate */
    if (c == 0xF0 && p[1] < 0x90) return 0; /* overlong */
    if (c == 0xF4 && p[1] > 0x8F) return 0; /* > U+10FFFF */
    return n;
}

static int hex4(parser *ps, unsigned *out) {
    if (ps->end - ps->p < 4) return perr(ps, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = ps->p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return perr(ps, "bad hex digit in \\u escape");
        v = v * 16 + d;
    }
    ps->p += 4;
    *out = v;
    return 1;
}

static size_t put_utf8(unsigned char *o, unsigned cp) {
    if (cp < 0x80) return o[0] = (unsigned char)cp, 1;
    if (cp < 0x800) return o[0] = (unsigned char)(0xC0 | cp >> 6), o[1] = (unsigned char)(0x80 | (cp & 63)), 2;
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12), o[1] = (unsigned char)(0x80 | (cp >> 6 & 63));
        o[2] = (unsigned char)(0x80 | (cp & 63));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18), o[1] = (unsigned char)(0x80 | (cp >> 12 & 63));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 63)), o[3] = (unsigned char)(0x80 | (cp & 63));
    return 4;
}

/* At the opening quote. The decoded string is never longer than its source. */
static int parse_string(parser *ps, const char **out, size_t *out_len) {
    const unsigned char *start = ++ps->p, *q = start;
    while (q < ps->end && *q != '"') q += *q == '\\' && q + 1 < ps->end ? 2 : 1;
    if (q >= ps->end) return perr(ps, "unterminated string");
    unsigned char *o = arena_alloc(ps->doc, (size_t)(q - start) + 1);
    if (!o) return perr(ps, "out of memory");
    size_t n = 0;
    while (*ps->p != '"') {
        unsigned c = *ps->p;
        if (c < 0x20) return perr(ps, "control character in string (escape it)");
        if (c == '\\') {
            ps->p++;
            unsigned e = *ps->p++;
            switch (e) {
            case '"': o[n++] = '"'; break;
            case '\\': o[n++] = '\\'; break;
            case '/': o[n++] = '/'; break;
            case 'b': o[n++] = '\b'; break;
            case 'f': o[n++] = '\f'; break;
            case 'n': o[n++] = '\n'; break;
            case 'r': o[n++] = '\r'; break;
            case 't': o[n++] = '\t'; break;
            case 'u': {
                unsigned cp, lo;
                if (!hex4(ps, &cp)) return 0;
                if (cp >= 0xDC00 && cp <= 0xDFFF) return perr(ps, "lone low surrogate in \\u escape");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u')
                        return perr(ps, "lone high surrogate in \\u escape");
                    ps->p += 2;
                    if (!hex4(ps, &lo)) return 0;
                    if (lo < 0xDC00 || lo > 0xDFFF) return perr(ps, "high surrogate not followed by a low one");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                n += put_utf8(o + n, cp);
                break;
            }
            default: ps->p--; return perr(ps, "unknown escape in string");
            }
            continue;
        }
        int l = utf8_len(ps->p, ps->end);
        if (!l) return perr(ps, "string is not valid UTF-8");
        memcpy(o + n, ps->p, (size_t)l);
        n += (size_t)l;
        ps->p += l;
    }
    ps->p++;
    o[n] = 0;
    *out = (const char *)o;
    *out_len = n;
    return 1;
}

static int parse_number(parser *ps, sj_value *v) {
    const unsigned char *s = ps->p;
    int integral = 1;
    if (ps->p < ps->end && *ps->p == '-') ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return perr(ps, "bad number");
    if (*ps->p == '0') ps->p++;
    else
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    if (ps->p < ps->end && *ps->p == '.') {
        integral = 0, ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return perr(ps, "bad number (digit after '.')");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        integral = 0, ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return perr(ps, "bad number (exponent)");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    }
    char buf[64];
    size_t n = (size_t)(ps->p - s);
    if (n >= sizeof buf) { /* legal but absurd: parse it as a double from a heap copy */
        char *h = arena_alloc(ps->doc, n + 1);
        if (!h) return perr(ps, "out of memory");
        memcpy(h, s, n), h[n] = 0;
        v->number = strtod(h, NULL);
        integral = 0;
    } else {
        memcpy(buf, s, n), buf[n] = 0;
        v->number = strtod(buf, NULL);
        if (integral && n <= 18) v->is_int = 1, v->integer = strtoll(buf, NULL, 10);
    }
    v->type = SJ_NUMBER;
    return 1;
}

static int parse_value(parser *ps, sj_value *v, int depth);

/* At '[' or '{': members pushed, then moved into the arena. */
static int parse_container(parser *ps, sj_value *v, int depth, int object) {
    if (depth >= SJ_MAX_DEPTH) return perr(ps, "nested too deeply");
    const unsigned char close = object ? '}' : ']';
    const size_t base = ps->sp;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
    } else {
        for (;;) {
            const char *key = NULL;
            size_t key_len;
            skip_ws(ps);
            if (object) {
                if (ps->p >= ps->end || *ps->p != '"') return perr(ps, "expected a string key");
                if (!parse_string(ps, &key, &key_len)) return 0;
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':') return perr(ps, "expected ':' after a key");
                ps->p++;
            }
            sj_value m;
            if (!parse_value(ps, &m, depth + 1) || !push(ps, &m, key)) return 0;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (ps->p < ps->end && *ps->p == close) {
                ps->p++;
                break;
            }
            return perr(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    memset(v, 0, sizeof *v);
    v->type = object ? SJ_OBJECT : SJ_ARRAY;
    v->len = ps->sp - base;
    if (v->len) {
        v->items = arena_alloc(ps->doc, v->len * sizeof *v->items);
        if (!v->items) return perr(ps, "out of memory");
        memcpy(v->items, ps->stack + base, v->len * sizeof *v->items);
        if (object) {
            v->keys = arena_alloc(ps->doc, v->len * sizeof *v->keys);
            if (!v->keys) return perr(ps, "out of memory");
            memcpy(v->keys, ps->skeys + base, v->len * sizeof *v->keys);
        }
    }
    ps->sp = base;
    return 1;
}

static int literal(parser *ps, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n)) return perr(ps, "unexpected character");
    ps->p += n;
    return 1;
}

static int parse_value(parser *ps, sj_value *v, int depth) {
    memset(v, 0, sizeof *v);
    skip_ws(ps);
    if (ps->p >= ps->end) return perr(ps, "unexpected end of input");
    switch (*ps->p) {
    case '{': return parse_container(ps, v, depth, 1);
    case '[': return parse_container(ps, v, depth, 0);
    case '"': v->type = SJ_STRING; return parse_string(ps, &v->str, &v->len);
    case 't': v->type = SJ_BOOL, v->boolean = 1; return literal(ps, "true");
    case 'f': v->type = SJ_BOOL; return literal(ps, "false");
    case 'n': v->type = SJ_NULL; return literal(ps, "null");
    default: return parse_number(ps, v);
    }
}

sj_doc *sj_parse(const char *text, size_t len, char *err, size_t err_size) {
    sj_doc *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    parser ps = {(const unsigned char *)text, (const unsigned char *)text, (const unsigned char *)text + len,
                 d, NULL, NULL, 0, 0, err, err_size, 0};
    int ok = parse_value(&ps, &d->root, 0);
    if (ok) {
        skip_ws(&ps);
        if (ps.p != ps.end) ok = perr(&ps, "trailing characters after the value");
    }
    free(ps.stack);
    free(ps.skeys);
    if (!ok) {
        sj_free(d);
        return NULL;
    }
    return d;
}

const sj_value *sj_get(const sj_value *o, const char *key) {
    if (!o || o->type != SJ_OBJECT) return NULL;
    for (size_t i = o->len; i-- > 0;)
        if (!strcmp(o->keys[i], key)) return &o->items[i];
    return NULL;
}

const char *sj_type_name(sj_type t) {
    static const char *names[] = {"null", "boolean", "number", "string", "array", "object"};
    return (unsigned)t < 6 ? names[t] : "?";
}

/* ----------------------------------------------------------------- writer */

static int reserve(sj_buf *b, size_t n) {
    if (b->failed) return 0;
    if (b->cap - b->len > n) return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len <= n) {
        if (cap > SIZE_MAX / 2) return b->failed = 1, 0;
        cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (!d) return b->failed = 1, 0;
    b->data = d, b->cap = cap;
    return 1;
}

void sj_put(sj_buf *b, const char *s, size_t n) {
    if (!reserve(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

void sj_puts(sj_buf *b, const char *s) { sj_put(b, s, strlen(s)); }

void sj_printf(sj_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        sj_put(b, tmp, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

int sj_valid_utf8(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    for (int l; p < end; p += l)
        if (!(l = utf8_len(p, end))) return 0;
    return 1;
}

/* The output is always valid JSON text: control characters escaped, and a byte that is
 * not part of valid UTF-8 (a model's metadata, a name from the command line) written as
 * U+FFFD. */
void sj_put_string(sj_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    sj_put(b, "\"", 1);
    size_t run = 0; /* bytes copied as they are */
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        if (c >= 0x80) {
            int l = utf8_len(u + i, u + n);
            if (l) {
                i += (size_t)l;
                continue;
            }
            sj_put(b, s + run, i - run);
            sj_put(b, "\\ufffd", 6);
            run = ++i;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        sj_put(b, s + run, i - run);
        run = ++i;
        char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        if (c == '"' || c == '\\') sj_put(b, (char[]){'\\', (char)c}, 2);
        else if (c == '\n') sj_put(b, "\\n", 2);
        else if (c == '\t') sj_put(b, "\\t", 2);
        else if (c == '\r') sj_put(b, "\\r", 2);
        else sj_put(b, e, 6);
    }
    sj_put(b, s + run, n - run);
    sj_put(b, "\"", 1);
}

void sj_put_float(sj_buf *b, float v) { sj_printf(b, "%.9g", (double)v); }

void sj_put_base64(sj_buf *b, const void *data, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    if (!reserve(b, (n + 2) / 3 * 4 + 2)) return;
    char *o = b->data + b->len;
    *o++ = '"';
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        *o++ = tab[v >> 18], *o++ = tab[v >> 12 & 63], *o++ = tab[v >> 6 & 63], *o++ = tab[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)p[i] << 16;
        *o++ = tab[v >> 18], *o++ = tab[v >> 12 & 63], *o++ = '=', *o++ = '=';
    } else if (n - i == 2) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
        *o++ = tab[v >> 18], *o++ = tab[v >> 12 & 63], *o++ = tab[v >> 6 & 63], *o++ = '=';
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = 0;
}

void sj_buf_free(sj_buf *b) {
    if (!b) return;
    free(b->data);
    b->data = NULL, b->len = b->cap = 0;
}
