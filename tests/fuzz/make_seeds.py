#!/usr/bin/env python3
"""Deterministic seed corpus for the fuzz targets: tiny but complete GGUF models.

    make_seeds.py OUT_DIR      writes OUT_DIR/model/*.bin (every architecture x tokenizer
                               ggufembed supports, a few KB to ~60 KB each) and
                               OUT_DIR/tokenizer/*.bin (vocabulary-only files, one per
                               tokenizer variant and BPE pre-tokenizer), and the inputs of
                               fuzz_tokenize and fuzz_embed: OUT_DIR/{tokenize,embed}/*.bin

Python standard library only (no numpy, no gguf-py): the fuzzers must be seeded with inputs
that get past the GGUF reader, the vocabulary loader and the model loader, so mutations reach
the hyperparameter, tensor and forward-pass code. The real model's 6.5 MB of metadata made every
mutated input die in the parser. The tensor names and metadata follow tests/synth/families.py
and make_models.py (llama.cpp's layouts); the vocabularies are hand-written, tens to a few
hundred tokens, and the weights come from a fixed xorshift generator, so the same script gives
the same bytes (the files are committed under tests/fuzz/seeds/).
"""
import os
import struct
import sys

# ----------------------------------------------------------------------------- GGUF writer
T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR, T_U64, T_I64, T_F64 = range(13)
# ggml type id, block size (values), bytes per block
GGML = {"F32": (0, 1, 4), "F16": (1, 1, 2), "Q4_0": (2, 32, 18), "Q4_1": (3, 32, 20), "Q5_0": (6, 32, 22),
        "Q5_1": (7, 32, 24), "Q8_0": (8, 32, 34), "Q2_K": (10, 256, 84), "Q3_K": (11, 256, 110),
        "Q4_K": (12, 256, 144), "Q5_K": (13, 256, 176), "Q6_K": (14, 256, 210), "IQ4_NL": (20, 32, 18),
        "IQ4_XS": (23, 256, 136), "BF16": (30, 1, 2)}


class Rng:
    """xorshift64: the same stream on every Python (no dependence on random's algorithm)."""

    def __init__(self, seed):
        self.s = (seed * 0x9E3779B97F4A7C15 + 1) & 0xFFFFFFFFFFFFFFFF

    def u64(self):
        s = self.s
        s ^= (s << 13) & 0xFFFFFFFFFFFFFFFF
        s ^= s >> 7
        s ^= (s << 17) & 0xFFFFFFFFFFFFFFFF
        self.s = s
        return s

    def uniform(self, scale):
        return ((self.u64() >> 11) / float(1 << 53) * 2.0 - 1.0) * scale

    def bytes(self, n):
        return bytes(self.u64() & 0xFF for _ in range(n))


def f16(x):
    return struct.pack("<e", x)


def bf16(x):
    return struct.pack("<I", struct.unpack("<I", struct.pack("<f", x))[0] >> 16)[:2]


def gstr(s):
    b = s.encode("utf-8") if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


