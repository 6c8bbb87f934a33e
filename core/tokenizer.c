/* tokenizer.c - SentencePiece tokenization matching llama.cpp (see tokenizer.h). */
#include "tokenizer.h"

#include "alloc.h"
#include "ggufembed.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

enum { TOK_NORMAL = 1, TOK_UNKNOWN = 2, TOK_CONTROL = 3, TOK_USER_DEFINED = 4, TOK_UNUSED = 5, TOK_BYTE = 6 };

/* llama.cpp's attributes, derived from the types above (llama-vocab.cpp) */
enum { ATTR_UNKNOWN = 1, ATTR_CONTROL = 2, ATTR_USER_DEFINED = 4 };

/* Texts llama.cpp treats as control tokens whatever their type in the file: it
 * looks them up to find end-of-generation and fill-in-the-middle tokens and
 * marks each "control-looking" one CONTROL (so "</s>" in Gemma's vocabulary, a
 * user-defined token, is not split out when special tokens are not parsed). */
static const char *const k_control_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
    "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
    "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>",
    "[e~[", "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<PRE>", "\xe2\x96\x81" "<PRE>", "<|code_prefix|>",
    "<|prefix|>", "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<SUF>", "\xe2\x96\x81" "<SUF>", "<|code_suffix|>",
    "<|suffix|>", "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<MID>", "\xe2\x96\x81" "<MID>", "<|code_middle|>",
    "<|middle|>", "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", "<|fim_repo|>", "<|repo_name|>",
    "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>",
    "<\xef\xbd\x9c" "fim\xe2\x96\x81" "hole\xef\xbd\x9c>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>",
};

/* ------------------------------------------------------------ vocabulary */

static uint64_t hash_bytes(const char *p, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)p[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

int32_t ge_vocab_find(const ge_vocab *v, const char *text, size_t len) {
    uint32_t i = (uint32_t)hash_bytes(text, len) & v->table_mask;
    for (;;) {
        int32_t id = v->table[i];
        if (id < 0) return -1;
        if (v->piece_len[id] == len && memcmp(v->pieces + v->piece_off[id], text, len) == 0) return id;
        i = (i + 1) & v->table_mask;
    }
}

/* Inserts id; a piece text seen before now maps to the later id, as in
 * llama.cpp's token_to_id map (token_to_id[text] = id, in id order). */
static void table_put(ge_vocab *v, int32_t id) {
    const char *text = (const char *)v->pieces + v->piece_off[id];
    size_t len = v->piece_len[id];
    uint32_t i = (uint32_t)hash_bytes(text, len) & v->table_mask;
    for (;;) {
        int32_t cur = v->table[i];
        if (cur < 0 || (v->piece_len[cur] == len && memcmp(v->pieces + v->piece_off[cur], text, len) == 0)) {
            v->table[i] = id;
            return;
        }
        i = (i + 1) & v->table_mask;
    }
}

/* sort keys: longest piece first, then by id (qsort has no user pointer in C11,
 * so the length goes into the key instead of a global) */
static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : (x > y);
}

static int read_token_id(const gguf_file *f, const char *key, int32_t n, int32_t *out, char *err, size_t es) {
    int64_t id;
    *out = -1;
    if (!gguf_get_int(f, key, &id)) return 0;
    if (id < 0 || id >= n) {
        ge_errorf(err, es, "tokenizer metadata %s = %lld is outside the vocabulary (%d tokens)", key,
                  (long long)id, n);
        return GGUFEMBED_ERR_FORMAT;
    }
    *out = (int32_t)id;
    return 0;
}

