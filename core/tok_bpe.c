/*
 * tok_bpe.c - byte-level BPE ("gpt2" in GGUF), as llama.cpp's llm_tokenizer_bpe_session.
 *
 * Per raw-text fragment (special tokens are already split out by vocab.c):
 *   1. Decode to code points as llama.cpp's unicode_cpts_from_utf8: the length from the
 *      lead byte, continuation bytes checked, nothing else (overlong forms and surrogates
 *      decode as they fall: C0 80 is U+0000); an invalid or truncated sequence is U+FFFD
 *      for its first byte, and decoding goes on at the next byte.
 *   2. Split into words by the pre-tokenizer named by tokenizer.ggml.pre (tok_bpe_pre.c:
 *      llama.cpp's regex chain for that type, written out by hand).
 *   3. Each word is re-encoded to UTF-8 (so invalid input is now EF BF BD) and every byte
 *      replaced by its GPT-2 "bytes_to_unicode" character (printable Latin-1 bytes map to
 *      themselves, the others to U+0100 + n in byte order; unicode_byte_to_utf8).
 *   4. With ignore_merges (llama3 and a few others) a word that is itself a vocabulary
 *      piece is that token. Otherwise the word starts as one symbol per character and
 *      the adjacent pair with the lowest merge rank (its index in tokenizer.ggml.merges,
 *      "left right"; ties: leftmost) is merged until no pair has a rank.
 *   5. Each final symbol is its vocabulary id; one that is not a piece (a vocabulary
 *      without some merge result or byte character) is looked up byte by byte, as single
 *      raw bytes of the encoded text, and the bytes that are no piece are dropped -
 *      llama.cpp does the same.
 * With add_special llama.cpp's BPE path adds BOS (when add_bos) and EOS (when add_eos),
 * never SEP.
 *
 * Unicode categories come from utf8proc (Unicode 15.0); llama.cpp has its own tables
 * (unicode-data.cpp, Unicode 15.1 here): the code points new in 15.1 (U+2FFC..U+2FFF,
 * U+31EF, U+2EBF0..U+2EE5D) are unassigned here and symbols/letters there, so they can
 * split differently. One deliberate divergence: a 4-byte sequence decoding above
 * U+10FFFF (lead F4 with a high second byte, F5..F7) makes llama.cpp throw from
 * unicode_cpt_to_utf8 and abort; here its lead byte is invalid (U+FFFD) like any other.
 */
#include "tokenizer.h"
#include "tok_bpe_pre.h"

#include "alloc.h"
#include "ggufembed.h"
#include "util.h"

#include <string.h>

typedef struct bpe_impl {
    const ge_bpe_pre *pre;
    /* the merges: an open-addressing hash of each "left right" text (pointing into the
     * file's string array, whose u64 length precedes the bytes) -> its rank */
    const uint8_t *merges;    /* tokenizer.ggml.merges' array bytes */
    uint32_t *slot_off;       /* offset of a merge's text from `merges`; 0 = empty slot */
    int32_t *slot_rank;
    uint32_t mask;
    uint8_t byte_char[256][2]; /* GPT-2's bytes_to_unicode, as UTF-8 */
    uint8_t byte_char_len[256];
} bpe_impl;

static uint32_t hash_step(uint32_t h, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u; /* FNV-1a */
    return h;
}
#define HASH_SEED 2166136261u

static uint64_t merge_len(const bpe_impl *m, uint32_t off) {
    uint64_t n;
    memcpy(&n, m->merges + off - 8, 8); /* little-endian host assumed (x86, wasm) */
    return n;
}

/* Rank of merging the symbols left (nl bytes) and right (nr bytes), or -1. Neither
 * contains a space (every byte became a non-space character), so "left right" is
 * exactly the merge whose first space (from index 1, as llama.cpp searches) splits it so. */
static int32_t merge_rank(const bpe_impl *m, const char *left, size_t nl, const char *right, size_t nr) {
    uint32_t h = hash_step(hash_step(hash_step(HASH_SEED, (const uint8_t *)left, nl), (const uint8_t *)" ", 1),
                           (const uint8_t *)right, nr);
    for (uint32_t i = h & m->mask;; i = (i + 1) & m->mask) {
        uint32_t off = m->slot_off[i];
        if (off == 0) return -1;
        const uint8_t *t = m->merges + off;
        if (merge_len(m, off) == nl + 1 + nr && memcmp(t, left, nl) == 0 && t[nl] == ' ' &&
            memcmp(t + nl + 1, right, nr) == 0)
            return m->slot_rank[i];
    }
}

