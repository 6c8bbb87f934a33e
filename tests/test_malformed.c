/*
 * test_malformed.c - every class of malformed GGUF file is refused with a status and
 * a message naming the problem; NaN/Inf weights give an error at embed time.
 *
 * Each case starts from a valid tiny model (gguf_build.h), breaks one property, writes
 * the file into an exactly-sized buffer (so ASan catches any over-read) and opens it.
 * The same program runs natively (ctest, also under ASan+UBSan) and as a WASI command
 * (wasm/build.sh, js/test/wasi.test.mjs), so both builds refuse the same files.
 */
#include "../core/ggufembed.h"
#include "check.h"
#include "gguf_build.h"

#include <math.h>

typedef void (*mutate_fn)(gb_file *f);

/* Opens the bytes of f; returns the status, the message in err. On success with
 * out != NULL the model is left open in *out and its bytes in *bytes (free both). */
static ggufembed_status open_built(const gb_file *f, char *err, size_t es, ggufembed_model **out, uint8_t **bytes) {
    gw w = gb_write(f);
    uint8_t *copy = malloc(w.n);
    memcpy(copy, w.p, w.n);
    free(w.p);
    ggufembed_model *m = NULL;
    ggufembed_status st = ggufembed_model_open_memory(copy, w.n, &m, err, es);
    if (out && st == GGUFEMBED_OK) {
        *out = m, *bytes = copy;
        return st;
    }
    CHECK(m == NULL, "a failed open left *out_model set");
    ggufembed_model_free(m);
    free(copy);
    return st;
}

/* ---- the reader's classes */
static void dup_key_same(gb_file *f) { gb_duplicate(f, "bert.block_count", "bert.block_count"); }
static void dup_key_conflict(gb_file *f) { gb_duplicate(f, "bert.block_count", "bert.context_length"); }
static void dup_tensor(gb_file *f) {
    gb_tensor *t = gb_find(f, "blk.0.ffn_down.bias");
    snprintf(t->name, sizeof t->name, "blk.0.attn_q.bias");
}
static void overlap(gb_file *f) { gb_find(f, "blk.0.attn_k.bias")->offset = 0; }
static void offset_past_end(gb_file *f) { gb_find(f, "blk.0.attn_k.bias")->offset = 1ull << 40; }
static void misaligned(gb_file *f) { gb_find(f, "blk.0.attn_k.bias")->offset = 4; }
static void alignment_0(gb_file *f) { gb_u32(f, "general.alignment", 0); }
static void alignment_3(gb_file *f) { gb_u32(f, "general.alignment", 3); }
static void alignment_str(gb_file *f) { gb_str(f, "general.alignment", "32"); }
static void dims_overflow(gb_file *f) {
    gb_tensor *t = gb_find(f, "blk.0.attn_q.bias");
    t->n_dims = 4, t->ne[0] = 32, t->ne[1] = 1ull << 32, t->ne[2] = 1ull << 31, t->ne[3] = 1ull << 31;
}
static void dims_zero(gb_file *f) { gb_find(f, "blk.0.attn_q.bias")->ne[0] = 0; }
static void rank_5(gb_file *f) { gb_find(f, "blk.0.attn_q.bias")->n_dims = 5; }
static void bad_type(gb_file *f) { gb_find(f, "blk.0.attn_q.bias")->type = 4; /* removed Q4_2 */ }
static void huge_array(gb_file *f) {
    gw *w = &gb_slot(f, "tokenizer.ggml.token_type")->value;
    gw_u32(w, 9), gw_u32(w, 5), gw_u64(w, 0xfffffffffffffff0ull);
}
static void huge_string(gb_file *f) {
    gw *w = &gb_slot(f, "general.name")->value;
    gw_u32(w, 8), gw_u64(w, 0xfffffffffffffff0ull);
}
static void nested_array(gb_file *f) {
    gw *w = &gb_slot(f, "general.tags")->value;
    gw_u32(w, 9), gw_u32(w, 9), gw_u64(w, 1);
}
static void bad_value_type(gb_file *f) {
    gw *w = &gb_slot(f, "general.tags")->value;
    gw_u32(w, 13), gw_u32(w, 0);
}

