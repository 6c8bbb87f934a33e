/*
 * tok_wpm.c - WordPiece ("bert" in GGUF), as llama.cpp's llm_tokenizer_wpm_session.
 *
 * Per raw-text fragment (special tokens are already split out by vocab.c):
 *   1. Decode to code points as llama.cpp's unicode_cpts_from_utf8: lengths from the lead
 *      byte, continuation bytes checked, nothing else (overlong forms and surrogates
 *      decode as they fall); an invalid or truncated sequence is U+FFFD for one byte.
 *   2. Per code point (llama.cpp's "BertNormalizer", preprocess()):
 *      - strip_accents: replace it by the FIRST code point of its canonical
 *        decomposition (llama.cpp's one-to-one "NFD"; a Hangul syllable -> its leading
 *        jamo); everything below looks at that code point;
 *      - White_Space ends the current word;
 *      - U+0000, U+FFFD and categories Cc Cf Co Cs are dropped (without ending a word),
 *        and with strip_accents also the marks Mn Mc Me;
 *      - lowercase: the simple 1:1 lower-case mapping;
 *      - punctuation (P*), ASCII symbols (S* below U+007F) and the CJK ideograph blocks
 *        of is_chinese_char are words of their own; anything else (letters, digits,
 *        other symbols, unassigned code points) is appended to the current word.
 *   3. Each word gets U+2581 in front, then greedy longest match from the left against
 *      the vocabulary (byte substrings, at most max_piece_len long). When some position
 *      matches nothing, the whole word becomes one [UNK].
 * The two normalizer switches come from tokenizer.ggml.normalizer.lowercase (default
 * true) and tokenizer.ggml.normalizer.strip_accents (default: = lowercase).
 * With add_special llama.cpp's WPM path always puts [CLS] first and [SEP] last.
 *
 * Unicode data comes from utf8proc 2.8.0 (Unicode 15.0); llama.cpp's own tables
 * (unicode-data.cpp) are Unicode 15.1. They differ only in code points new in 15.1
 * (U+2EBF0..U+2EE5D Lo, U+2FFC..U+2FFF and U+31EF So), which both append to the word:
 * checked for every code point and all four normalizer settings, the decisions agree.
 * One deliberate divergence: a 4-byte sequence decoding above U+10FFFF (lead bytes
 * F4..F7) makes llama.cpp throw from unicode_cpt_to_utf8 and abort; here it is dropped,
 * as the invalid input it is (the same bytes dropped as U+FFFD would be).
 */
#include "tokenizer.h"

#include "ggufembed.h"
#include "util.h"

#include <string.h>
#include <utf8proc.h>

typedef struct wpm_opts {
    int lowercase, strip_accents;
} wpm_opts;

/* v->impl points at one of these (nothing to allocate or free) */
static wpm_opts k_opts[4] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};

/* ------------------------------------------------------------ code points */

/* llama.cpp's unicode_cpt_from_utf8 (with the catch in unicode_cpts_from_utf8). */
static uint32_t decode_cpt(const uint8_t *p, size_t n, size_t *adv) {
    const uint8_t c = p[0];
    *adv = 1;
    if (!(c & 0x80)) return c;
    if (!(c & 0x40)) return 0xFFFD; /* stray continuation byte */
    if (!(c & 0x20)) {
        if (n < 2 || (p[1] & 0xC0) != 0x80) return 0xFFFD;
        *adv = 2;
        return (uint32_t)(c & 0x1F) << 6 | (p[1] & 0x3Fu);
    }
    if (!(c & 0x10)) {
        if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0xFFFD;
        *adv = 3;
        return (uint32_t)(c & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3Fu);
    }
    if (!(c & 0x08)) {
        if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0xFFFD;
        *adv = 4;
        return (uint32_t)(c & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 | (uint32_t)(p[2] & 0x3F) << 6 |
               (p[3] & 0x3Fu);
    }
    return 0xFFFD; /* F8..FF */
}

static size_t encode_cpt(uint32_t c, char *out) {
    if (c < 0x80) { out[0] = (char)c; return 1; }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | c >> 6);
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | c >> 12);
        out[1] = (char)(0x80 | (c >> 6 & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | c >> 18);
    out[1] = (char)(0x80 | (c >> 12 & 0x3F));
    out[2] = (char)(0x80 | (c >> 6 & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* llama.cpp's is_chinese_char (its ranges, including the 0x2B920 quirk copied from HF) */
static int is_chinese_char(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* The first code point of the canonical decomposition (the code point itself if none). */
static uint32_t nfd_first(uint32_t c) {
    utf8proc_int32_t d[4];
    int boundclass = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t)c, d, 4, UTF8PROC_DECOMPOSE, &boundclass);
    return n >= 1 ? (uint32_t)d[0] : c;
}

enum { CPT_DROP, CPT_SPACE, CPT_JOIN, CPT_ALONE };

/* What preprocess() does with code point c: drop it, end the word, append *out to the
 * word, or make *out a word of its own. c <= 0x10FFFF. */
static int classify(uint32_t c, const wpm_opts *o, uint32_t *out) {
    if (o->strip_accents) c = nfd_first(c);
    const utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)c);
    /* White_Space = the separators Z* plus TAB..CR and NEL */
    if ((cat >= UTF8PROC_CATEGORY_ZS && cat <= UTF8PROC_CATEGORY_ZP) || (c >= 0x09 && c <= 0x0D) || c == 0x85)
        return CPT_SPACE;
    if (c == 0 || c == 0xFFFD || (cat >= UTF8PROC_CATEGORY_CC && cat <= UTF8PROC_CATEGORY_CO)) return CPT_DROP;
    if (o->strip_accents && cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME) return CPT_DROP;
    *out = o->lowercase ? (uint32_t)utf8proc_tolower((utf8proc_int32_t)c) : c;
    if ((cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO) ||
        (c < 0x7F && cat >= UTF8PROC_CATEGORY_SM && cat <= UTF8PROC_CATEGORY_SO) || is_chinese_char(c))
        return CPT_ALONE;
    return CPT_JOIN;
}

