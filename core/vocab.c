/*
 * vocab.c - the vocabulary every tokenizer model shares (tokenizer.ggml.* metadata,
 * piece hash, special tokens, BOS/EOS/SEP) and the tokenize driver (tokenizer.h):
 * special-token splitting, then the model's fragment() on the text between them.
 */
#include "tokenizer.h"

#include "alloc.h"
#include "ggufembed.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* tokenizer.ggml.token_type values (llama.cpp's llama_token_type) */
enum { TOK_UNDEFINED = 0, TOK_NORMAL = 1, TOK_UNKNOWN = 2, TOK_CONTROL = 3, TOK_USER_DEFINED = 4, TOK_UNUSED = 5,
       TOK_BYTE = 6 };

static const ge_tokenizer *const k_tokenizers[] = {&ge_tokenizer_spm, &ge_tokenizer_wpm, &ge_tokenizer_bpe,
                                                   &ge_tokenizer_ugm};

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


/* A special-token id from the metadata (when present): out of range is refused
 * (llama.cpp warns and keeps its default; a file that says so is corrupt). */
static int read_token_id(const gguf_file *f, const char *key, int32_t n, int32_t *out, char *err, size_t es) {
    int64_t id;
    if (!gguf_get_int(f, key, &id)) {
        if (gguf_find_kv(f, key)) {
            ge_errorf(err, es, "tokenizer metadata %s has the wrong type (expected an integer)", key);
            return GGUFEMBED_ERR_FORMAT;
        }
        if (*out >= n) *out = -1; /* a default that this vocabulary does not have */
        return 0;
    }
    if (id < 0 || id >= n) {
        ge_errorf(err, es, "tokenizer metadata %s = %lld is outside the vocabulary (%d tokens)", key,
                  (long long)id, n);
        return GGUFEMBED_ERR_FORMAT;
    }
    *out = (int32_t)id;
    return 0;
}

/* A tokenizer flag (when present): a value that is not a bool or an integer is refused. */
static int read_flag(const gguf_file *f, const char *key, int *flag, char *err, size_t es) {
    int b;
    if (gguf_get_bool(f, key, &b)) {
        *flag = b;
    } else if (gguf_find_kv(f, key)) {
        ge_errorf(err, es, "tokenizer metadata %s has the wrong type (expected a bool)", key);
        return GGUFEMBED_ERR_FORMAT;
    }
    return 0;
}

/* Whole UTF-8 sequences only, no surrogates or code points past U+10FFFF. */
static int valid_utf8(gguf_str s) {
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s.ptr;
    utf8proc_ssize_t n = (utf8proc_ssize_t)s.len;
    while (n > 0) {
        if (*p < 0x80) {
            p++, n--;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, n, &cp);
        if (k <= 0) return 0;
        p += k, n -= k;
    }
    return 1;
}

static int str_contains(gguf_str hay, const char *needle) {
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= hay.len; i++)
        if (memcmp(hay.ptr + i, needle, m) == 0) return 1;
    return 0;
}

/* llama.cpp sets LSTRIP/RSTRIP on some tokens by model name (llama-vocab.cpp, end
 * of load): "<mask>" eats the whitespace before it for jina-v2-de/es/code
 * vocabularies and the nomic-bert-moe / jina-bert-v3 architectures. */
