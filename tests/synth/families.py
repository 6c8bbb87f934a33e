#!/usr/bin/env python3
"""Small random-weight GGUF models of the other embedding families, with real vocabularies.

    families.py OUT_DIR [VARIANT ...]    writes OUT_DIR/<variant>.gguf, prints a JSON manifest
    families.py --texts                  prints the inputs of every variant (JSON): a list of
                                         texts, or for rerankers a list of {query, document}

Needs numpy and llama.cpp's gguf-py (synthlib.py finds both) and the vocabularies (see
find_vocab): llama.cpp's vocab-only GGUFs ggml-vocab-{bert-bge,nomic-bert-moe,qwen2}.gguf and,
for gemma3, EmbeddingGemma's own GGUF (Gemma 3's vocabulary). Their tokenizer.* metadata is
copied verbatim, in file order, then the keys a real conversion of the modelled checkpoint
writes differently are set (TOKENIZER_KEYS). Weights come from numpy.random.default_rng(seed),
so the same gguf-py + numpy + vocabulary files give the same bytes.

Structures follow llama.cpp b11312 (src/models/{bert,nomic-bert,nomic-bert-moe,jina-bert-v2,
qwen3,gemma3}.cpp, llama-model.cpp) and what convert_hf_to_gguf.py writes for the checkpoint
each variant imitates (named in VARIANTS).
"""
import json
import os
import sys

import numpy as np
import gguf

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_models import TEXTS as GEMMA_TEXTS, _encode, FILE_TYPE  # noqa: E402
from family_inputs import EXTRA_TEXTS, PAIRS  # noqa: E402

GVT = gguf.GGUFValueType

