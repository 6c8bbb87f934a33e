#!/usr/bin/env python3
"""The same llama.cpp reference with flash attention OFF, for every corpus text.

    fa_off.py --bin DIR --model FILE [--out DIR] [--threads N]

llama.cpp's default (flash attention auto -> on, K/V and the attention sum in fp16)
and its f32 attention (-fa off) are two readings of the same model by the same
tool. On a few texts they differ by more than the agreement tests' tolerance:
there the reference itself is uncertain. Writes embeddings-fa-off.f32 (N x 768,
L2-normalized, corpus order); tests/test_golden.c uses it to tell such texts
apart (see README). Stdlib only; reuses golden.py's helpers.
"""
import argparse
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", default=golden.HERE)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()
    items = golden.read_corpus(os.path.join(a.out, "corpus.jsonl"))
    vecs = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (tid, text) in enumerate(items):
            path = os.path.join(tmp, "t.txt")
            with open(path, "wb") as f:
                f.write(text.encode("utf-8"))
            cmd = [os.path.join(a.bin, "llama-embedding"), "-m", a.model, "-bf", path, "--no-escape",
                   "--embd-separator", golden.SEP, "--embd-output-format", "raw", "--embd-normalize", "2",
                   "-c", str(golden.N_CTX), "-b", str(golden.N_CTX), "-ub", str(golden.N_CTX),
                   "-t", str(a.threads), "--no-warmup", "-fa", "off"]
            for attempt in range(3):
                p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                lines = [l for l in p.stdout.split(b"\n") if l.strip()]
                if p.returncode == 0 and lines and len(lines[-1].split()) == golden.DIM:
                    break
            else:
                raise SystemExit("llama-embedding -fa off failed on %s: %s" % (tid, p.stderr[-2000:]))
            vecs.append([float(x) for x in lines[-1].split()])
            if (k + 1) % 50 == 0:
                print("fa off: %d/%d" % (k + 1, len(items)), file=sys.stderr, flush=True)
    with open(os.path.join(a.out, "embeddings-fa-off.f32"), "wb") as f:
        for v in vecs:
            f.write(struct.pack("<%df" % golden.DIM, *v))
    print("wrote %d vectors" % len(vecs), file=sys.stderr)


if __name__ == "__main__":
    main()