/* ------------------------------------------------------------ WordPiece */

/* Greedy longest-match of word w[0..n) (U+2581 included); [UNK] for the whole word when
 * some position matches no piece. 1 = ok, 0 = out of memory. */
static int emit_word(const ge_vocab *v, ge_tok_scratch *s, const char *w, size_t n) {
    const size_t start = s->n_ids, max_len = (size_t)v->max_piece_len;
    for (size_t i = 0; i < n;) {
        size_t j = n - i > max_len ? i + max_len : n;
        int32_t id = -1;
        for (; j > i; j--)
            if ((id = ge_vocab_find(v, w + i, j - i)) >= 0) break;
        if (id < 0) {
            s->n_ids = start;
            /* llama.cpp would push LLAMA_TOKEN_NULL for a vocabulary without [UNK] */
            return v->unk < 0 || ge_tok_push(s, v->unk);
        }
        if (!ge_tok_push(s, id)) return 0;
        i = j;
    }
    return 1;
}

#define WORD_PREFIX "\xE2\x96\x81" /* U+2581 */

static int wpm_fragment(const ge_vocab *v, ge_tok_scratch *s, const char *text, size_t len, int after_special) {
    (void)after_special;
    const wpm_opts *o = v->impl;
    /* one word at a time in s->buf, after the prefix; lower-casing may lengthen a
     * code point, so room is checked per code point (usually the first grow suffices) */
    if (len > SIZE_MAX - 8 || !ge_tok_grow((void **)&s->buf, &s->buf_cap, len + 8, 1))
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    memcpy(s->buf, WORD_PREFIX, 3);
    size_t n = 3; /* bytes of the word in s->buf; 3 = the current word is empty */
    const uint8_t *p = (const uint8_t *)text;

    for (size_t off = 0; off < len;) {
        size_t adv;
        uint32_t c = decode_cpt(p + off, len - off, &adv), out = 0;
        off += adv;
        int kind = c > 0x10FFFF ? CPT_DROP : classify(c, o, &out);
        if (kind == CPT_DROP) continue;
        if (kind == CPT_JOIN) {
            if (n + 4 > s->buf_cap && !ge_tok_grow((void **)&s->buf, &s->buf_cap, n + 4, 1))
                return GGUFEMBED_ERR_OUT_OF_MEMORY;
            n += encode_cpt(out, s->buf + n);
            continue;
        }
        /* a space or a word of its own ends the current word */
        if (n > 3 && !emit_word(v, s, s->buf, n)) return GGUFEMBED_ERR_OUT_OF_MEMORY;
        n = 3;
        if (kind == CPT_ALONE) {
            n += encode_cpt(out, s->buf + n);
            if (!emit_word(v, s, s->buf, n)) return GGUFEMBED_ERR_OUT_OF_MEMORY;
            n = 3;
        }
    }
    if (n > 3 && !emit_word(v, s, s->buf, n)) return GGUFEMBED_ERR_OUT_OF_MEMORY;
    return 0;
}

/* ------------------------------------------------------------ hooks */

/* llama.cpp's defaults for "bert" vocabularies when the keys are absent */
static void wpm_defaults(ge_vocab *v) {
    v->bos = 101; /* [CLS] */
    v->eos = -1;
    v->unk = 100;
    v->sep = 102;
    v->pad = 0;
    v->mask = 103;
    v->add_bos = 1;
    v->add_eos = 0;
    v->add_sep = 1;
}

static int read_bool(const gguf_file *f, const char *key, int *out, char *err, size_t es) {
    if (gguf_get_bool(f, key, out) || !gguf_find_kv(f, key)) return 0;
    ge_errorf(err, es, "tokenizer metadata %s has the wrong type (expected a bool)", key);
    return GGUFEMBED_ERR_FORMAT;
}

static int wpm_init(ge_vocab *v, const gguf_file *f, char *err, size_t es) {
    int lowercase = 1, strip_accents, rc;
    if ((rc = read_bool(f, "tokenizer.ggml.normalizer.lowercase", &lowercase, err, es))) return rc;
    strip_accents = lowercase;
    if ((rc = read_bool(f, "tokenizer.ggml.normalizer.strip_accents", &strip_accents, err, es))) return rc;
    v->impl = &k_opts[(lowercase ? 2 : 0) + (strip_accents ? 1 : 0)];
    /* llama.cpp's WPM tokenize() adds [CLS] and [SEP] whenever add_special, whatever
     * add_bos_token / add_sep_token say */
    v->add_bos = 1;
    v->add_eos = 0;
    v->add_sep = 1;
    return 0;
}

const ge_tokenizer ge_tokenizer_wpm = {
    .model = "bert",
    .defaults = wpm_defaults,
    .init = wpm_init,
    .free = NULL,
    .fragment = wpm_fragment,
};
