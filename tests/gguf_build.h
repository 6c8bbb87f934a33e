/*
 * gguf_build.h - small complete GGUF models built in memory, for tests that break
 * them one property at a time (test_malformed.c).
 *
 * A gb_file is a list of metadata entries (each kept serialized: key, type, value)
 * and a list of tensors (name, shape, type, data). Tests edit the lists (set, remove
 * or duplicate a key; change a shape or an offset) and gb_write() lays the file out:
 * header, metadata, tensor infos, then each tensor's data at the next multiple of the
 * alignment, in list order, as llama.cpp's writer does.
 *
 * gb_tiny_bert() and gb_tiny_gemma() give valid models of a few KB:
 *   bert:            WordPiece vocabulary of 24 pieces, n_embd 32, 1 layer, 2 heads,
 *                    n_ff 64, context 16, F32 weights, mean pooling
 *   gemma-embedding: SentencePiece vocabulary of 24 pieces, n_embd 32, 2 layers,
 *                    2 heads / 1 kv head of 16, n_ff 64, window 4, F32 weights
 */
#ifndef GE_GGUF_BUILD_H
#define GE_GGUF_BUILD_H

#include "gguf_writer.h"

#include <stdio.h>

#define GB_MAX_KV 64
#define GB_MAX_TENSORS 48

typedef struct gb_kv {
    char key[96];
    gw value; /* type (u32) + value bytes, as in the file */
} gb_kv;

typedef struct gb_tensor {
    char name[96];
    uint32_t n_dims, type;
    uint64_t ne[4];
    gw data;
    int64_t offset; /* -1: laid out by gb_write; otherwise written as given */
} gb_tensor;

typedef struct gb_file {
    uint32_t alignment;
    int n_kv, n_tensors;
    gb_kv kv[GB_MAX_KV];
    gb_tensor t[GB_MAX_TENSORS];
} gb_file;

/* ------------------------------------------------------------ metadata */

static inline gb_kv *gb_slot(gb_file *f, const char *key) {
    for (int i = 0; i < f->n_kv; i++)
        if (strcmp(f->kv[i].key, key) == 0) {
            free(f->kv[i].value.p);
            memset(&f->kv[i].value, 0, sizeof(gw));
            return &f->kv[i];
        }
    gb_kv *kv = &f->kv[f->n_kv++];
    memset(kv, 0, sizeof *kv);
    snprintf(kv->key, sizeof kv->key, "%s", key);
    return kv;
}
static inline void gb_remove(gb_file *f, const char *key) {
    for (int i = 0; i < f->n_kv; i++)
        if (strcmp(f->kv[i].key, key) == 0) {
            free(f->kv[i].value.p);
            memmove(&f->kv[i], &f->kv[i + 1], sizeof(gb_kv) * (size_t)(f->n_kv - i - 1));
            f->n_kv--;
            return;
        }
}
/* appends a second entry with the same key (and the value bytes of `value_of`) */
static inline void gb_duplicate(gb_file *f, const char *key, const char *value_of) {
    for (int i = 0; i < f->n_kv; i++)
        if (strcmp(f->kv[i].key, value_of) == 0) {
            gb_kv *kv = &f->kv[f->n_kv++];
            memset(kv, 0, sizeof *kv);
            snprintf(kv->key, sizeof kv->key, "%s", key);
            gw_bytes(&kv->value, f->kv[i].value.p, f->kv[i].value.n);
            return;
        }
}
static inline void gb_u32(gb_file *f, const char *key, uint32_t v) { gw *w = &gb_slot(f, key)->value; gw_u32(w, 4); gw_u32(w, v); }
static inline void gb_i32(gb_file *f, const char *key, int32_t v) { gw *w = &gb_slot(f, key)->value; gw_u32(w, 5); gw_bytes(w, &v, 4); }
static inline void gb_f32(gb_file *f, const char *key, float v) { gw *w = &gb_slot(f, key)->value; gw_u32(w, 6); gw_bytes(w, &v, 4); }
static inline void gb_bool(gb_file *f, const char *key, int v) { gw *w = &gb_slot(f, key)->value; gw_u32(w, 7); gw_bytes(w, v ? "\1" : "\0", 1); }
static inline void gb_str(gb_file *f, const char *key, const char *v) { gw *w = &gb_slot(f, key)->value; gw_u32(w, 8); gw_str(w, v); }
static inline void gb_strs(gb_file *f, const char *key, const char *const *v, int n) {
    gw *w = &gb_slot(f, key)->value;
    gw_u32(w, 9), gw_u32(w, 8), gw_u64(w, (uint64_t)n);
    for (int i = 0; i < n; i++) gw_str(w, v[i]);
}
/* an array of n fixed-size elements of gguf type `type`, esz bytes each */
static inline void gb_arr(gb_file *f, const char *key, uint32_t type, const void *v, int n, size_t esz) {
    gw *w = &gb_slot(f, key)->value;
    gw_u32(w, 9), gw_u32(w, type), gw_u64(w, (uint64_t)n);
    gw_bytes(w, v, esz * (size_t)n);
}

