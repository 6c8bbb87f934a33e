/* tok_bpe.c - byte-level BPE ("gpt2" in GGUF). Not written yet: the vocabulary is refused. */
#include "tokenizer.h"

#include "ggufembed.h"
#include "util.h"

static void bpe_defaults(ge_vocab *v) { (void)v; }

static int bpe_init(ge_vocab *v, const gguf_file *f, char *err, size_t es) {
    (void)v, (void)f;
    ge_errorf(err, es, "tokenizer model 'gpt2' (byte-level BPE) is not supported yet");
    return GGUFEMBED_ERR_UNSUPPORTED;
}

static int bpe_fragment(const ge_vocab *v, ge_tok_scratch *s, const char *text, size_t len, int after_special) {
    (void)v, (void)s, (void)text, (void)len, (void)after_special;
    return GGUFEMBED_ERR_UNSUPPORTED;
}

const ge_tokenizer ge_tokenizer_bpe = {
    .model = "gpt2",
    .defaults = bpe_defaults,
    .init = bpe_init,
    .free = NULL,
    .fragment = bpe_fragment,
};