/* ------------------------------------------------------------ merging one word */

typedef struct symbol {
    int32_t off, n;      /* bytes [off, off+n) of the encoded word; n = 0 once merged away */
    int32_t prev, next;  /* neighbours in the live chain, -1 at the ends */
} symbol;

typedef struct bigram {
    int32_t rank;
    int32_t left, right;
    int32_t size;        /* byte length when queued: a stale entry no longer matches */
} bigram;

/* priority: lowest rank first, then the leftmost pair (llm_bigram_bpe::comparator) */
static int bigram_before(const bigram *a, const bigram *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

typedef struct bpe_state {
    ge_tok_scratch *s;
    const bpe_impl *m;
    const char *word;
    symbol *sym;
    bigram *heap;
    size_t n_heap;
} bpe_state;

static int heap_push(bpe_state *st, bigram b) {
    if (!ge_tok_grow(&st->s->heap, &st->s->heap_cap, st->n_heap + 1, sizeof(bigram))) return 0;
    st->heap = st->s->heap;
    size_t i = st->n_heap++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!bigram_before(&b, &st->heap[parent])) break;
        st->heap[i] = st->heap[parent];
        i = parent;
    }
    st->heap[i] = b;
    return 1;
}

static bigram heap_pop(bpe_state *st) {
    bigram top = st->heap[0];
    bigram last = st->heap[--st->n_heap];
    size_t i = 0, n = st->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && bigram_before(&st->heap[c + 1], &st->heap[c])) c++;
        if (!bigram_before(&st->heap[c], &last)) break;
        st->heap[i] = st->heap[c];
        i = c;
    }
    if (n) st->heap[i] = last;
    return top;
}

static int try_add_bigram(bpe_state *st, int32_t left, int32_t right) {
    if (left < 0 || right < 0) return 1;
    const symbol *l = &st->sym[left], *r = &st->sym[right];
    int32_t rank = merge_rank(st->m, st->word + l->off, (size_t)l->n, st->word + r->off, (size_t)r->n);
    if (rank < 0) return 1;
    bigram b = {rank, left, right, l->n + r->n};
    return heap_push(st, b);
}

/* Emits one final symbol: its piece, else the pieces of its single bytes (if any). */
static int emit_symbol(const ge_vocab *v, ge_tok_scratch *s, const char *text, size_t n) {
    int32_t id = ge_vocab_find(v, text, n);
    if (id >= 0) return ge_tok_push(s, id);
    for (size_t i = 0; i < n; i++)
        if ((id = ge_vocab_find(v, text + i, 1)) >= 0 && !ge_tok_push(s, id)) return 0;
    return 1;
}

/* The ids of one encoded word (s->buf[0 .. n)). */
static int bpe_word(const ge_vocab *v, ge_tok_scratch *s, size_t n) {
    const bpe_impl *m = v->impl;
    const char *word = s->buf;
    if (m->pre->ignore_merges) {
        int32_t id = ge_vocab_find(v, word, n);
        if (id >= 0) return ge_tok_push(s, id);
    }
    if (!ge_tok_grow(&s->sym, &s->sym_cap, n, sizeof(symbol))) return 0;
    bpe_state st = {s, m, word, s->sym, s->heap, 0};
    int32_t n_sym = 0;
    for (size_t off = 0; off < n;) { /* one symbol per UTF-8 character */
        int32_t l = ge_utf8_len((uint8_t)word[off]);
        if ((size_t)l > n - off) l = (int32_t)(n - off);
        symbol *sy = &st.sym[n_sym];
        sy->off = (int32_t)off;
        sy->n = l;
        sy->prev = n_sym - 1;
        off += (size_t)l;
        sy->next = off == n ? -1 : n_sym + 1;
        n_sym++;
    }
    for (int32_t i = 1; i < n_sym; i++)
        if (!try_add_bigram(&st, i - 1, i)) return 0;
    while (st.n_heap) {
        bigram b = heap_pop(&st);
        symbol *l = &st.sym[b.left], *r = &st.sym[b.right];
        /* stale: either side merged away or grown since. (While both live, right is
         * still left's neighbour and left cannot have grown, so the size says it all.) */
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) st.sym[r->next].prev = b.left;
        if (!try_add_bigram(&st, l->prev, b.left) || !try_add_bigram(&st, b.left, l->next)) return 0;
    }
    for (int32_t i = 0; i != -1; i = st.sym[i].next)
        if (!emit_symbol(v, s, word + st.sym[i].off, (size_t)st.sym[i].n)) return 0;
    return 1;
}

