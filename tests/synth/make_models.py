#!/usr/bin/env python3
"""Write small random gemma-embedding GGUF models for the synthetic llama.cpp comparison.

    make_models.py OUT_DIR [VARIANT ...]     writes OUT_DIR/<variant>.gguf, prints a JSON manifest
    make_models.py --texts                   prints the test texts of every variant (JSON)

Needs numpy and llama.cpp's gguf-py (the `gguf` package) on sys.path; synthlib.py finds both.
Deterministic: every variant draws its weights from numpy.random.default_rng(seed) with a fixed
seed, and the vocabulary is built from fixed lists, so the same gguf-py + numpy give the same
bytes (tests/synth/golden/*.json record the sha256 of each file).

The layout follows the real EmbeddingGemma-300M GGUF (llama.cpp convert_hf_to_gguf.py output):
the same metadata keys and tensor names, norm weights stored as F32 already holding 1 + w, and
a SentencePiece vocabulary (tokenizer.ggml.model = "llama", add_bos/add_eos true, no space
prefix) with control, user-defined, byte and normal pieces.
"""
import json
import sys

import numpy as np
import gguf

ARCH = "gemma-embedding"
T = gguf.GGMLQuantizationType

# ----------------------------------------------------------------------------- variants
# Hyperparameters llama.cpp reads for gemma-embedding (src/models/gemma-embedding.cpp and
# llama_model::load_hparams): every value below differs from EmbeddingGemma-300M somewhere.
#   types: weight type of each matrix (norm weights are always F32)
#   swa_pattern: None = key absent (llama.cpp default period 6), int = period, list = per-layer bools
#   rope_base_swa / n_rot: None = key absent
VARIANTS = {
    # F32 everywhere; 4 heads / 2 kv heads with head_dim 32 (heads * head_dim = 128 != n_embd 64);
    # no sliding_window_pattern key (default period 6: layers 0-4 local, 5 global; 6 layers
    # because llama.cpp b11312 aborts when no layer is global, see README.md) and no
    # rope.freq_base_swa key (default 10000); window 16 is shorter than the long texts.
    "a_f32_mean": dict(
        seed=101, n_embd=64, n_layer=6, n_head=4, n_kv=2, head_dim=32, n_ff=96, n_ctx=512,
        types="F32", pooling=1, n_swa=16, swa_pattern=None, rope_base=1.0e6, rope_base_swa=None,
        n_rot=None, eps=1e-6, dense=None),
    # F16 matrices, 3 layers, multi-query attention (2 heads / 1 kv head, head_dim 64), window 8
    # with pattern period 2 (layers 0, 2 local; 1 global), both rope bases set to unusual values,
    # and an RMSNorm epsilon large enough (0.25) that using any other value fails the test
    # (1e-6 vs 1e-2 moves the cosine by only 1e-4 on these activations).
    "b_f16_swa": dict(
        seed=202, n_embd=64, n_layer=3, n_head=2, n_kv=1, head_dim=64, n_ff=128, n_ctx=256,
        types="F16", pooling=1, n_swa=8, swa_pattern=2, rope_base=5.0e4, rope_base_swa=500.0,
        n_rot=None, eps=0.25, dense=None),
    # Q8_0 matrices (token_embd too) quantized with gguf-py, n_embd 96, 3 heads / 1 kv head,
    # window 12 with period 3, plus the sentence-transformers projections dense_2 (96 -> 160)
    # and dense_3 (160 -> 96), Q8_0, with their feat_in/feat_out metadata.
    "c_q8_dense": dict(
        seed=303, n_embd=96, n_layer=3, n_head=3, n_kv=1, head_dim=32, n_ff=192, n_ctx=2048,
        types="Q8_0", pooling=1, n_swa=12, swa_pattern=3, rope_base=1.0e6, rope_base_swa=1.0e4,
        n_rot=None, eps=1e-6, dense=(160, "Q8_0", "Q8_0")),
    # BF16 matrices, 4 layers of 4 heads / 4 kv heads with head_dim 16, CLS pooling, an odd
    # window (7: +-3 positions) and the pattern as a per-layer bool array.
    "d_bf16_cls": dict(
        seed=404, n_embd=64, n_layer=4, n_head=4, n_kv=4, head_dim=16, n_ff=160, n_ctx=128,
        types="BF16", pooling=2, n_swa=7, swa_pattern=[True, False, True, True], rope_base=2.0e5,
        rope_base_swa=1.0e4, n_rot=None, eps=1e-6, dense=None),
    # A different type for each kind of matrix, LAST pooling, partial RoPE (rope.dimension_count
    # 32 of head_dim 64), a bool pattern with the global layer first, BF16/F32 dense layers
    # (128 -> 256 -> 128).
    "e_mixed_last": dict(
        seed=505, n_embd=128, n_layer=2, n_head=2, n_kv=1, head_dim=64, n_ff=256, n_ctx=256,
        types=dict(token_embd="F16", attn_q="Q8_0", attn_k="Q8_0", attn_v="Q8_0", attn_output="BF16",
                   ffn_gate="F32", ffn_up="Q8_0", ffn_down="F16"),
        pooling=3, n_swa=10, swa_pattern=[False, True], rope_base=3.0e4, rope_base_swa=2.0e3,
        n_rot=32, eps=1e-6, dense=(256, "BF16", "F32")),
}

