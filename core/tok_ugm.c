/*
 * tok_ugm.c - Unigram ("t5" in GGUF: the XLM-RoBERTa vocabularies of bge-m3,
 * multilingual-e5, nomic-embed-text-v2-moe), as llama.cpp's llm_tokenizer_ugm_session.
 *
 * Each raw-text fragment (no special token inside) goes through:
 *   1. normalize(): at each input position, the first rule that applies:
 *      a. a user-defined piece's trie matches: the bytes are copied unchanged. llama.cpp's
 *         naive_trie::get_longest_prefix returns the depth of the deepest trie node the
 *         input reaches, piece or not, so a mere prefix of a user-defined piece counts;
 *      b. the precompiled_charsmap (SentencePiece's normalization: an XOR-compressed
 *         compact double array, XCDA, over bytes, then NUL-terminated replacement
 *         strings) has a longest matching prefix: its replacement (possibly empty);
 *      c. a well-formed UTF-8 sequence (as llama.cpp's unicode_cpt_from_utf8 checks it:
 *         lead byte and continuation bytes only) is copied; a byte that starts none
 *         becomes U+FFFD.
 *      In the result every ' ' byte (the charsmap has made tabs, newlines etc. spaces)
 *      becomes U+2581 (GGUF's UGM always escapes whitespace and never treats it as a
 *      suffix). add_space_prefix puts one U+2581 before the first non-space byte;
 *      remove_extra_whitespaces drops every space and puts one U+2581 before each run
 *      of non-space bytes instead (so trailing spaces vanish).
 *   2. Viterbi: walk the normalized bytes one UTF-8 character at a time (length from the
 *      lead byte); from each such position follow the piece trie (normal, user-defined
 *      and unused pieces) and offer every piece found to the position after it, with
 *      score sum (double) = the sum at the start + the piece's score (0 for user-defined
 *      pieces). A challenger replaces the current best only when strictly better, so on a
 *      tie the earliest start wins. When no piece covers exactly the character, <unk>
 *      is offered for it, with score min(normal scores) - 10.
 *   3. Backtrack from the end; runs of consecutive <unk> become one <unk>.
 * BOS / EOS come from vocab.c: llama.cpp's "t5" defaults are eos 1, unk 2, pad 0, no
 * BOS, add_bos false and add_eos true, then what the file says; UGM never adds SEP.
 *
 * The charsmap comes from the file: every XCDA index and replacement offset is checked.
 * llama.cpp throws on a bad one (an index out of the array, a replacement offset past
 * the strings or unterminated): at load time, when tokenizing "\n" hits one, the file
 * is refused as llama.cpp refuses it; later, where llama-tokenize would die, the walk
 * stops there and an unusable replacement counts as no match (text never crashes us).
 */
#include "tokenizer.h"

#include "alloc.h"
#include "ggufembed.h"
#include "util.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ byte trie */

/* llama.cpp's naive_trie (a std::map per node) laid out flat, breadth first: the
 * children of a node are consecutive nodes, labels ascending, found by binary search. */
typedef struct trie {
    uint32_t *first;   /* [n] index of the node's first child           */
    uint16_t *n_child; /* [n] number of children (at most 256)          */
    uint8_t *label;    /* [n] the byte on the edge into the node        */
    int32_t *value;    /* [n] id of the piece ending here, -1 for none  */
    uint32_t n;
} trie;

static int32_t trie_child(const trie *t, int32_t node, uint8_t c) {
    uint32_t lo = t->first[node], hi = lo + t->n_child[node];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->label[mid] < c) lo = mid + 1;
        else hi = mid;
    }
    return lo < t->first[node] + t->n_child[node] && t->label[lo] == c ? (int32_t)lo : -1;
}

typedef struct entry {
    uint64_t key; /* the first 8 bytes, big-endian, zero-padded: most comparisons end here */
    const uint8_t *p;
    uint32_t len;
    int32_t id;
} entry;