class Gguf:
    def __init__(self, arch):
        self.kv = []
        self.tensors = []  # (name, shape (ggml order), type, bytes)
        self.arch = arch
        if arch:
            self.s("general.architecture", arch)

    # metadata
    def add(self, key, typ, payload):
        self.kv.append(gstr(key) + struct.pack("<I", typ) + payload)

    def s(self, k, v): self.add(k, T_STR, gstr(v))
    def u32(self, k, v): self.add(k, T_U32, struct.pack("<I", v))
    def i32(self, k, v): self.add(k, T_I32, struct.pack("<i", v))
    def f32(self, k, v): self.add(k, T_F32, struct.pack("<f", v))
    def b(self, k, v): self.add(k, T_BOOL, struct.pack("<B", 1 if v else 0))

    def arr(self, k, sub, items):
        if sub == T_STR:
            body = b"".join(gstr(x) for x in items)
        else:
            fmt = {T_F32: "<f", T_I32: "<i", T_U8: "<B", T_BOOL: "<B", T_U32: "<I"}[sub]
            body = b"".join(struct.pack(fmt, x) for x in items)
        self.add(k, T_ARR, struct.pack("<IQ", sub, len(items)) + body)

    def hp(self, suffix, typ, v):
        {"u32": self.u32, "f32": self.f32, "b": self.b, "s": self.s}[typ]("%s.%s" % (self.arch, suffix), v)

    # tensors
    def tensor(self, name, shape, tname, rng, scale):
        """shape in ggml order (ne[0] = row length). Quantized blocks: a small f16 scale and
        random quants, so values stay of order `scale` and the forward pass stays finite."""
        tid, blk, bpb = GGML[tname]
        n = 1
        for d in shape:
            n *= d
        assert shape[0] % blk == 0, (name, shape, tname)
        if tname == "F32":
            data = b"".join(struct.pack("<f", rng.uniform(scale)) for _ in range(n))
        elif tname == "F16":
            data = b"".join(f16(rng.uniform(scale)) for _ in range(n))
        elif tname == "BF16":
            data = b"".join(bf16(rng.uniform(scale)) for _ in range(n))
        else:
            out = []
            for _ in range(n // blk):
                q = bytearray(rng.bytes(bpb))
                d = f16(scale / {32: 16.0, 256: 256.0}[blk])
                if tname in ("Q4_0", "Q5_0", "Q8_0", "IQ4_NL", "IQ4_XS"):
                    q[0:2] = d                       # d first
                    if tname == "Q8_0":
                        q[2:] = bytes((x % 17 + 256 - 8) & 0xFF for x in q[2:])  # int8 in [-8, 8]
                elif tname in ("Q4_1", "Q5_1", "Q4_K", "Q5_K"):
                    q[0:2] = d
                    q[2:4] = f16(-scale / 64.0)      # min / dmin
                elif tname in ("Q2_K", "Q6_K", "Q3_K"):
                    q[bpb - 2:bpb] = d               # d last (Q2_K: d, dmin last)
                    if tname == "Q2_K":
                        q[bpb - 4:bpb - 2] = d
                out.append(bytes(q))
            data = b"".join(out)
        self.tensors.append((name, shape, tid, data))

    def bytes(self):
        align = 32
        head = [b"GGUF", struct.pack("<IQQ", 3, len(self.tensors), len(self.kv))] + self.kv
        off = 0
        for name, shape, tid, data in self.tensors:
            head.append(gstr(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", d) for d in shape)
                        + struct.pack("<IQ", tid, off))
            off += (len(data) + align - 1) // align * align
        out = b"".join(head)
        out += b"\0" * (-len(out) % align)
        for _, _, _, data in self.tensors:
            out += data + b"\0" * (-len(data) % align)
        return out


# ----------------------------------------------------------------------------- vocabularies
NORMAL, UNKNOWN, CONTROL, USER, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "query", "search", "document",
         "passage", "task", "result", "title", "text", "none", "is", "a", "of", "and", "in", "to", "what",
         "yes", "no", "Instruct", "Query", "Document", "def", "return", "12", "2024"]
UNI = ["é", "ü", "ß", "日", "本", "語", "中", "文", "ж", "я", "α", "😀", "ñ", "ç", "한", "국"]


def spm_vocab():
    """SentencePiece (Gemma layout): pad/eos/bos/unk, user-defined turn markers, all 256 byte
    tokens, then pieces with decreasing scores (▁ marks a word start)."""
    toks = [("<pad>", CONTROL), ("<eos>", CONTROL), ("<bos>", CONTROL), ("<unk>", UNKNOWN), ("<mask>", CONTROL),
            ("<start_of_turn>", USER), ("<end_of_turn>", USER), ("[@BOS@]", UNUSED), ("<unused0>", UNUSED)]
    toks += [("<0x%02X>" % i, BYTE) for i in range(256)]
    pieces = ["▁", "\n", "▁▁", "\t"] + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    pieces += [chr(c) for c in range(ord("A"), ord("Z") + 1)] + list("0123456789.,:;!?|-'\"()") + UNI
    pieces += ["▁" + w for w in WORDS] + ["th", "he", "in", "er", "an", "re", "on", "at", "▁t", "▁a", "▁s",
                                          "ing", "ed", "▁th", "▁the▁"]
    toks += [(p, NORMAL) for p in pieces]
    scores = [0.0] * len(toks)
    for i, (p, t) in enumerate(toks):
        if t == NORMAL:
            scores[i] = -float(i) / 10.0 + (0.5 * len(p))
    return toks, scores


def wpm_vocab():
    toks = [("[PAD]", CONTROL), ("[unused0]", CONTROL), ("[UNK]", CONTROL), ("[CLS]", CONTROL), ("[SEP]", CONTROL),
            ("[MASK]", CONTROL)]
    pieces = list("!\"#$%&'()*+,-./0123456789:;<=>?@[\\]^_`{|}~") + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    pieces += ["##" + chr(c) for c in range(ord("a"), ord("z") + 1)] + [w.lower() for w in WORDS]
    pieces += ["##s", "##ing", "##ed", "##er", "##ly", "un", "##able", "search_query", "_"] + UNI
    pieces += ["##" + u for u in UNI[:6]]
    toks += [(p, NORMAL) for p in pieces]
    return toks, [0.0] * len(toks)


def ugm_vocab():
    """Unigram (XLM-R layout: <s> <pad> </s> <unk>), scores are log probabilities."""
    toks = [("<s>", CONTROL), ("<pad>", CONTROL), ("</s>", CONTROL), ("<unk>", UNKNOWN)]
    pieces = ["▁", ",", ".", "s", "▁a", "e", "t", "i", "o", "n"] + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    pieces += ["▁" + w for w in WORDS] + [w for w in WORDS[:10]] + UNI + ["▁" + u for u in UNI[:6]]
    pieces += ["ing", "ed", "er", "▁the", "▁of▁"] + list("0123456789:-|")
    toks += [(p, NORMAL) for p in pieces] + [("<mask>", CONTROL), ("<user>", USER)]
    scores = [0.0] * len(toks)
    for i, (p, t) in enumerate(toks):
        if t in (NORMAL, USER):
            scores[i] = -2.0 - i * 0.05 + 0.3 * len(p)
    return toks, scores


def ugm_charsmap():
    """A valid precompiled_charsmap: u32 XCDA size, the XCDA, NUL-terminated replacements.
    Root BASE 0: the child for byte c is unit c; maps A-Z to a-z, tab to a space and
    '|' to ' | '; its value unit (256 + c) holds the replacement's offset (bit 31 set
    so it never passes as a child)."""
    maps = {chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)}
    maps["\t"] = " "
    maps["|"] = " | "
    units = [0] * 512
    repl = b""
    for ch, to in sorted(maps.items()):
        c = ord(ch)
        units[c] = (256 << 10) | (1 << 8) | c   # BASE 256 (c ^ 256 = 256 + c), LEAF, LCHECK c
        units[256 + c] = (1 << 31) | len(repl)
        repl += to.encode() + b"\0"
    xcda = b"".join(struct.pack("<I", u) for u in units)
    return list(struct.pack("<I", len(xcda)) + xcda + repl)


