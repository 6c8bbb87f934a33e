#!/usr/bin/env python3
"""How close llama.cpp itself gets to sentence-transformers on the same GGUF file.

    st_llamacpp.py --bin DIR --model FILE --out FILE [--golden DIR] [--threads N] [--jobs N]

For every text of the sentence-transformers reference (st/sections.jsonl, section "full"):
llama.cpp's two readings of the file (default flash attention with fp16 K/V, and -fa off,
f32 attention) on the text as sentence-transformers tokenizes it (str.strip()), each
compared with sentence-transformers' vector. Texts that strip() leaves unchanged reuse the
llama.cpp goldens (embeddings.f32, embeddings-fa-off.f32) when --golden is given and the
model is the goldens' model; every other text is run here. Writes one JSON line per text:
{"id", "index", "on", "off"} (cosines). tests/test_reference.c uses it as the floor of
what an implementation with llama.cpp's arithmetic reaches (see there). Stdlib only.
"""
import argparse
import hashlib
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden  # noqa: E402


def st_full(st_dir):
    with open(os.path.join(st_dir, "sections.jsonl"), encoding="utf-8") as f:
        full = json.loads(f.readline())
    assert full["section"] == "full"
    raw = open(os.path.join(st_dir, "vectors.f16"), "rb").read()
    d = full["dim"]
    vecs = {}
    for k, i in enumerate(full["texts"]):
        o = (full["offset"] + k * d) * 2
        vecs[i] = struct.unpack_from("<%de" % d, raw, o)
    return vecs


def cos(a, b):
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def run_embedding(bin_dir, model, text, fa, threads):
    with tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False) as f:
        f.write(text.encode("utf-8"))
        path = f.name
    try:
        cmd = [os.path.join(bin_dir, "llama-embedding"), "-m", model, "-bf", path, "--no-escape",
               "--embd-separator", golden.SEP, "--embd-output-format", "raw", "--embd-normalize", "2",
               "-c", str(golden.N_CTX), "-b", str(golden.N_CTX), "-ub", str(golden.N_CTX),
               "-t", str(threads), "--no-warmup", "-fa", fa]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        lines = [l for l in p.stdout.split(b"\n") if l.strip()]
        if p.returncode != 0 or not lines or len(lines[-1].split()) != golden.DIM:
            raise RuntimeError("llama-embedding -fa %s failed: %s" % (fa, p.stderr[-1500:]))
        return [float(x) for x in lines[-1].split()]
    finally:
        os.unlink(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--golden", help="reuse this directory's llama.cpp vectors for unchanged texts")
    ap.add_argument("--st", default=os.path.join(golden.HERE, "st"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()
    corpus = golden.read_corpus(os.path.join(golden.HERE, "corpus.jsonl"))
    st = st_full(a.st)
    reuse = None
    if a.golden:
        meta = json.load(open(os.path.join(a.golden, "meta.json")))
        h = hashlib.sha256(open(a.model, "rb").read()).hexdigest()
        if meta["model"]["sha256"] == h:
            n = len(corpus)
            on = open(os.path.join(a.golden, "embeddings.f32"), "rb").read()
            off = open(os.path.join(a.golden, "embeddings-fa-off.f32"), "rb").read()
            reuse = {i: (struct.unpack_from("<768f", on, i * 3072), struct.unpack_from("<768f", off, i * 3072))
                     for i in range(n)}
        else:
            print("the goldens were made on another file: running every text", file=sys.stderr)
    todo = sorted(st)

    def work(i):
        text = corpus[i][1]
        s = text.strip()
        if reuse is not None and s == text:
            v_on, v_off = reuse[i]
        else:
            v_on = run_embedding(a.bin, a.model, s, "on", a.threads)
            v_off = run_embedding(a.bin, a.model, s, "off", a.threads)
        return {"id": corpus[i][0], "index": i, "on": round(cos(v_on, st[i]), 7), "off": round(cos(v_off, st[i]), 7)}

    with ThreadPoolExecutor(max_workers=a.jobs) as ex:
        rows = []
        for k, r in enumerate(ex.map(work, todo)):
            rows.append(r)
            if (k + 1) % 50 == 0:
                print("%d/%d" % (k + 1, len(todo)), file=sys.stderr, flush=True)
    with open(a.out, "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
    on = [r["on"] for r in rows]
    off = [r["off"] for r in rows]
    print("llama.cpp vs sentence-transformers, %d texts: flash attention min %.6f mean %.6f; -fa off min %.6f mean %.6f"
          % (len(rows), min(on), sum(on) / len(on), min(off), sum(off) / len(off)), file=sys.stderr)


if __name__ == "__main__":
    main()