int ge_vocab_load(ge_vocab *v, const gguf_file *f, char *err, size_t es) {
    memset(v, 0, sizeof *v);
    v->bos = v->eos = v->unk = -1;
    gguf_str model;
    if (!gguf_get_str(f, "tokenizer.ggml.model", &model)) {
        ge_errorf(err, es, "the GGUF file has no tokenizer (tokenizer.ggml.model is missing)");
        return GGUFEMBED_ERR_FORMAT;
    }
    if (!gguf_str_eq(model, "llama")) {
        ge_errorf(err, es, "tokenizer '%.*s' is not supported (only SentencePiece, tokenizer.ggml.model = \"llama\")",
                  (int)(model.len > 32 ? 32 : model.len), model.ptr);
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    const gguf_kv *tokens = gguf_find_kv(f, "tokenizer.ggml.tokens");
    if (!tokens || tokens->type != GGUF_TYPE_ARRAY || tokens->arr_type != GGUF_TYPE_STRING || tokens->arr_n == 0 ||
        tokens->arr_n > (1u << 24) || tokens->arr_bytes > UINT32_MAX) {
        ge_errorf(err, es, "tokenizer.ggml.tokens is missing or not a string array of 1 to 16M pieces");
        return GGUFEMBED_ERR_FORMAT;
    }
    int32_t n = (int32_t)tokens->arr_n;
    const gguf_kv *scores = gguf_find_kv(f, "tokenizer.ggml.scores");
    if (scores && (scores->type != GGUF_TYPE_ARRAY || scores->arr_type != GGUF_TYPE_FLOAT32 || scores->arr_n != (uint64_t)n)) {
        ge_errorf(err, es, "tokenizer.ggml.scores must be a float32 array with one score per token");
        return GGUFEMBED_ERR_FORMAT;
    }
    const gguf_kv *types = gguf_find_kv(f, "tokenizer.ggml.token_type");
    if (types && (types->type != GGUF_TYPE_ARRAY || types->arr_type != GGUF_TYPE_INT32 || types->arr_n != (uint64_t)n)) {
        ge_errorf(err, es, "tokenizer.ggml.token_type must be an int32 array with one type per token");
        return GGUFEMBED_ERR_FORMAT;
    }

    uint32_t table_size = 1;
    while (table_size < (uint32_t)n * 2u) table_size <<= 1;
    v->n_tokens = n;
    v->pieces = tokens->arr_data;
    v->piece_off = ge_malloc(sizeof(uint32_t) * (size_t)n);
    v->piece_len = ge_malloc(sizeof(uint32_t) * (size_t)n);
    v->score = ge_malloc(sizeof(float) * (size_t)n);
    v->type = ge_malloc((size_t)n);
    v->table = ge_malloc(sizeof(int32_t) * table_size);
    v->special = ge_malloc(sizeof(int32_t) * (size_t)n);
    if (!v->piece_off || !v->piece_len || !v->score || !v->type || !v->table || !v->special) {
        ge_vocab_free(v);
        ge_errorf(err, es, "out of memory loading the vocabulary");
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    v->table_mask = table_size - 1;
    memset(v->table, 0xff, sizeof(int32_t) * table_size);
    for (int i = 0; i < 256; i++) v->byte_token[i] = -1;

    const uint8_t *cur = tokens->arr_data;
    for (int32_t i = 0; i < n; i++) {
        gguf_str s = gguf_str_array_next(&cur);
        v->piece_off[i] = (uint32_t)((const uint8_t *)s.ptr - v->pieces);
        v->piece_len[i] = (uint32_t)s.len;
        if ((int32_t)s.len > v->max_piece_len) v->max_piece_len = (int32_t)s.len;
        if (scores) {
            uint32_t b;
            memcpy(&b, scores->arr_data + 4 * (size_t)i, 4); /* little-endian host assumed (x86, wasm) */
            memcpy(&v->score[i], &b, 4);
        } else {
            v->score[i] = 0.0f;
        }
        int32_t t = TOK_NORMAL;
        if (types) memcpy(&t, types->arr_data + 4 * (size_t)i, 4);
        v->type[i] = (uint8_t)(t >= 0 && t <= 6 ? t : 0);
        table_put(v, i);
    }

    for (int b = 0; b < 256; b++) {
        char name[8];
        static const char hex[] = "0123456789ABCDEF";
        memcpy(name, "<0x", 3);
        name[3] = hex[b >> 4];
        name[4] = hex[b & 15];
        name[5] = '>';
        v->byte_token[b] = ge_vocab_find(v, name, 6);
    }

    /* attributes: from the type, plus llama.cpp's control-looking overrides */
    for (int32_t i = 0; i < n; i++) {
        uint8_t t = v->type[i];
        v->type[i] = (uint8_t)(t == TOK_UNKNOWN ? ATTR_UNKNOWN : t == TOK_CONTROL ? ATTR_CONTROL
                               : t == TOK_USER_DEFINED ? ATTR_USER_DEFINED : 0);
    }
    for (size_t k = 0; k < sizeof k_control_texts / sizeof k_control_texts[0]; k++) {
        int32_t id = ge_vocab_find(v, k_control_texts[k], strlen(k_control_texts[k]));
        if (id >= 0) v->type[id] |= ATTR_CONTROL;
    }
    int32_t n_special = 0;
    for (int32_t i = 0; i < n; i++)
        if (v->type[i] && v->piece_len[i] > 0) n_special++;
    uint64_t *keys = ge_malloc(sizeof(uint64_t) * (size_t)(n_special ? n_special : 1));
    if (!keys) {
        ge_vocab_free(v);
        ge_errorf(err, es, "out of memory loading the vocabulary");
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    for (int32_t i = 0; i < n; i++)
        if (v->type[i] && v->piece_len[i] > 0)
            keys[v->n_special++] = (uint64_t)(UINT32_MAX - v->piece_len[i]) << 32 | (uint32_t)i;
    qsort(keys, (size_t)v->n_special, sizeof(uint64_t), cmp_u64);
    for (int32_t k = 0; k < v->n_special; k++) v->special[k] = (int32_t)(keys[k] & 0xffffffffu);
    ge_free(keys);

    int rc;
    if ((rc = read_token_id(f, "tokenizer.ggml.bos_token_id", n, &v->bos, err, es)) ||
        (rc = read_token_id(f, "tokenizer.ggml.eos_token_id", n, &v->eos, err, es)) ||
        (rc = read_token_id(f, "tokenizer.ggml.unknown_token_id", n, &v->unk, err, es))) {
        ge_vocab_free(v);
        return rc;
    }
    /* llama.cpp's defaults for SentencePiece vocabularies when keys are absent */
    v->add_bos = 1;
    v->add_eos = 0;
    v->add_space_prefix = 1;
    gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &v->add_bos);
    gguf_get_bool(f, "tokenizer.ggml.add_eos_token", &v->add_eos);
    gguf_get_bool(f, "tokenizer.ggml.add_space_prefix", &v->add_space_prefix);
    if (v->bos < 0) v->add_bos = 0;
    if (v->eos < 0) v->add_eos = 0;
    return 0;
}

void ge_vocab_free(ge_vocab *v) {
    if (!v) return;
    ge_free(v->piece_off);
    ge_free(v->piece_len);
    ge_free(v->score);
    ge_free(v->type);
    ge_free(v->table);
    ge_free(v->special);
    memset(v, 0, sizeof *v);
}

/* ------------------------------------------------------------ scratch */

/* Grows *p (elements of elem bytes) to hold at least need; keeps the contents. */
static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 1;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) nc *= 2;
    void *np = ge_malloc(nc * elem);
    if (!np) return 0;
    if (*p) memcpy(np, *p, *cap * elem);
    ge_free(*p);
    *p = np;
    *cap = nc;
    return 1;
}