/* ---- the vocabulary's */
static void token_not_utf8(gb_file *f) {
    /* token 6 ends inside a 2-byte sequence; token 8 is an encoded surrogate */
    static char names[GB_N_VOCAB][8];
    const char *toks[GB_N_VOCAB];
    for (int i = 0; i < GB_N_VOCAB; i++) snprintf(names[i], sizeof names[i], "t%d", i), toks[i] = names[i];
    toks[6] = "b\xc3", toks[8] = "x\xed\xa0\x80";
    gb_strs(f, "tokenizer.ggml.tokens", toks, GB_N_VOCAB);
}
static void scores_short(gb_file *f) {
    float s[GB_N_VOCAB] = {0};
    gb_arr(f, "tokenizer.ggml.scores", 6, s, GB_N_VOCAB - 1, 4);
}
static void types_wrong_elem(gb_file *f) {
    float s[GB_N_VOCAB] = {0};
    gb_arr(f, "tokenizer.ggml.token_type", 6, s, GB_N_VOCAB, 4);
}
static void tokens_not_array(gb_file *f) { gb_str(f, "tokenizer.ggml.tokens", "a b c"); }
static void special_out_of_range(gb_file *f) { gb_u32(f, "tokenizer.ggml.cls_token_id", GB_N_VOCAB); }
static void special_negative(gb_file *f) { gb_i32(f, "tokenizer.ggml.seperator_token_id", -5); }
static void special_wrong_type(gb_file *f) { gb_str(f, "tokenizer.ggml.cls_token_id", "2"); }
static void flag_wrong_type(gb_file *f) { gb_str(f, "tokenizer.ggml.add_bos_token", "true"); }
static void model_wrong_type(gb_file *f) { gb_u32(f, "tokenizer.ggml.model", 1); }
static void no_tokenizer(gb_file *f) { gb_remove(f, "tokenizer.ggml.model"); }

/* ---- the hyperparameters' */
static void arch_wrong_type(gb_file *f) { gb_u32(f, "general.architecture", 7); }
static void hp_missing(gb_file *f) { gb_remove(f, "bert.embedding_length"); }
static void hp_wrong_type(gb_file *f) { gb_str(f, "bert.block_count", "1"); }
static void hp_float_wrong_type(gb_file *f) { gb_str(f, "bert.attention.layer_norm_epsilon", "1e-12"); }
static void hp_bool_wrong_type(gb_file *f) { gb_f32(f, "bert.attention.causal", 0.0f); }
static void hp_negative(gb_file *f) { gb_i32(f, "bert.attention.head_count", -2); }
static void hp_nan(gb_file *f) { gb_f32(f, "bert.attention.layer_norm_epsilon", NAN); }
static void hp_vs_shape(gb_file *f) { gb_u32(f, "bert.embedding_length", 64); }
static void hp_heads(gb_file *f) { gb_u32(f, "bert.attention.head_count", 3); }
static void hp_layers(gb_file *f) { gb_u32(f, "bert.block_count", 2); }
static void hp_ctx_vs_pos(gb_file *f) { gb_u32(f, "bert.context_length", 512); }
static void vocab_vs_embd(gb_file *f) { gb_find(f, "token_embd.weight")->ne[1] = GB_N_VOCAB - 1; }
static void tensor_missing(gb_file *f) { gb_find(f, "blk.0.ffn_up.weight")->name[0] = 'x'; }
static void pooling_bad(gb_file *f) { gb_u32(f, "bert.pooling_type", 9); }
static void gemma_no_window(gb_file *f) { gb_remove(f, "gemma-embedding.attention.sliding_window"); }
static void gemma_pattern_len(gb_file *f) {
    uint8_t p[3] = {1, 0, 1};
    gb_arr(f, "gemma-embedding.attention.sliding_window_pattern", 7, p, 3, 1);
}
static void gemma_kv_heads(gb_file *f) { gb_u32(f, "gemma-embedding.attention.head_count_kv", 2); }

