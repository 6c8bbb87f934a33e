/*
 * tok_bpe_pre.h - the pre-tokenizers of byte-level BPE (tok_bpe.c): tokenizer.ggml.pre
 * -> llama.cpp's chain of split regexes, each one written out by hand (tok_bpe_pre.c).
 */
#ifndef GE_TOK_BPE_PRE_H
#define GE_TOK_BPE_PRE_H

#include <stddef.h>
#include <stdint.h>

/* Code point classes, as llama.cpp's unicode_cpt_flags (unicode.h) defines them: one
 * category bit from the general category, plus WS for White_Space. */
enum {
    GE_CPT_UNDEFINED = 0x0001, /* Cn                    */
    GE_CPT_NUMBER = 0x0002,    /* \p{N}: Nd Nl No        */
    GE_CPT_LETTER = 0x0004,    /* \p{L}: Lu Ll Lt Lm Lo  */
    GE_CPT_SEPARATOR = 0x0008, /* \p{Z}: Zs Zl Zp        */
    GE_CPT_MARK = 0x0010,      /* \p{M}: Mn Mc Me        */
    GE_CPT_PUNCT = 0x0020,     /* \p{P}: Pc Pd Ps Pe Pi Pf Po */
    GE_CPT_SYMBOL = 0x0040,    /* \p{S}: Sm Sc Sk So     */
    GE_CPT_CONTROL = 0x0080,   /* \p{C}: Cc Cf Cs Co     */
    GE_CPT_WS = 0x0100,        /* \s: Z*, U+0009..U+000D, U+0085 */
};

/* The flags of one code point (from utf8proc's general category). */
uint16_t ge_bpe_cpt_flags(uint32_t cpt);

/* One supported tokenizer.ggml.pre. */
typedef struct ge_bpe_pre {
    const char *name;    /* the tokenizer.ggml.pre text ("" = absent) */
    uint8_t type;        /* which regex chain (tok_bpe_pre.c) */
    uint8_t ignore_merges; /* a word that is a whole vocabulary piece skips the merges */
    uint8_t add_bos;     /* llama.cpp's add_bos default for this pre-tokenizer */
    uint8_t no_bos;      /* llama.cpp clears the default BOS id (ChatGLM) */
} ge_bpe_pre;

/* The entry for a tokenizer.ggml.pre value, or NULL when it is not supported. */
const ge_bpe_pre *ge_bpe_pre_find(const char *name);
/* "default, gpt-2, ..." for error messages */
const char *ge_bpe_pre_supported(void);

/* Splits n code points (cpt, with their flags) into words as llama.cpp's
 * unicode_regex_split does for this pre-tokenizer. a and b: work arrays of n entries
 * each. Returns the word lengths (in code points, in order; a or b) and their count. */
const uint32_t *ge_bpe_pre_split(const ge_bpe_pre *pre, const uint32_t *cpt, const uint16_t *flags, size_t n,
                                 uint32_t *a, uint32_t *b, size_t *n_words);

#endif
