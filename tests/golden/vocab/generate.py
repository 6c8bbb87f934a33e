#!/usr/bin/env python3
"""Token ids llama.cpp gives for the golden corpus with each of its vocab-only GGUFs (stdlib only).

    generate.py --bin DIR --vocab-dir DIR [--corpus F] [--out DIR] [--jobs N] [--only NAME,...]

For every ggml-vocab-<name>.gguf in --vocab-dir (scripts/fetch-vocabs.sh):
  * every corpus text (tests/golden/corpus.jsonl, read by golden.py's read_corpus) through
        llama-tokenize -m VOCAB --file TEXTFILE --no-escape --ids --log-disable
    exactly as tests/golden/golden.py tokenizes for the EmbeddingGemma goldens: TEXTFILE holds
    the text's UTF-8 bytes (llama-tokenize reads --file verbatim), special tokens are added as
    the vocabulary's metadata says (llama-tokenize passes add_special = the vocab's add_bos),
    special-token text is parsed (the tool's default). Output: <name>.jsonl, one line per
    text {"i": corpus index, "ids": [...]} (or {"i": .., "error": ".."}), gzipped
    (<name>.jsonl.gz, deterministic) when over --gzip-over bytes.
  * if <name>.gguf.inp/.out exist: every case through llama-tokenize the way llama.cpp's
    tests/test-tokenizer-0.cpp tokenizes it (add_special=false, parse_special=false:
    --no-bos --no-parse-special), compared with the .out line; pass counts in meta.json.
  * optionally (when the llama.cpp build dir of tests/reference/build-llamacpp.sh has its
    static libraries and g++ is there) llama.cpp's own test-tokenizer-0 is compiled against
    them and run on each .inp/.out pair: an independent check of the above.
Writes meta.json last. Exits non-zero if anything could not be run (a text on which
llama.cpp itself fails is recorded, not fatal).
"""
import argparse
import datetime
import glob
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from golden import read_corpus, sha256_file  # noqa: E402  (tests/golden/golden.py)

SDIST = {
    "name": "llama_cpp_python-0.3.36.tar.gz",
    "project": "llama-cpp-python==0.3.36 (PyPI sdist)",
    "size": 76589250,
    "sha256": "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e",
    "members": "llama_cpp_python-0.3.36/vendor/llama.cpp/models/ggml-vocab-*",
}
TOK_FLAGS = ["--no-escape", "--ids", "--log-disable"]
INP_FLAGS = TOK_FLAGS + ["--no-bos", "--no-parse-special"]
INP_SEP = b"\n__ggml_vocab_test__\n"

# ---------------------------------------------------------------------------- GGUF header

_SCALAR = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


def gguf_header(path):
    """(version, n_tensors, {key: value}); arrays become ("array", elem_type, n)."""
    with open(path, "rb") as f:
        d = f.read()
    o = 0

    def u(fmt):
        nonlocal o
        v = struct.unpack_from("<" + fmt, d, o)[0]
        o += struct.calcsize("<" + fmt)
        return v

    def s():
        nonlocal o
        n = u("Q")
        v = d[o:o + n].decode("utf-8")
        o += n
        return v

    def val(t):
        nonlocal o
        if t in _SCALAR:
            return u(_SCALAR[t])
        if t == 8:
            return s()
        if t == 9:
            et, n = u("I"), u("Q")
            if et in _SCALAR:
                o += n * struct.calcsize("<" + _SCALAR[et])
            elif et == 8:
                for _ in range(n):
                    m = u("Q")  # (not "o += u(..)": that would add to o's old value)
                    o += m
            else:
                raise ValueError("nested array in %s" % path)
            return ("array", et, n)
        raise ValueError("unknown GGUF type %d in %s" % (t, path))

    if d[:4] != b"GGUF":
        raise ValueError("%s: not a GGUF file" % path)
    o = 4
    version, n_tensors, n_kv = u("I"), u("Q"), u("Q")
    kv = {}
    for _ in range(n_kv):
        k = s()
        kv[k] = val(u("I"))
    return version, n_tensors, kv


# ---------------------------------------------------------------------------- llama-tokenize

def tokenize(exe, vocab, path, flags, timeout):
    """ids, or raises RuntimeError with llama.cpp's message."""
    cmd = [exe, "-m", vocab, "--file", path] + flags
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError("timeout after %d s" % timeout)
    if p.returncode != 0:
        err = p.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError("rc=%d: %s" % (p.returncode, " | ".join(err[-3:])[:500]))
    m = re.fullmatch(rb"\s*\[([0-9, ]*)\]\s*", p.stdout)
    if not m:
        raise RuntimeError("unexpected output: %r" % p.stdout[:300])
    body = m.group(1).strip()
    return [int(x) for x in body.split(b",")] if body else []


