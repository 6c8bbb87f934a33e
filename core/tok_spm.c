/*
 * tok_spm.c - SentencePiece ("llama" in GGUF), as llama.cpp's llm_tokenizer_spm_session:
 *   1. ' ' -> U+2581 in the fragment, and one U+2581 before it when add_space_prefix is
 *      set and the fragment starts the text or follows a special token (not for Gemma:
 *      tokenizer.ggml.add_space_prefix = false).
 *   2. Cut into UTF-8 characters (length from the lead byte; stray bytes are one-byte
 *      symbols), then repeatedly merge the adjacent pair whose concatenation is a
 *      vocabulary piece with the highest score (ties: leftmost).
 *   3. A final symbol that is no vocabulary piece becomes one byte token <0xXX> per
 *      byte (<unk> when the vocabulary has no such byte token).
 */
#include "tokenizer.h"

#include "ggufembed.h"

#include <string.h>


typedef struct symbol {
    int32_t off, n;      /* bytes [off, off+n) of the escaped fragment; n = 0 once merged away */
    int32_t prev, next;  /* neighbours in the live chain, -1 at the ends */
} symbol;

typedef struct bigram {
    float score;
    int32_t left, right;
    int32_t size;        /* byte length when queued: a stale entry no longer matches */
} bigram;

/* priority: higher score first, then the leftmost pair */
static int bigram_before(const bigram *a, const bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

typedef struct spm_state {
    ge_tok_scratch *s;
    const ge_vocab *v;
    symbol *sym;
    bigram *heap;
    size_t n_heap;
} spm_state;

static int heap_push(spm_state *st, bigram b) {
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

static bigram heap_pop(spm_state *st) {
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

static int try_add_bigram(spm_state *st, int32_t left, int32_t right) {
    if (left < 0 || right < 0) return 1;
    const symbol *l = &st->sym[left], *r = &st->sym[right];
    int32_t size = l->n + r->n;
    int32_t id = ge_vocab_find(st->v, st->s->buf + l->off, (size_t)size);
    if (id < 0) return 1;
    bigram b = {st->v->score[id], left, right, size};
    return heap_push(st, b);
}

/* Emits the ids of one final symbol: the piece, or its bytes. */
static int emit_symbol(spm_state *st, const symbol *sym) {
    const ge_vocab *v = st->v;
    const char *text = st->s->buf + sym->off;
    int32_t id = ge_vocab_find(v, text, (size_t)sym->n);
    if (id >= 0) return ge_tok_push(st->s, id);
    for (int32_t i = 0; i < sym->n; i++) {
        int32_t b = v->byte_token[(uint8_t)text[i]];
        if (!ge_tok_push(st->s, b >= 0 ? b : v->unk)) return 0;
    }
    return 1;
}

static int spm_fragment(const ge_vocab *v, ge_tok_scratch *s, const char *text, size_t len, int after_special) {
    const int prefix_space = v->add_space_prefix && after_special;
    /* escape: ' ' -> U+2581 (3 bytes) */
    size_t need = (len + 1) * 3;
    if (!ge_tok_grow((void **)&s->buf, &s->buf_cap, need, 1)) return 0;
    size_t n = 0;
    if (prefix_space) { memcpy(s->buf, "\xE2\x96\x81", 3); n = 3; }
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') { memcpy(s->buf + n, "\xE2\x96\x81", 3); n += 3; }
        else s->buf[n++] = text[i];
    }
    if (n == 0) return 1;
    if (n > INT32_MAX / 2) return 0;

    if (!ge_tok_grow(&s->sym, &s->sym_cap, n, sizeof(symbol))) return 0;
    spm_state st = {s, v, s->sym, s->heap, 0};
    int32_t n_sym = 0;
    for (size_t off = 0; off < n;) {
        int32_t l = ge_utf8_len((uint8_t)s->buf[off]);
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
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue; /* stale */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) st.sym[r->next].prev = b.left;
        if (!try_add_bigram(&st, l->prev, b.left) || !try_add_bigram(&st, b.left, l->next)) return 0;
    }
    for (int32_t i = 0; i != -1; i = st.sym[i].next)
        if (!emit_symbol(&st, &st.sym[i])) return 0;
    return 1;
}


/* llama.cpp's defaults for SentencePiece vocabularies when the keys are absent */
static void spm_defaults(ge_vocab *v) {
    v->bos = 1;
    v->eos = 2;
    v->unk = 0;
    v->add_bos = 1;
    v->add_eos = 0;
    v->add_space_prefix = 1;
}

static int spm_init(ge_vocab *v, const gguf_file *f, char *err, size_t es) {
    v->add_sep = 0; /* llama.cpp's SPM path never adds SEP */
    return 0;
}

static int spm_tokenize_fragment(const ge_vocab *v, ge_tok_scratch *s, const char *text, size_t len, int after_special) {
    return spm_fragment(v, s, text, len, after_special) ? 0 : GGUFEMBED_ERR_OUT_OF_MEMORY;
}

const ge_tokenizer ge_tokenizer_spm = {
    .model = "llama",
    .defaults = spm_defaults,
    .init = spm_init,
    .free = NULL,
    .fragment = spm_tokenize_fragment,
};