/* ------------------------------------------------------------ one fragment */

/* llama.cpp's unicode_cpt_from_utf8 with unicode_cpts_from_utf8's recovery; returns the
 * code point and advances *i. Code points above U+10FFFF count as invalid (see top). */
static uint32_t decode_cpt(const uint8_t *t, size_t n, size_t *i) {
    const size_t o = *i;
    const uint8_t c = t[o];
    size_t len;
    uint32_t cpt = 0;
    if (!(c & 0x80)) { *i = o + 1; return c; }
    if (!(c & 0x40)) len = 0;
    else if (!(c & 0x20)) { len = 2; cpt = c & 0x1fu; }
    else if (!(c & 0x10)) { len = 3; cpt = c & 0x0fu; }
    else if (!(c & 0x08)) { len = 4; cpt = c & 0x07u; }
    else len = 0;
    if (len == 0 || n - o < len) { *i = o + 1; return 0xFFFD; }
    for (size_t k = 1; k < len; k++) {
        if ((t[o + k] & 0xc0) != 0x80) { *i = o + 1; return 0xFFFD; }
        cpt = cpt << 6 | (t[o + k] & 0x3fu);
    }
    if (cpt > 0x10FFFF) { *i = o + 1; return 0xFFFD; }
    *i = o + len;
    return cpt;
}

/* unicode_cpt_to_utf8 (surrogates included, as llama.cpp writes them) */
static size_t encode_cpt(uint32_t c, uint8_t *out) {
    if (c < 0x80) { out[0] = (uint8_t)c; return 1; }
    if (c < 0x800) { out[0] = (uint8_t)(0xc0 | c >> 6); out[1] = (uint8_t)(0x80 | (c & 0x3f)); return 2; }
    if (c < 0x10000) {
        out[0] = (uint8_t)(0xe0 | c >> 12); out[1] = (uint8_t)(0x80 | (c >> 6 & 0x3f)); out[2] = (uint8_t)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (uint8_t)(0xf0 | c >> 18); out[1] = (uint8_t)(0x80 | (c >> 12 & 0x3f));
    out[2] = (uint8_t)(0x80 | (c >> 6 & 0x3f)); out[3] = (uint8_t)(0x80 | (c & 0x3f));
    return 4;
}

static int bpe_fragment_ids(const ge_vocab *v, ge_tok_scratch *s, const char *text, size_t len) {
    const bpe_impl *m = v->impl;
    /* symbol offsets are int32: an encoded word takes up to 6 bytes per input byte
     * (an invalid byte is U+FFFD, 3 bytes of 2-byte characters) */
    if (len == 0) return 1;
    if (len > INT32_MAX / 8) return 0;
    /* work: code points, two word-length arrays (one entry per code point at most), flags */
    if (!ge_tok_grow(&s->work, &s->work_cap, len * (3 * sizeof(uint32_t) + sizeof(uint16_t)), 1)) return 0;
    uint32_t *cpt = s->work, *wa = cpt + len, *wb = wa + len;
    uint16_t *flags = (uint16_t *)(wb + len);
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        cpt[n] = decode_cpt((const uint8_t *)text, len, &i);
        flags[n] = ge_bpe_cpt_flags(cpt[n]);
        n++;
    }
    size_t n_words;
    const uint32_t *words = ge_bpe_pre_split(m->pre, cpt, flags, n, wa, wb, &n_words);
    size_t at = 0;
    for (size_t w = 0; w < n_words; w++) {
        const size_t end = at + words[w];
        /* at most 4 UTF-8 bytes per code point, each at most 2 bytes once mapped */
        if (!ge_tok_grow((void **)&s->buf, &s->buf_cap, 8 * (end - at), 1)) return 0;
        size_t nb = 0;
        for (; at < end; at++) {
            uint8_t u[4];
            size_t k = encode_cpt(cpt[at], u);
            for (size_t j = 0; j < k; j++) {
                memcpy(s->buf + nb, m->byte_char[u[j]], m->byte_char_len[u[j]]);
                nb += m->byte_char_len[u[j]];
            }
        }
        if (!bpe_word(v, s, nb)) return 0;
    }
    return 1;
}

/* ------------------------------------------------------------ the tokenizer hooks */

