/*
 * tokenizer.h - text -> token ids, exactly as llama.cpp's llama_tokenize gives them.
 *
 * One vocabulary (ge_vocab, vocab.c) shared by every tokenizer model, and one file per
 * tokenizer model, named by tokenizer.ggml.model:
 *   "llama"  SentencePiece (tok_spm.c)     "bert"  WordPiece (tok_wpm.c)
 *   "gpt2"   byte-level BPE (tok_bpe.c)    "t5"    Unigram (tok_ugm.c)
 *
 * The procedure shared by all of them (vocab.c, as llama_vocab::impl::tokenize):
 *   1. Split the text at special-token texts, longest token first. User-defined tokens
 *      are always split out; control and unknown tokens only with
 *      GGUFEMBED_TOKENIZE_PARSE_SPECIAL. Tokens with the LSTRIP / RSTRIP attribute eat
 *      the whitespace before / after them.
 *   2. Each remaining raw-text fragment goes to the model's fragment().
 *   3. With GGUFEMBED_TOKENIZE_ADD_SPECIAL: BOS first when add_bos; EOS when add_eos,
 *      then SEP when add_sep, last. Each model's init() leaves these three flags saying
 *      what llama.cpp's tokenize() does for that model type (WordPiece: always CLS and SEP).
 */
#ifndef GE_TOKENIZER_H
#define GE_TOKENIZER_H

#include "gguf.h"

#include <stddef.h>
#include <stdint.h>

/* llama.cpp's token attributes, derived from tokenizer.ggml.token_type */
enum {
    GE_ATTR_UNKNOWN = 1,
    GE_ATTR_CONTROL = 2,
    GE_ATTR_USER_DEFINED = 4,
    GE_ATTR_BYTE = 8,
    GE_ATTR_NORMAL = 16,
    GE_ATTR_UNUSED = 32,
    GE_ATTR_LSTRIP = 64,  /* a matched special token swallows the whitespace before it */
    GE_ATTR_RSTRIP = 128, /* ... and after it                                          */
};

typedef struct ge_tokenizer ge_tokenizer;

typedef struct ge_vocab {
    const ge_tokenizer *tk;  /* the tokenizer model; NULL for a vocabulary of none         */
    void *impl;              /* the model's own tables (merges, charsmap, ...), tk->free'd */
    char model[16];          /* tokenizer.ggml.model                                      */
    char pre[48];            /* tokenizer.ggml.pre ("" when absent)                       */
    int32_t n_tokens;
    const uint8_t *pieces;   /* start of tokenizer.ggml.tokens' array bytes (in the file) */
    uint32_t *piece_off;     /* [n_tokens] offset of piece i's bytes from `pieces`     */
    uint32_t *piece_len;     /* [n_tokens] its length                                    */
    float *score;            /* [n_tokens] merge priority / log probability (0 if absent) */
    uint8_t *attr;           /* [n_tokens] GE_ATTR_* bits                                */
    int32_t *table;          /* open-addressing hash: piece text -> id (last id wins)   */
    uint32_t table_mask;
    int32_t *special;        /* ids of control / user-defined / unknown tokens, longest first */
    int32_t n_special;
    int32_t byte_token[256]; /* <0xXX> ids, -1 when missing                               */
    int32_t bos, eos, unk, sep, pad, cls, mask; /* -1 when absent                         */
    int add_bos, add_eos, add_sep;   /* what GGUFEMBED_TOKENIZE_ADD_SPECIAL adds           */
    int add_sep_flag;                /* llama.cpp's add_sep (its default or the metadata), which
                                        llama-embedding reads to join reranker pairs; only
                                        WordPiece's tokenize appends SEP (add_sep above) */
    int add_space_prefix;            /* tokenizer.ggml.add_space_prefix (SPM, UGM)         */
    int remove_extra_whitespaces;    /* tokenizer.ggml.remove_extra_whitespaces (UGM)      */
    int32_t max_piece_len;
} ge_vocab;

/* Growable work space, owned by a context and reused across calls so the steady
 * state allocates nothing. Zero-initialise; free with ge_tok_scratch_free. The
 * generic buffers are the models' to use inside one fragment() call. */
typedef struct ge_tok_scratch {
    char *buf;          size_t buf_cap;      /* normalized / escaped fragment text */
    void *sym;          size_t sym_cap;      /* symbols of the fragment            */
    void *heap;         size_t heap_cap;     /* merge priority queue               */
    void *work;         size_t work_cap;     /* any other per-fragment work space  */
    void *frag;         size_t frag_cap;     /* special-token fragments (vocab.c)  */
    int32_t *ids;       size_t ids_cap;      /* the output                         */
    size_t n_ids;
} ge_tok_scratch;

/* One tokenizer model. Hooks return 0 or a ggufembed_status (with a message in err). */
struct ge_tokenizer {
    const char *model; /* tokenizer.ggml.model */
    /* Before the metadata is read: llama.cpp's default special-token ids and add_* flags
     * for this model type (they apply when the file does not set them). */
    void (*defaults)(ge_vocab *v);
    /* After the shared fields and the metadata overrides: the model's own tables in
     * v->impl (read from f; may keep pointers into the file), and the final add_* flags. */
    int (*init)(ge_vocab *v, const gguf_file *f, char *err, size_t err_size);
    void (*free)(ge_vocab *v); /* frees v->impl; may be NULL */
    /* Appends the ids of one raw-text fragment (no special token inside) to s->ids.
     * after_special: the fragment starts the text or follows a special token.
     * Returns 0 or GGUFEMBED_ERR_OUT_OF_MEMORY. Must accept any bytes (invalid UTF-8). */
    int (*fragment)(const ge_vocab *v, ge_tok_scratch *s, const char *text, size_t len, int after_special);
};

extern const ge_tokenizer ge_tokenizer_spm, ge_tokenizer_wpm, ge_tokenizer_bpe, ge_tokenizer_ugm;

/* Reads the tokenizer.ggml.* metadata. Returns 0 or a ggufembed_status. */
int ge_vocab_load(ge_vocab *v, const gguf_file *f, char *err, size_t err_size);
void ge_vocab_free(ge_vocab *v);

/* id of a piece text, or -1 */
int32_t ge_vocab_find(const ge_vocab *v, const char *text, size_t len);
static inline const char *ge_vocab_piece(const ge_vocab *v, int32_t id, size_t *len) {
    *len = v->piece_len[id];
    return (const char *)v->pieces + v->piece_off[id];
}

void ge_tok_scratch_free(ge_tok_scratch *s);

/* Tokenizes text into s->ids[0 .. s->n_ids). flags: GGUFEMBED_TOKENIZE_*.
 * Returns 0 or GGUFEMBED_ERR_OUT_OF_MEMORY. */
int ge_tokenize(const ge_vocab *v, ge_tok_scratch *s, const char *text, size_t len, unsigned flags);

/* ---- helpers for the tokenizer models */

/* Grows *p (elements of elem bytes) to hold at least need; keeps the contents. 1 = ok. */
int ge_tok_grow(void **p, size_t *cap, size_t need, size_t elem);
/* Appends one id to s->ids. 1 = ok. */
int ge_tok_push(ge_tok_scratch *s, int32_t id);
/* UTF-8 sequence length from the lead byte, as llama.cpp's unicode_len_utf8:
 * continuation and invalid bytes count as 1. */
static inline int32_t ge_utf8_len(uint8_t c) {
    static const uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[c >> 4];
}

#endif