/* bytes, then shorter first (a prefix before its extensions), then id */
static int cmp_entry(const void *pa, const void *pb) {
    const entry *a = pa, *b = pb;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    int c = memcmp(a->p, b->p, a->len < b->len ? a->len : b->len);
    if (c) return c;
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Sorts by cmp_entry: a stable LSD radix sort on the 8-byte keys, a byte at a time,
 * then qsort within each run of equal keys (pieces sharing their first 8 bytes).
 * Returns 1, or 0 when out of memory. */
static int sort_entries(entry *ent, size_t n) {
    entry *tmp = ge_malloc(sizeof(entry) * (n ? n : 1)), *src = ent, *dst = tmp;
    if (!tmp) return 0;
    for (int shift = 0; shift < 64; shift += 8) {
        size_t start[256] = {0};
        for (size_t i = 0; i < n; i++) start[src[i].key >> shift & 255]++;
        if (n > 0 && start[src[0].key >> shift & 255] == n) continue; /* one bucket: nothing moves */
        for (size_t c = 0, sum = 0; c < 256; c++) {
            size_t k = start[c];
            start[c] = sum;
            sum += k;
        }
        for (size_t i = 0; i < n; i++) dst[start[src[i].key >> shift & 255]++] = src[i];
        entry *x = src;
        src = dst, dst = x;
    }
    if (src != ent) memcpy(ent, src, sizeof(entry) * n);
    ge_free(tmp);
    for (size_t a = 0, b; a < n; a = b) {
        for (b = a + 1; b < n && ent[b].key == ent[a].key;) b++;
        if (b - a > 1) qsort(ent + a, b - a, sizeof(entry), cmp_entry);
    }
    return 1;
}

static void trie_free(trie *t) {
    ge_free(t->first);
    ge_free(t->n_child);
    ge_free(t->label);
    ge_free(t->value);
    memset(t, 0, sizeof *t);
}

/* The trie of the pieces whose attributes meet attr_mask. Empty pieces are left out:
 * llama.cpp's walks never look at the root's value. A text held by several ids maps to
 * the last (naive_trie::insert overwrites). Returns 1, or 0 when out of memory. */
static int trie_build(trie *t, const ge_vocab *v, uint8_t attr_mask) {
    memset(t, 0, sizeof *t);
    size_t n_ent = 0;
    for (int32_t i = 0; i < v->n_tokens; i++)
        if ((v->attr[i] & attr_mask) && v->piece_len[i] > 0) n_ent++;
    entry *ent = ge_malloc(sizeof(entry) * (n_ent ? n_ent : 1));
    if (!ent) return 0;
    n_ent = 0;
    for (int32_t i = 0; i < v->n_tokens; i++)
        if ((v->attr[i] & attr_mask) && v->piece_len[i] > 0) {
            entry *e = &ent[n_ent++];
            *e = (entry){0, v->pieces + v->piece_off[i], v->piece_len[i], i};
            for (uint32_t k = 0; k < 8; k++) e->key = e->key << 8 | (k < e->len ? e->p[k] : 0);
        }
    if (!sort_entries(ent, n_ent)) {
        ge_free(ent);
        return 0;
    }

    /* nodes = the root + the distinct non-empty prefixes: in sorted order, each piece
     * adds the bytes past its common prefix with the one before (< 2^32: the pieces
     * array is under 4 GiB) */
    size_t n_nodes = 1;
    for (size_t i = 0; i < n_ent; i++) {
        uint32_t lcp = 0;
        if (i > 0) {
            uint32_t m = ent[i].len < ent[i - 1].len ? ent[i].len : ent[i - 1].len;
            while (lcp < m && ent[i].p[lcp] == ent[i - 1].p[lcp]) lcp++;
        }
        n_nodes += ent[i].len - lcp;
    }
    if (n_nodes > INT32_MAX) { /* node ids are int32 */
        ge_free(ent);
        return 0;
    }
    uint32_t *lo = ge_malloc(sizeof(uint32_t) * n_nodes), *hi = ge_malloc(sizeof(uint32_t) * n_nodes);
    uint32_t *depth = ge_malloc(sizeof(uint32_t) * n_nodes);
    t->first = ge_malloc(sizeof(uint32_t) * n_nodes);
    t->n_child = ge_malloc(sizeof(uint16_t) * n_nodes);
    t->label = ge_malloc(n_nodes);
    t->value = ge_malloc(sizeof(int32_t) * n_nodes);
    int ok = lo && hi && depth && t->first && t->n_child && t->label && t->value;
    if (ok) {
        /* breadth first: node k covers the sorted pieces [lo, hi) that share its
         * depth-byte prefix; the ones of exactly that length end here (last id wins),
         * the rest group by their next byte into its children */
        uint32_t n = 1;
        lo[0] = 0, hi[0] = (uint32_t)n_ent, depth[0] = 0, t->label[0] = 0;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t a = lo[k], b = hi[k], d = depth[k];
            t->value[k] = -1;
            while (a < b && ent[a].len == d) t->value[k] = ent[a++].id;
            t->first[k] = n;
            t->n_child[k] = 0;
            while (a < b) {
                uint8_t c = ent[a].p[d];
                uint32_t e = a + 1;
                while (e < b && ent[e].p[d] == c) e++;
                t->label[n] = c, lo[n] = a, hi[n] = e, depth[n] = d + 1;
                n++, t->n_child[k]++;
                a = e;
            }
        }
        t->n = n;
    }
    ge_free(lo);
    ge_free(hi);
    ge_free(depth);
    ge_free(ent);
    if (!ok) trie_free(t);
    return ok;
}

