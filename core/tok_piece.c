/*
 * tok_piece.c - the text a token stands for (llama.cpp's llama_token_to_piece with
 * special = true): what the token contributes to the text, as opposed to its
 * vocabulary entry (ggufembed_token_text).
 *
 *   control, unknown, user-defined tokens  their text as is ("<bos>", "[CLS]")
 *   byte-level BPE (gpt2)                  each character mapped back through GPT-2's
 *                                          bytes_to_unicode ("Ġworld" -> " world")
 *   SentencePiece, WordPiece, Unigram      U+2581 -> ' ' ("▁world" -> " world"); a byte
 *                                          token <0xXX> -> that byte
 *   anything else (unused tokens)          nothing
 * A piece may be part of a UTF-8 sequence (a byte token, a BPE token of a split
 * character): it is bytes, not necessarily text.
 */
#include "model.h"
#include "tokenizer.h"

#include <string.h>

/* GPT-2's bytes_to_unicode inverted: the byte a code point stands for, or -1. */
static int gpt2_byte(uint32_t cp) {
    if ((cp >= 0x21 && cp <= 0x7e) || (cp >= 0xa1 && cp <= 0xac) || (cp >= 0xae && cp <= 0xff)) return (int)cp;
    if (cp < 0x100 || cp > 0x143) return -1;
    int next = 0x100; /* the other bytes, in order, map to U+0100, U+0101, ... */
    for (int b = 0; b < 256; b++) {
        int self = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
        if (!self && (uint32_t)next++ == cp) return b;
    }
    return -1;
}

/* Decodes one UTF-8 code point at p (n bytes left); *len gets its length (1 for a bad byte). */
static uint32_t utf8_next(const unsigned char *p, size_t n, size_t *len) {
    unsigned c = p[0];
    size_t l = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (l > n) l = 1;
    uint32_t cp = l == 1 ? c : c & (0x7F >> l);
    for (size_t i = 1; i < l; i++) cp = cp << 6 | (p[i] & 0x3F);
    *len = l;
    return cp;
}

static void put(char *out, size_t cap, size_t *n, const void *p, size_t len) {
    if (*n < cap) memcpy(out + *n, p, len < cap - *n ? len : cap - *n);
    *n += len;
}

ggufembed_status ggufembed_token_piece(const ggufembed_model *m, int32_t id, char *out, size_t cap, size_t *len) {
    if (!m || !len || (!out && cap)) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    *len = 0;
    const ge_vocab *v = &m->vocab;
    if (id < 0 || id >= v->n_tokens) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    size_t tl;
    const unsigned char *t = (const unsigned char *)ge_vocab_piece(v, id, &tl);
    const unsigned attr = v->attr[id];
    size_t n = 0;
    if (attr & (GE_ATTR_CONTROL | GE_ATTR_UNKNOWN | GE_ATTR_USER_DEFINED)) {
        put(out, cap, &n, t, tl);
    } else if (v->tk == &ge_tokenizer_bpe && (attr & GE_ATTR_NORMAL)) {
        for (size_t i = 0, l; i < tl; i += l) {
            int b = gpt2_byte(utf8_next(t + i, tl - i, &l));
            if (b >= 0) put(out, cap, &n, &(unsigned char){(unsigned char)b}, 1);
            else put(out, cap, &n, t + i, l); /* not a byte character: kept as it is */
        }
    } else if (attr & GE_ATTR_BYTE) {
        unsigned b = 0;
        for (size_t i = 3; i + 1 < tl; i++) /* "<0xXX>" */
            b = b * 16 + (unsigned)(t[i] <= '9' ? t[i] - '0' : (t[i] | 0x20) - 'a' + 10);
        put(out, cap, &n, &(unsigned char){(unsigned char)b}, 1);
    } else if (attr & GE_ATTR_NORMAL) {
        for (size_t i = 0; i < tl;) {
            if (tl - i >= 3 && t[i] == 0xE2 && t[i + 1] == 0x96 && t[i + 2] == 0x81) { /* U+2581 */
                put(out, cap, &n, " ", 1);
                i += 3;
            } else {
                put(out, cap, &n, t + i, 1);
                i++;
            }
        }
    }
    *len = n;
    return n > cap ? GGUFEMBED_ERR_BUFFER_TOO_SMALL : GGUFEMBED_OK;
}