/* ------------------------------------------------------------ tensors */

static inline gb_tensor *gb_find(gb_file *f, const char *name) {
    for (int i = 0; i < f->n_tensors; i++)
        if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
    return NULL;
}
/* An F32 tensor [ne0 x ne1] (ne1 = 1: a vector) of deterministic values around
 * `center` (norm weights 1, biases and matrices ~0 with variance 1/ne0). */
static inline gb_tensor *gb_tensor_f32(gb_file *f, const char *name, uint64_t ne0, uint64_t ne1, float center,
                                      float spread) {
    gb_tensor *t = &f->t[f->n_tensors++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->n_dims = ne1 > 1 ? 2 : 1;
    t->ne[0] = ne0, t->ne[1] = ne1, t->ne[2] = t->ne[3] = 1;
    t->offset = -1;
    uint32_t s = 2166136261u;
    for (const char *c = name; *c; c++) s = (s ^ (uint8_t)*c) * 16777619u;
    for (uint64_t i = 0; i < ne0 * ne1; i++) {
        s = s * 1664525u + 1013904223u;
        float v = center + spread * ((float)(s >> 8) / 16777216.0f - 0.5f);
        gw_bytes(&t->data, &v, 4);
    }
    return t;
}

static inline gw gb_write(const gb_file *f) {
    gw w = {0};
    gw_bytes(&w, "GGUF", 4);
    gw_u32(&w, 3);
    gw_u64(&w, (uint64_t)f->n_tensors);
    gw_u64(&w, (uint64_t)f->n_kv);
    for (int i = 0; i < f->n_kv; i++) {
        gw_str(&w, f->kv[i].key);
        gw_bytes(&w, f->kv[i].value.p, f->kv[i].value.n);
    }
    const uint64_t al = f->alignment ? f->alignment : 32;
    uint64_t off = 0;
    for (int i = 0; i < f->n_tensors; i++) {
        const gb_tensor *t = &f->t[i];
        gw_str(&w, t->name);
        gw_u32(&w, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) gw_u64(&w, d < 4 ? t->ne[d] : 1); /* rank > 4: a broken file */
        gw_u32(&w, t->type);
        gw_u64(&w, t->offset >= 0 ? (uint64_t)t->offset : off);
        off = (off + t->data.n + al - 1) / al * al;
    }
    gw_pad(&w, (size_t)al);
    size_t data_start = w.n;
    for (int i = 0; i < f->n_tensors; i++) {
        while ((w.n - data_start) % al) gw_bytes(&w, "", 1);
        gw_bytes(&w, f->t[i].data.p, f->t[i].data.n);
    }
    while ((w.n - data_start) % al) gw_bytes(&w, "", 1);
    return w;
}

static inline void gb_free(gb_file *f) {
    for (int i = 0; i < f->n_kv; i++) free(f->kv[i].value.p);
    for (int i = 0; i < f->n_tensors; i++) free(f->t[i].data.p);
    memset(f, 0, sizeof *f);
}

/* ------------------------------------------------------------ tiny models */

#define GB_N_EMBD 32
#define GB_N_FF 64
#define GB_N_VOCAB 24

static inline void gb_tiny_bert(gb_file *f) {
    static const char *const tokens[GB_N_VOCAB] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c",
                                                   "the", "cat", "dog", "sat", "on", "mat", "##s", "##ed",
                                                   ".", ",", "!", "?", "hello", "world", "##ing", "run"};
    int32_t types[GB_N_VOCAB];
    for (int i = 0; i < GB_N_VOCAB; i++) types[i] = i < 5 ? 3 : 1;
    types[1] = 2;
    memset(f, 0, sizeof *f);
    gb_str(f, "general.architecture", "bert");
    gb_str(f, "general.name", "tiny-bert");
    gb_u32(f, "bert.context_length", 16);
    gb_u32(f, "bert.embedding_length", GB_N_EMBD);
    gb_u32(f, "bert.feed_forward_length", GB_N_FF);
    gb_u32(f, "bert.block_count", 1);
    gb_u32(f, "bert.attention.head_count", 2);
    gb_f32(f, "bert.attention.layer_norm_epsilon", 1e-12f);
    gb_bool(f, "bert.attention.causal", 0);
    gb_u32(f, "bert.pooling_type", 1);
    gb_str(f, "tokenizer.ggml.model", "bert");
    gb_strs(f, "tokenizer.ggml.tokens", tokens, GB_N_VOCAB);
    gb_arr(f, "tokenizer.ggml.token_type", 5, types, GB_N_VOCAB, 4);
    gb_u32(f, "tokenizer.ggml.unknown_token_id", 1);
    gb_u32(f, "tokenizer.ggml.cls_token_id", 2);
    gb_u32(f, "tokenizer.ggml.seperator_token_id", 3);
    gb_u32(f, "tokenizer.ggml.padding_token_id", 0);
    const float sd = 0.6f; /* uniform spread: variance ~ 1/n_embd */
    gb_tensor_f32(f, "token_embd.weight", GB_N_EMBD, GB_N_VOCAB, 0, 1);
    gb_tensor_f32(f, "position_embd.weight", GB_N_EMBD, 16, 0, 0.5f);
    gb_tensor_f32(f, "token_types.weight", GB_N_EMBD, 2, 0, 0.5f);
    gb_tensor_f32(f, "token_embd_norm.weight", GB_N_EMBD, 1, 1, 0.2f);
    gb_tensor_f32(f, "token_embd_norm.bias", GB_N_EMBD, 1, 0, 0.1f);
    static const char *const mats[] = {"attn_q", "attn_k", "attn_v", "attn_output"};
    char name[96];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "blk.0.%s.weight", mats[i]);
        gb_tensor_f32(f, name, GB_N_EMBD, GB_N_EMBD, 0, sd);
        snprintf(name, sizeof name, "blk.0.%s.bias", mats[i]);
        gb_tensor_f32(f, name, GB_N_EMBD, 1, 0, 0.1f);
    }
    gb_tensor_f32(f, "blk.0.attn_output_norm.weight", GB_N_EMBD, 1, 1, 0.2f);
    gb_tensor_f32(f, "blk.0.attn_output_norm.bias", GB_N_EMBD, 1, 0, 0.1f);
    gb_tensor_f32(f, "blk.0.ffn_up.weight", GB_N_EMBD, GB_N_FF, 0, sd);
    gb_tensor_f32(f, "blk.0.ffn_up.bias", GB_N_FF, 1, 0, 0.1f);
    gb_tensor_f32(f, "blk.0.ffn_down.weight", GB_N_FF, GB_N_EMBD, 0, 0.4f);
    gb_tensor_f32(f, "blk.0.ffn_down.bias", GB_N_EMBD, 1, 0, 0.1f);
    gb_tensor_f32(f, "blk.0.layer_output_norm.weight", GB_N_EMBD, 1, 1, 0.2f);
    gb_tensor_f32(f, "blk.0.layer_output_norm.bias", GB_N_EMBD, 1, 0, 0.1f);
}