def read_inp_out(inp, out):
    """The cases exactly as test-tokenizer-0.cpp's read_tests() splits them."""
    raw = open(inp, "rb").read()
    cases = []
    pos = 0
    while pos < len(raw):
        nxt = raw.find(INP_SEP, pos)
        if nxt < 0:
            cases.append(raw[pos:])
            break
        cases.append(raw[pos:nxt])
        pos = nxt + len(INP_SEP)
    data = open(out, "rb").read()
    lines = data.split(b"\n")          # std::getline: a final '\n' ends the last line
    if data.endswith(b"\n"):
        lines.pop()
    if len(cases) != len(lines):
        raise RuntimeError("%s: %d cases, %s: %d lines" % (inp, len(cases), out, len(lines)))
    want = []
    for line in lines:
        s = line.strip(b" \t\n\v\f\r")  # string_strip (isspace)
        want.append([int(t) for t in s.split(b" ")] if s else [])
    return cases, want


# ---------------------------------------------------------------------------- output files

def write_golden(out_dir, name, rows, gzip_over):
    buf = io.StringIO()
    for r in rows:
        buf.write(json.dumps(r, separators=(",", ":")) + "\n")
    data = buf.getvalue().encode("utf-8")
    plain = os.path.join(out_dir, name + ".jsonl")
    gz = plain + ".gz"
    if len(data) > gzip_over:
        bio = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=bio, compresslevel=9, mtime=0) as g:
            g.write(data)
        path, blob, stale = gz, bio.getvalue(), plain
    else:
        path, blob, stale = plain, data, gz
    with open(path + ".tmp", "wb") as f:
        f.write(blob)
    os.replace(path + ".tmp", path)
    if os.path.exists(stale):
        os.unlink(stale)
    return os.path.basename(path), len(blob), len(data), hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------- test-tokenizer-0

