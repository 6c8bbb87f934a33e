/* tok_ugm.c - Unigram ("t5" in GGUF). Not written yet: the vocabulary is refused. */
#include "tokenizer.h"

#include "ggufembed.h"
#include "util.h"

static void ugm_defaults(ge_vocab *v) { (void)v; }

static int ugm_init(ge_vocab *v, const gguf_file *f, char *err, size_t es) {
    (void)v, (void)f;
    ge_errorf(err, es, "tokenizer model 't5' (Unigram) is not supported yet");
    return GGUFEMBED_ERR_UNSUPPORTED;
}

static int ugm_fragment(const ge_vocab *v, ge_tok_scratch *s, const char *text, size_t len, int after_special) {
    (void)v, (void)s, (void)text, (void)len, (void)after_special;
    return GGUFEMBED_ERR_UNSUPPORTED;
}

const ge_tokenizer ge_tokenizer_ugm = {
    .model = "t5",
    .defaults = ugm_defaults,
    .init = ugm_init,
    .free = NULL,
    .fragment = ugm_fragment,
};