# ----------------------------------------------------------------------------- variants
# types: a name for every matrix, or a dict {kind: name} with "default"; norms and biases,
# position_embd and token_types are always F32 (as the converter leaves them).
VARIANTS = {
    # bge-small-like BERT: WordPiece (bert-bge, tokenizer keys exactly as in the vocab file:
    # no add_* keys, so llama.cpp's WPM defaults), learned positions, token types, q/k/v/o with
    # biases, post-LayerNorms, GELU FFN with biases, mean pooling, F32.
    "bert_mean_f32": dict(
        arch="bert", vocab="bert-bge", tok="verbatim", seed=2101, n_embd=64, n_layer=3, n_head=4,
        n_ff=128, n_ctx=512, eps=1e-12, pooling=1, types="F32"),
    # all-MiniLM-like: the tokenizer keys today's converter writes for a BertModel
    # (bos/eos ids, add_bos/add_eos true, add_sep false, lowercase), CLS pooling, F16 matrices,
    # 3 heads of 32.
    "bert_cls_f16": dict(
        arch="bert", vocab="bert-bge", tok="bert-converter", seed=2202, n_embd=96, n_layer=2,
        n_head=3, n_ff=192, n_ctx=256, eps=1e-12, pooling=2, attn_gain=(1.5, 2.5),
        types=dict(default="F16")),
    # bge-m3-like: bert with the XLM-R Unigram vocabulary ("t5", precompiled charsmap),
    # token_type_count 1, CLS pooling, F16 token_embd (250048 rows).
    "bert_xlmr_cls": dict(
        arch="bert", vocab="nomic-bert-moe", tok="verbatim", seed=2303, n_embd=32, n_layer=2,
        n_head=2, n_ff=96, n_ctx=512, eps=1e-5, pooling=2, attn_gain=(1.5, 2.5),
        types=dict(default="F32", token_embd="F16")),
    # nomic-embed-text-v1.5-like: fused attn_qkv, NEOX RoPE with freq_base 1000, SwiGLU
    # (ffn_up, ffn_gate, ffn_down), no biases but the LayerNorms', mean pooling; Q8_0 matrices.
    "nomic_bert_mean": dict(
        arch="nomic-bert", vocab="bert-bge", tok="verbatim", seed=2404, n_embd=64, n_layer=3,
        n_head=4, n_ff=96, n_ctx=2048, eps=1e-12, pooling=1, rope_base=1000.0,
        types=dict(default="Q8_0", token_embd="F16")),
    # nomic-embed-text-v2-moe-like: XLM-R vocabulary (the vocab file is that model's), MoE FFN
    # in layers 1 and 3 (moe_every_n_layers 2: il % 2 == 1), 4 experts, top-2, GELU experts
    # without biases (the converter drops mlp.experts.bias), attn_qkv/attn_output/dense FFN with
    # biases, RoPE base 10000, mean pooling.
    "nomic_moe_mean": dict(
        arch="nomic-bert-moe", vocab="nomic-bert-moe", tok="verbatim", seed=2505, n_embd=32,
        n_layer=4, n_head=2, n_ff=64, n_ctx=512, eps=1e-5, pooling=1, rope_base=10000.0,
        moe=(2, 4, 2), types=dict(default="F32", token_embd="F16")),
    # jina-embeddings-v2-base-en-like: ALiBi (no positions), GEGLU with gate and up fused in
    # ffn_up (2 * n_ff rows: gelu(first half) * second half), biases, tokenizer.ggml.pre
    # "jina-v2-en" as the converter writes for it, mean pooling, F16.
    "jina_v2_mean": dict(
        arch="jina-bert-v2", vocab="bert-bge", tok="jina", seed=2606, n_embd=64, n_layer=2,
        n_head=4, n_ff=96, n_ctx=8192, eps=1e-12, pooling=1, geglu="fused", qk_norm=False,
        norm2=False, types=dict(default="F16", token_embd="F16")),
    # jina-v2-code-like layer: attn_q_norm/attn_k_norm LayerNorms (with biases), attn_norm_2
    # (the second post-attention LayerNorm), separate ffn_gate (gelu(gate) * up), F32.
    "jina_v2_qknorm": dict(
        arch="jina-bert-v2", vocab="bert-bge", tok="jina", seed=2707, n_embd=64, n_layer=3,
        n_head=2, n_ff=128, n_ctx=8192, eps=1e-12, pooling=1, geglu="split", qk_norm=True,
        norm2=True, types="F32"),
    # Qwen3-Embedding-like: qwen2 BPE vocabulary with the keys of its conversion (add_bos false,
    # add_eos true with eos <|endoftext|>, eot <|im_end|>), causal attention, GQA 4/2 with
    # head_dim 32 (4 * 32 != n_embd 64), per-head q/k RMSNorm, NEOX RoPE 1e6, SwiGLU,
    # output_norm, tied output (no output.weight), LAST pooling.
    "qwen3_last": dict(
        arch="qwen3", vocab="qwen2", tok="qwen3-embedding", seed=2808, n_embd=64, n_layer=3,
        n_head=4, n_kv=2, head_dim=32, n_ff=128, n_ctx=32768, eps=1e-6, pooling=3,
        rope_base=1.0e6, types=dict(default="F16")),
    # Gemma 3 text model (gemma-3-270m-like) with mean pooling: EmbeddingGemma's (= Gemma 3's)
    # vocabulary with add_eos false as the Gemma 3 conversion writes, causal attention, window
    # 16 (texts up to 80 tokens) on layers 0-2, layer 3 global (pattern 4), rope bases 1e6 /
    # 1e4, q/k RMSNorm, post-attention/post-FFN norms (stored 1 + w), GELU-gated FFN, inputs
    # scaled by sqrt(n_embd), 2 heads / 1 kv head of 64 (128 != n_embd 64); Q8_0 token_embd.
    "gemma3_mean": dict(
        arch="gemma3", vocab="gemma", tok="gemma3", seed=2909, n_embd=64, n_layer=4, n_head=2,
        n_kv=1, head_dim=64, n_ff=128, n_ctx=32768, eps=1e-6, pooling=1, rope_base=1.0e6,
        rope_base_swa=1.0e4, n_swa=16, swa_pattern=4,
        types=dict(default="BF16", token_embd="Q8_0")),
    # bge-reranker-v2-m3-like: bert + XLM-R vocabulary with add_sep true (the converter derives
    # it from the pair template "<s> A </s></s> B </s>"), classifier head cls (n_embd x n_embd,
    # tanh) + cls.output (1 x n_embd) with biases, output label LABEL_0, pooling RANK.
    "rerank_xlmr": dict(
        arch="bert", vocab="nomic-bert-moe", tok="xlmr-reranker", seed=3010, n_embd=32, n_layer=2,
        n_head=2, n_ff=96, n_ctx=512, eps=1e-5, pooling=4, cls_head=True, labels=["LABEL_0"],
        attn_gain=(1.5, 2.5),
        types=dict(default="F32", token_embd="F16")),
    # Qwen3-Reranker-like: qwen3 with pooling RANK, labels [yes, no], cls.output = the tied
    # token_embd rows of "yes" and "no" (as the converter extracts them), the converter's
    # tokenizer.chat_template.rerank, add_eos false and eos <|im_end|> (its tokenizer has no
    # EOS template). llama.cpp feeds the filled template and takes softmax([yes, no]) of the
    # last token.
    "rerank_qwen3": dict(
        arch="qwen3", vocab="qwen2", tok="qwen3-reranker", seed=3111, n_embd=64, n_layer=2,
        n_head=4, n_kv=2, head_dim=32, n_ff=128, n_ctx=32768, eps=1e-6, pooling=4,
        rope_base=1.0e6, labels=["yes", "no"], types=dict(default="F16")),
}