typedef struct mcase {
    const char *name;
    int gemma; /* 0: start from the tiny bert, 1: from the tiny gemma-embedding */
    mutate_fn fn;
    ggufembed_status status;
    const char *msg; /* a substring the message must contain */
} mcase;

static const mcase k_cases[] = {
    {"duplicate key, same value", 0, dup_key_same, GGUFEMBED_ERR_FORMAT, "duplicate metadata key 'bert.block_count'"},
    {"duplicate key, other value", 0, dup_key_conflict, GGUFEMBED_ERR_FORMAT, "duplicate metadata key 'bert.block_count'"},
    {"duplicate tensor name", 0, dup_tensor, GGUFEMBED_ERR_FORMAT, "duplicate tensor name 'blk.0.attn_q.bias'"},
    {"overlapping tensor data", 0, overlap, GGUFEMBED_ERR_FORMAT, "overlap"},
    {"offset past the end", 0, offset_past_end, GGUFEMBED_ERR_FORMAT, "past the end"},
    {"misaligned offset", 0, misaligned, GGUFEMBED_ERR_FORMAT, "not aligned"},
    {"alignment 0", 0, alignment_0, GGUFEMBED_ERR_FORMAT, "general.alignment"},
    {"alignment 3", 0, alignment_3, GGUFEMBED_ERR_FORMAT, "power of two"},
    {"alignment of the wrong type", 0, alignment_str, GGUFEMBED_ERR_FORMAT, "general.alignment"},
    {"dimension product overflows", 0, dims_overflow, GGUFEMBED_ERR_FORMAT, "invalid shape"},
    {"zero dimension", 0, dims_zero, GGUFEMBED_ERR_FORMAT, "invalid shape"},
    {"rank 5", 0, rank_5, GGUFEMBED_ERR_FORMAT, "dimensions"},
    {"unknown tensor type", 0, bad_type, GGUFEMBED_ERR_UNSUPPORTED, "unknown type 4"},
    {"array count near 2^64", 0, huge_array, GGUFEMBED_ERR_FORMAT, "truncated or corrupt"},
    {"string length near 2^64", 0, huge_string, GGUFEMBED_ERR_FORMAT, "truncated or corrupt"},
    {"array of arrays", 0, nested_array, GGUFEMBED_ERR_FORMAT, "array of unsupported type"},
    {"unknown value type", 0, bad_value_type, GGUFEMBED_ERR_FORMAT, "unknown value type 13"},
    {"token not UTF-8", 0, token_not_utf8, GGUFEMBED_ERR_FORMAT, "token 6 is not valid UTF-8"},
    {"scores of the wrong length", 0, scores_short, GGUFEMBED_ERR_FORMAT, "tokenizer.ggml.scores"},
    {"token types of the wrong type", 0, types_wrong_elem, GGUFEMBED_ERR_FORMAT, "tokenizer.ggml.token_type"},
    {"tokens not an array", 0, tokens_not_array, GGUFEMBED_ERR_FORMAT, "tokenizer.ggml.tokens"},
    {"special id out of range", 0, special_out_of_range, GGUFEMBED_ERR_FORMAT, "cls_token_id = 24 is outside"},
    {"special id negative", 0, special_negative, GGUFEMBED_ERR_FORMAT, "seperator_token_id = -5 is outside"},
    {"special id of the wrong type", 0, special_wrong_type, GGUFEMBED_ERR_FORMAT, "cls_token_id has the wrong type"},
    {"flag of the wrong type", 0, flag_wrong_type, GGUFEMBED_ERR_FORMAT, "add_bos_token has the wrong type"},
    {"tokenizer model of the wrong type", 0, model_wrong_type, GGUFEMBED_ERR_FORMAT, "tokenizer.ggml.model has the wrong type"},
    {"no tokenizer", 0, no_tokenizer, GGUFEMBED_ERR_FORMAT, "tokenizer.ggml.model is missing"},
    {"architecture of the wrong type", 0, arch_wrong_type, GGUFEMBED_ERR_FORMAT, "general.architecture has the wrong type"},
    {"required hyperparameter missing", 0, hp_missing, GGUFEMBED_ERR_FORMAT, "bert.embedding_length is missing"},
    {"integer of the wrong type", 0, hp_wrong_type, GGUFEMBED_ERR_FORMAT, "bert.block_count has the wrong type"},
    {"float of the wrong type", 0, hp_float_wrong_type, GGUFEMBED_ERR_FORMAT, "layer_norm_epsilon has the wrong type"},
    {"bool of the wrong type", 0, hp_bool_wrong_type, GGUFEMBED_ERR_FORMAT, "bert.attention.causal has the wrong type"},
    {"negative head count", 0, hp_negative, GGUFEMBED_ERR_FORMAT, "head_count = -2 is out of range"},
    {"NaN epsilon", 0, hp_nan, GGUFEMBED_ERR_FORMAT, "layer_norm_epsilon = nan is out of range"},
    {"n_embd contradicts the shapes", 0, hp_vs_shape, GGUFEMBED_ERR_FORMAT, "token_embd.weight' has shape"},
    {"heads do not divide n_embd", 0, hp_heads, GGUFEMBED_ERR_UNSUPPORTED, "attention shape"},
    {"more layers than tensors", 0, hp_layers, GGUFEMBED_ERR_FORMAT, "'blk.1.attn_q.weight' is missing"},
    {"context longer than the positions", 0, hp_ctx_vs_pos, GGUFEMBED_ERR_FORMAT, "fewer than the context length"},
    {"vocabulary vs token_embd rows", 0, vocab_vs_embd, GGUFEMBED_ERR_FORMAT, "token_embd.weight' has shape"},
    {"tensor missing", 0, tensor_missing, GGUFEMBED_ERR_FORMAT, "'blk.0.ffn_up.weight' is missing"},
    {"unknown pooling", 0, pooling_bad, GGUFEMBED_ERR_UNSUPPORTED, "pooling_type = 9"},
    {"sliding-window model without its window", 1, gemma_no_window, GGUFEMBED_ERR_FORMAT,
     "gemma-embedding.attention.sliding_window is missing"},
    {"window pattern of the wrong length", 1, gemma_pattern_len, GGUFEMBED_ERR_FORMAT, "one bool per layer"},
    {"kv heads contradict attn_k", 1, gemma_kv_heads, GGUFEMBED_ERR_FORMAT, "attn_k.weight' has shape"},
};

