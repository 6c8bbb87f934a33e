#include "util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

void ge_errorf(char *err, size_t err_size, const char *fmt, ...) {
    if (!err || err_size == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

/* Python's str.isspace(): bidirectional class WS, B or S, or general category Zs.
 * Python 3.11 (Unicode 14) gives exactly these code points; U+180E, U+200B and
 * U+FEFF are not whitespace there. */
static int py_isspace(uint32_t c) {
    if (c <= 0x20) return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20);
    switch (c) {
    case 0x85: case 0xa0: case 0x1680: case 0x2028: case 0x2029: case 0x202f: case 0x205f: case 0x3000:
        return 1;
    default:
        return c >= 0x2000 && c <= 0x200a;
    }
}

/* Decodes the well-formed UTF-8 sequence at s[0..n) (shortest form, no
 * surrogates); returns its length, or 0 when it is not one. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
    if (n == 0) return 0;
    const unsigned c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return len;
}

const char *ge_strip_whitespace(const char *text, size_t len, size_t *out_len) {
    const unsigned char *s = (const unsigned char *)text;
    size_t b = 0, e = len;
    uint32_t cp;
    for (size_t k; b < e && (k = utf8_decode(s + b, e - b, &cp)) && py_isspace(cp);) b += k;
    while (e > b) {
        /* the last code point: its lead byte is at most 3 bytes back */
        size_t start = e - 1;
        while (start > b && e - start < 4 && (s[start] & 0xc0) == 0x80) start--;
        if (utf8_decode(s + start, e - start, &cp) != e - start || !py_isspace(cp)) break;
        e = start;
    }
    *out_len = e - b;
    return text + b;
}