static void set_strip_attrs(ge_vocab *v, const gguf_file *f) {
    gguf_str pre = {0}, arch = {0}, name = {0};
    gguf_get_str(f, "tokenizer.ggml.pre", &pre);
    gguf_get_str(f, "general.architecture", &arch);
    gguf_get_str(f, "general.name", &name);
    if (str_contains(pre, "jina-v2-de") || str_contains(pre, "jina-v2-es") || str_contains(pre, "jina-v2-code") ||
        str_contains(arch, "nomic-bert-moe") || str_contains(arch, "jina-bert-v3")) {
        int32_t id = ge_vocab_find(v, "<mask>", 6);
        if (id >= 0) v->attr[id] |= GE_ATTR_LSTRIP;
        return;
    }
    /* model names are compared lower-cased */
    char lower[128];
    size_t n = name.len < sizeof lower - 1 ? name.len : sizeof lower - 1;
    for (size_t i = 0; i < n; i++) lower[i] = (char)(name.ptr[i] >= 'A' && name.ptr[i] <= 'Z' ? name.ptr[i] + 32 : name.ptr[i]);
    gguf_str lname = {lower, n};
    if (str_contains(lname, "phi-3") || str_contains(lname, "phi3")) {
        for (int32_t k = 0; k < v->n_special; k++) v->attr[v->special[k]] |= GE_ATTR_RSTRIP;
        int32_t id = ge_vocab_find(v, "</s>", 4);
        if (id >= 0) v->attr[id] |= GE_ATTR_RSTRIP;
        static const char *const keep[] = {"<unk>", "<s>", "<|endoftext|>"};
        for (size_t i = 0; i < 3; i++)
            if ((id = ge_vocab_find(v, keep[i], strlen(keep[i]))) >= 0) v->attr[id] &= (uint8_t)~GE_ATTR_RSTRIP;
    } else if (str_contains(lname, "modern-bert")) {
        int32_t id = ge_vocab_find(v, "[MASK]", 6);
        if (id >= 0) v->attr[id] |= GE_ATTR_LSTRIP;
    }
}

