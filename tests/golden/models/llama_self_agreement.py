#!/usr/bin/env python3
"""How far llama.cpp is from itself and from the file's exact function on a few texts.

For each text: llama-embedding with -fa on and -fa off (one text a run, as the goldens),
ggufembed, and ggufembed --f32-activations (the quantized file's exact function: widened
weights, f32 products). Prints the cosines between them (README, Weight types).

  python3 tests/golden/models/llama_self_agreement.py FILE.gguf 0,57 [--ggufembed build/bin/ggufembed]
      [--llama-bin ~/.cache/ggufembed/llama.cpp-0.3.36/bin]
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.dirname(HERE))
import golden  # noqa: E402
import st_llamacpp  # noqa: E402


def ggufembed(binary, model, text, extra):
    cmd = [binary, "embed", "-m", model, "--task", "none", "--keep-whitespace", "--threads", "1",
           "--format", "ndjson"] + extra + ["--", text]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, check=True).stdout.decode().strip().split("\n")[0]
    v = json.loads(out)
    return v["embedding"] if isinstance(v, dict) else v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("texts", help="comma-separated indices into tests/golden/corpus.jsonl")
    ap.add_argument("--ggufembed", default=os.path.join(ROOT, "build", "bin", "ggufembed"))
    ap.add_argument("--llama-bin", default=os.path.expanduser("~/.cache/ggufembed/llama.cpp-0.3.36/bin"))
    ap.add_argument("--ctx", type=int, default=2048)
    a = ap.parse_args()
    texts = [json.loads(l)["text"] for l in open(os.path.join(ROOT, "tests", "golden", "corpus.jsonl"))]
    golden.N_CTX = a.ctx
    cos = st_llamacpp.cos
    for i in (int(x) for x in a.texts.split(",")):
        g = ggufembed(a.ggufembed, a.model, texts[i], [])
        x = ggufembed(a.ggufembed, a.model, texts[i], ["--f32-activations"])
        golden.DIM = len(g)
        on = st_llamacpp.run_embedding(a.llama_bin, a.model, texts[i], "on", 1)
        off = st_llamacpp.run_embedding(a.llama_bin, a.model, texts[i], "off", 1)
        print("text %d: ggufembed~llama.cpp -fa on %.6f, -fa off %.6f; llama.cpp on~off %.6f | to exact: "
              "ggufembed %.6f, llama.cpp -fa on %.6f, -fa off %.6f"
              % (i, cos(g, on), cos(g, off), cos(on, off), cos(g, x), cos(on, x), cos(off, x)), flush=True)


if __name__ == "__main__":
    main()