/* ------------------------------------------------------------ the model's tables */

typedef struct ugm {
    trie pieces;           /* token_matcher: normal, user-defined and unused pieces     */
    trie user;             /* user_defined_token_matcher                                */
    int has_user;          /* any user-defined piece at all                             */
    const uint8_t *xcda;   /* the charsmap's XCDA entries (little-endian uint32)        */
    uint32_t xcda_n;       /* number of entries; 0: no charsmap                         */
    const char *repl;      /* NUL-terminated replacement strings                        */
    size_t repl_ok;        /* offsets below this have a NUL at or after them            */
    float unk_score;       /* min normal score - 10, in float as llama.cpp             */
} ugm;

static uint32_t xcda_get(const ugm *u, uint32_t i) { /* i < u->xcda_n */
    const uint8_t *p = u->xcda + 4 * (size_t)i;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
/* the packed entry: BASE in bits 10-30 (shifted left by 8 when bit 9 is set), LEAF in
 * bit 8, LCHECK = the byte label in bits 0-7 plus bit 31, which value entries set (so
 * they never pass as a child) */
static uint32_t xcda_base(uint32_t e) { return (e >> 10) << ((e & (1u << 9)) >> 6); }
static uint32_t xcda_lcheck(uint32_t e) { return e & ((1u << 31) | 0xffu); }

/* The charsmap's longest match at text[0..len): its length (0: none) and the
 * replacement string's offset in *repl_off. *bad is set where llama.cpp would throw:
 * an XCDA index out of the array (the walk stops there) or an unusable offset. */
static size_t charsmap_match(const ugm *u, const uint8_t *text, size_t len, size_t *repl_off, int *bad) {
    size_t best = 0;
    *bad = 0;
    if (u->xcda_n == 0) return 0;
    uint32_t node = xcda_base(xcda_get(u, 0));
    for (size_t i = 0; i < len && text[i] != 0; i++) { /* a NUL byte ends the key */
        uint8_t c = text[i];
        node ^= c; /* the child for byte c of the node whose BASE this was */
        if (node >= u->xcda_n) {
            *bad = 1;
            break;
        }
        uint32_t e = xcda_get(u, node);
        if (xcda_lcheck(e) != c) break; /* no such child */
        node ^= xcda_base(e);
        if ((e >> 8) & 1) { /* a leaf: the entry at BASE holds the replacement offset */
            if (node >= u->xcda_n) {
                *bad = 1;
                break;
            }
            best = i + 1;
            *repl_off = xcda_get(u, node) & 0x7fffffffu;
        }
    }
    if (best > 0 && *repl_off >= u->repl_ok) *bad = 1;
    return best;
}

/* Length of the UTF-8 sequence at text[0..len) as unicode_cpt_from_utf8 accepts it
 * (no overlong / surrogate / range checks), or 0 where it throws. */
static size_t utf8_seq_len(const uint8_t *t, size_t len) {
    size_t n = !(t[0] & 0x80) ? 1 : !(t[0] & 0x40) ? 0 /* a continuation byte */
             : !(t[0] & 0x20) ? 2 : !(t[0] & 0x10) ? 3 : !(t[0] & 0x08) ? 4 : 0;
    if (n == 0 || n > len) return 0;
    for (size_t i = 1; i < n; i++)
        if ((t[i] & 0xc0) != 0x80) return 0;
    return n;
}

/* One step of normalize_prefix at text[0..len) (len > 0): sets the normalized bytes
 * and returns how many input bytes they stand for. */
static size_t normalize_prefix(const ugm *u, const uint8_t *text, size_t len, const char **out, size_t *out_len) {
    if (u->has_user) { /* deepest node reached in the user-defined trie, piece or not */
        size_t d = 0;
        int32_t node = 0;
        while (d < len && (node = trie_child(&u->user, node, text[d])) >= 0) d++;
        if (d > 0) {
            *out = (const char *)text, *out_len = d;
            return d;
        }
    }
    size_t off = 0;
    int bad;
    size_t m = charsmap_match(u, text, len, &off, &bad);
    if (m > 0 && off < u->repl_ok) {
        *out = u->repl + off;
        *out_len = strlen(*out); /* terminated: off < repl_ok */
        return m;
    }
    size_t n = utf8_seq_len(text, len);
    if (n > 0) {
        *out = (const char *)text, *out_len = n;
        return n;
    }
    *out = "\xEF\xBF\xBD", *out_len = 3; /* U+FFFD for one invalid byte */
    return 1;
}

/* ------------------------------------------------------------ one fragment */

typedef struct best {
    int32_t id;    /* the last piece of the best tokenization ending here */
    uint32_t from; /* where that piece starts                            */
    double score;  /* the tokenization's score sum                       */
} best;

static int put(ge_tok_scratch *s, size_t *n, const char *p, size_t k) {
    if (!ge_tok_grow((void **)&s->buf, &s->buf_cap, *n + k, 1)) return 0;
    memcpy(s->buf + *n, p, k);
    *n += k;
    return 1;
}

/* normalize(): the fragment's normalized bytes into s->buf[0 .. *n_out) */
static int normalize(const ge_vocab *v, const ugm *u, ge_tok_scratch *s, const uint8_t *text, size_t len,
                     size_t *n_out) {
    static const char space[] = "\xE2\x96\x81";
    const int prepend = v->add_space_prefix, merge = v->remove_extra_whitespaces;
    int space_prepended = 0, in_word = 0;
    size_t n = 0;
    /* room for the usual worst case (every byte a space); put() grows it past that */
    if (len > SIZE_MAX / 4 || !ge_tok_grow((void **)&s->buf, &s->buf_cap, len * 3 + 3, 1)) return 0;
    for (size_t off = 0; off < len;) {
        const char *rep;
        size_t rep_len;
        off += normalize_prefix(u, text + off, len - off, &rep, &rep_len);
        for (size_t i = 0; i < rep_len; i++) {
            if (rep[i] != ' ') {
                if (!in_word) {
                    in_word = 1;
                    if ((prepend && !space_prepended) || merge) {
                        if (!put(s, &n, space, 3)) return 0;
                        space_prepended = 1;
                    }
                }
                if (!put(s, &n, rep + i, 1)) return 0;
            } else {
                in_word = 0;
                if (!merge && !put(s, &n, space, 3)) return 0;
            }
        }
    }
    *n_out = n;
    return 1;
}

static int ugm_fragment(const ge_vocab *v, ge_tok_scratch *s, const char *text, size_t len) {
    const ugm *u = v->impl;
    size_t n;
    if (!normalize(v, u, s, (const uint8_t *)text, len, &n)) return 0;
    if (n == 0) return 1;
    /* positions are uint32; ge_tok_grow may double the count, whose bytes must fit */
    if (n >= UINT32_MAX || n >= SIZE_MAX / (4 * sizeof(best)) ||
        !ge_tok_grow(&s->work, &s->work_cap, n + 1, sizeof(best)))
        return 0;
    const uint8_t *in = (const uint8_t *)s->buf;
    best *res = s->work;
    res[0] = (best){v->unk, 0, 0.0};
    for (size_t i = 1; i <= n; i++) res[i] = (best){v->unk, 0, -DBL_MAX};

    for (size_t off = 0; off < n;) {
        size_t units = (size_t)ge_utf8_len(in[off]);
        if (units > n - off) units = n - off;
        const double start = res[off].score;
        int whole_char = 0; /* some piece is exactly this character */
        int32_t node = 0;
        for (size_t end = off; end < n;) {
            if ((node = trie_child(&u->pieces, node, in[end++])) < 0) break;
            int32_t id = u->pieces.value[node];
            if (id < 0) continue;
            if (end - off == units) whole_char = 1;
            double sc = start + ((v->attr[id] & GE_ATTR_USER_DEFINED) ? 0.0 : (double)v->score[id]);
            if (sc > res[end].score) res[end] = (best){id, (uint32_t)off, sc};
        }
        if (!whole_char) {
            double sc = start + (double)u->unk_score;
            if (sc > res[off + units].score) res[off + units] = (best){v->unk, (uint32_t)off, sc};
        }
        off += units;
    }

    /* backtrack (ids come out last first), one <unk> per run of them, then reverse */
    size_t first = s->n_ids;
    int prev_unk = 0;
    for (const best *b = &res[n];; b = &res[b->from]) {
        int is_unk = b->id == v->unk;
        if (!(prev_unk && is_unk) && !ge_tok_push(s, b->id)) return 0;
        if (b->from == 0) break;
        prev_unk = is_unk;
    }
    for (size_t i = first, j = s->n_ids - 1; i < j; i++, j--) {
        int32_t t = s->ids[i];
        s->ids[i] = s->ids[j];
        s->ids[j] = t;
    }
    return 1;
}

/* ------------------------------------------------------------ hooks */

/* llama.cpp's defaults for "t5" vocabularies when the keys are absent */
static void ugm_defaults(ge_vocab *v) {
    v->bos = -1;
    v->eos = 1;
    v->unk = 2;
    v->sep = -1;
    v->pad = 0;
    v->mask = -1;
    v->add_bos = 0;
    v->add_eos = 1;
    v->add_space_prefix = 0;
    v->remove_extra_whitespaces = 0;
}

static void ugm_free(ge_vocab *v) {
    ugm *u = v->impl;
    if (!u) return;
    trie_free(&u->pieces);
    trie_free(&u->user);
    ge_free(u);
    v->impl = NULL;
}

/* tokenizer.ggml.precompiled_charsmap: u32 XCDA byte size, the XCDA, then the
 * replacement strings; refused where llama.cpp's loader throws */
static int read_charsmap(ugm *u, const gguf_file *f, char *err, size_t es) {
    const gguf_kv *kv = gguf_find_kv(f, "tokenizer.ggml.precompiled_charsmap");
    if (!kv) return 0; /* no normalization beyond whitespace and UTF-8 repair */
    if (kv->type != GGUF_TYPE_ARRAY || (kv->arr_type != GGUF_TYPE_UINT8 && kv->arr_type != GGUF_TYPE_INT8)) {
        ge_errorf(err, es, "tokenizer.ggml.precompiled_charsmap must be a uint8 array");
        return GGUFEMBED_ERR_FORMAT;
    }
    const uint8_t *p = kv->arr_data;
    uint64_t size = kv->arr_n;
    uint32_t blob = size >= 4 ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
    if (size < 4 || (uint64_t)blob + 4 >= size) {
        ge_errorf(err, es, "tokenizer.ggml.precompiled_charsmap is truncated (%llu bytes, XCDA of %u)",
                  (unsigned long long)size, blob);
        return GGUFEMBED_ERR_FORMAT;
    }
    u->xcda = p + 4;
    u->xcda_n = blob / 4;
    u->repl = (const char *)p + 4 + blob;
    u->repl_ok = (size_t)(size - 4 - blob);
    while (u->repl_ok > 0 && u->repl[u->repl_ok - 1] != '\0') u->repl_ok--; /* just past the last NUL */
    return 0;
}

static int out_of_memory(char *err, size_t es) {
    ge_errorf(err, es, "out of memory building the Unigram tables");
    return GGUFEMBED_ERR_OUT_OF_MEMORY;
}

static int ugm_init(ge_vocab *v, const gguf_file *f, char *err, size_t es) {
    v->add_sep = 0; /* llama.cpp's UGM tokenize() adds BOS and EOS only */
    if (v->unk < 0) {
        ge_errorf(err, es, "the Unigram vocabulary has no unknown token");
        return GGUFEMBED_ERR_FORMAT;
    }
    ugm *u = ge_calloc(1, sizeof *u);
    if (!u) return out_of_memory(err, es);
    v->impl = u; /* freed by ugm_free whatever happens next */
    int rc;
    if ((rc = read_charsmap(u, f, err, es))) return rc;

    float min_score = FLT_MAX;
    for (int32_t i = 0; i < v->n_tokens; i++) {
        if ((v->attr[i] & GE_ATTR_NORMAL) && v->score[i] < min_score) min_score = v->score[i];
        if (v->attr[i] & GE_ATTR_USER_DEFINED) u->has_user = 1;
    }
    u->unk_score = min_score - 10.0f;
    if (!trie_build(&u->pieces, v, GE_ATTR_NORMAL | GE_ATTR_USER_DEFINED | GE_ATTR_UNUSED) ||
        (u->has_user && !trie_build(&u->user, v, GE_ATTR_USER_DEFINED)))
        return out_of_memory(err, es);

    /* llama.cpp's loader tokenizes "\n" (to find the newline token): a charsmap it
     * throws on there is a file llama.cpp refuses */
    size_t off;
    int bad = 0;
    if (!(u->has_user && trie_child(&u->user, 0, '\n') >= 0)) charsmap_match(u, (const uint8_t *)"\n", 1, &off, &bad);
    if (bad) {
        ge_errorf(err, es, "tokenizer.ggml.precompiled_charsmap is corrupt (an index out of its arrays)");
        return GGUFEMBED_ERR_FORMAT;
    }
    return 0;
}

static int ugm_tokenize_fragment(const ge_vocab *v, ge_tok_scratch *s, const char *text, size_t len,
                                 int after_special) {
    (void)after_special; /* llama.cpp normalizes every fragment alike */
    return ugm_fragment(v, s, text, len) ? 0 : GGUFEMBED_ERR_OUT_OF_MEMORY;
}

const ge_tokenizer ge_tokenizer_ugm = {
    .model = "t5",
    .defaults = ugm_defaults,
    .init = ugm_init,
    .free = ugm_free,
    .fragment = ugm_tokenize_fragment,
};