/* The same valid file at an odd address (a caller's buffer; or what general.alignment 1
 * allows): the matrices cannot be read in place, so the open is refused, not UB. */
static void check_odd_buffer(void) {
    gb_file f;
    gb_tiny_bert(&f);
    gw w = gb_write(&f);
    uint8_t *buf = malloc(w.n + 1);
    memcpy(buf + 1, w.p, w.n);
    char err[256] = "";
    ggufembed_model *m = NULL;
    ggufembed_status st = ggufembed_model_open_memory(buf + 1, w.n, &m, err, sizeof err);
    CHECK(st == GGUFEMBED_ERR_FORMAT && strstr(err, "not 4-byte aligned") && !m, "odd buffer: %d %s", st, err);
    ggufembed_model_free(m);
    memcpy(buf, w.p, w.n); /* and the same bytes aligned open */
    m = NULL;
    CHECK(ggufembed_model_open_memory(buf, w.n, &m, err, sizeof err) == GGUFEMBED_OK, "aligned copy: %s", err);
    ggufembed_model_free(m);
    free(buf);
    free(w.p);
    gb_free(&f);
}

/* A weight of the model set to NaN or +Inf: opening succeeds (weights are not scanned
 * unless GGUFEMBED_OPEN_VALIDATE asks), embedding refuses the non-finite result. */