/* llama.cpp's defaults for "gpt2" vocabularies when the keys are absent */
static void bpe_defaults(ge_vocab *v) {
    const ge_bpe_pre *pre = ge_bpe_pre_find(v->pre);
    v->bos = 11;
    v->eos = 11;
    v->add_bos = pre && pre->add_bos;
    v->add_eos = 0;
    v->add_sep = 0;
    if (pre && pre->no_bos) v->bos = -1;
}

static void bpe_free(ge_vocab *v) {
    bpe_impl *m = v->impl;
    if (!m) return;
    ge_free(m->slot_off);
    ge_free(m->slot_rank);
    ge_free(m);
    v->impl = NULL;
}

static int bpe_init(ge_vocab *v, const gguf_file *f, char *err, size_t es) {
    const ge_bpe_pre *pre = ge_bpe_pre_find(v->pre);
    if (!pre) {
        ge_errorf(err, es, "pre-tokenizer '%s' is not supported (supported: %s)", v->pre, ge_bpe_pre_supported());
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    const gguf_kv *kv = gguf_find_kv(f, "tokenizer.ggml.merges");
    if (!kv) {
        ge_errorf(err, es, "the BPE vocabulary has no merges (tokenizer.ggml.merges is missing)");
        return GGUFEMBED_ERR_FORMAT;
    }
    if (kv->type != GGUF_TYPE_ARRAY || kv->arr_type != GGUF_TYPE_STRING || kv->arr_n > (1u << 24) ||
        kv->arr_bytes > UINT32_MAX) {
        ge_errorf(err, es, "tokenizer.ggml.merges must be a string array of at most 16M merges");
        return GGUFEMBED_ERR_FORMAT;
    }
    bpe_impl *m = ge_calloc(1, sizeof *m);
    if (!m) goto oom;
    v->impl = m;
    m->pre = pre;
    m->merges = kv->arr_data;

    uint32_t size = 1;
    while (size < kv->arr_n + kv->arr_n / 2 + 1) size <<= 1;
    m->mask = size - 1;
    m->slot_off = ge_calloc(size, sizeof(uint32_t));
    m->slot_rank = ge_malloc(sizeof(int32_t) * size);
    if (!m->slot_off || !m->slot_rank) goto oom;
    const uint8_t *cur = kv->arr_data;
    for (uint64_t r = 0; r < kv->arr_n; r++) {
        gguf_str g = gguf_str_array_next(&cur);
        /* llama.cpp: first = word[0, pos), second = word[pos+1, ...) at the first space
         * from index 1; without one it maps ("", "") to the rank, which no pair asks for */
        const char *sp = g.len > 1 ? memchr(g.ptr + 1, ' ', g.len - 1) : NULL;
        if (!sp) continue;
        uint32_t off = (uint32_t)((const uint8_t *)g.ptr - m->merges);
        uint32_t h = hash_step(HASH_SEED, (const uint8_t *)g.ptr, g.len);
        uint32_t i = h & m->mask;
        for (; m->slot_off[i]; i = (i + 1) & m->mask) {
            uint32_t o = m->slot_off[i];
            if (merge_len(m, o) == g.len && memcmp(m->merges + o, g.ptr, g.len) == 0) break;
        }
        if (m->slot_off[i]) continue; /* a repeated merge keeps its first rank (emplace) */
        m->slot_off[i] = off;
        m->slot_rank[i] = (int32_t)r;
    }

    /* bytes_to_unicode: '!'..'~', U+00A1..U+00AC, U+00AE..U+00FF stand for themselves;
     * the other bytes, in order, for U+0100, U+0101, ... */
    int next = 256;
    for (int b = 0; b < 256; b++) {
        int c = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae ? b : next++;
        m->byte_char_len[b] = (uint8_t)encode_cpt((uint32_t)c, m->byte_char[b]);
    }
    v->add_sep = 0; /* llama.cpp's BPE path never appends SEP */
    return 0;
oom:
    bpe_free(v);
    ge_errorf(err, es, "out of memory loading the BPE merges");
    return GGUFEMBED_ERR_OUT_OF_MEMORY;
}

static int bpe_fragment(const ge_vocab *v, ge_tok_scratch *s, const char *text, size_t len, int after_special) {
    (void)after_special; /* BPE adds no prefix space */
    return bpe_fragment_ids(v, s, text, len) ? 0 : GGUFEMBED_ERR_OUT_OF_MEMORY;
}

const ge_tokenizer ge_tokenizer_bpe = {
    .model = "gpt2",
    .defaults = bpe_defaults,
    .init = bpe_init,
    .free = bpe_free,
    .fragment = bpe_fragment,
};