void ge_tok_scratch_free(ge_tok_scratch *s) {
    if (!s) return;
    ge_free(s->buf);
    ge_free(s->sym);
    ge_free(s->heap);
    ge_free(s->frag);
    ge_free(s->ids);
    memset(s, 0, sizeof *s);
}

static int push_id(ge_tok_scratch *s, int32_t id) {
    if (!grow((void **)&s->ids, &s->ids_cap, s->n_ids + 1, sizeof(int32_t))) return 0;
    s->ids[s->n_ids++] = id;
    return 1;
}

/* ------------------------------------------------------------ SentencePiece merges */

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
    if (!grow(&st->s->heap, &st->s->heap_cap, st->n_heap + 1, sizeof(bigram))) return 0;
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
    if (id >= 0) return push_id(st->s, id);
    for (int32_t i = 0; i < sym->n; i++) {
        int32_t b = v->byte_token[(uint8_t)text[i]];
        if (!push_id(st->s, b >= 0 ? b : v->unk)) return 0;
    }
    return 1;
}

/* UTF-8 sequence length from the lead byte, as llama.cpp's unicode_len_utf8:
 * continuation and invalid bytes count as 1. */
static int32_t utf8_len(uint8_t c) {
    static const uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[c >> 4];
}

static int spm_fragment(ge_tok_scratch *s, const ge_vocab *v, const char *text, size_t len, int prefix_space) {
    /* escape: ' ' -> U+2581 (3 bytes) */
    size_t need = (len + 1) * 3;
    if (!grow((void **)&s->buf, &s->buf_cap, need, 1)) return 0;
    size_t n = 0;
    if (prefix_space) { memcpy(s->buf, "\xE2\x96\x81", 3); n = 3; }
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') { memcpy(s->buf + n, "\xE2\x96\x81", 3); n += 3; }
        else s->buf[n++] = text[i];
    }
    if (n == 0) return 1;
    if (n > INT32_MAX / 2) return 0;

    if (!grow(&s->sym, &s->sym_cap, n, sizeof(symbol))) return 0;
    spm_state st = {s, v, s->sym, s->heap, 0};
    int32_t n_sym = 0;
    for (size_t off = 0; off < n;) {
        int32_t l = utf8_len((uint8_t)s->buf[off]);
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

/* ------------------------------------------------------------ special tokens */

typedef struct frag {
    int32_t token;   /* >= 0: a special token; -1: raw text */
    size_t off, len; /* raw text bytes */
} frag;

static const char *find_bytes(const char *hay, size_t n, const char *needle, size_t m) {
    if (m == 0 || m > n) return NULL;
    const char *end = hay + (n - m) + 1;
    for (const char *p = hay; p < end;) {
        p = memchr(p, (unsigned char)needle[0], (size_t)(end - p));
        if (!p) return NULL;
        if (memcmp(p, needle, m) == 0) return p;
        p++;
    }
    return NULL;
}

int ge_tokenize(const ge_vocab *v, ge_tok_scratch *s, const char *text, size_t len, unsigned flags) {
    const int add_special = (flags & GGUFEMBED_TOKENIZE_ADD_SPECIAL) != 0;
    const int parse_special = (flags & GGUFEMBED_TOKENIZE_PARSE_SPECIAL) != 0;
    s->n_ids = 0;
    if (add_special && v->add_bos && !push_id(s, v->bos)) return GGUFEMBED_ERR_OUT_OF_MEMORY;

    /* fragments live in two halves of s->frag: the current list and the next */
    size_t n_frag = 0;
    if (len > 0) {
        if (!grow(&s->frag, &s->frag_cap, 2, sizeof(frag))) return GGUFEMBED_ERR_OUT_OF_MEMORY;
        frag *f = s->frag;
        f[0].token = -1;
        f[0].off = 0;
        f[0].len = len;
        n_frag = 1;
    }
    /* cheap filters before searching the text for each of the (thousands of)
     * special tokens: which bytes and which adjacent byte pairs occur at all */
    uint8_t present[256] = {0};
    uint64_t pairs[65536 / 64] = {0};
    for (size_t i = 0; i < len; i++) {
        present[(uint8_t)text[i]] = 1;
        if (i + 1 < len) {
            unsigned pr = (unsigned)(uint8_t)text[i] << 8 | (uint8_t)text[i + 1];
            pairs[pr >> 6] |= 1ull << (pr & 63);
        }
    }

    for (int32_t k = 0; k < v->n_special && n_frag > 0; k++) {
        int32_t id = v->special[k];
        if (!parse_special && (v->type[id] & (ATTR_CONTROL | ATTR_UNKNOWN))) continue;
        size_t plen;
        const char *piece = ge_vocab_piece(v, id, &plen);
        if (plen > len || !present[(uint8_t)piece[0]]) continue;
        if (plen > 1) {
            unsigned pr = (unsigned)(uint8_t)piece[0] << 8 | (uint8_t)piece[1];
            if (!(pairs[pr >> 6] >> (pr & 63) & 1)) continue;
        }
        if (!find_bytes(text, len, piece, plen)) continue;

        /* split every raw fragment at each (leftmost, non-overlapping) occurrence */
        size_t out = n_frag; /* write the new list after the current one */
        for (size_t i = 0; i < n_frag; i++) {
            frag cur = ((frag *)s->frag)[i];
            if (cur.token >= 0) {
                if (!grow(&s->frag, &s->frag_cap, out + 1, sizeof(frag))) return GGUFEMBED_ERR_OUT_OF_MEMORY;
                ((frag *)s->frag)[out++] = cur;
                continue;
            }
            size_t pos = cur.off, end = cur.off + cur.len;
            for (;;) {
                const char *hit = find_bytes(text + pos, end - pos, piece, plen);
                if (!grow(&s->frag, &s->frag_cap, out + 2, sizeof(frag))) return GGUFEMBED_ERR_OUT_OF_MEMORY;
                frag *f = s->frag;
                if (!hit) {
                    if (end > pos) f[out++] = (frag){-1, pos, end - pos};
                    break;
                }
                size_t at = (size_t)(hit - text);
                if (at > pos) f[out++] = (frag){-1, pos, at - pos};
                f[out++] = (frag){id, at, plen};
                pos = at + plen;
            }
        }
        frag *f = s->frag;
        memmove(f, f + n_frag, (out - n_frag) * sizeof(frag));
        n_frag = out - n_frag;
    }

    int prev_special = 1;
    for (size_t i = 0; i < n_frag; i++) {
        frag cur = ((frag *)s->frag)[i];
        if (cur.token >= 0) {
            if (!push_id(s, cur.token)) return GGUFEMBED_ERR_OUT_OF_MEMORY;
            prev_special = 1;
        } else {
            if (!spm_fragment(s, v, text + cur.off, cur.len, v->add_space_prefix && prev_special))
                return GGUFEMBED_ERR_OUT_OF_MEMORY;
            prev_special = 0;
        }
    }
    if (add_special && v->add_eos && !push_id(s, v->eos)) return GGUFEMBED_ERR_OUT_OF_MEMORY;
    return 0;
}