def build_test_tokenizer_0(bin_dir, tmp):
    """Compile llama.cpp's tests/test-tokenizer-0.cpp against build-llamacpp.sh's static libs.
    Returns (exe, None) or (None, reason)."""
    root = os.path.dirname(os.path.abspath(bin_dir).rstrip("/"))
    src = os.path.join(root, "src", "vendor", "llama.cpp")
    bld = os.path.join(root, "build")
    cpp = os.path.join(src, "tests", "test-tokenizer-0.cpp")
    libs = ["common/libllama-common.a", "common/libllama-common-base.a", "src/libllama.a",
            "ggml/src/libggml.a", "ggml/src/libggml-cpu.a", "ggml/src/libggml-base.a"]
    cxx = shutil.which("g++") or shutil.which("c++")
    if not cxx:
        return None, "no C++ compiler"
    missing = [p for p in [cpp] + [os.path.join(bld, l) for l in libs] if not os.path.exists(p)]
    if missing:
        return None, "missing " + ", ".join(missing)
    extra = [os.path.join(bld, "vendor/cpp-httplib/libcpp-httplib.a")]
    extra = [p for p in extra if os.path.exists(p)]
    exe = os.path.join(tmp, "test-tokenizer-0")
    cmd = [cxx, "-O2", "-std=c++17", "-I" + os.path.join(src, "include"), "-I" + os.path.join(src, "common"),
           "-I" + os.path.join(src, "ggml", "include"), cpp, "-o", exe] + \
          [os.path.join(bld, l) for l in libs] + extra + ["-fopenmp", "-lpthread", "-ldl"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        return None, "compile failed: " + p.stderr.decode("utf-8", "replace")[-300:]
    return exe, None


def run_test_tokenizer_0(exe, vocab, timeout):
    try:
        p = subprocess.run([exe, vocab], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"result": "timeout"}
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    return {"result": "passed" if p.returncode == 0 and "Tests passed" in out else "failed",
            "rc": p.returncode, "tests_run": out.count("\nsrc: '"),
            "failed_tests": err.count("failed test:")}


# ---------------------------------------------------------------------------- main

class Deadline(Exception):
    pass


def process_vocab(a, exe, vocab, name, corpus, paths, empty, tmp, tt0, deadline):
    """Everything meta.json records for one vocab; writes its golden file."""
    n = len(corpus)
    version, n_tensors, kv = gguf_header(vocab)
    tok_model = kv.get("tokenizer.ggml.model")
    toks_meta = kv.get("tokenizer.ggml.tokens")
    info = {
        "file": os.path.basename(vocab),
        "size": os.path.getsize(vocab),
        "sha256": sha256_file(vocab),
        "gguf_version": version,
        "tensors": n_tensors,
        "general.architecture": kv.get("general.architecture"),
        "tokenizer.ggml.model": tok_model,
        "tokenizer.ggml.pre": kv.get("tokenizer.ggml.pre"),
        "n_tokens": toks_meta[2] if isinstance(toks_meta, tuple) else None,
    }
    for key in ("bos_token_id", "eos_token_id", "unknown_token_id", "seperator_token_id",
                "padding_token_id", "cls_token_id", "mask_token_id",
                "add_bos_token", "add_eos_token", "add_sep_token", "add_space_prefix",
                "remove_extra_whitespaces"):
        if "tokenizer.ggml." + key in kv:
            info["tokenizer.ggml." + key] = kv["tokenizer.ggml." + key]

    # What llama.cpp adds: llama-tokenize passes add_special = the vocab's (effective)
    # add_bos; llama-embedding passes add_special = true. The empty text shows it.
    e_ids = tokenize(exe, vocab, empty, TOK_FLAGS, a.timeout)
    add_bos = len(e_ids) > 0
    if tok_model == "bert":                      # WPM: add_special adds CLS + SEP
        add_eos = False
    elif add_bos:
        add_eos = len(e_ids) == 2
    else:                                        # not visible: metadata, else llama.cpp's default
        add_eos = bool(kv.get("tokenizer.ggml.add_eos_token", tok_model == "t5"))
    info["empty_text_ids"] = e_ids
    info["add_special_passed_by_llama_tokenize"] = add_bos
    info["same_ids_as_llama_embedding"] = add_bos or (tok_model != "bert" and not add_eos)

    # corpus
    rows = [None] * n

    def work(k):
        if time.time() > deadline:
            return
        try:
            rows[k] = {"i": k, "ids": tokenize(exe, vocab, paths[k], TOK_FLAGS, a.timeout)}
        except RuntimeError as e:
            rows[k] = {"i": k, "error": str(e)}

    with ThreadPoolExecutor(max_workers=a.jobs) as ex:
        list(ex.map(work, range(n)))
    if any(r is None for r in rows):
        raise Deadline()
    errors = [r for r in rows if "error" in r]
    fname, fsize, plain_size, plain_sha = write_golden(a.out, name, rows, a.gzip_over)
    lens = [len(r["ids"]) for r in rows if "ids" in r]
    info["golden"] = {"file": fname, "bytes": fsize, "jsonl_bytes": plain_size,
                      "jsonl_sha256": plain_sha, "texts": n, "errors": len(errors),
                      "tokens_total": sum(lens), "tokens_max": max(lens) if lens else None}
    if errors:
        info["golden"]["error_indices"] = [r["i"] for r in errors]

    # .inp/.out
    inp, out = vocab + ".inp", vocab + ".out"
    info["inp_out"] = None
    if os.path.exists(inp) and os.path.exists(out):
        cases, want = read_inp_out(inp, out)
        cpaths = []
        for j, c in enumerate(cases):
            p = os.path.join(tmp, "case-%03d.txt" % j)
            with open(p, "wb") as f:
                f.write(c)
            cpaths.append(p)

        def case(j):
            try:
                return tokenize(exe, vocab, cpaths[j], INP_FLAGS, a.timeout)
            except RuntimeError as e:
                return str(e)

        with ThreadPoolExecutor(max_workers=a.jobs) as ex:
            got = list(ex.map(case, range(len(cases))))
        fails = [j for j in range(len(cases)) if got[j] != want[j]]
        info["inp_out"] = {"cases": len(cases), "unique_inputs": len(set(cases)),
                           "pass": len(cases) - len(fails), "fail": len(fails),
                           "failures": [{"case": j, "input": cases[j].decode("utf-8", "replace"),
                                         "expected": want[j], "got": got[j]} for j in fails]}
        for p in cpaths:
            os.unlink(p)
        if tt0:
            info["inp_out"]["test_tokenizer_0"] = run_test_tokenizer_0(tt0, vocab, 600)
    return info


def golden_intact(out_dir, info):
    """True if the golden file an old meta entry describes is there, unchanged."""
    g = (info or {}).get("golden") or {}
    path = os.path.join(out_dir, g.get("file", "-"))
    if not os.path.isfile(path):
        return False
    data = open(path, "rb").read()
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    return hashlib.sha256(data).hexdigest() == g.get("jsonl_sha256")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="dir with llama-tokenize (tests/reference/build-llamacpp.sh)")
    ap.add_argument("--vocab-dir", required=True, help="dir with ggml-vocab-* (scripts/fetch-vocabs.sh)")
    ap.add_argument("--corpus", default=os.path.join(os.path.dirname(HERE), "corpus.jsonl"))
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="parallel llama-tokenize runs")
    ap.add_argument("--timeout", type=int, default=120, help="seconds per llama-tokenize run")
    ap.add_argument("--max-seconds", type=int, default=5400,
                    help="stop after this long (meta.json then says complete=false; rerun with --resume)")
    ap.add_argument("--gzip-over", type=int, default=150000, help="gzip a golden file larger than this")
    ap.add_argument("--only", help="comma-separated vocab names (others keep their files and meta entries)")
    ap.add_argument("--resume", action="store_true",
                    help="skip vocabs whose meta.json entry matches the vocab and corpus sha256 and "
                         "whose golden file is intact")
    ap.add_argument("--no-test-tokenizer-0", action="store_true", help="skip the test-tokenizer-0 build/run")
    a = ap.parse_args()

    t_start = time.time()
    deadline = t_start + a.max_seconds
    exe = os.path.join(a.bin, "llama-tokenize")
    if not os.access(exe, os.X_OK):
        raise SystemExit("no llama-tokenize in %s" % a.bin)
    vocabs = sorted(glob.glob(os.path.join(a.vocab_dir, "ggml-vocab-*.gguf")))
    if not vocabs:
        raise SystemExit("no ggml-vocab-*.gguf in %s" % a.vocab_dir)
    names = [os.path.basename(v)[len("ggml-vocab-"):-len(".gguf")] for v in vocabs]
    only = set(a.only.split(",")) if a.only else None
    if only and not only <= set(names):
        raise SystemExit("unknown vocab(s): %s" % ", ".join(sorted(only - set(names))))

    corpus = read_corpus(a.corpus)
    corpus_sha = sha256_file(a.corpus)
    n = len(corpus)
    os.makedirs(a.out, exist_ok=True)
    meta_path = os.path.join(a.out, "meta.json")
    old = {}
    if (only or a.resume) and os.path.exists(meta_path):
        m = json.load(open(meta_path, encoding="utf-8"))
        if m.get("corpus", {}).get("sha256") == corpus_sha:
            old = m.get("vocabs", {})

    root = os.path.dirname(os.path.abspath(a.bin).rstrip("/"))
    build_ok = {}
    bo = os.path.join(root, "BUILD_OK")
    if os.path.exists(bo):
        for line in open(bo):
            if "=" in line:
                k, v = line.strip().split("=", 1)
                build_ok[k] = v
    p = subprocess.run([exe, "--version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    version_output = (p.stdout + p.stderr).decode("utf-8", "replace").strip()
    results = {}
    state = {"tt0": "not run"}

    def write_meta(complete, seconds_this_run):
        meta = {
            "generator": "tests/golden/vocab/generate.sh (tests/golden/vocab/generate.py)",
            "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "complete": complete,
            "source": dict(SDIST, fetch="scripts/fetch-vocabs.sh"),
            "corpus": {"file": "tests/golden/corpus.jsonl", "sha256": corpus_sha, "count": n},
            "llama_cpp": {
                "commit": build_ok.get("llama.cpp.commit"), "build_number": build_ok.get("llama.cpp.build"),
                "isa": build_ok.get("isa"),
                "build": "tests/reference/build-llamacpp.sh (vendor/llama.cpp of the same sdist)",
                "version_output": version_output,
            },
            "format": {
                "file": "<name>.jsonl or <name>.jsonl.gz (gzip -9, no name, mtime 0, when the JSONL is "
                        "over %d bytes); <name> = the vocab file name without 'ggml-vocab-' and '.gguf'"
                        % a.gzip_over,
                "line": '{"i": I, "ids": [...]} or {"i": I, "error": "..."} (llama-tokenize failed on that text)',
                "i": "0-based position of the text in corpus.jsonl (its non-blank lines), the order of "
                     "tests/golden/tokens.jsonl",
            },
            "commands": {
                "corpus": "llama-tokenize -m VOCAB --file TEXTFILE " + " ".join(TOK_FLAGS),
                "corpus_note": "the flags of tests/golden/golden.py; TEXTFILE holds exactly the text's UTF-8 "
                               "bytes (--file is read verbatim, --no-escape keeps backslashes); special-token "
                               "text IS parsed (llama-tokenize's default, parse_special=true); add_special = "
                               "the vocab's add_bos (llama-tokenize: add_bos && !--no-bos). llama-embedding "
                               "passes add_special=true, parse_special=true: the same ids for every vocab "
                               "whose same_ids_as_llama_embedding is true",
                "inp_out": "llama-tokenize -m VOCAB --file CASEFILE " + " ".join(INP_FLAGS),
                "inp_out_note": "= test-tokenizer-0.cpp's common_tokenize(ctx, text, add_special=false, "
                                "parse_special=false). .inp: cases separated by '\\n__ggml_vocab_test__\\n' "
                                "(the file ends with one, so no empty case follows it); .out: line j = case "
                                "j's ids, space-separated, whitespace-stripped (empty line = no tokens)",
            },
            "test_tokenizer_0": state["tt0"],
            "vocabs": {k: results[k] for k in sorted(results)},
            "seconds_last_run": round(seconds_this_run, 1),
            "jobs": a.jobs,
        }
        with open(meta_path + ".tmp", "w", encoding="utf-8", newline="\n") as f:
            f.write(json.dumps(meta, ensure_ascii=False, indent=1) + "\n")
        os.replace(meta_path + ".tmp", meta_path)

    tmp = tempfile.mkdtemp(prefix="ggufembed-vocab-golden-")
    try:
        paths = []
        for k, (_, text) in enumerate(corpus):
            p = os.path.join(tmp, "%04d.txt" % k)
            with open(p, "wb") as f:
                f.write(text.encode("utf-8"))
            paths.append(p)
        empty = os.path.join(tmp, "empty.txt")
        open(empty, "wb").close()

        tt0 = None
        if a.no_test_tokenizer_0:
            state["tt0"] = "not run: --no-test-tokenizer-0"
        else:
            tt0, reason = build_test_tokenizer_0(a.bin, tmp)
            state["tt0"] = ("llama.cpp's tests/test-tokenizer-0.cpp (from the sdist) compiled against "
                            "the static libraries of tests/reference/build-llamacpp.sh's build, run on each "
                            ".inp/.out pair" if tt0 else "not run: %s" % reason)
            if tt0 is None:
                print("test-tokenizer-0 not run: %s" % reason, file=sys.stderr)

        todo = []
        for vocab, name in zip(vocabs, names):
            carried = old.get(name)
            if only and name not in only:
                if carried:
                    results[name] = carried
                continue
            if a.resume and carried and carried.get("sha256") == sha256_file(vocab) \
                    and golden_intact(a.out, carried):
                results[name] = carried
                print("%-16s kept (--resume)" % name, file=sys.stderr)
                continue
            todo.append((vocab, name))

        for vocab, name in todo:
            t0 = time.time()
            try:
                info = process_vocab(a, exe, vocab, name, corpus, paths, empty, tmp, tt0, deadline)
            except Deadline:
                write_meta(False, time.time() - t_start)
                raise SystemExit("--max-seconds (%d) reached during %s; meta.json has %d vocabs "
                                 "(complete=false); rerun with --resume" % (a.max_seconds, name, len(results)))
            except (RuntimeError, ValueError, OSError) as e:
                write_meta(False, time.time() - t_start)
                raise SystemExit("%s: %s" % (name, e))
            results[name] = info
            write_meta(len(results) == len(names), time.time() - t_start)
            io_note = ("inp/out %d/%d" % (info["inp_out"]["pass"], info["inp_out"]["cases"])
                       if info["inp_out"] else "no inp/out")
            print("%-16s %-7s %-15s %s %7d bytes, %d errors, %s (%.0f s)"
                  % (name, info["tokenizer.ggml.model"], info["tokenizer.ggml.pre"], info["golden"]["file"],
                     info["golden"]["bytes"], info["golden"]["errors"], io_note, time.time() - t0),
                  file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    write_meta(len(results) == len(names), time.time() - t_start)
    bad = [k for k, v in results.items() if v.get("inp_out") and v["inp_out"]["fail"]]
    print("meta.json: %d/%d vocabularies, %.0f s; disagree with their .out: %s"
          % (len(results), len(names), time.time() - t_start, ", ".join(bad) or "none"), file=sys.stderr)


if __name__ == "__main__":
    main()