# ----------------------------------------------------------------------------- texts
_LONG = ("the model reads this sentence and then another sentence about the weather in the city, "
         "while the cat sat on the mat and the dog ran in the park with two new words")
TEXTS = [
    "hello world",
    "The quick brown fox jumps over the lazy dog.",
    "  two  spaces and\nnew lines\n\nhere   and there",
    "caf\u00e9 na\u00efve \u2014 \u6771\u4eac \U0001F642 caf\u00e9",
    "<b>bold</b> text <eos> inside <bos>",
    "a",
    _LONG,
    "x = 3.14159; y = [1, 2, 3]!? #tag @user (a+b)*c & 100%",
    "unknownwordzzz qqq xyzzy Quux",
    " ".join(["the"] * 20) + " end",
    _LONG + ". " + _LONG.replace("the ", "a "),
]


def texts_for(name):
    # all variants share the texts; each stays far below the smallest context (128)
    return list(TEXTS)


# ----------------------------------------------------------------------------- vocabulary
TT = gguf.TokenType  # NORMAL 1, UNKNOWN 2, CONTROL 3, USER_DEFINED 4, UNUSED 5, BYTE 6

_WORDS = """the a of and to in is that it for on with as was by at be this from or an are not but
have we they he she his her one all there their which can will quick brown fox jump jumps over
lazy dog cat sat mat hello world model text embedding vector sentence word words city weather
park ran read reads then another about while new line lines here two spaces space bold inside
caf\u00e9 number tag user end x y""".split()
_SUBWORDS = """th he in er an re on at en nd ti es or te of ed is it al ar st to nt ng se ha as ou io
le ve co me de hi ri ro ic ne ea ra ce ing ion the and ent tion ly ers ment ness wor ld mod el
tex ence sen ten nce ab out whi ile spa ces ins ide bo ld ther ere qu ick ow own zz xy""".split()
_CHARS = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
          + list(".,;:!?'\"-()[]=#@/+*&%$<>") + ["\u00e9", "\u6771", "\u4eac"])
_BARE = ["hello", "The", "the", "model", "text", "caf\u00e9", "unknown", "word", "x", "a"]


