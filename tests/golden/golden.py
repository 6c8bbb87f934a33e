#!/usr/bin/env python3
"""Compute the golden tokens and embeddings with llama.cpp's own tools (stdlib only).

    golden.py generate --bin DIR --model FILE [--corpus F] [--out DIR] [--threads N] [--jobs N]
    golden.py check    [--out DIR]

generate: for every corpus text (in order)
  * llama-tokenize --file T --no-escape --ids --log-disable -m MODEL
      (special tokens added per the model metadata, special-token parsing on = the tool's default)
  * llama-embedding -bf T --no-escape --embd-separator SEP --embd-output-format raw
      --embd-normalize 2 --verbose-prompt -c 2048 -b 2048 -ub 2048 -t N --no-warmup -lv 4 -m MODEL
      (one text per run; -bf reads the file byte-exact, --no-escape keeps backslashes,
       SEP never occurs in the corpus so no text is split; pooling and flash attention are
       left at llama.cpp's defaults). The token ids llama-embedding printed with
       --verbose-prompt are checked against llama-tokenize's for EVERY text.
  and writes tokens.jsonl, embeddings.f32 (N x 768 little-endian float32), corpus.bin
  (per text: u32 LE byte length + UTF-8 bytes) and meta.json.
check: sanity checks of the written goldens.
Any failure raises (non-zero exit).
"""
import argparse
import datetime
import hashlib
import json
import math
import os
import re
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
DIM = 768
N_CTX = 2048
SEP = "<<ggufembed:no-split:7d1f0c>>"


def read_corpus(path):
    items = []
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.decode("utf-8")  # strict: corpus must be valid UTF-8
            if not line.strip():
                continue
            obj = json.loads(line)
            items.append((obj["id"], obj["text"]))
    ids = [i for i, _ in items]
    if len(set(ids)) != len(ids):
        raise SystemExit("duplicate ids in corpus")
    return items


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    return p.returncode, p.stdout, p.stderr


def tokenize(bin_dir, model, path):
    cmd = [os.path.join(bin_dir, "llama-tokenize"), "-m", model, "--file", path,
           "--no-escape", "--ids", "--log-disable"]
    rc, out, err = run(cmd)
    if rc != 0:
        raise RuntimeError("llama-tokenize failed (rc=%d): %s" % (rc, err.decode("utf-8", "replace")[-2000:]))
    m = re.fullmatch(rb"\s*\[([0-9, ]*)\]\s*", out)
    if not m:
        raise RuntimeError("unexpected llama-tokenize output: %r" % out[:500])
    body = m.group(1).strip()
    return [int(x) for x in body.split(b",")] if body else []


def embed(bin_dir, model, path, threads):
    cmd = [os.path.join(bin_dir, "llama-embedding"), "-m", model, "-bf", path, "--no-escape",
           "--embd-separator", SEP, "--embd-output-format", "raw", "--embd-normalize", "2",
           "--verbose-prompt", "-c", str(N_CTX), "-b", str(N_CTX), "-ub", str(N_CTX),
           "-t", str(threads), "--no-warmup", "-lv", "4"]
    rc, out, err = run(cmd)
    if rc != 0:
        raise RuntimeError("llama-embedding failed (rc=%d): %s" % (rc, err.decode("utf-8", "replace")[-3000:]))
    return out, err


def check_verbose_tokens(out, tokens):
    """llama-embedding --verbose-prompt prints '%6d -> '<piece>'\\n' per token, then the
    raw embedding line. Walk the expected ids in order; return the text after them."""
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
    # nothing else that looks like a token line may follow
    if re.search(rb"^ *\d+ -> '", rest, re.M):
        raise RuntimeError("llama-embedding fed more tokens than llama-tokenize produced")
    return rest


def parse_embedding(rest):
    lines = [l for l in rest.split(b"\n") if l.strip()]
    if len(lines) != 1:
        raise RuntimeError("expected exactly one embedding line, got %d" % len(lines))
    vals = [float(x) for x in lines[0].split()]
    if len(vals) != DIM:
        raise RuntimeError("expected %d values, got %d" % (DIM, len(vals)))
    return vals


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_source_note(model):
    """The 'kind:' line of scripts/fetch-model.sh's <model>.source file, if any."""
    try:
        with open(model + ".source", encoding="utf-8") as f:
            for line in f:
                if line.startswith("kind:"):
                    return line[5:].strip()
    except OSError:
        pass
    return None


def grep1(pattern, text):
    m = re.search(pattern, text, re.M)
    return m.group(1).strip() if m else None