QWEN3_RERANK_TEMPLATE = (
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the "
    "Instruct provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n"
    "<|im_start|>user\n<Instruct>: Given a web search query, retrieve relevant passages that answer the "
    "query\n<Query>: {query}\n<Document>: {document}<|im_end|>\n"
    "<|im_start|>assistant\n<think>\n\n</think>\n\n")  # convert_hf_to_gguf (conversion/qwen.py)

QWEN_YES, QWEN_NO = 9693, 2152   # "yes" and "no" in the qwen2 vocabulary

# Keys a real conversion sets on top of (or instead of) the vocab file's; None deletes.
TOKENIZER_KEYS = {
    "verbatim": {},
    "bert-converter": {"tokenizer.ggml.bos_token_id": (101, GVT.UINT32),
                       "tokenizer.ggml.eos_token_id": (102, GVT.UINT32),
                       "tokenizer.ggml.add_bos_token": (True, GVT.BOOL),
                       "tokenizer.ggml.add_eos_token": (True, GVT.BOOL),
                       "tokenizer.ggml.add_sep_token": (False, GVT.BOOL),
                       "tokenizer.ggml.normalizer.lowercase": (True, GVT.BOOL)},
    "jina": {"tokenizer.ggml.pre": ("jina-v2-en", GVT.STRING),
             "tokenizer.ggml.bos_token_id": (101, GVT.UINT32),
             "tokenizer.ggml.eos_token_id": (102, GVT.UINT32),
             "tokenizer.ggml.add_bos_token": (True, GVT.BOOL),
             "tokenizer.ggml.add_eos_token": (True, GVT.BOOL)},
    "xlmr-reranker": {"tokenizer.ggml.cls_token_id": (0, GVT.UINT32),
                      "tokenizer.ggml.add_sep_token": (True, GVT.BOOL)},
    "qwen3-embedding": {"tokenizer.ggml.eot_token_id": (151645, GVT.UINT32),
                        "tokenizer.ggml.add_bos_token": (False, GVT.BOOL),
                        "tokenizer.ggml.add_eos_token": (True, GVT.BOOL)},
    "qwen3-reranker": {"tokenizer.ggml.eos_token_id": (151645, GVT.UINT32),
                       "tokenizer.ggml.add_bos_token": (False, GVT.BOOL),
                       "tokenizer.ggml.add_eos_token": (False, GVT.BOOL),
                       "tokenizer.chat_template.rerank": (QWEN3_RERANK_TEMPLATE, GVT.STRING)},
    "gemma3": {"tokenizer.ggml.add_eos_token": (False, GVT.BOOL)},
}