def build_vocab():
    """Token pieces, scores and types, laid out like the Gemma vocabulary."""
    toks, scores, types = [], [], []

    def add(piece, score, ttype):
        assert piece not in toks, piece
        toks.append(piece)
        scores.append(float(score))
        types.append(int(ttype))

    for p in ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]:
        add(p, -1000.0, TT.CONTROL)
    for p in ["\n", "\n\n", "  ", "   ", "<b>", "</b>"]:
        add(p, -1000.0, TT.USER_DEFINED)
    add("<unused0>", -1000.0, TT.CONTROL)
    for b in range(256):
        add("<0x%02X>" % b, 0.0, TT.BYTE)
    # Every multi-character piece comes with all its prefixes, so that SentencePiece's
    # pairwise merges can reach it (a real vocabulary has such paths).
    normal = ["\u2581"] + _CHARS
    for p in _SUBWORDS + ["\u2581" + w for w in _WORDS] + _BARE:
        normal += [p[:k] for k in range(2, len(p) + 1)]
    seen = set(toks)
    pieces = []
    for p in normal:
        if p not in seen:
            seen.add(p)
            pieces.append(p)
    # Scores: a fixed pseudo-random permutation with deliberate ties (merge order and the
    # tie-break by position both matter), never from the variant seeds.
    rng = np.random.default_rng(7)
    raw = rng.integers(0, len(pieces) // 2, size=len(pieces))
    for p, r in zip(pieces, raw):
        add(p, -float(r), TT.NORMAL)
    return toks, scores, types


# ----------------------------------------------------------------------------- weights
def _type_of(cfg, kind):
    t = cfg["types"]
    return t if isinstance(t, str) else t[kind]


def _encode(arr, tname):
    """numpy float32 [n_out, n_in] -> (data, raw_dtype) for GGUFWriter.add_tensor."""
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if tname == "F32":
        return arr, None
    if tname == "F16":
        return arr.astype(np.float16), None
    qt = {"Q8_0": T.Q8_0, "BF16": T.BF16}[tname]
    return gguf.quants.quantize(arr, qt), qt


FILE_TYPE = {"F32": gguf.LlamaFileType.ALL_F32, "F16": gguf.LlamaFileType.MOSTLY_F16,
             "Q8_0": gguf.LlamaFileType.MOSTLY_Q8_0, "BF16": gguf.LlamaFileType.MOSTLY_BF16}


def write_model(name, cfg, path):
    toks, scores, types = build_vocab()
    E, L, H, KV, D, F = (cfg[k] for k in ("n_embd", "n_layer", "n_head", "n_kv", "head_dim", "n_ff"))
    V = len(toks)
    rng = np.random.default_rng(cfg["seed"])

    def uniform(shape, scale):
        return ((rng.random(shape, dtype=np.float64) * 2.0 - 1.0) * scale).astype(np.float32)

    def matrix(n_out, n_in):
        return uniform((n_out, n_in), np.sqrt(3.0 / n_in))   # variance 1 / n_in

    def norm(n):
        return (1.0 + uniform((n,), 0.5)).astype(np.float32)  # the stored 1 + w

    w = gguf.GGUFWriter(path, ARCH)
    w.add_type("model")
    w.add_name("synth " + name)
    w.add_block_count(L)
    w.add_context_length(cfg["n_ctx"])
    w.add_embedding_length(E)
    w.add_feed_forward_length(F)
    w.add_head_count(H)
    w.add_head_count_kv(KV)
    w.add_rope_freq_base(cfg["rope_base"])
    if cfg["rope_base_swa"] is not None:
        w.add_rope_freq_base_swa(cfg["rope_base_swa"])
    w.add_layer_norm_rms_eps(cfg["eps"])
    w.add_key_length(D)
    w.add_value_length(D)
    if cfg["n_rot"] is not None:
        w.add_rope_dimension_count(cfg["n_rot"])
    ft = cfg["types"] if isinstance(cfg["types"], str) else "Q8_0"
    w.add_file_type(FILE_TYPE[ft])
    w.add_sliding_window(cfg["n_swa"])
    if cfg["swa_pattern"] is not None:
        assert not isinstance(cfg["swa_pattern"], list) or len(cfg["swa_pattern"]) == L
        w.add_sliding_window_pattern(cfg["swa_pattern"])
    dense = cfg["dense"]
    if dense:
        w.add_dense_features_dims("dense_2", E, dense[0])
        w.add_dense_features_dims("dense_3", dense[0], E)
    w.add_pooling_type(gguf.PoolingType(cfg["pooling"]))
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(toks)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(2)
    w.add_eos_token_id(1)
    w.add_unk_token_id(3)
    w.add_pad_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(True)
    w.add_add_sep_token(False)
    w.add_add_space_prefix(False)

    def put(tname, arr, kind):
        data, raw = _encode(arr, kind)
        w.add_tensor(tname, data, raw_dtype=raw)

    # Tensor order as in the converted real model.
    put("token_embd.weight", uniform((V, E), 1.0 / np.sqrt(E) * np.sqrt(3.0)), _type_of(cfg, "token_embd"))
    for il in range(L):
        b = "blk.%d." % il
        put(b + "attn_norm.weight", norm(E), "F32")
        put(b + "ffn_down.weight", matrix(E, F), _type_of(cfg, "ffn_down"))
        put(b + "ffn_gate.weight", matrix(F, E), _type_of(cfg, "ffn_gate"))
        put(b + "ffn_up.weight", matrix(F, E), _type_of(cfg, "ffn_up"))
        put(b + "post_attention_norm.weight", norm(E), "F32")
        put(b + "post_ffw_norm.weight", norm(E), "F32")
        put(b + "ffn_norm.weight", norm(E), "F32")
        put(b + "attn_k_norm.weight", norm(D), "F32")
        put(b + "attn_k.weight", matrix(KV * D, E), _type_of(cfg, "attn_k"))
        put(b + "attn_output.weight", matrix(E, H * D), _type_of(cfg, "attn_output"))
        put(b + "attn_q_norm.weight", norm(D), "F32")
        put(b + "attn_q.weight", matrix(H * D, E), _type_of(cfg, "attn_q"))
        put(b + "attn_v.weight", matrix(KV * D, E), _type_of(cfg, "attn_v"))
    put("output_norm.weight", norm(E), "F32")
    if dense:
        put("dense_2.weight", matrix(dense[0], E), dense[1])
        put("dense_3.weight", matrix(E, dense[0]), dense[2])

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main(argv):
    if argv[1:2] == ["--texts"]:
        json.dump({n: texts_for(n) for n in VARIANTS}, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    out = argv[1]
    names = argv[2:] or list(VARIANTS)
    manifest = {}
    for n in names:
        if n not in VARIANTS:
            sys.stderr.write("unknown variant %s (have: %s)\n" % (n, ", ".join(VARIANTS)))
            return 2
        path = "%s/%s.gguf" % (out, n)
        write_model(n, VARIANTS[n], path)
        manifest[n] = {"path": path, "config": VARIANTS[n]}
    json.dump({"numpy": np.__version__, "models": manifest}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