int ge_vocab_load(ge_vocab *v, const gguf_file *f, char *err, size_t es) {
    memset(v, 0, sizeof *v);
    v->bos = v->eos = v->unk = v->sep = v->pad = v->cls = v->mask = -1;
    gguf_str model, pre;
    if (!gguf_get_str(f, "tokenizer.ggml.model", &model)) {
        if (gguf_find_kv(f, "tokenizer.ggml.model"))
            ge_errorf(err, es, "tokenizer.ggml.model has the wrong type (expected a string)");
        else
            ge_errorf(err, es, "the GGUF file has no tokenizer (tokenizer.ggml.model is missing)");
        return GGUFEMBED_ERR_FORMAT;
    }
    for (size_t i = 0; i < sizeof k_tokenizers / sizeof k_tokenizers[0]; i++)
        if (gguf_str_eq(model, k_tokenizers[i]->model)) v->tk = k_tokenizers[i];
    if (!v->tk) {
        ge_errorf(err, es, "tokenizer model '%.*s' is not supported (supported: llama, bert, gpt2, t5)",
                  (int)(model.len > 32 ? 32 : model.len), model.ptr);
        return GGUFEMBED_ERR_UNSUPPORTED;
    }
    snprintf(v->model, sizeof v->model, "%s", v->tk->model);
    if (gguf_get_str(f, "tokenizer.ggml.pre", &pre))
        snprintf(v->pre, sizeof v->pre, "%.*s", (int)(pre.len < sizeof v->pre ? pre.len : sizeof v->pre - 1), pre.ptr);
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
    v->attr = ge_malloc((size_t)n);
    v->table = ge_malloc(sizeof(int32_t) * table_size);
    v->special = ge_malloc(sizeof(int32_t) * (size_t)n);
    if (!v->piece_off || !v->piece_len || !v->score || !v->attr || !v->table || !v->special) {
        ge_vocab_free(v);
        ge_errorf(err, es, "out of memory loading the vocabulary");
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    v->table_mask = table_size - 1;
    memset(v->table, 0xff, sizeof(int32_t) * table_size);
    for (int i = 0; i < 256; i++) v->byte_token[i] = -1;

    /* pieces, scores, and attributes from the types (llama.cpp's token_type -> attr) */
    const uint8_t *cur = tokens->arr_data;
    for (int32_t i = 0; i < n; i++) {
        gguf_str s = gguf_str_array_next(&cur);
        if (!valid_utf8(s)) {
            ge_errorf(err, es, "tokenizer.ggml.tokens: token %d is not valid UTF-8 (GGUF strings are UTF-8)", (int)i);
            ge_vocab_free(v);
            return GGUFEMBED_ERR_FORMAT;
        }
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
        v->attr[i] = (uint8_t)(t == TOK_NORMAL ? GE_ATTR_NORMAL : t == TOK_UNKNOWN ? GE_ATTR_UNKNOWN
                               : t == TOK_CONTROL ? GE_ATTR_CONTROL : t == TOK_USER_DEFINED ? GE_ATTR_USER_DEFINED
                               : t == TOK_UNUSED ? GE_ATTR_UNUSED : t == TOK_BYTE ? GE_ATTR_BYTE : 0);
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

    /* llama.cpp's control-looking overrides */
    for (size_t k = 0; k < sizeof k_control_texts / sizeof k_control_texts[0]; k++) {
        int32_t id = ge_vocab_find(v, k_control_texts[k], strlen(k_control_texts[k]));
        if (id >= 0) v->attr[id] |= GE_ATTR_CONTROL;
    }
    const uint8_t special_bits = GE_ATTR_CONTROL | GE_ATTR_USER_DEFINED | GE_ATTR_UNKNOWN;
    int32_t n_special = 0;
    for (int32_t i = 0; i < n; i++)
        if ((v->attr[i] & special_bits) && v->piece_len[i] > 0) n_special++;
    uint64_t *keys = ge_malloc(sizeof(uint64_t) * (size_t)(n_special ? n_special : 1));
    if (!keys) {
        ge_vocab_free(v);
        ge_errorf(err, es, "out of memory loading the vocabulary");
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    for (int32_t i = 0; i < n; i++)
        if ((v->attr[i] & special_bits) && v->piece_len[i] > 0)
            keys[v->n_special++] = (uint64_t)(UINT32_MAX - v->piece_len[i]) << 32 | (uint32_t)i;
    qsort(keys, (size_t)v->n_special, sizeof(uint64_t), cmp_u64);
    for (int32_t k = 0; k < v->n_special; k++) v->special[k] = (int32_t)(keys[k] & 0xffffffffu);
    ge_free(keys);
    set_strip_attrs(v, f);

    /* the model's defaults, then what the file says */
    v->tk->defaults(v);
    int rc;
    if ((rc = read_token_id(f, "tokenizer.ggml.bos_token_id", n, &v->bos, err, es)) ||
        (rc = read_token_id(f, "tokenizer.ggml.eos_token_id", n, &v->eos, err, es)) ||
        (rc = read_token_id(f, "tokenizer.ggml.unknown_token_id", n, &v->unk, err, es)) ||
        (rc = read_token_id(f, "tokenizer.ggml.seperator_token_id", n, &v->sep, err, es)) ||
        (rc = read_token_id(f, "tokenizer.ggml.padding_token_id", n, &v->pad, err, es)) ||
        (rc = read_token_id(f, "tokenizer.ggml.cls_token_id", n, &v->cls, err, es)) ||
        (rc = read_token_id(f, "tokenizer.ggml.mask_token_id", n, &v->mask, err, es))) {
        ge_vocab_free(v);
        return rc;
    }
    if ((rc = read_flag(f, "tokenizer.ggml.add_bos_token", &v->add_bos, err, es)) ||
        (rc = read_flag(f, "tokenizer.ggml.add_eos_token", &v->add_eos, err, es)) ||
        (rc = read_flag(f, "tokenizer.ggml.add_sep_token", &v->add_sep, err, es)) ||
        (rc = read_flag(f, "tokenizer.ggml.add_space_prefix", &v->add_space_prefix, err, es)) ||
        (rc = read_flag(f, "tokenizer.ggml.remove_extra_whitespaces", &v->remove_extra_whitespaces, err, es))) {
        ge_vocab_free(v);
        return rc;
    }
    v->add_sep_flag = v->add_sep && v->sep >= 0;
    if ((rc = v->tk->init(v, f, err, es))) {
        ge_vocab_free(v);
        return rc;
    }
    /* a flag whose token the vocabulary lacks adds nothing (llama.cpp would assert) */
    if (v->bos < 0) v->add_bos = 0;
    if (v->eos < 0) v->add_eos = 0;
    if (v->sep < 0) v->add_sep = 0;
    return 0;
}

void ge_vocab_free(ge_vocab *v) {
    if (!v) return;
    if (v->tk && v->tk->free) v->tk->free(v);
    ge_free(v->piece_off);
    ge_free(v->piece_len);
    ge_free(v->score);
    ge_free(v->attr);
    ge_free(v->table);
    ge_free(v->special);
    memset(v, 0, sizeof *v);
}

/* ------------------------------------------------------------ scratch */

int ge_tok_grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 1;
    if (elem == 0 || need > SIZE_MAX / elem) return 0; /* a size this address space cannot hold (wasm32) */
    size_t nc = *cap ? *cap : 64;
    while (nc < need) nc = nc > SIZE_MAX / 2 / elem ? need : nc * 2;
    void *np = ge_malloc(nc * elem);
    if (!np) return 0;
    if (*p) memcpy(np, *p, *cap * elem);
    ge_free(*p);
    *p = np;
    *cap = nc;
    return 1;
}
#define grow ge_tok_grow

void ge_tok_scratch_free(ge_tok_scratch *s) {
    if (!s) return;
    ge_free(s->buf);
    ge_free(s->sym);
    ge_free(s->heap);
    ge_free(s->work);
    ge_free(s->frag);
    ge_free(s->ids);
    memset(s, 0, sizeof *s);
}

int ge_tok_push(ge_tok_scratch *s, int32_t id) {
    if (!grow((void **)&s->ids, &s->ids_cap, s->n_ids + 1, sizeof(int32_t))) return 0;
    s->ids[s->n_ids++] = id;
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

static int is_space_byte(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); } /* C isspace */

int ge_tokenize(const ge_vocab *v, ge_tok_scratch *s, const char *text, size_t len, unsigned flags) {
    const int add_special = (flags & GGUFEMBED_TOKENIZE_ADD_SPECIAL) != 0;
    const int parse_special = (flags & GGUFEMBED_TOKENIZE_PARSE_SPECIAL) != 0;
    s->n_ids = 0;
    if (add_special && v->add_bos && !ge_tok_push(s, v->bos)) return GGUFEMBED_ERR_OUT_OF_MEMORY;

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
        const uint8_t attr = v->attr[id];
        if (!parse_special && (attr & (GE_ATTR_CONTROL | GE_ATTR_UNKNOWN))) continue;
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
                size_t at = (size_t)(hit - text), left = at - pos;
                if (attr & GE_ATTR_LSTRIP)
                    while (left > 0 && is_space_byte(text[pos + left - 1])) left--;
                if (left > 0) f[out++] = (frag){-1, pos, left};
                f[out++] = (frag){id, at, plen};
                pos = at + plen;
                if (attr & GE_ATTR_RSTRIP)
                    while (pos < end && is_space_byte(text[pos])) pos++;
            }
        }
        frag *f = s->frag;
        memmove(f, f + n_frag, (out - n_frag) * sizeof(frag));
        n_frag = out - n_frag;
    }

    int after_special = 1;
    for (size_t i = 0; i < n_frag; i++) {
        frag cur = ((frag *)s->frag)[i];
        if (cur.token >= 0) {
            if (!ge_tok_push(s, cur.token)) return GGUFEMBED_ERR_OUT_OF_MEMORY;
            after_special = 1;
        } else {
            if (v->tk->fragment(v, s, text + cur.off, cur.len, after_special)) return GGUFEMBED_ERR_OUT_OF_MEMORY;
            after_special = 0;
        }
    }
    if (add_special && v->add_eos && !ge_tok_push(s, v->eos)) return GGUFEMBED_ERR_OUT_OF_MEMORY;
    if (add_special && v->add_sep && !ge_tok_push(s, v->sep)) return GGUFEMBED_ERR_OUT_OF_MEMORY;
    return 0;
}