# ----------------------------------------------------------------------------- inputs
def inputs_for(name):
    cfg = VARIANTS[name]
    if cfg["pooling"] == 4:
        return [{"query": q, "document": d} for q, docs in PAIRS for d in docs]
    return list(GEMMA_TEXTS) + EXTRA_TEXTS[cfg["vocab"]]


# ----------------------------------------------------------------------------- vocabularies
VOCAB_FILES = {"bert-bge": "ggml-vocab-bert-bge.gguf", "nomic-bert-moe": "ggml-vocab-nomic-bert-moe.gguf",
               "qwen2": "ggml-vocab-qwen2.gguf"}
GEMMA_FILES = ["embeddinggemma-300m-dense-Q8_0.gguf", "embeddinggemma-300m-Q8_0.gguf",
               "embeddinggemma-300m-dense-F32.gguf"]


def cache_dir():
    return os.environ.get("GGUFEMBED_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "ggufembed")


def find_vocab(vocab):
    """Path of the GGUF whose tokenizer metadata a variant copies; raises with the places tried."""
    c = cache_dir()
    if vocab == "gemma":
        cands = ([os.environ["GGUFEMBED_SYNTH_GEMMA_VOCAB"]] if os.environ.get("GGUFEMBED_SYNTH_GEMMA_VOCAB") else [])
        cands += [os.path.join(c, f) for f in GEMMA_FILES]
        hint = "run scripts/fetch-model.sh (EmbeddingGemma) or set GGUFEMBED_SYNTH_GEMMA_VOCAB"
    else:
        dirs = [os.path.join(c, "vocab"),                                   # scripts/fetch-vocabs.sh
                os.path.join(c, "llama.cpp-0.3.36", "src", "vendor", "llama.cpp", "models")]
        cands = [os.path.join(d, VOCAB_FILES[vocab]) for d in dirs]
        hint = "run scripts/fetch-vocabs.sh"
    for p in cands:
        if os.path.isfile(p):
            return p
    raise FileNotFoundError("vocabulary %s not found (tried %s); %s" % (vocab, ", ".join(cands), hint))


def read_tokenizer_kv(path):
    """The tokenizer.* key/values of a GGUF, in file order: [(key, value, type, sub_type)]."""
    r = gguf.GGUFReader(path)
    out = []
    for f in r.fields.values():
        if not f.name.startswith("tokenizer."):
            continue
        vt = f.types[0]
        if vt == GVT.ARRAY:
            st = f.types[-1]
            if st == GVT.STRING:
                val = [bytes(f.parts[i]) for i in f.data]
            elif st in (GVT.UINT8, GVT.INT8):
                val = bytes(np.concatenate([f.parts[i] for i in f.data]).astype(np.uint8))
            else:
                val = np.concatenate([f.parts[i] for i in f.data]).tolist()
            out.append((f.name, val, vt, st))
        elif vt == GVT.STRING:
            out.append((f.name, bytes(f.parts[f.data[0]]), vt, None))
        else:
            out.append((f.name, f.parts[f.data[0]].tolist()[0], vt, None))
    return out


_VOCAB_CACHE = {}


def vocab_kv(cfg):
    src = find_vocab(cfg["vocab"])
    if src not in _VOCAB_CACHE:
        _VOCAB_CACHE[src] = read_tokenizer_kv(src)
    kv = list(_VOCAB_CACHE[src])
    over = dict(TOKENIZER_KEYS[cfg["tok"]])
    res = []
    for k, v, t, st in kv:
        if k in over:
            nv = over.pop(k)
            if nv is None:
                continue
            v, t, st = nv[0], nv[1], None
        res.append((k, v, t, st))
    res += [(k, v[0], v[1], None) for k, v in over.items() if v is not None]
    return src, res


# ----------------------------------------------------------------------------- weights
class Weights:
    def __init__(self, w, cfg):
        self.w, self.cfg = w, cfg
        self.rng = np.random.default_rng(cfg["seed"])

    def kind(self, kind):
        t = self.cfg["types"]
        return t if isinstance(t, str) else t.get(kind, t["default"])

    def uniform(self, shape, scale):
        return ((self.rng.random(shape, dtype=np.float64) * 2.0 - 1.0) * scale).astype(np.float32)

    def put(self, name, arr, tname):
        data, raw = _encode(arr, tname)
        self.w.add_tensor(name, data, raw_dtype=raw)

    def matrix(self, name, n_out, n_in, kind, scale=1.0):
        # variance scale^2 / n_in (uniform): keeps activations of order 1
        arr = self.uniform((n_out, n_in), scale * np.sqrt(3.0 / n_in))
        self.put(name, arr, self.kind(kind))
        return arr

    def experts(self, name, n_exp, n_out, n_in, kind):
        self.put(name, self.uniform((n_exp, n_out, n_in), np.sqrt(3.0 / n_in)), self.kind(kind))

    def vec(self, name, n, center, spread):
        self.put(name, (center + self.uniform((n,), spread)).astype(np.float32), "F32")

    def layernorm(self, prefix, n):
        self.vec(prefix + ".weight", n, 1.0, 0.2)
        self.vec(prefix + ".bias", n, 0.0, 0.05)

    def embd(self, name, n_rows, n_embd, kind, scale):
        arr = self.uniform((n_rows, n_embd), scale * np.sqrt(3.0))   # std = scale
        t = self.kind(kind) if kind else "F32"
        self.put(name, arr, t)
        return arr


def n_vocab(kv):
    return next(len(v) for k, v, t, st in kv if k == "tokenizer.ggml.tokens")


def token_type_count(kv):
    return next((v for k, v, t, st in kv if k == "tokenizer.ggml.token_type_count"), 0)


def bert_family(W, cfg, V, n_types):
    """bert / nomic-bert / nomic-bert-moe / jina-bert-v2 (src/models/bert.cpp graph)."""
    arch, E, L, F = cfg["arch"], cfg["n_embd"], cfg["n_layer"], cfg["n_ff"]
    moe = cfg.get("moe")
    W.embd("token_embd.weight", V, E, "token_embd", 1.0)
    if n_types:
        W.embd("token_types.weight", n_types, E, None, 0.1)
    if arch == "bert":
        W.embd("position_embd.weight", cfg["n_ctx"], E, None, 0.3)
    W.layernorm("token_embd_norm", E)
    biases = arch in ("bert", "jina-bert-v2", "nomic-bert-moe")
    # CLS pooling reads one position: sharper attention (q, k scaled) and a stronger attention
    # output make that row depend on the whole text, not mostly on the [CLS] embedding
    g_qk, g_o = cfg.get("attn_gain", (1.0, 1.0))
    for il in range(L):
        b = "blk.%d." % il
        if arch in ("nomic-bert", "nomic-bert-moe"):
            W.matrix(b + "attn_qkv.weight", 3 * E, E, "attn_qkv", scale=g_qk)
            if biases:
                W.vec(b + "attn_qkv.bias", 3 * E, 0.0, 0.1)
        else:
            for m in ("q", "k", "v"):
                W.matrix(b + "attn_%s.weight" % m, E, E, "attn_" + m, scale=1.0 if m == "v" else g_qk)
                W.vec(b + "attn_%s.bias" % m, E, 0.0, 0.1)
        if cfg.get("qk_norm"):
            W.layernorm(b + "attn_q_norm", E)
            W.layernorm(b + "attn_k_norm", E)
        W.matrix(b + "attn_output.weight", E, E, "attn_output", scale=g_o)
        if biases:
            W.vec(b + "attn_output.bias", E, 0.0, 0.1)
        W.layernorm(b + "attn_output_norm", E)
        if cfg.get("norm2"):
            W.layernorm(b + "attn_norm_2", E)
        if moe and il % moe[0] == 1:
            n_exp = moe[1]
            W.matrix(b + "ffn_gate_inp.weight", n_exp, E, "ffn_gate_inp", scale=2.0)
            W.experts(b + "ffn_up_exps.weight", n_exp, F, E, "ffn_up_exps")
            W.experts(b + "ffn_down_exps.weight", n_exp, E, F, "ffn_down_exps")
        elif arch == "nomic-bert":
            W.matrix(b + "ffn_up.weight", F, E, "ffn_up")
            W.matrix(b + "ffn_gate.weight", F, E, "ffn_gate")
            W.matrix(b + "ffn_down.weight", E, F, "ffn_down")
        else:
            n_up = 2 * F if cfg.get("geglu") == "fused" else F
            if cfg.get("geglu") == "split":
                W.matrix(b + "ffn_gate.weight", F, E, "ffn_gate")
            W.matrix(b + "ffn_up.weight", n_up, E, "ffn_up")
            W.vec(b + "ffn_up.bias", n_up, 0.0, 0.1)
            W.matrix(b + "ffn_down.weight", E, F, "ffn_down")
            W.vec(b + "ffn_down.bias", E, 0.0, 0.1)
        W.layernorm(b + "layer_output_norm", E)
    if cfg.get("cls_head"):
        W.matrix("cls.weight", E, E, "cls")
        W.vec("cls.bias", E, 0.0, 0.1)
        W.matrix("cls.output.weight", 1, E, "cls_out")
        W.vec("cls.output.bias", 1, 0.0, 0.1)


def decoder_family(W, cfg, V):
    """qwen3 (src/models/qwen3.cpp) and gemma3 (src/models/gemma3.cpp)."""
    arch, E, L, F = cfg["arch"], cfg["n_embd"], cfg["n_layer"], cfg["n_ff"]
    H, KV, D = cfg["n_head"], cfg["n_kv"], cfg["head_dim"]
    gemma = arch == "gemma3"
    # std 1/sqrt(n_embd): gemma3 scales the rows by sqrt(n_embd); for the qwen3 reranker the
    # "yes"/"no" rows give logits of order 1 (softmax not saturated). Norm weights are w (around
    # 1) for qwen3 and the stored 1 + w for gemma3, the same numbers here.
    tok = W.embd("token_embd.weight", V, E, "token_embd", 1.0 / np.sqrt(E))
    W.vec("output_norm.weight", E, 1.0, 0.2)
    for il in range(L):
        b = "blk.%d." % il
        W.vec(b + "attn_norm.weight", E, 1.0, 0.2)
        W.matrix(b + "attn_q.weight", H * D, E, "attn_q")
        W.matrix(b + "attn_k.weight", KV * D, E, "attn_k")
        W.matrix(b + "attn_v.weight", KV * D, E, "attn_v")
        W.matrix(b + "attn_output.weight", E, H * D, "attn_output")
        W.vec(b + "attn_q_norm.weight", D, 1.0, 0.2)
        W.vec(b + "attn_k_norm.weight", D, 1.0, 0.2)
        if gemma:
            W.vec(b + "post_attention_norm.weight", E, 1.0, 0.2)
        W.vec(b + "ffn_norm.weight", E, 1.0, 0.2)
        W.matrix(b + "ffn_gate.weight", F, E, "ffn_gate")
        W.matrix(b + "ffn_up.weight", F, E, "ffn_up")
        W.matrix(b + "ffn_down.weight", E, F, "ffn_down")
        if gemma:
            W.vec(b + "post_ffw_norm.weight", E, 1.0, 0.2)
    if cfg["pooling"] == 4:
        # the converter stacks the (tied) lm_head rows of "yes" and "no": read them back in
        # the precision token_embd was stored with
        rows = tok[[QWEN_YES, QWEN_NO]]
        tt = W.kind("token_embd")
        if tt == "F16":
            rows = rows.astype(np.float16).astype(np.float32)
        W.put("cls.output.weight", rows, tt)


# llama.cpp's add_bos/add_eos/add_sep when the keys are absent, per tokenizer model
_ADD_DEFAULTS = {"bert": (True, False, True), "t5": (False, True, False), "gpt2": (False, False, False),
                 "llama": (True, False, False)}


def rerank_format(kv):
    """How llama-embedding (examples/embedding/embedding.cpp) turns "query<TAB>document" into one
    prompt for this vocabulary: the rerank chat template with {query}/{document} replaced, or
    query + EOS text (if add_eos) + SEP text (if add_sep) + document; then tokenized with
    add_special and parse_special."""
    d = {k: v for k, v, t, st in kv}
    if "tokenizer.chat_template.rerank" in d:
        return {"template": d["tokenizer.chat_template.rerank"]}
    model = d["tokenizer.ggml.model"].decode()
    _, add_eos, add_sep = _ADD_DEFAULTS[model]
    add_eos = d.get("tokenizer.ggml.add_eos_token", add_eos)
    add_sep = d.get("tokenizer.ggml.add_sep_token", add_sep)
    toks = d["tokenizer.ggml.tokens"]
    join = b""
    if add_eos:
        join += toks[d["tokenizer.ggml.eos_token_id"]]
    if add_sep:
        join += toks[d["tokenizer.ggml.seperator_token_id"]]
    return {"join": join.decode("utf-8")}


def write_model(name, cfg, path):
    src, kv = vocab_kv(cfg)
    V, n_types = n_vocab(kv), token_type_count(kv)
    arch = cfg["arch"]
    w = gguf.GGUFWriter(path, arch)
    w.add_type("model")
    w.add_name("synth " + name)
    w.add_block_count(cfg["n_layer"])
    w.add_context_length(cfg["n_ctx"])
    w.add_embedding_length(cfg["n_embd"])
    w.add_feed_forward_length(cfg["n_ff"])
    w.add_head_count(cfg["n_head"])
    if "n_kv" in cfg:
        w.add_head_count_kv(cfg["n_kv"])
    if "rope_base" in cfg:
        w.add_rope_freq_base(cfg["rope_base"])
    if cfg.get("rope_base_swa"):
        w.add_rope_freq_base_swa(cfg["rope_base_swa"])
    if arch in ("qwen3", "gemma3"):
        w.add_layer_norm_rms_eps(cfg["eps"])
        w.add_key_length(cfg["head_dim"])
        w.add_value_length(cfg["head_dim"])
    else:
        w.add_layer_norm_eps(cfg["eps"])
        w.add_causal_attention(False)
    if cfg.get("moe"):
        w.add_moe_every_n_layers(cfg["moe"][0])
        w.add_expert_count(cfg["moe"][1])
        w.add_expert_used_count(cfg["moe"][2])
    if cfg.get("n_swa"):
        w.add_sliding_window(cfg["n_swa"])
        w.add_sliding_window_pattern(cfg["swa_pattern"])
    t = cfg["types"]
    ft = t if isinstance(t, str) else t["default"]
    w.add_file_type(FILE_TYPE[ft])
    w.add_pooling_type(gguf.PoolingType(cfg["pooling"]))
    if cfg.get("labels"):
        w.add_classifier_output_labels(cfg["labels"])
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    for k, v, vt, st in kv:
        w.add_key_value(k, v, vt, sub_type=st)

    W = Weights(w, cfg)
    if arch in ("qwen3", "gemma3"):
        decoder_family(W, cfg, V)
    else:
        bert_family(W, cfg, V, n_types)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return src, (rerank_format(kv) if cfg["pooling"] == 4 else None)


def main(argv):
    if argv[1:2] == ["--texts"]:
        json.dump({n: inputs_for(n) for n in VARIANTS}, sys.stdout, ensure_ascii=False)
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
        try:
            src, rr = write_model(n, VARIANTS[n], path)
        except FileNotFoundError as e:
            sys.stderr.write("%s: %s\n" % (n, e))
            return 3
        cfg = dict(VARIANTS[n], vocab_file=os.path.basename(src))
        if rr:
            cfg["rerank_format"] = rr
        manifest[n] = {"path": path, "config": cfg}
    json.dump({"numpy": np.__version__, "models": manifest}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