static inline void gb_tiny_gemma(gb_file *f) {
    static const char *const tokens[GB_N_VOCAB] = {"<pad>", "<eos>", "<bos>", "<unk>", "\xe2\x96\x81", "a", "b",
                                                   "c", "\xe2\x96\x81the", "\xe2\x96\x81" "cat", "\xe2\x96\x81" "dog",
                                                   "\xe2\x96\x81sat", "\xe2\x96\x81on", "\xe2\x96\x81mat", "s", "e",
                                                   "d", ".", ",", "t", "h", "o", "g", "m"};
    int32_t types[GB_N_VOCAB];
    float scores[GB_N_VOCAB];
    for (int i = 0; i < GB_N_VOCAB; i++) types[i] = i < 3 ? 3 : i == 3 ? 2 : 1, scores[i] = -(float)i;
    memset(f, 0, sizeof *f);
    gb_str(f, "general.architecture", "gemma-embedding");
    gb_str(f, "general.name", "tiny-gemma");
    gb_u32(f, "gemma-embedding.context_length", 64);
    gb_u32(f, "gemma-embedding.embedding_length", GB_N_EMBD);
    gb_u32(f, "gemma-embedding.feed_forward_length", GB_N_FF);
    gb_u32(f, "gemma-embedding.block_count", 2);
    gb_u32(f, "gemma-embedding.attention.head_count", 2);
    gb_u32(f, "gemma-embedding.attention.head_count_kv", 1);
    gb_u32(f, "gemma-embedding.attention.key_length", 16);
    gb_u32(f, "gemma-embedding.attention.value_length", 16);
    gb_u32(f, "gemma-embedding.attention.sliding_window", 4);
    gb_u32(f, "gemma-embedding.attention.sliding_window_pattern", 2);
    gb_f32(f, "gemma-embedding.attention.layer_norm_rms_epsilon", 1e-6f);
    gb_f32(f, "gemma-embedding.rope.freq_base", 1e6f);
    gb_f32(f, "gemma-embedding.rope.freq_base_swa", 1e4f);
    gb_u32(f, "gemma-embedding.pooling_type", 1);
    gb_str(f, "tokenizer.ggml.model", "llama");
    gb_strs(f, "tokenizer.ggml.tokens", tokens, GB_N_VOCAB);
    gb_arr(f, "tokenizer.ggml.scores", 6, scores, GB_N_VOCAB, 4);
    gb_arr(f, "tokenizer.ggml.token_type", 5, types, GB_N_VOCAB, 4);
    gb_u32(f, "tokenizer.ggml.bos_token_id", 2);
    gb_u32(f, "tokenizer.ggml.eos_token_id", 1);
    gb_u32(f, "tokenizer.ggml.unknown_token_id", 3);
    gb_u32(f, "tokenizer.ggml.padding_token_id", 0);
    gb_bool(f, "tokenizer.ggml.add_bos_token", 1);
    gb_bool(f, "tokenizer.ggml.add_eos_token", 1);
    gb_bool(f, "tokenizer.ggml.add_space_prefix", 0);
    gb_tensor_f32(f, "token_embd.weight", GB_N_EMBD, GB_N_VOCAB, 0, 1);
    gb_tensor_f32(f, "output_norm.weight", GB_N_EMBD, 1, 1, 0.2f);
    char name[96];
    for (int il = 0; il < 2; il++) {
        static const struct { const char *n; uint64_t ne0, ne1; float c, s; } w[] = {
            {"attn_norm", GB_N_EMBD, 1, 1, 0.2f},  {"attn_q", GB_N_EMBD, 32, 0, 0.6f},
            {"attn_k", GB_N_EMBD, 16, 0, 0.6f},    {"attn_v", GB_N_EMBD, 16, 0, 0.6f},
            {"attn_q_norm", 16, 1, 1, 0.2f},       {"attn_k_norm", 16, 1, 1, 0.2f},
            {"attn_output", 32, GB_N_EMBD, 0, 0.6f}, {"post_attention_norm", GB_N_EMBD, 1, 1, 0.2f},
            {"ffn_norm", GB_N_EMBD, 1, 1, 0.2f},   {"ffn_gate", GB_N_EMBD, GB_N_FF, 0, 0.6f},
            {"ffn_up", GB_N_EMBD, GB_N_FF, 0, 0.6f}, {"ffn_down", GB_N_FF, GB_N_EMBD, 0, 0.4f},
            {"post_ffw_norm", GB_N_EMBD, 1, 1, 0.2f},
        };
        for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
            snprintf(name, sizeof name, "blk.%d.%s.weight", il, w[i].n);
            gb_tensor_f32(f, name, w[i].ne0, w[i].ne1, w[i].c, w[i].s);
        }
    }
}

#endif
