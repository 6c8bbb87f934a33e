#!/usr/bin/env python3
"""Write tests/synth/golden/<variant>.json with llama.cpp's own tools (stdlib only).

    generate.py --bin LLAMA_BIN_DIR [--out DIR] [--threads N]

Builds the synthetic models (make_models.py, via synthlib) into a temporary directory, then for
every variant and text:
  * llama-tokenize -m MODEL --file T --no-escape --ids --log-disable
      (BOS/EOS added per the metadata, special tokens parsed: the tool's defaults)
  * llama-embedding -m MODEL -bf T --no-escape --embd-separator SEP --embd-output-format raw
      --embd-normalize 2 --verbose-prompt -c 512 -b 512 -ub 512 -t N --no-warmup -lv 4
      (one text per run, read byte-exact; SEP never occurs so nothing is split; pooling comes
       from the model's pooling_type; the ids it printed must equal llama-tokenize's)
and records tokens, the L2-normalized embedding (llama.cpp prints 7 decimals) and the sha256 of
the model file. The models themselves are deleted; they are never committed.

llama-embedding b11312 sometimes exits before its asynchronous logger has written the result
(common/log.cpp leaks the logger on purpose, "logs may be lost"); a run is only accepted when
stderr ends with the perf summary, which the logger writes after the embedding, else retried.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synthlib  # noqa: E402

N_CTX = 512
SEP = "<<ggufembed:no-split:7d1f0c>>"
RETRIES = 8


def log(msg):
    print("[synth-generate] " + msg, file=sys.stderr, flush=True)


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    return p.returncode, p.stdout, p.stderr


def tokenize(bin_dir, model, path):
    rc, out, err = run([os.path.join(bin_dir, "llama-tokenize"), "-m", model, "--file", path,
                        "--no-escape", "--ids", "--log-disable"])
    if rc != 0:
        raise RuntimeError("llama-tokenize failed (rc=%d): %s" % (rc, err.decode("utf-8", "replace")[-2000:]))
    m = re.fullmatch(rb"\s*\[([0-9, ]*)\]\s*", out)
    if not m:
        raise RuntimeError("unexpected llama-tokenize output: %r" % out[:500])
    body = m.group(1).strip()
    return [int(x) for x in body.split(b",")] if body else []


def check_verbose_tokens(out, tokens):
    """llama-embedding --verbose-prompt prints '%6d -> '<piece>'\\n' per token, then the raw
    embedding line (same walk as tests/golden/golden.py). Returns the text after the tokens."""
    pos = 0
    for i, t in enumerate(tokens):
        head = b"%6d -> '" % t
        if not out.startswith(head, pos):
            raise RuntimeError("token %d: expected id %d at byte %d, got %r" % (i, t, pos, out[pos:pos + 40]))
        pos += len(head)
        if i + 1 < len(tokens):
            nxt = out.find(b"'\n" + (b"%6d -> '" % tokens[i + 1]), pos)
        else:
            nxt = out.find(b"'\n\n\n", pos)
        if nxt < 0:
            raise RuntimeError("token %d (id %d): cannot find the end of its piece" % (i, t))
        pos = nxt + 2
    rest = out[pos:]
    if re.search(rb"^ *\d+ -> '", rest, re.M):
        raise RuntimeError("llama-embedding fed more tokens than llama-tokenize produced")
    return rest


def embed(bin_dir, model, path, tokens, dim, threads):
    cmd = [os.path.join(bin_dir, "llama-embedding"), "-m", model, "-bf", path, "--no-escape",
           "--embd-separator", SEP, "--embd-output-format", "raw", "--embd-normalize", "2",
           "--verbose-prompt", "-c", str(N_CTX), "-b", str(N_CTX), "-ub", str(N_CTX),
           "-t", str(threads), "--no-warmup", "-lv", "4"]
    last = ""
    for attempt in range(RETRIES):
        rc, out, err = run(cmd)
        errs = err.decode("utf-8", "replace")
        if rc != 0:
            raise RuntimeError("llama-embedding failed (rc=%d): %s" % (rc, errs[-3000:]))
        if "llama_perf_context_print:    graphs reused" not in errs:
            last = "output lost (attempt %d)" % (attempt + 1)
            continue
        ntok = re.search(r"number of tokens in prompt = (\d+)", errs)
        if ntok is None or int(ntok.group(1)) != len(tokens):
            raise RuntimeError("token count: llama-embedding %s, llama-tokenize %d"
                               % (ntok and ntok.group(1), len(tokens)))
        rest = check_verbose_tokens(out, tokens)
        lines = [l for l in rest.split(b"\n") if l.strip()]
        if len(lines) != 1:
            raise RuntimeError("expected one embedding line, got %d" % len(lines))
        vals = [float(x) for x in lines[0].split()]
        if len(vals) != dim:
            raise RuntimeError("expected %d values, got %d" % (dim, len(vals)))
        return vals
    raise RuntimeError("llama-embedding: %s after %d attempts" % (last, RETRIES))


def version(bin_dir):
    rc, out, err = run([os.path.join(bin_dir, "llama-embedding"), "--version"])
    return (out + err).decode("utf-8", "replace").strip().splitlines()[0] if rc == 0 else "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="directory with llama-tokenize and llama-embedding")
    ap.add_argument("--out", default=synthlib.GOLDEN_DIR)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="ggufembed-synth-gen-")
    try:
        models, texts, info = synthlib.build_models(tmp, log)
        ver = version(a.bin)
        os.makedirs(a.out, exist_ok=True)
        for name, m in models.items():
            cfg = m["config"]
            dim = cfg["n_embd"]
            items = []
            for k, text in enumerate(texts[name]):
                p = os.path.join(tmp, "%s-%02d.txt" % (name, k))
                with open(p, "wb") as f:
                    f.write(text.encode("utf-8"))
                toks = tokenize(a.bin, m["path"], p)
                if len(toks) >= cfg["n_ctx"] or len(toks) > N_CTX:
                    raise SystemExit("%s text %d: %d tokens, context %d" % (name, k, len(toks), cfg["n_ctx"]))
                emb = embed(a.bin, m["path"], p, toks, dim, a.threads)
                items.append({"text": text, "tokens": toks, "embedding": emb})
            rec = {
                "variant": name,
                "model": {"sha256": m["sha256"], "bytes": m["bytes"], "config": cfg,
                          "made_with": {"numpy": info["numpy"], "gguf_py": info["gguf_py_label"]}},
                "reference": {"tool": "llama-tokenize / llama-embedding --embd-normalize 2 (one text per run)",
                              "version": ver},
                "items": items,
            }
            path = os.path.join(a.out, name + ".json")
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                # one item per line keeps diffs readable
                head = {k: v for k, v in rec.items() if k != "items"}
                s = json.dumps(head, ensure_ascii=False, sort_keys=True)
                f.write(s[:-1] + ',\n "items": [\n')
                f.write(",\n".join("  " + json.dumps(it, ensure_ascii=False, separators=(",", ":")) for it in items))
                f.write("\n ]}\n")
            json.load(open(path, encoding="utf-8"))  # must parse back
            ntok = sum(len(it["tokens"]) for it in items)
            log("%s: %d texts, %d tokens, sha256 %s -> %s" % (name, len(items), ntok, m["sha256"][:16], path))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except synthlib.SetupError as e:
        log("ERROR: %s" % e)
        sys.exit(1)
