/* tok_wpm.c - WordPiece ("bert" in GGUF). Not written yet: the vocabulary is refused. */
#include "tokenizer.h"

#include "ggufembed.h"
#include "util.h"

static void wpm_defaults(ge_vocab *v) { (void)v; }

static int wpm_init(ge_vocab *v, const gguf_file *f, char *err, size_t es) {
    (void)v, (void)f;
    ge_errorf(err, es, "tokenizer model 'bert' (WordPiece) is not supported yet");
    return GGUFEMBED_ERR_UNSUPPORTED;
}

static int wpm_fragment(const ge_vocab *v, ge_tok_scratch *s, const char *text, size_t len, int after_special) {
    (void)v, (void)s, (void)text, (void)len, (void)after_special;
    return GGUFEMBED_ERR_UNSUPPORTED;
}

const ge_tokenizer ge_tokenizer_wpm = {
    .model = "bert",
    .defaults = wpm_defaults,
    .init = wpm_init,
    .free = NULL,
    .fragment = wpm_fragment,
};
