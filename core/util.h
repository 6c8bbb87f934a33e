/* util.h - small helpers shared by core/: error text, whitespace; the number
 * conversions (fp16, bf16, exp) are in formats/fp.h, included here. */
#ifndef GE_UTIL_H
#define GE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

/* printf into an error buffer (NULL or 0-sized buffers are ignored). */
void ge_errorf(char *err, size_t err_size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The text without leading and trailing whitespace, as Python's str.strip()
 * (sentence-transformers strips every input so): the code points for which
 * str.isspace() is true (listed in util.c).
 * Returns a pointer into text and the new length in *out_len; invalid UTF-8 is
 * never whitespace. */
const char *ge_strip_whitespace(const char *text, size_t len, size_t *out_len);

#include "../formats/fp.h"

#endif