def cmd_generate(a):
    t_start = time.time()
    corpus = read_corpus(a.corpus)
    n = len(corpus)
    for ident, text in corpus:
        if SEP in text:
            raise SystemExit("%s contains the separator" % ident)
    os.makedirs(a.out, exist_ok=True)
    model_sha = sha256_file(a.model)
    model_size = os.path.getsize(a.model)
    tmp = tempfile.mkdtemp(prefix="ggufembed-golden-")
    paths = []
    for k, (ident, text) in enumerate(corpus):
        p = os.path.join(tmp, "%04d.txt" % k)
        with open(p, "wb") as f:
            f.write(text.encode("utf-8"))
        paths.append(p)

    # ---- tokens (cheap: vocab-only load) ----
    t0 = time.time()
    if a.tokens:
        # ids from an earlier llama-tokenize run (same vocabulary): still checked below
        # against what llama-embedding itself prints for every text
        by_id = {}
        with open(a.tokens, encoding="utf-8") as f:
            for line in f:
                o = json.loads(line)
                by_id[o["id"]] = o["tokens"]
        all_tokens = [by_id[ident] for ident, _ in corpus]
    else:
        with ThreadPoolExecutor(max_workers=a.tok_jobs) as ex:
            all_tokens = list(ex.map(lambda p: tokenize(a.bin, a.model, p), paths))
    t_tok = time.time() - t0
    for (ident, _), toks in zip(corpus, all_tokens):
        if len(toks) > N_CTX:
            raise SystemExit("%s: %d tokens > %d" % (ident, len(toks), N_CTX))
    print("tokenized %d texts in %.1f s" % (n, t_tok), file=sys.stderr)

    # ---- embeddings (one llama-embedding run per text) ----
    embs = [None] * n
    info = {}
    lock = threading.Lock()
    done = [0]
    failures = []
    t0 = time.time()

    def work(k):
        ident, text = corpus[k]
        try:
            out, err = embed(a.bin, a.model, paths[k], a.threads)
            rest = check_verbose_tokens(out, all_tokens[k])
            errs = err.decode("utf-8", "replace")
            ntok = grep1(r"number of tokens in prompt = (\d+)", errs)
            if ntok is None or int(ntok) != len(all_tokens[k]):
                raise RuntimeError("token count mismatch: llama-embedding %s vs llama-tokenize %d"
                                   % (ntok, len(all_tokens[k])))
            if "last token in the prompt is not SEP or EOS" in errs:
                raise RuntimeError("llama-embedding warns: last token is not EOS")
            embs[k] = parse_embedding(rest)
            with lock:
                if not info:
                    info["stderr_sample"] = errs
                done[0] += 1
                if done[0] % 50 == 0 or done[0] == n:
                    print("embedded %d/%d (%.0f s)" % (done[0], n, time.time() - t0), file=sys.stderr)
        except Exception as e:  # collect, report all, then fail
            with lock:
                failures.append((ident, str(e)))

    with ThreadPoolExecutor(max_workers=a.jobs) as ex:
        list(ex.map(work, range(n)))
    t_emb = time.time() - t0
    if failures:
        for ident, msg in failures:
            print("FAILED %s: %s" % (ident, msg), file=sys.stderr)
        raise SystemExit("%d texts failed" % len(failures))

    if sha256_file(a.model) != model_sha:
        raise SystemExit("the model file changed while the goldens were computed; run again")

    # ---- write outputs ----
    with open(os.path.join(a.out, "tokens.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for (ident, _), toks in zip(corpus, all_tokens):
            f.write(json.dumps({"id": ident, "tokens": toks}, separators=(",", ":")) + "\n")
    with open(os.path.join(a.out, "embeddings.f32"), "wb") as f:
        for e in embs:
            f.write(struct.pack("<%df" % DIM, *e))
    with open(os.path.join(a.out, "corpus.bin"), "wb") as f:
        for _, text in corpus:
            b = text.encode("utf-8")
            f.write(struct.pack("<I", len(b)) + b)

    errs = info["stderr_sample"]
    rc, vout, verr = run([os.path.join(a.bin, "llama-embedding"), "--version"])
    version_text = (vout + verr).decode("utf-8", "replace")
    build_ok = {}
    bo = os.path.join(os.path.dirname(a.bin.rstrip("/")), "BUILD_OK")
    if os.path.exists(bo):
        for line in open(bo):
            if "=" in line:
                k, v = line.strip().split("=", 1)
                build_ok[k] = v
    lens = [len(t) for t in all_tokens]
    meta = {
        "generator": "tests/golden/generate.sh (tests/golden/golden.py)",
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "count": n,
        "dim": DIM,
        "files": {
            "corpus": "corpus.jsonl",
            "tokens": "tokens.jsonl: {id, tokens} per corpus line, BOS/EOS included",
            "embeddings": "embeddings.f32: count x dim little-endian float32, corpus order, L2-normalized",
            "corpus_bin": "corpus.bin: per text u32 LE byte length + raw UTF-8 bytes, corpus order",
        },
        "corpus_sha256": sha256_file(a.corpus),
        "llama_cpp": {
            "source": "PyPI sdist llama-cpp-python==%s, vendor/llama.cpp" % build_ok.get("llama-cpp-python", "0.3.36"),
            "commit": build_ok.get("llama.cpp.commit"),
            "build_number": build_ok.get("llama.cpp.build"),
            "version_output": version_text.strip(),
            "build": "tests/reference/build-llamacpp.sh (Release, CPU only, static, isa=%s)" % build_ok.get("isa"),
            "system_info": grep1(r"(system_info:.*)$", errs),
        },
        "model": {
            "file": os.path.basename(a.model),
            "size": model_size,
            "sha256": model_sha,
            "pooling_type": grep1(r"print_info: pooling type\s*=\s*(.*)$", errs),
            "source_note": model_source_note(a.model),
        },
        "settings": {
            "threads": a.threads,
            "n_ctx": grep1(r"llama_context: n_ctx\s*=\s*(\d+)", errs),
            "n_batch": grep1(r"llama_context: n_batch\s*=\s*(\d+)", errs),
            "n_ubatch": grep1(r"llama_context: n_ubatch\s*=\s*(\d+)", errs),
            "causal_attn": grep1(r"llama_context: causal_attn\s*=\s*(\d+)", errs),
            "flash_attn_requested": grep1(r"llama_context: flash_attn\s*=\s*(\S+)", errs),
            "flash_attn_resolved": grep1(r"(Flash Attention (?:enabled|not supported, set to disabled))", errs),
            "embd_normalize": 2,
            "embedding_text_precision": "llama-embedding prints %1.7f; values were parsed and stored as float32",
            "texts_per_run": 1,
        },
        "commands": {
            "tokenize": "llama-tokenize -m MODEL --file TEXTFILE --no-escape --ids --log-disable",
            "embedding": "llama-embedding -m MODEL -bf TEXTFILE --no-escape --embd-separator '%s' "
                         "--embd-output-format raw --embd-normalize 2 --verbose-prompt -c %d -b %d -ub %d -t %d --no-warmup -lv 4"
                         % (SEP, N_CTX, N_CTX, N_CTX, a.threads),
            "note": "TEXTFILE holds exactly the UTF-8 bytes of one corpus text; token ids printed by "
                    "llama-embedding --verbose-prompt were verified equal to tokens.jsonl for every text",
        },
        "stats": {
            "tokens_min": min(lens), "tokens_max": max(lens), "tokens_total": sum(lens),
            "texts_over_257_tokens": sum(1 for x in lens if x > 257),
            "texts_over_512_tokens": sum(1 for x in lens if x > 512),
            "texts_1700_to_2048_tokens": sum(1 for x in lens if 1700 <= x <= 2048),
            "seconds_tokenize": round(t_tok, 1), "seconds_embedding": round(t_emb, 1),
            "seconds_total": round(time.time() - t_start, 1), "jobs": a.jobs, "tok_jobs": a.tok_jobs,
        },
    }
    with open(os.path.join(a.out, "meta.json"), "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(meta, ensure_ascii=False, separators=(",", ":")) + "\n")
    for p in paths:
        os.unlink(p)
    os.rmdir(tmp)
    print("wrote %d texts to %s in %.0f s (tokenize %.0f s, embedding %.0f s)"
          % (n, a.out, time.time() - t_start, t_tok, t_emb), file=sys.stderr)


def load_goldens(out):
    corpus = read_corpus(os.path.join(out, "corpus.jsonl"))
    toks = []
    with open(os.path.join(out, "tokens.jsonl"), encoding="utf-8") as f:
        for line in f:
            toks.append(json.loads(line))
    raw = open(os.path.join(out, "embeddings.f32"), "rb").read()
    n = len(corpus)
    if len(raw) != n * DIM * 4:
        raise SystemExit("embeddings.f32 has %d bytes, expected %d" % (len(raw), n * DIM * 4))
    embs = [struct.unpack_from("<%df" % DIM, raw, k * DIM * 4) for k in range(n)]
    return corpus, toks, embs


def cos(a, b):
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def cmd_check(a):
    corpus, toks, embs = load_goldens(a.out)
    by_text = {}
    problems = []
    if len(toks) != len(corpus):
        problems.append("tokens.jsonl has %d lines, corpus %d" % (len(toks), len(corpus)))
    for (ident, text), t, e in zip(corpus, toks, embs):
        if t["id"] != ident:
            problems.append("id order mismatch: %s vs %s" % (t["id"], ident))
        ids = t["tokens"]
        if len(ids) < 2 or ids[0] != 2 or ids[-1] != 1:
            problems.append("%s: tokens do not start with BOS=2 / end with EOS=1" % ident)
        if not all(isinstance(x, int) and 0 <= x < 262144 for x in ids):
            problems.append("%s: token id out of range" % ident)
        norm = math.sqrt(sum(x * x for x in e))
        if abs(norm - 1.0) > 1e-5:
            problems.append("%s: norm %.7f" % (ident, norm))
        if not all(math.isfinite(x) for x in e):
            problems.append("%s: non-finite value" % ident)
        by_text.setdefault(text, (ident, ids, e))

    def expect_tokens(text, want):
        got = by_text[text][1]
        if got != want:
            problems.append("tokens(%r) = %r, expected %r" % (text, got, want))

    expect_tokens("Hello world", [2, 9259, 1902, 1])
    expect_tokens("", [2, 1])
    expect_tokens("\n", [2, 107, 1])

    pairs = [
        ("A man is playing a guitar on the stage.", "On stage, a man plays the guitar."),
        ("The children are playing football in the park.", "Kids are playing soccer in the park."),
        ("How can I improve my sleep quality?", "What are ways to sleep better at night?"),
        ("The stock market fell sharply today.", "Share prices dropped steeply today."),
        ("What is the capital of France?", "Paris is the capital of France."),
    ]
    unrelated = ("A man is playing a guitar on the stage.", "The stock market fell sharply today.")
    print("cosine similarities:")
    for x, y in pairs:
        c = cos(by_text[x][2], by_text[y][2])
        print("  %.4f  %r ~ %r" % (c, x, y))
        if c < 0.6:
            problems.append("paraphrase cosine too low (%.3f): %r / %r" % (c, x, y))
    cu = cos(by_text[unrelated[0]][2], by_text[unrelated[1]][2])
    print("  %.4f  (unrelated) %r ~ %r" % (cu, unrelated[0], unrelated[1]))
    for x, y in pairs[:4]:
        if cos(by_text[x][2], by_text[y][2]) <= cu:
            problems.append("paraphrase not closer than unrelated pair: %r" % x)
    # identical embeddings only for identical token sequences
    seen = {}
    for (ident, _), t, e in zip(corpus, toks, embs):
        key = tuple(t["tokens"])
        if key in seen and seen[key][1] != e:
            print("  note: %s and %s have equal tokens but embeddings differ by %.2e"
                  % (seen[key][0], ident, max(abs(p - q) for p, q in zip(seen[key][1], e))))
        seen.setdefault(key, (ident, e))
    lens = [len(t["tokens"]) for t in toks]
    print("texts: %d, tokens min %d max %d, >257: %d, >512: %d, 1700..2048: %d"
          % (len(toks), min(lens), max(lens), sum(l > 257 for l in lens), sum(l > 512 for l in lens),
             sum(1700 <= l <= 2048 for l in lens)))
    if problems:
        for p in problems:
            print("PROBLEM: " + p, file=sys.stderr)
        raise SystemExit(1)
    print("all checks passed")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--bin", required=True)
    g.add_argument("--model", required=True)
    g.add_argument("--corpus", default=os.path.join(HERE, "corpus.jsonl"))
    g.add_argument("--out", default=HERE)
    g.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    g.add_argument("--jobs", type=int, default=1, help="parallel llama-embedding runs")
    g.add_argument("--tok-jobs", type=int, default=os.cpu_count() or 2, help="parallel llama-tokenize runs")
    g.add_argument("--tokens", help="reuse this tokens.jsonl instead of running llama-tokenize "
                   "(llama-embedding's own ids are still checked against it)")
    c = sub.add_parser("check")
    c.add_argument("--out", default=HERE)
    a = ap.parse_args()
    if a.cmd == "generate":
        cmd_generate(a)
    else:
        cmd_check(a)


if __name__ == "__main__":
    main()