def byte_chars():
    """GPT-2's byte -> printable code point map (bytes_to_unicode)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def bpe_vocab():
    """Byte-level BPE: the 256 byte symbols, merges building a few words (each merge's result
    is a token), specials last (Qwen's <|endoftext|>, <|im_start|>, <|im_end|>)."""
    bc = byte_chars()
    toks = [bc[b] for b in range(256)]
    have = set(toks)
    merges = []

    def build(word):  # left-to-right merges for a word (bytes mapped)
        w = "".join(bc[b] for b in word.encode())
        cur = w[0]
        for ch in w[1:]:
            m = cur + " " + ch
            if cur + ch not in have:
                merges.append(m)
                toks.append(cur + ch)
                have.add(cur + ch)
            cur = cur + ch

    for w in ["the", " the", " quick", " fox", "er", " a", "in", "ing", " yes", " no", "yes", "no", "Query",
              ":", " document", "12", "\n\n", "  ", "日本", " é"]:
        build(w)
    toks = [(t, NORMAL) for t in toks]
    toks += [("<|endoftext|>", CONTROL), ("<|im_start|>", CONTROL), ("<|im_end|>", CONTROL), ("<think>", USER),
             ("</think>", USER)]
    return toks, merges


def add_vocab(g, kind, **kw):
    """tokenizer.* metadata for one of the four tokenizer models; kw overrides flags."""
    if kind == "spm":
        toks, scores = spm_vocab()
        g.s("tokenizer.ggml.model", "llama")
        g.s("tokenizer.ggml.pre", "default")
        ids = dict(bos=2, eos=1, unk=3, pad=0, mask=4)
        flags = dict(add_bos=True, add_eos=True, add_sep=False, add_space_prefix=False)
    elif kind == "wpm":
        toks, scores = wpm_vocab()
        g.s("tokenizer.ggml.model", "bert")
        ids = dict(unk=2, sep=4, pad=0, cls=3, mask=5, bos=3, eos=4)
        flags = dict(add_bos=True, add_eos=True, add_sep=False)
    elif kind == "ugm":
        toks, scores = ugm_vocab()
        g.s("tokenizer.ggml.model", "t5")
        ids = dict(bos=0, eos=2, unk=3, pad=1, sep=2, cls=0, mask=len(toks) - 2)
        flags = dict(add_bos=True, add_eos=True, add_space_prefix=True, remove_extra_whitespaces=True)
        if kw.pop("charsmap", True):
            g.arr("tokenizer.ggml.precompiled_charsmap", T_U8, ugm_charsmap())
    else:  # bpe
        toks, merges = bpe_vocab()
        scores = None
        g.s("tokenizer.ggml.model", "gpt2")
        pre = kw.pop("pre", "qwen2")
        if pre != "none":  # "none": no tokenizer.ggml.pre key at all
            g.s("tokenizer.ggml.pre", pre)
        g.arr("tokenizer.ggml.merges", T_STR, merges)
        eot = len(toks) - 3
        ids = dict(bos=len(toks) - 5, eos=len(toks) - 5, pad=len(toks) - 5, eot=eot)
        flags = dict(add_bos=False, add_eos=True)
    for k, v in kw.items():
        if k in ids or k == "eot":
            ids[k] = v
        else:
            flags[k] = v
    g.arr("tokenizer.ggml.tokens", T_STR, [t for t, _ in toks])
    if scores is not None:
        g.arr("tokenizer.ggml.scores", T_F32, scores)
    g.arr("tokenizer.ggml.token_type", T_I32, [t for _, t in toks])
    if kind == "wpm":
        g.u32("tokenizer.ggml.token_type_count", 2)
    names = dict(bos="bos", eos="eos", unk="unknown", sep="seperator", pad="padding", cls="cls", mask="mask",
                 eot="eot")
    for k, v in ids.items():
        if v is not None:
            g.u32("tokenizer.ggml.%s_token_id" % names[k], v)
    for k, v in flags.items():
        if k in ("lowercase", "strip_accents"):
            g.b("tokenizer.ggml.normalizer." + k, v)
        else:
            g.b("tokenizer.ggml.%s_token" % k if k.startswith("add_") and k != "add_space_prefix" else
                "tokenizer.ggml." + k, v)
    return len(toks)


# ----------------------------------------------------------------------------- families
def common_hp(g, name, c):
    g.s("general.type", "model")
    g.s("general.name", name)
    g.hp("block_count", "u32", c["L"])
    g.hp("context_length", "u32", c["ctx"])
    g.hp("embedding_length", "u32", c["E"])
    g.hp("feed_forward_length", "u32", c["F"])
    g.hp("attention.head_count", "u32", c["H"])
    g.hp("pooling_type", "u32", c["pool"])


def ty(c, kind, il=0):
    """the type of a matrix: c["types"] maps kind (or kind@layer) -> type, default c["mat"]"""
    t = c.get("types", {})
    return t.get("%s@%d" % (kind, il), t.get(kind, c.get("mat", "F32")))


def vec(g, rng, name, n, center=0.0, spread=0.1, t="F32"):
    g.tensor(name, [n], t, rng, spread)
    if center:  # shift: rewrite the floats (vectors are F32 unless a test asks otherwise)
        nm, shape, tid, data = g.tensors.pop()
        if t == "F32":
            vals = struct.unpack("<%df" % n, data)
            data = struct.pack("<%df" % n, *[center + v for v in vals])
        g.tensors.append((nm, shape, tid, data))


def mat(g, rng, name, n_in, n_out, t, scale=1.0):
    g.tensor(name, [n_in, n_out], t, rng, scale * (3.0 / n_in) ** 0.5)


def decoder(g, rng, c, V):
    """gemma-embedding / gemma3 / qwen3 (make_models.py, families.py decoder_family)"""
    E, F, H, KV, D, L = c["E"], c["F"], c["H"], c["KV"], c["D"], c["L"]
    gemma = c["arch"] != "qwen3"
    g.hp("attention.head_count_kv", "u32", KV)
    g.hp("attention.key_length", "u32", D)
    g.hp("attention.value_length", "u32", D)
    g.hp("attention.layer_norm_rms_epsilon", "f32", 1e-6)
    g.hp("rope.freq_base", "f32", 10000.0)
    if "swa" in c:
        g.hp("attention.sliding_window", "u32", c["swa"])
        g.hp("rope.freq_base_swa", "f32", 10000.0)
    if "swa_pattern" in c:
        if isinstance(c["swa_pattern"], list):
            g.arr("%s.attention.sliding_window_pattern" % c["arch"], T_BOOL, c["swa_pattern"])
        else:
            g.hp("attention.sliding_window_pattern", "u32", c["swa_pattern"])
    g.tensor("token_embd.weight", [E, V], ty(c, "token_embd"), rng, 1.0 / E ** 0.5)
    vec(g, rng, "output_norm.weight", E, 1.0, 0.2)
    for il in range(L):
        b = "blk.%d." % il
        vec(g, rng, b + "attn_norm.weight", E, 1.0, 0.2)
        mat(g, rng, b + "attn_q.weight", E, H * D, ty(c, "attn", il))
        mat(g, rng, b + "attn_k.weight", E, KV * D, ty(c, "attn", il))
        mat(g, rng, b + "attn_v.weight", E, KV * D, ty(c, "attn", il))
        mat(g, rng, b + "attn_output.weight", H * D, E, ty(c, "attn_output", il))
        vec(g, rng, b + "attn_q_norm.weight", D, 1.0, 0.2)
        vec(g, rng, b + "attn_k_norm.weight", D, 1.0, 0.2)
        if gemma:
            vec(g, rng, b + "post_attention_norm.weight", E, 1.0, 0.2)
        vec(g, rng, b + "ffn_norm.weight", E, 1.0, 0.2)
        mat(g, rng, b + "ffn_gate.weight", E, F, ty(c, "ffn", il))
        mat(g, rng, b + "ffn_up.weight", E, F, ty(c, "ffn", il))
        mat(g, rng, b + "ffn_down.weight", F, E, ty(c, "ffn_down", il))
        if gemma:
            vec(g, rng, b + "post_ffw_norm.weight", E, 1.0, 0.2)
    if "dense" in c:  # sentence-transformers projections E -> N -> E
        N = c["dense"]
        mat(g, rng, "dense_2.weight", E, N, ty(c, "dense"))
        mat(g, rng, "dense_3.weight", N, E, ty(c, "dense"))
    if c["pool"] == 4:  # Qwen3-Reranker: yes/no rows
        g.arr("%s.classifier.output_labels" % c["arch"], T_STR, ["yes", "no"])
        mat(g, rng, "cls.output.weight", E, 2, "F32")


def bert_like(g, rng, c, V):
    """bert / nomic-bert / nomic-bert-moe / jina-bert-v2 (families.py bert_family)"""
    arch, E, F, L = c["arch"], c["E"], c["F"], c["L"]
    g.hp("attention.layer_norm_epsilon", "f32", 1e-12)
    g.hp("attention.causal", "b", False)
    if arch.startswith("nomic"):
        g.hp("rope.freq_base", "f32", 1000.0)
    moe = c.get("moe")
    if moe:
        g.hp("moe_every_n_layers", "u32", moe[0])
        g.hp("expert_count", "u32", moe[1])
        g.hp("expert_used_count", "u32", moe[2])
    g.tensor("token_embd.weight", [E, V], ty(c, "token_embd"), rng, 1.0)
    if c.get("types_embd", True):
        g.tensor("token_types.weight", [E, 2], "F32", rng, 0.1)
    if arch == "bert":
        g.tensor("position_embd.weight", [E, c["ctx"]], "F32", rng, 0.3)
    vec(g, rng, "token_embd_norm.weight", E, 1.0, 0.2)
    vec(g, rng, "token_embd_norm.bias", E)
    biases = arch in ("bert", "jina-bert-v2", "nomic-bert-moe")
    for il in range(L):
        b = "blk.%d." % il
        if arch.startswith("nomic"):
            mat(g, rng, b + "attn_qkv.weight", E, 3 * E, ty(c, "attn", il))
            if biases:
                vec(g, rng, b + "attn_qkv.bias", 3 * E)
        else:
            for m in "qkv":
                mat(g, rng, b + "attn_%s.weight" % m, E, E, ty(c, "attn", il))
                vec(g, rng, b + "attn_%s.bias" % m, E)
        if c.get("qk_norm"):
            for m in "qk":
                vec(g, rng, b + "attn_%s_norm.weight" % m, E, 1.0, 0.2)
                vec(g, rng, b + "attn_%s_norm.bias" % m, E)
        mat(g, rng, b + "attn_output.weight", E, E, ty(c, "attn_output", il))
        if biases:
            vec(g, rng, b + "attn_output.bias", E)
        vec(g, rng, b + "attn_output_norm.weight", E, 1.0, 0.2)
        vec(g, rng, b + "attn_output_norm.bias", E)
        if c.get("norm2"):
            vec(g, rng, b + "attn_norm_2.weight", E, 1.0, 0.2)
            vec(g, rng, b + "attn_norm_2.bias", E)
        if moe and il % moe[0] == 1:
            mat(g, rng, b + "ffn_gate_inp.weight", E, moe[1], "F32", 2.0)
            g.tensor(b + "ffn_up_exps.weight", [E, F, moe[1]], ty(c, "ffn", il), rng, (3.0 / E) ** 0.5)
            g.tensor(b + "ffn_down_exps.weight", [F, E, moe[1]], ty(c, "ffn_down", il), rng, (3.0 / F) ** 0.5)
        elif arch == "nomic-bert":
            mat(g, rng, b + "ffn_up.weight", E, F, ty(c, "ffn", il))
            mat(g, rng, b + "ffn_gate.weight", E, F, ty(c, "ffn", il))
            mat(g, rng, b + "ffn_down.weight", F, E, ty(c, "ffn_down", il))
        else:
            n_up = 2 * F if c.get("geglu") == "fused" else F
            if c.get("geglu") == "split":
                mat(g, rng, b + "ffn_gate.weight", E, F, ty(c, "ffn", il))
            mat(g, rng, b + "ffn_up.weight", E, n_up, ty(c, "ffn", il))
            vec(g, rng, b + "ffn_up.bias", n_up)
            mat(g, rng, b + "ffn_down.weight", F, E, ty(c, "ffn_down", il))
            vec(g, rng, b + "ffn_down.bias", E)
        vec(g, rng, b + "layer_output_norm.weight", E, 1.0, 0.2)
        vec(g, rng, b + "layer_output_norm.bias", E)
    if c["pool"] == 4:  # bge-reranker head: cls (E x E, tanh) + cls.output (1 x E)
        g.arr("%s.classifier.output_labels" % arch, T_STR, ["LABEL_0"])
        mat(g, rng, "cls.weight", E, E, "F32")
        vec(g, rng, "cls.bias", E)
        mat(g, rng, "cls.output.weight", E, 1, "F32")
        vec(g, rng, "cls.output.bias", 1)


# name: (architecture, tokenizer, general.name, config, tokenizer overrides)
# E/F are multiples of 32 (the decoders need it); F = 256 where a ffn_down carries a K-quant.
MODELS = {
    "gemma_embedding_spm": ("gemma-embedding", "spm", "embeddinggemma-300m",
                            dict(E=32, F=64, H=2, KV=1, D=32, L=2, ctx=64, swa=8, swa_pattern=2, pool=1,
                                 mat="Q8_0", dense=64, types=dict(token_embd="F16", dense="Q8_0")), {}),
    "gemma_embedding_kquant": ("gemma-embedding", "spm", "synth kquant",
                               dict(E=32, F=256, H=2, KV=2, D=16, L=3, ctx=48, swa=4, swa_pattern=[True, True, False],
                                    pool=1, mat="Q4_0", types=dict(token_embd="Q8_0", ffn="Q5_1", **{
                                        "ffn_down@0": "Q4_K", "ffn_down@1": "Q6_K", "ffn_down@2": "Q2_K",
                                        "attn@1": "IQ4_NL", "attn@2": "Q5_0", "attn_output@2": "Q4_1"})), {}),
    "gemma3_spm": ("gemma3", "spm", "gemma-3-270m",
                   dict(E=32, F=64, H=2, KV=1, D=32, L=2, ctx=64, swa=4, swa_pattern=2, pool=1, mat="BF16",
                        types=dict(token_embd="Q8_0")), dict(add_eos=False)),
    "bert_wpm_mean": ("bert", "wpm", "bge-small-en-v1.5",
                      dict(E=32, F=64, H=2, L=2, ctx=48, pool=1, mat="F16", types=dict(token_embd="Q8_0")), {}),
    "bert_wpm_cls_f16": ("bert", "wpm", "multilingual-e5-small",
                         dict(E=32, F=64, H=4, L=1, ctx=64, pool=2, mat="F16", types=dict(token_embd="F16")),
                         dict(lowercase=True, strip_accents=True, add_eos=False, add_sep=True)),
    "bert_ugm_cls": ("bert", "ugm", "bge-m3",
                     dict(E=32, F=64, H=2, L=1, ctx=64, pool=2, mat="F32", types=dict(token_embd="F16")), {}),
    "bert_kquant": ("bert", "wpm", "all-MiniLM-L6-v2",
                    dict(E=32, F=256, H=2, L=2, ctx=64, pool=1, mat="Q5_0", types={
                        "ffn_down@0": "Q3_K", "ffn_down@1": "Q5_K", "ffn": "Q4_1", "token_embd": "Q8_0"}), {}),
    "nomic_bert_wpm": ("nomic-bert", "wpm", "nomic-embed-text-v1.5",
                       dict(E=32, F=64, H=2, L=2, ctx=64, pool=1, mat="Q8_0", types=dict(token_embd="F16")), {}),
    "nomic_moe_ugm": ("nomic-bert-moe", "ugm", "nomic-embed-text-v2-moe",
                      dict(E=32, F=64, H=2, L=2, ctx=64, pool=1, mat="F32", moe=(2, 4, 2), types_embd=False,
                           types=dict(token_embd="F16", ffn="F16", ffn_down="F16")), dict(charsmap=False)),
    "jina_v2_fused": ("jina-bert-v2", "wpm", "jina-embeddings-v2-small-en",
                      dict(E=32, F=64, H=4, L=1, ctx=64, pool=1, mat="F16", geglu="fused"), {}),
    "jina_v2_qknorm": ("jina-bert-v2", "wpm", "jina-embeddings-v2-base-code",
                       dict(E=32, F=64, H=2, L=2, ctx=64, pool=1, mat="F16", geglu="split", qk_norm=True,
                            norm2=True), {}),
    "qwen3_bpe_last": ("qwen3", "bpe", "Qwen3-Embedding-0.6B",
                       dict(E=32, F=256, H=2, KV=1, D=32, L=2, ctx=64, pool=3, mat="F16", types={
                           "ffn_down@0": "IQ4_XS", "ffn_down@1": "Q4_K", "ffn": "Q8_0", "token_embd": "F16"}), {}),
    "rerank_bert_ugm": ("bert", "ugm", "bge-reranker-v2-m3",
                        dict(E=32, F=64, H=2, L=1, ctx=48, pool=4, mat="F16", types=dict(token_embd="F16")), dict(add_sep=True)),
    "rerank_qwen3_bpe": ("qwen3", "bpe", "Qwen3-Reranker-0.6B",
                         dict(E=32, F=64, H=2, KV=2, D=16, L=1, ctx=128, pool=4, mat="F32", types=dict(token_embd="F16")),
                         dict(add_eos=False, eos=None)),
}

QWEN3_RERANK_TEMPLATE = ("<|im_start|>system\nJudge: \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n"
                         "<Query>: {query}\n<Document>: {document}<|im_end|>\n<|im_start|>assistant\n<think>\n\n"
                         "</think>\n\n")

# vocabulary-only files for fuzz_tokenize: every tokenizer, its flags, and the BPE pre-tokenizers
# with their own splitting code (tok_bpe_pre.c's chains)
VOCABS = {
    "spm_default": ("spm", {}),
    "spm_space_prefix": ("spm", dict(add_space_prefix=True, remove_extra_whitespaces=True, add_eos=False)),
    "wpm_default": ("wpm", {}),
    "wpm_lowercase": ("wpm", dict(lowercase=True, strip_accents=True)),
    "ugm_charsmap": ("ugm", {}),
    "ugm_plain": ("ugm", dict(charsmap=False, add_space_prefix=False, remove_extra_whitespaces=False)),
}
for _pre in ["none", "default", "gpt-2", "llama-bpe", "qwen2", "qwen35", "falcon", "starcoder", "laguna",
             "chatglm-bpe", "glm4", "dbrx"]:  # one of each splitter chain and flag set of tok_bpe_pre.c
    VOCABS["bpe_" + _pre] = ("bpe", dict(pre=_pre))


def make_model(name):
    arch, tok, gname, c, over = MODELS[name]
    c = dict(c, arch=arch)
    g = Gguf(arch)
    common_hp(g, gname, c)
    over = dict(over)
    if name == "rerank_qwen3_bpe":
        g.s("tokenizer.chat_template.rerank", QWEN3_RERANK_TEMPLATE)
        over["eos"] = len(bpe_vocab()[0]) - 3  # <|im_end|>
    V = add_vocab(g, tok, **over)
    rng = Rng(sum(map(ord, name)))
    (decoder if arch in ("gemma-embedding", "gemma3", "qwen3") else bert_like)(g, rng, c, V)
    return g.bytes()


def make_vocab(name):
    tok, over = VOCABS[name]
    g = Gguf(None)
    g.s("general.architecture", "bert" if tok == "wpm" else "llama")
    g.s("general.name", "vocab " + name)
    add_vocab(g, tok, **dict(over))
    return g.bytes()


# inputs of fuzz_tokenize (vocabulary byte, flags byte, text) and fuzz_embed (fuzz_embed.c's
# layout); the vocabulary / model byte is the index in name order, as the targets load them
TOKENIZE_TEXTS = [b"Hello <bos> w\xc3\xb6rld\t\t  \xe6\x97\xa5\xe6\x9c\xac \xff\xfe <start_of_turn>user\n"
                  b"\xf0\x9f\x98\x80 <0x41>   end",
                  b"The quick brown fox jumps over the lazy dog. [CLS] <|im_end|> <s> 2024-12-01",
                  b"  \xe2\x80\x83caf\xc3\xa9 na\xc3\xafve \xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80 \r\n\r\n x"]


def tokenize_seed(i, j):
    return bytes([i, (j * 5) & 15]) + TOKENIZE_TEXTS[j % len(TOKENIZE_TEXTS)]


def embed_seed(i, j):
    """model i, variant j: 0 defaults (normalized, one text), 1 query task + Matryoshka
    + truncation, 2 a batch of 3 with a prefix and a progress callback, 3 document with a
    title, kept whitespace, an instruction, NUL-terminated texts; 4 a batch of 2 whose 7th
    allocation fails"""
    RS = b"\x1e"
    hdr = [bytes([i, 0, 1, 0, 0, 0]), bytes([i, 1, 1 | 2, 16, 0, 0]), bytes([i, 0, 1 | 2 | 16 | 64 | 128, 0, 0, 2]),
           bytes([i, 2, 1 | 4 | 8 | 32, 0, 4, 0]), bytes([i, 0, 1 | 2 | 64, 0, 0x40, (6 << 3) | 1])][j]
    texts = [b"the quick brown fox", b"  What is the capital of France?  ", b"A" * 300, b"\xe6\x97\xa5\xe6\x9c\xac \xff",
             b"fox " * 20]
    return hdr + RS.join([b"My title", b"search_query: ", b"Given a query", texts[j]] + texts[:3])


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    for sub, table, fn in (("model", MODELS, make_model), ("tokenizer", VOCABS, make_vocab)):
        d = os.path.join(argv[1], sub)
        os.makedirs(d, exist_ok=True)
        for name in table:
            with open(os.path.join(d, name + ".bin"), "wb") as f:  # .gguf is gitignored
                f.write(fn(name))
    for sub, count, nvar, fn in (("tokenize", len(VOCABS), 3, tokenize_seed), ("embed", len(MODELS), 5, embed_seed)):
        d = os.path.join(argv[1], sub)
        os.makedirs(d, exist_ok=True)
        for i in range(count):
            for j in range(nvar):
                with open(os.path.join(d, "%02d_%d.bin" % (i, j)), "wb") as f:
                    f.write(fn(i, j))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
