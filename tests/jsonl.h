/* jsonl.h - just enough JSON for the golden files: one object per line, read a
 * string field (escapes decoded to UTF-8) or an integer array field. */
#ifndef GE_JSONL_H
#define GE_JSONL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a whole file; NULL on error. */
static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = 0;
    if (len) *len = (size_t)n;
    return buf;
}

static const char *json_find_key(const char *line, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    if (!p) {
        snprintf(pat, sizeof pat, "\"%s\": ", key);
        p = strstr(line, pat);
    }
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    return p;
}

static void put_utf8(char **o, uint32_t c) {
    unsigned char *u = (unsigned char *)*o;
    if (c < 0x80) { *u++ = (unsigned char)c; }
    else if (c < 0x800) { *u++ = (unsigned char)(0xC0 | (c >> 6)); *u++ = (unsigned char)(0x80 | (c & 63)); }
    else if (c < 0x10000) {
        *u++ = (unsigned char)(0xE0 | (c >> 12)); *u++ = (unsigned char)(0x80 | ((c >> 6) & 63));
        *u++ = (unsigned char)(0x80 | (c & 63));
    } else {
        *u++ = (unsigned char)(0xF0 | (c >> 18)); *u++ = (unsigned char)(0x80 | ((c >> 12) & 63));
        *u++ = (unsigned char)(0x80 | ((c >> 6) & 63)); *u++ = (unsigned char)(0x80 | (c & 63));
    }
    *o = (char *)u;
}

static uint32_t hex4(const char *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v = v * 16 + (uint32_t)(c <= '9' ? c - '0' : (c | 32) - 'a' + 10);
    }
    return v;
}

/* Decodes the string value of key; returns a malloc'ed buffer (caller frees). */
static char *json_get_string(const char *line, const char *key, size_t *len) {
    const char *p = json_find_key(line, key);
    if (!p || *p != '"') return NULL;
    p++;
    char *out = malloc(strlen(p) + 1), *o = out;
    while (*p && *p != '"') {
        if (*p != '\\') { *o++ = *p++; continue; }
        p++;
        switch (*p) {
        case 'n': *o++ = '\n'; p++; break;
        case 't': *o++ = '\t'; p++; break;
        case 'r': *o++ = '\r'; p++; break;
        case 'b': *o++ = '\b'; p++; break;
        case 'f': *o++ = '\f'; p++; break;
        case 'u': {
            uint32_t c = hex4(p + 1);
            p += 5;
            if (c >= 0xD800 && c < 0xDC00 && p[0] == '\\' && p[1] == 'u') {
                uint32_t lo = hex4(p + 2);
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            }
            put_utf8(&o, c);
            break;
        }
        default: *o++ = *p++; break; /* \" \\ \/ */
        }
    }
    *o = 0;
    *len = (size_t)(o - out);
    return out;
}

/* Parses an integer array value; returns a malloc'ed array (caller frees). */
static int32_t *json_get_ints(const char *line, const char *key, size_t *n) {
    const char *p = json_find_key(line, key);
    if (!p || *p != '[') return NULL;
    size_t cap = 16;
    int32_t *v = malloc(cap * sizeof(int32_t));
    *n = 0;
    p++;
    while (*p && *p != ']') {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p) { p++; continue; }
        if (*n == cap) v = realloc(v, (cap *= 2) * sizeof(int32_t));
        v[(*n)++] = (int32_t)x;
        p = end;
    }
    return v;
}

/* Parses an integer value; returns 0 when the key is missing or not a number. */
static inline int json_get_long(const char *line, const char *key, long *out) {
    const char *p = json_find_key(line, key);
    if (!p) return 0;
    char *end;
    *out = strtol(p, &end, 10);
    return end != p;
}

/* Splits buf into lines in place; returns the count, *lines malloc'ed. */
static size_t split_lines(char *buf, char ***lines) {
    size_t n = 0, cap = 64;
    *lines = malloc(cap * sizeof(char *));
    char *p = buf;
    while (*p) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        if (*p) {
            if (n == cap) *lines = realloc(*lines, (cap *= 2) * sizeof(char *));
            (*lines)[n++] = p;
        }
        if (!nl) break;
        p = nl + 1;
    }
    return n;
}

#endif