static void check_nonfinite(float bad, const char *what) {
    gb_file f;
    gb_tiny_bert(&f);
    float *w = (float *)(void *)gb_find(&f, "blk.0.ffn_down.weight")->data.p;
    w[5] = bad;
    char err[256] = "";
    gw bytes = gb_write(&f);
    ggufembed_model *m = NULL;
    CHECK(ggufembed_model_open_memory(bytes.p, bytes.n, &m, err, sizeof err) == GGUFEMBED_OK, "%s open: %s", what, err);
    if (m) {
        ggufembed_context *ctx = NULL;
        CHECK(ggufembed_context_new(m, NULL, &ctx) == GGUFEMBED_OK, "%s context", what);
        float v[GB_N_EMBD];
        ggufembed_status st = ggufembed_embed(ctx, "the cat sat", 11, NULL, v, GB_N_EMBD);
        CHECK(st == GGUFEMBED_ERR_FORMAT && strstr(ggufembed_context_last_error(ctx), "not finite"),
              "%s embed: %d %s", what, st, ggufembed_context_last_error(ctx));
        ggufembed_context_free(ctx);
    }
    ggufembed_model_free(m);
    m = NULL;
    CHECK(ggufembed_model_open_memory_v2(bytes.p, bytes.n, GGUFEMBED_OPEN_VALIDATE, &m, err, sizeof err) ==
                  GGUFEMBED_ERR_FORMAT &&
              strstr(err, "blk.0.ffn_down.weight") && strstr(err, "value 5"),
          "%s validate: %s", what, err);
    ggufembed_model_free(m);
    free(bytes.p);
    gb_free(&f);
}

int main(void) {
    char err[256];
    /* the unbroken models open and embed */
    for (int g = 0; g < 2; g++) {
        gb_file f;
        g ? gb_tiny_gemma(&f) : gb_tiny_bert(&f);
        ggufembed_model *m = NULL;
        uint8_t *bytes = NULL;
        ggufembed_status st = open_built(&f, err, sizeof err, &m, &bytes);
        CHECK(st == GGUFEMBED_OK, "tiny %s opens: %s", g ? "gemma" : "bert", err);
        if (st == GGUFEMBED_OK) {
            ggufembed_context *ctx = NULL;
            float v[GB_N_EMBD];
            CHECK(ggufembed_context_new(m, NULL, &ctx) == GGUFEMBED_OK &&
                      ggufembed_embed(ctx, "the cat sat on the mat", 22, NULL, v, GB_N_EMBD) == GGUFEMBED_OK &&
                      isfinite(v[0]),
                  "tiny %s embeds: %s", g ? "gemma" : "bert", ggufembed_context_last_error(ctx));
            ggufembed_context_free(ctx);
            ggufembed_model_free(m);
            free(bytes);
        }
        gb_free(&f);
    }
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) {
        const mcase *c = &k_cases[i];
        gb_file f;
        c->gemma ? gb_tiny_gemma(&f) : gb_tiny_bert(&f);
        c->fn(&f);
        err[0] = 0;
        ggufembed_status st = open_built(&f, err, sizeof err, NULL, NULL);
        CHECK(st == c->status && strstr(err, c->msg), "%s: status %d (want %d), message \"%s\" (want \"%s\")", c->name,
              st, c->status, err, c->msg);
        gb_free(&f);
    }
    check_nonfinite(NAN, "NaN weight");
    check_nonfinite(INFINITY, "Inf weight");
    check_odd_buffer();
    return check_summary("test_malformed");
}
