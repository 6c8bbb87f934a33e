/*
 * tokenizer.h - SentencePiece ("llama" model in GGUF) tokenization that
 * reproduces llama.cpp's token ids exactly.
 *
 * The procedure, as llama.cpp runs it (llama-vocab.cpp):
 *   1. Split the text at special-token texts, longest token first. User-defined
 *      tokens are always split out; control and unknown tokens only when
 *      GGUFEMBED_TOKENIZE_PARSE_SPECIAL is set.
 *   2. In each remaining fragment replace ' ' with U+2581 (no prefix space when
 *      tokenizer.ggml.add_space_prefix is false, as for Gemma).
 *   3. Cut the fragment into UTF-8 characters (length from the lead byte; stray
 *      bytes are one-byte symbols), then repeatedly merge the adjacent pair whose
 *      concatenation is a vocabulary piece with the highest score (ties: leftmost).
 *   4. A final symbol that is no vocabulary piece becomes one byte token <0xXX>
 *      per byte.
 *   5. BOS / EOS around it all when the metadata asks for them.
 */
#ifndef GE_TOKENIZER_H
#define GE_TOKENIZER_H

#include "gguf.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ge_vocab {
    int32_t n_tokens;
    const uint8_t *pieces;   /* start of tokenizer.ggml.tokens' array bytes (in the file) */
    uint32_t *piece_off;     /* [n_tokens] offset of piece i's bytes from `pieces`     */
    uint32_t *piece_len;     /* [n_tokens] its length                                    */
    float *score;            /* [n_tokens] merge priority                                */
    uint8_t *type;           /* [n_tokens] llama.cpp attribute bits: 1 unknown, 2 control, 4 user-defined */
    int32_t *table;          /* open-addressing hash: piece text -> id (last id wins)   */
    uint32_t table_mask;
    int32_t *special;        /* ids of control / user-defined / unknown tokens, longest first */
    int32_t n_special;
    int32_t byte_token[256]; /* <0xXX> ids, -1 when missing                               */
    int32_t bos, eos, unk;   /* -1 when absent                                            */
    int add_bos, add_eos, add_space_prefix;
    int32_t max_piece_len;
} ge_vocab;

/* Reads the tokenizer.ggml.* metadata. Returns 0 or a ggufembed_status. */
int ge_vocab_load(ge_vocab *v, const gguf_file *f, char *err, size_t err_size);
void ge_vocab_free(ge_vocab *v);

/* id of a piece text, or -1 */
int32_t ge_vocab_find(const ge_vocab *v, const char *text, size_t len);
static inline const char *ge_vocab_piece(const ge_vocab *v, int32_t id, size_t *len) {
    *len = v->piece_len[id];
    return (const char *)v->pieces + v->piece_off[id];
}

/* Growable work space, owned by a context and reused across calls so the steady
 * state allocates nothing. Zero-initialise; free with ge_tok_scratch_free. */
typedef struct ge_tok_scratch {
    char *buf;          size_t buf_cap;      /* escaped fragment text          */
    void *sym;          size_t sym_cap;      /* symbols of the fragment        */
    void *heap;         size_t heap_cap;     /* bigram priority queue          */
    void *frag;         size_t frag_cap;     /* special-token fragments        */
    int32_t *ids;       size_t ids_cap;      /* the output                     */
    size_t n_ids;
} ge_tok_scratch;

void ge_tok_scratch_free(ge_tok_scratch *s);

/* Tokenizes text into s->ids[0 .. s->n_ids). flags: GGUFEMBED_TOKENIZE_*.
 * Returns 0 or GGUFEMBED_ERR_OUT_OF_MEMORY. */
int ge_tokenize(const ge_vocab *v, ge_tok_scratch *s, const char *text, size_t len, unsigned flags);

#endif
