#!/usr/bin/env python3
"""Reference outputs of real models for the golden corpus (run by generate.sh: all-MiniLM-L6-v2
with sentence-transformers; generate-quants.sh: the quantized files, EmbeddingGemma, Gemma 3).

    reference.py llamacpp --bin DIR --model TYPE=FILE... --out DIR --info JSON [--jobs N] [--threads N]
                          [--ctx N] [--pooling P] [--texts-per-run N --embedding-bin SEQ
                          --batch-identical] [--tokens JSONL | --tok-model FILE]
    reference.py st       --model-dir DIR --out DIR --info JSON [--threads N]
    reference.py meta     --model-dir DIR --out DIR --llamacpp-info JSON --st-info JSON
    reference.py meta-add --out DIR --llamacpp-info JSON --fetch TEXT [--check TYPE=F16]
    reference.py meta-new --out DIR --llamacpp-info JSON --model-desc TEXT --fetch TEXT
                          --generator TEXT [--pooling-note TEXT] [--compare LABEL=TYPE:F32FILE]

llamacpp (stdlib only): for every text of tests/golden/corpus.jsonl (golden.py's
read_corpus), llama-tokenize on the first model (ids incl. the special tokens llama-embedding
adds) -> tokens.jsonl, and for each TYPE=FILE llama-embedding with golden.py's flags except
the context: -c/-b/-ub = the file's context_length, at most 2048 (all-MiniLM-L6-v2 512,
EmbeddingGemma 2048, Gemma 3 270M 2048 of 32768; --ctx overrides), pooling from the file's
metadata unless --pooling, flash attention at llama.cpp's default, --embd-normalize 2 ->
llamacpp-TYPE.f16 (count x dim float16 LE, corpus order; dim = the file's output width:
dense_3's when present, else embedding_length). By default one run per text (generate.sh);
--texts-per-run N joins N texts per run with the separator and runs them through
--embedding-bin (build-embedding-seq.sh's llama-embedding-seq, which decodes each prompt
alone), and --batch-check texts are run again one per llama-embedding run and compared
(--batch-identical: bit for bit). The ids llama-embedding prints with --verbose-prompt are
checked against tokens.jsonl for every text of every run. A text llama.cpp fails on (more
than n_ctx tokens: "exceeds batch size") gets a NaN row; the failures go to --info. One
probe run of the shortest over-long text with golden.py's -c 2048 records what llama.cpp
does past the file's positions (when its context is under 2048).

st (the cache venv + sentence-transformers 5.1.2): fp32 on the original safetensors, one
text per encode() call (batch_size=1, no padding), normalize_embeddings=True -> st.f16
(count x dim) and st-tokens.jsonl (the ids sentence-transformers feeds the model, i.e.
after str.strip() and truncation to max_seq_length 256; "untruncated" for the texts it cut).

meta (the cache venv: numpy, tokenizers): meta.json with checksums, versions, commands and
the comparison llama.cpp vs sentence-transformers (cosines per weight type, token lists).
meta-add (the cache venv: numpy): adds the types of a llamacpp run to an existing meta.json
(gguf, comparison.per_type, llamacpp.failed/..., and "quantized": cosines to the directory's
llamacpp-F32.f16, how the runs were made); --check TYPE=F16 compares a type already there
with a rerun on every text instead of adding it.
meta-new (stdlib only): meta.json of a directory with llama.cpp's outputs only (gguf with
tensor types, commands, failures, batching check, cosines of each type to the F32 file's,
--compare with another reference such as tests/golden/embeddings.f32).
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import struct
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.dirname(HERE)
sys.path.insert(0, GOLDEN)
import golden  # noqa: E402  (stdlib-only helpers: read_corpus, tokenize, run, sha256_file, ...)

# The output width and the context come from the GGUF (model_shape): all-MiniLM-L6-v2 384 and
# 512 (its bert.context_length = the 512 position embeddings), EmbeddingGemma 768 (dense_3's
# output) and 2048, Gemma 3 270M 640 and 32768 -> 2048 (golden.py's -c 2048: MAX_CTX).
DIM = None
N_CTX = None
MAX_CTX = 2048
CORPUS = os.path.join(GOLDEN, "corpus.jsonl")
MAX_ATTEMPTS = 8
COMPLETE = re.compile(rb"llama_perf_context_print:\s+graphs reused")
NO_EOS_WARNING = "last token in the prompt is not SEP or EOS"
BATCH_MIN_COS = 0.99999

GGML_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
              10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS",
              17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S",
              23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M",
              30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4"}


def gguf_read(path):
    """A GGUF header (stdlib only): ({key: value} for scalar and string values, arrays as
    "[N x type]"), [(tensor name, shape ne0.., type name)]."""
    scal = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
    with open(path, "rb") as f:
        def rd(fmt):
            return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]

        def rstr():
            return f.read(rd("<Q")).decode("utf-8", "replace")

        def value(t):
            if t in scal:
                return rd(scal[t])
            if t == 8:
                return rstr()
            if t == 9:
                et, n = rd("<I"), rd("<Q")
                if et in scal:
                    f.seek(n * struct.calcsize(scal[et]), 1)
                else:
                    for _ in range(n):
                        value(et)
                return "[%d x type %d]" % (n, et)
            raise ValueError("%s: GGUF value type %d" % (path, t))

        if f.read(4) != b"GGUF":
            raise ValueError("%s: not a GGUF file" % path)
        kv = {"GGUF.version": rd("<I")}
        n_t, n_kv = rd("<Q"), rd("<Q")
        for _ in range(n_kv):
            k = rstr()
            kv[k] = value(rd("<I"))
        tensors = []
        for _ in range(n_t):
            name = rstr()
            shape = [rd("<Q") for _ in range(rd("<I"))]
            t = rd("<I")
            rd("<Q")
            tensors.append((name, shape, GGML_TYPES.get(t, "type%d" % t)))
    return kv, tensors


def model_shape(path):
    """What the generator needs to know of a GGUF: output width, context, tokenizer flags,
    tensor types."""
    kv, tensors = gguf_read(path)
    arch = kv["general.architecture"]
    shapes = {n: s for n, s, _ in tensors}
    # EmbeddingGemma's dense_3 (ne0 = 3072 in, ne1 = 768 out) is the last layer when present
    dim = shapes["dense_3.weight"][1] if "dense_3.weight" in shapes else kv[arch + ".embedding_length"]
    counts = {}
    for _, _, t in tensors:
        counts[t] = counts.get(t, 0) + 1
    return {
        "architecture": arch,
        "dim": dim,
        "n_ctx_train": kv[arch + ".context_length"],
        "pooling_type_metadata": kv.get(arch + ".pooling_type"),
        "add_eos": bool(kv.get("tokenizer.ggml.add_eos_token", False)),
        "add_sep": bool(kv.get("tokenizer.ggml.add_sep_token", False)),
        "file_type": kv.get("general.file_type"),
        "tensors": len(tensors),
        "tensor_types": dict(sorted(counts.items())),
        "token_embd_type": next((t for n, _, t in tensors if n == "token_embd.weight"), None),
    }


def write_json(path, obj, indent=None):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(obj, ensure_ascii=False, indent=indent,
                           separators=None if indent else (",", ":")) + "\n")


def embedding_cmd(bin_dir, model, path, threads, n_ctx=None, pooling=None, exe=None):
    n_ctx = n_ctx or N_CTX
    cmd = [exe or os.path.join(bin_dir, "llama-embedding"), "-m", model, "-bf", path, "--no-escape",
           "--embd-separator", golden.SEP, "--embd-output-format", "raw", "--embd-normalize", "2",
           "--verbose-prompt", "-c", str(n_ctx), "-b", str(n_ctx), "-ub", str(n_ctx),
           "-t", str(threads), "--no-warmup", "-lv", "4"]
    if pooling:
        cmd += ["--pooling", pooling]
    return cmd


def check_verbose_tokens_multi(out, token_lists):
    """golden.check_verbose_tokens for one or more prompts: llama-embedding --verbose-prompt
    prints, per prompt, '%6d -> '<piece>'\n' per token and then '\n\n'. Returns what follows."""
    pos = 0
    for p, tokens in enumerate(token_lists):
        for i, t in enumerate(tokens):
            head = b"%6d -> '" % t
            if not out.startswith(head, pos):
                raise RuntimeError("prompt %d token %d: expected id %d at byte %d, got %r"
                                   % (p, i, t, pos, out[pos:pos + 40]))
            pos += len(head)
            if i + 1 < len(tokens):
                nxt = out.find(b"'\n" + (b"%6d -> '" % tokens[i + 1]), pos)
            else:
                nxt = out.find(b"'\n\n\n", pos)
            if nxt < 0:
                raise RuntimeError("prompt %d token %d (id %d): cannot find the end of its piece" % (p, i, t))
            pos = nxt + 2
        if not out.startswith(b"\n\n", pos):
            raise RuntimeError("prompt %d: no blank lines after its tokens" % p)
        pos += 2
    rest = out[pos:]
    if re.search(rb"^ *\d+ -> '", rest, re.M):
        raise RuntimeError("llama-embedding fed more tokens than llama-tokenize produced")
    return rest


def parse_embeddings(rest, count):
    lines = [l for l in rest.split(b"\n") if l.strip()]
    if len(lines) != count:
        raise RuntimeError("expected %d embedding lines, got %d" % (count, len(lines)))
    vecs = []
    for l in lines:
        vals = [float(x) for x in l.split()]
        if len(vals) != DIM:
            raise RuntimeError("expected %d values, got %d" % (DIM, len(vals)))
        vecs.append(vals)
    return vecs


def last_error_line(err):
    lines = [l for l in err.decode("utf-8", "replace").splitlines()
             if re.search(r"(^|\s)E |error|GGML_ASSERT|exceeds", l)]
    return re.sub(r"^\d+(\.\d+)+ ", "", lines[-1]).strip() if lines else None


def plan_runs(tokens, texts_per_run):
    """Consecutive texts, texts_per_run to a run; a text over the context runs alone (it
    fails: llama-embedding refuses a prompt longer than its batch, and would fail the run)."""
    if texts_per_run <= 1:
        return [[k] for k in range(len(tokens))]
    runs, cur = [], []
    for k, t in enumerate(tokens):
        if len(t) > N_CTX:
            runs.append([k])
            continue
        cur.append(k)
        if len(cur) == texts_per_run:
            runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    return runs


def batch_sample(tokens, size):
    """~size texts spread over the corpus by token count (the shortest and the longest that
    fit included), for the batched-vs-one-per-run check"""
    ok = sorted((k for k in range(len(tokens)) if len(tokens[k]) <= N_CTX), key=lambda k: (len(tokens[k]), k))
    if len(ok) <= size:
        return sorted(ok)
    return sorted({ok[round(i * (len(ok) - 1) / (size - 1))] for i in range(size)})


# ------------------------------------------------------------------------------ llamacpp
def cmd_llamacpp(a):
    global DIM, N_CTX
    t_start = time.time()
    corpus = golden.read_corpus(CORPUS)
    if a.limit:
        corpus = corpus[:a.limit]
    n = len(corpus)
    models = []
    for spec in a.model:
        wtype, path = spec.split("=", 1)
        models.append((wtype, os.path.abspath(path)))
    shapes = {w: model_shape(p) for w, p in models}
    first = shapes[models[0][0]]
    for w, sh in shapes.items():
        for key in ("architecture", "dim", "n_ctx_train", "add_eos", "add_sep"):
            if sh[key] != first[key]:
                raise SystemExit("%s: %s %r, the first model's is %r" % (w, key, sh[key], first[key]))
    DIM = first["dim"]
    N_CTX = a.ctx or min(first["n_ctx_train"], MAX_CTX)
    # llama-tokenize appends EOS/SEP only when the file says so; llama-embedding warns when a
    # prompt does not end in one: expected then (Gemma 3: BOS only), a generator bug otherwise
    eos_expected = first["add_eos"] or first["add_sep"]
    print("dim %d, context %d (n_ctx_train %d), %s" % (DIM, N_CTX, first["n_ctx_train"], first["architecture"]),
          file=sys.stderr)
    tmp = tempfile.mkdtemp(prefix="ggufembed-models-")
    paths = []
    for k, (_, text) in enumerate(corpus):
        if golden.SEP in text:
            raise SystemExit("text %d contains the separator" % k)
        p = os.path.join(tmp, "%04d.txt" % k)
        with open(p, "wb") as f:
            f.write(text.encode("utf-8"))
        paths.append(p)
    shas = {w: golden.sha256_file(p) for w, p in models}

    t0 = time.time()
    tok_model = os.path.abspath(a.tok_model) if a.tok_model else models[0][1]
    if a.tokens:
        # llama-tokenize's ids from an earlier run with the same vocabulary (golden.py's
        # tests/golden/tokens.jsonl): still checked against the ids llama-embedding prints
        # for every text of every run
        by_id = {r["id"]: r["tokens"] for r in read_tokens(a.tokens)}
        tokens = [by_id[ident] for ident, _ in corpus]
    else:
        with ThreadPoolExecutor(max_workers=a.tok_jobs) as ex:
            tokens = list(ex.map(lambda p: golden.tokenize(a.bin, tok_model, p), paths))
    t_tok = time.time() - t0
    print("tokenized %d texts (%.1f s)" % (n, t_tok), file=sys.stderr)
    with open(os.path.join(a.out, "tokens.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for (ident, _), t in zip(corpus, tokens):
            f.write(json.dumps({"id": ident, "tokens": t}, separators=(",", ":")) + "\n")

    runs = plan_runs(tokens, a.texts_per_run)
    run_paths = []
    for r, ks in enumerate(runs):
        if len(ks) == 1:
            run_paths.append(paths[ks[0]])
            continue
        p = os.path.join(tmp, "run%04d.txt" % r)
        with open(p, "wb") as f:
            f.write(golden.SEP.encode("utf-8").join(corpus[k][1].encode("utf-8") for k in ks))
        run_paths.append(p)
    sample = batch_sample(tokens, a.batch_check) if a.texts_per_run > 1 and a.batch_check > 0 else []

    info = {"models": {}, "seconds_tokenize": round(t_tok, 1), "tokens_from": a.tokens and os.path.relpath(
                os.path.abspath(a.tokens), os.path.dirname(os.path.dirname(GOLDEN))), "jobs": a.jobs, "threads": a.threads,
            "embedding_bin": os.path.basename(a.embedding_bin) if a.embedding_bin else "llama-embedding",
            "dim": DIM, "n_ctx": N_CTX, "pooling": a.pooling, "texts_per_run": a.texts_per_run,
            "runs": len(runs), "shape": first,
            "last_token_warning": None if eos_expected else
            "the file does not append EOS/SEP (tokenizer.ggml.add_eos_token false), so llama-embedding "
            "warns '%s' for every text; expected, not checked" % NO_EOS_WARNING}
    for wtype, model in models:
        t0 = time.time()

        def run_one(ks, path):
            """-> [(k, fail, vec, errs, attempt)] for the texts ks of one llama-embedding run
            (llama-embedding itself for one text; --embedding-bin for several)"""
            exe = a.embedding_bin if len(ks) > 1 else None
            # llama.cpp's logger is a singleton with its own thread, leaked on purpose
            # (common/log.cpp common_log_main(), "may cause logs to be lost if not flushed
            # before the program exits", issue 22142): under load a run can exit 0 before all
            # of its output is written.
            # The last log line ("graphs reused") proves every earlier one, stdout's vectors
            # included, was written (one queue, in order); a run without it is repeated.
            for attempt in range(MAX_ATTEMPTS):
                rc, out, err = golden.run(embedding_cmd(a.bin, model, path, a.threads, pooling=a.pooling, exe=exe))
                if rc != 0:
                    fail = {"rc": rc, "error": last_error_line(err)}
                    if fail["error"]:
                        if len(ks) > 1:  # one text failed the run: each on its own
                            return [r for k in ks for r in run_one([k], paths[k])]
                        return [(ks[0], fail, None, None, attempt)]
                elif COMPLETE.search(err) and out.endswith(b"\n\n"):
                    break
            else:
                raise RuntimeError("texts %s: %d runs, none with complete output" % (ks, MAX_ATTEMPTS))
            rest = check_verbose_tokens_multi(out, [tokens[k] for k in ks])  # raises: a generator bug
            errs = err.decode("utf-8", "replace")
            ntok = [int(x) for x in re.findall(r"number of tokens in prompt = (\d+)", errs)]
            if ntok != [len(tokens[k]) for k in ks]:
                raise RuntimeError("texts %s: llama-embedding counts %s tokens, llama-tokenize %s"
                                   % (ks, ntok, [len(tokens[k]) for k in ks]))
            if eos_expected and NO_EOS_WARNING in errs:
                raise RuntimeError("texts %s: llama-embedding warns: last token is not SEP/EOS" % ks)
            vecs = parse_embeddings(rest, len(ks))
            return [(k, None, v, errs, attempt) for k, v in zip(ks, vecs)]

        with ThreadPoolExecutor(max_workers=a.jobs) as ex:
            got = [r for rs in ex.map(run_one, runs, run_paths) for r in rs]
        res = [None] * n
        for r in got:
            res[r[0]] = r[1:]
        assert all(r is not None for r in res)
        failures = {}
        stderr_sample = None
        with open(os.path.join(a.out, "llamacpp-%s.f16" % wtype), "wb") as f:
            for k, (fail, vec, errs, _) in enumerate(res):
                if fail is not None:
                    fail["index"] = k
                    fail["n_tokens"] = len(tokens[k])
                    failures[corpus[k][0]] = fail
                    vec = [float("nan")] * DIM
                elif stderr_sample is None:
                    stderr_sample = errs
                f.write(struct.pack("<%de" % DIM, *vec))
        t_emb = time.time() - t0
        # batched runs: the sample again, one text per run, must give the same vectors
        check = None
        if sample:
            t1 = time.time()
            with ThreadPoolExecutor(max_workers=a.jobs) as ex:
                singles = [r[0] for r in ex.map(lambda k: run_one([k], paths[k]), sample)]
            cs, diffs = [], []
            for k, fail, vec, _, _ in singles:
                if fail is not None or res[k][1] is None:
                    raise RuntimeError("%s text %d: fails one per run or batched, not both" % (wtype, k))
                cs.append(golden.cos(vec, res[k][1]))
                diffs.append(max(abs(x - y) for x, y in zip(vec, res[k][1])))
            check = {"texts": len(sample), "indices": sample,
                     "n_tokens": [len(tokens[k]) for k in sample],
                     "min_cosine": min(cs), "mean_cosine": sum(cs) / len(cs),
                     "max_abs_diff": max(diffs), "identical": sum(1 for d in diffs if d == 0),
                     "seconds": round(time.time() - t1, 1)}
            print("%s: batched vs one per run on %d texts: min cos %.9f, max |diff| %.2e, %d identical"
                  % (wtype, len(sample), check["min_cosine"], check["max_abs_diff"], check["identical"]),
                  file=sys.stderr)
            if check["min_cosine"] < a.batch_min_cos:
                raise SystemExit("%s: batched vectors differ from one-per-run ones (min cosine %.9f < %g)"
                                 % (wtype, check["min_cosine"], a.batch_min_cos))
            if a.batch_identical and check["identical"] != len(sample):
                raise SystemExit("%s: %d of %d batched vectors differ from the one-per-run ones"
                                 % (wtype, len(sample) - check["identical"], len(sample)))
        if golden.sha256_file(model) != shas[wtype]:
            raise SystemExit("%s changed while running; run again" % model)
        # the float16 storage: worst cosine between the stored and the printed vector
        worst = 1.0
        for fail, vec, _, _ in res:
            if vec is not None:
                h = struct.unpack("<%de" % DIM, struct.pack("<%de" % DIM, *vec))
                worst = min(worst, golden.cos(h, vec))
        e = stderr_sample
        info["models"][wtype] = {
            "file": os.path.basename(model), "size": os.path.getsize(model), "sha256": shas[wtype],
            "source_note": golden.model_source_note(model),
            "tensors": shapes[wtype]["tensors"], "tensor_types": shapes[wtype]["tensor_types"],
            "token_embd_type": shapes[wtype]["token_embd_type"],
            "failed": failures,
            "float16_storage_min_cosine": worst,
            "reruns_incomplete_output": sum(r[3] for r in res),
            "batch_check": check,
            "seconds": round(t_emb, 1),
            "log": {
                "pooling_type": golden.grep1(r"print_info: pooling type\s*=\s*(.*)$", e),
                "n_ctx_train": golden.grep1(r"print_info: n_ctx_train\s*=\s*(\d+)", e),
                "n_ctx": golden.grep1(r"llama_context: n_ctx\s*=\s*(\d+)", e),
                "n_batch": golden.grep1(r"llama_context: n_batch\s*=\s*(\d+)", e),
                "n_ubatch": golden.grep1(r"llama_context: n_ubatch\s*=\s*(\d+)", e),
                "causal_attn": golden.grep1(r"llama_context: causal_attn\s*=\s*(\d+)", e),
                "flash_attn_requested": golden.grep1(r"llama_context: flash_attn\s*=\s*(\S+)", e),
                "flash_attn_resolved": golden.grep1(r"(Flash Attention (?:enabled|not supported, set to disabled))", e),
                "system_info": golden.grep1(r"(system_info:.*)$", e),
            },
        }
        print("%s: %d texts, %d failed (%.0f s)" % (wtype, n, len(failures), time.time() - t0), file=sys.stderr)

    # what llama.cpp does past its positions when the context allows more (golden.py's -c 2048)
    long_k = [k for k in range(n) if len(tokens[k]) > N_CTX]
    if long_k and N_CTX < MAX_CTX:
        k = min(long_k, key=lambda k: len(tokens[k]))
        cmd = embedding_cmd(a.bin, models[0][1], paths[k], a.threads, n_ctx=MAX_CTX, pooling=a.pooling)
        rc, out, err = golden.run(cmd)
        info["probe_ctx_2048"] = {
            "text": corpus[k][0], "index": k, "n_tokens": len(tokens[k]), "model": models[0][0],
            "flags": "-c 2048 -b 2048 -ub 2048 (otherwise the same)", "rc": rc,
            "error": last_error_line(err),
        }
    info["over_context"] = {corpus[k][0]: {"index": k, "n_tokens": len(tokens[k])} for k in long_k}
    rc, vout, verr = golden.run([os.path.join(a.bin, "llama-embedding"), "--version"])
    info["version_output"] = (vout + verr).decode("utf-8", "replace").strip()
    bo = os.path.join(os.path.dirname(a.bin.rstrip("/")), "BUILD_OK")
    info["build_ok"] = dict(l.strip().split("=", 1) for l in open(bo) if "=" in l) if os.path.exists(bo) else {}
    info["command"] = " ".join(embedding_cmd(a.bin, "MODEL", "TEXTFILE", a.threads, pooling=a.pooling)[1:]).replace(
        golden.SEP, "'%s'" % golden.SEP)
    info["seconds_total"] = round(time.time() - t_start, 1)
    for p in set(paths) | set(run_paths):
        os.unlink(p)
    os.rmdir(tmp)
    write_json(a.info, info)


# ------------------------------------------------------------------------------ st
def cmd_st(a):
    import numpy as np
    import torch
    import sentence_transformers
    import transformers
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(a.threads)
    t_start = time.time()
    corpus = golden.read_corpus(CORPUS)
    model = SentenceTransformer(a.model_dir, device="cpu", model_kwargs={"dtype": torch.float32})
    model.eval()
    tok = model.tokenizer
    truncated = {}
    with open(os.path.join(a.out, "st-tokens.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for k, (ident, text) in enumerate(corpus):
            ids = model.tokenize([text])["input_ids"][0].tolist()
            full = tok([text.strip()], truncation=False, padding=False)["input_ids"][0]
            rec = {"id": ident, "tokens": ids}
            if full != ids:
                if len(full) <= model.max_seq_length or ids[:-1] != full[:len(ids) - 1]:
                    raise SystemExit("text %d: ids differ from the untruncated ones, not by truncation" % k)
                rec["untruncated"] = full
                truncated[ident] = {"index": k, "n_tokens": len(full), "kept": len(ids)}
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")
    t0 = time.time()
    vecs = []
    for k, (_, text) in enumerate(corpus):
        v = model.encode([text], batch_size=1, convert_to_numpy=True, normalize_embeddings=True,
                         show_progress_bar=False)[0]
        vecs.append(np.asarray(v, dtype=np.float32))
        if (k + 1) % 100 == 0:
            print("st: %d/%d (%.0f s)" % (k + 1, len(corpus), time.time() - t0), file=sys.stderr, flush=True)
    arr = np.stack(vecs)
    assert arr.shape == (len(corpus), model.get_sentence_embedding_dimension()), arr.shape
    half = arr.astype("<f2")
    h = half.astype(np.float32)
    worst_f16 = float(((h * arr).sum(1) / (np.linalg.norm(h, axis=1) * np.linalg.norm(arr, axis=1))).min())
    with open(os.path.join(a.out, "st.f16"), "wb") as f:
        f.write(half.tobytes())
    st_model = model[0].auto_model
    write_json(a.info, {
        "model_dir": os.path.basename(os.path.normpath(a.model_dir)),
        "safetensors_sha256": golden.sha256_file(os.path.join(a.model_dir, "model.safetensors")),
        "tokenizer_json_sha256": golden.sha256_file(os.path.join(a.model_dir, "tokenizer.json")),
        "modules": [type(m).__name__ for m in model],
        "max_seq_length": model.max_seq_length,
        "tokenizer": type(tok).__name__,
        "dtype": str(next(st_model.parameters()).dtype),
        "attn_implementation": getattr(st_model.config, "_attn_implementation", None),
        "versions": {"sentence_transformers": sentence_transformers.__version__,
                     "transformers": transformers.__version__, "torch": torch.__version__,
                     "numpy": np.__version__, "python": platform.python_version()},
        "settings": {"device": "cpu", "threads": a.threads, "batch_size": 1, "normalize_embeddings": True,
                     "input_handling": "sentence-transformers strips each text (str.strip()) and truncates "
                                       "to max_seq_length tokens ([CLS] + 254 + [SEP]) before the model"},
        "truncated": truncated,
        "float16_storage_min_cosine": worst_f16,
        "seconds": round(time.time() - t_start, 1),
    })
    print("st: %d texts, %d truncated (%.0f s)" % (len(corpus), len(truncated), time.time() - t_start), file=sys.stderr)


# ------------------------------------------------------------------------------ meta
def read_f16(path, n):
    import numpy as np
    a = np.fromfile(path, dtype="<f2")
    assert a.size == n * DIM, (path, a.size)
    return a.reshape(n, DIM).astype(np.float64)


def read_tokens(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f]


def st_comparison(v, st, failed, st_trunc, same_tokens, corpus):
    """llama.cpp's vectors v vs sentence-transformers' st (n x dim float64 arrays): over the
    texts both embed whole, and over those where both saw the same tokens"""
    import numpy as np
    n = len(corpus)
    both = [k for k in range(n) if k not in failed and k not in st_trunc]
    cos = {k: float(v[k] @ st[k] / (np.linalg.norm(v[k]) * np.linalg.norm(st[k]))) for k in both}
    same = [k for k in both if k in same_tokens]
    worst = sorted(both, key=lambda k: cos[k])[:5]
    r = {
        "texts": len(both),
        "min_cosine": round(min(cos.values()), 7),
        "mean_cosine": round(sum(cos.values()) / len(cos), 7),
        "texts_cosine_ge_0.9999": sum(1 for c in cos.values() if c >= 0.9999),
        "texts_cosine_ge_0.999": sum(1 for c in cos.values() if c >= 0.999),
        "same_tokens": {"texts": len(same), "min_cosine": round(min(cos[k] for k in same), 7),
                        "mean_cosine": round(sum(cos[k] for k in same) / len(same), 7)},
        "worst": [{"id": corpus[k][0], "index": k, "cosine": round(cos[k], 7),
                   "same_tokens": k in same_tokens} for k in worst],
    }
    # texts ST truncates but llama.cpp embeds whole (257..512 tokens): their cosine, for the record
    cut = [k for k in st_trunc if k not in failed]
    if cut:
        cc = [float(v[k] @ st[k] / (np.linalg.norm(v[k]) * np.linalg.norm(st[k]))) for k in cut]
        r["st_truncated_llamacpp_whole"] = {
            "texts": len(cut), "min_cosine": round(min(cc), 7), "mean_cosine": round(sum(cc) / len(cc), 7)}
    return r


def cmd_meta(a):
    global DIM, N_CTX
    import numpy as np
    from tokenizers import Tokenizer

    corpus = golden.read_corpus(CORPUS)
    n = len(corpus)
    li = json.load(open(a.llamacpp_info, encoding="utf-8"))
    DIM, N_CTX = li["dim"], li["n_ctx"]
    si = json.load(open(a.st_info, encoding="utf-8"))
    vocab = Tokenizer.from_file(os.path.join(a.model_dir, "tokenizer.json"))
    piece = lambda t: vocab.id_to_token(t)  # noqa: E731

    ltok = read_tokens(os.path.join(a.out, "tokens.jsonl"))
    stok = read_tokens(os.path.join(a.out, "st-tokens.jsonl"))
    assert [r["id"] for r in ltok] == [r["id"] for r in stok] == [i for i, _ in corpus]
    st = read_f16(os.path.join(a.out, "st.f16"), n)
    st_trunc = {r["index"] for r in si["truncated"].values()}

    # token lists: llama.cpp's vs sentence-transformers' untruncated ones (same text, ST strips it)
    diffs = []
    for k, (lr, sr) in enumerate(zip(ltok, stok)):
        lt, s = lr["tokens"], sr.get("untruncated", sr["tokens"])
        if lt == s:
            continue
        i = next((j for j in range(min(len(lt), len(s))) if lt[j] != s[j]), min(len(lt), len(s)))
        lo = max(0, i - 2)
        diffs.append({
            "id": lr["id"], "index": k, "n_llamacpp": len(lt), "n_st": len(s), "first_diff": i,
            "st_truncates": k in st_trunc,
            "llamacpp": [[t, piece(t)] for t in lt[lo:i + 4]],
            "st": [[t, piece(t)] for t in s[lo:i + 4]],
            "text_near_diff": None,
        })
    same_tokens = set(range(n)) - {d["index"] for d in diffs}

    comparison = {}
    for wtype, m in li["models"].items():
        v = read_f16(os.path.join(a.out, "llamacpp-%s.f16" % wtype), n)
        failed = {f["index"] for f in m["failed"].values()}
        comparison[wtype] = st_comparison(v, st, failed, st_trunc, same_tokens, corpus)

    for d in diffs:  # a little of the text around the first difference, for reading
        text = corpus[d["index"]][1]
        d["text_near_diff"] = text if len(text) <= 120 else None
        if d["text_near_diff"] is None:
            # the HF tokenizer's offsets locate the differing token in the text
            enc = vocab.encode(text.strip())
            j = min(d["first_diff"], len(enc.offsets) - 1)
            s0, e0 = enc.offsets[j]
            lead = len(text) - len(text.lstrip())
            lo = max(0, lead + s0 - 40)
            d["text_near_diff"] = text[lo:min(lead + e0 + 40, lo + 120)]

    m0 = next(iter(li["models"].values()))
    bo = li["build_ok"]
    meta = {
        "generator": "tests/golden/models/generate.sh (tests/golden/models/reference.py)",
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "model": "sentence-transformers/all-MiniLM-L6-v2 (BERT, 6 layers, 384 dims, WordPiece uncased, mean pooling, normalize)",
        "count": n,
        "dim": DIM,
        "corpus": "tests/golden/corpus.jsonl",
        "corpus_sha256": golden.sha256_file(CORPUS),
        "files": {
            "tokens.jsonl": "{id, tokens}: llama-tokenize's ids per corpus text ([CLS]=101 ... [SEP]=102 included, "
                            "never truncated); llama-embedding fed exactly these (checked for every run)",
            "llamacpp-F32.f16 / llamacpp-F16.f16 / llamacpp-Q8_0.f16":
                "count x dim float16 little-endian, row i = corpus text i, llama-embedding's L2-normalized "
                "vector; a row of NaN where llama.cpp failed (llamacpp.<type>.failed)",
            "st.f16": "count x dim float16 little-endian, sentence-transformers' normalized vectors (fp32, original weights)",
            "st-tokens.jsonl": "{id, tokens[, untruncated]}: the ids sentence-transformers feeds the model "
                               "(after str.strip(), truncated to 256); untruncated = the full list where it cut",
        },
        "gguf": {w: {"file": x["file"], "size": x["size"], "sha256": x["sha256"], "source_note": x["source_note"]}
                 for w, x in li["models"].items()},
        "gguf_fetch": "bash scripts/fetch-model.sh --name all-minilm-l6-v2-{F32,F16,Q8_0}.gguf",
        "llamacpp": {
            "source": "PyPI sdist llama-cpp-python==%s, vendor/llama.cpp" % bo.get("llama-cpp-python", "?"),
            "commit": bo.get("llama.cpp.commit"), "build_number": bo.get("llama.cpp.build"),
            "build": "tests/reference/build-llamacpp.sh (Release, CPU only, isa=%s)" % bo.get("isa"),
            "version_output": li["version_output"],
            "commands": {
                "tokenize": "llama-tokenize -m all-minilm-l6-v2-F32.gguf --file TEXTFILE --no-escape --ids --log-disable",
                "embedding": " ".join(["llama-embedding", "-m", "MODEL", "-bf", "TEXTFILE", "--no-escape",
                                       "--embd-separator", "'%s'" % golden.SEP, "--embd-output-format", "raw",
                                       "--embd-normalize", "2", "--verbose-prompt", "-c", str(N_CTX), "-b", str(N_CTX),
                                       "-ub", str(N_CTX), "-t", str(li["threads"]), "--no-warmup", "-lv", "4"]),
                "note": "TEXTFILE = the exact UTF-8 bytes of one corpus text (no strip); one text per run, "
                        "%d runs in parallel; pooling from the file's metadata (bert.pooling_type=1, mean); "
                        "flash attention left at llama.cpp's default (auto); -c 512 = bert.context_length "
                        "(golden.py's EmbeddingGemma goldens use -c 2048: see probe_ctx_2048)" % li["jobs"],
            },
            "log": m0["log"],
            "failed": {w: x["failed"] for w, x in li["models"].items()},
            "over_512_tokens": "llama-embedding refuses a text longer than its batch (-b 512): rc 1, "
                               "'number of tokens in input line (N) exceeds batch size (512)'; no truncation. "
                               "Those texts are NaN rows.",
            "probe_ctx_2048": li.get("probe_ctx_2048"),
            "float16_storage_min_cosine": {w: x["float16_storage_min_cosine"] for w, x in li["models"].items()},
            "reruns_incomplete_output": {w: x["reruns_incomplete_output"] for w, x in li["models"].items()},
            "incomplete_output": "this llama.cpp's logger is a singleton with its own thread, leaked on "
                                 "purpose (common/log.cpp common_log_main(), issue 22142): under load a run sometimes exits 0 with its "
                                 "stdout/stderr cut short. A run counts only when its stderr has the last "
                                 "log line ('llama_perf_context_print: graphs reused') and stdout ends in "
                                 "'\\n\\n'; otherwise it is run again (counts above)",
            "seconds": {"tokenize": li["seconds_tokenize"], **{w: x["seconds"] for w, x in li["models"].items()}},
        },
        "sentence_transformers": {
            **{k: si[k] for k in ("model_dir", "safetensors_sha256", "tokenizer_json_sha256", "modules",
                                  "max_seq_length", "tokenizer", "dtype", "attn_implementation",
                                  "versions", "settings", "float16_storage_min_cosine", "seconds")},
            "truncated_texts": si["truncated"],
            "python": "the cache venv of scripts/fetch-model.sh (torch 2.11.0 CPU) + $CACHE/st-lib "
                      "(tests/golden/st_generate.sh's pins, pip --target)",
        },
        "comparison": {
            "cosine": "llama.cpp vs sentence-transformers per weight type, over the texts both embed whole "
                      "(not truncated by ST, not failed in llama.cpp); computed from the stored float16 rows",
            "per_type": comparison,
            "tokens": {
                "compared": "llama-tokenize's ids vs sentence-transformers' untruncated ids, all %d texts" % n,
                "differ": len(diffs),
                "differ_among_st_untruncated": sum(1 for d in diffs if not d["st_truncates"]),
                "lists": diffs,
            },
        },
    }
    write_json(os.path.join(a.out, "meta.json"), meta, indent=1)
    for w, c in comparison.items():
        print("%-5s texts %d  min %.6f  mean %.6f  (same tokens: %d, min %.6f)"
              % (w, c["texts"], c["min_cosine"], c["mean_cosine"], c["same_tokens"]["texts"],
                 c["same_tokens"]["min_cosine"]), file=sys.stderr)
    print("token lists that differ: %d of %d" % (len(diffs), n), file=sys.stderr)


# ------------------------------------------------------------------------------ quantized files
def rows_f16(path, n, dim):
    """count x dim float16 LE -> list of rows (None for a NaN row), stdlib only"""
    raw = open(path, "rb").read()
    if len(raw) != n * dim * 2:
        raise SystemExit("%s: %d bytes, expected %d x %d float16" % (path, len(raw), n, dim))
    rows = []
    for k in range(n):
        r = struct.unpack_from("<%de" % dim, raw, k * dim * 2)
        rows.append(None if any(x != x for x in r) else r)
    return rows


def rows_f32(path, n, dim):
    raw = open(path, "rb").read()
    if len(raw) != n * dim * 4:
        raise SystemExit("%s: %d bytes, expected %d x %d float32" % (path, len(raw), n, dim))
    return [struct.unpack_from("<%df" % dim, raw, k * dim * 4) for k in range(n)]


def cos_stats(rows, ref, corpus, worst_n=5):
    """cosine of rows to ref over the texts both have: count, mean, min, worst texts"""
    cs = {k: golden.cos(x, y) for k, (x, y) in enumerate(zip(rows, ref)) if x is not None and y is not None}
    worst = sorted(cs, key=lambda k: cs[k])[:worst_n]
    return {"texts": len(cs), "mean_cosine": round(sum(cs.values()) / len(cs), 7),
            "min_cosine": round(min(cs.values()), 7),
            "texts_cosine_ge_0.999": sum(1 for c in cs.values() if c >= 0.999),
            "worst": [{"id": corpus[k][0], "index": k, "cosine": round(cs[k], 7)} for k in worst]}


def gguf_entry(m):
    return {"file": m["file"], "size": m["size"], "sha256": m["sha256"], "source_note": m["source_note"],
            "tensors": m["tensors"], "tensor_types": m["tensor_types"], "token_embd": m["token_embd_type"]}


def batching_entry(li, what):
    """how the runs were made, for meta.json"""
    if li["texts_per_run"] <= 1:
        return {"texts_per_run": 1, "note": "one llama-embedding run per text"}
    seq = li.get("embedding_bin") == "llama-embedding-seq"
    return {
        "texts_per_run": li["texts_per_run"], "runs": li["runs"], "threads": li["threads"], "jobs": li["jobs"],
        "embedding_bin": li.get("embedding_bin"),
        "note": "%s: up to %d consecutive corpus texts per run (the model loaded %d times per type instead of "
                "once per text), joined by the separator (-bf FILE --embd-separator SEP): each text its own "
                "prompt. %s A text over the context runs alone, in llama-embedding itself. Checked per type: "
                "check.indices (a spread of token counts) run again one text per llama-embedding run give "
                "check.identical of check.texts vectors identical (required: all%s)"
                % (what, li["texts_per_run"], li["runs"],
                   "The runs use llama-embedding-seq (tests/golden/models/build-embedding-seq.sh): llama.cpp's "
                   "own embedding.cpp, built like llama-embedding, with one change: every prompt is decoded "
                   "alone (llama-embedding packs the prompts of a run into shared decodes as separate "
                   "sequences, and on quantized files that moves the numbers: repacked products take "
                   "activation rows 4 at a time and the rest through another kernel, so a text's rows are "
                   "computed differently next to other texts; Gemma 3 270M Q4_K_M, short texts: cosine 0.998 "
                   "packed vs alone)." if seq else
                   "llama-embedding decodes them as separate sequences of shared decodes (up to n_batch = %d "
                   "tokens)." % li["n_ctx"],
                   "" if seq else ", or min_cosine >= %g" % BATCH_MIN_COS),
        "check": {w: m["batch_check"] for w, m in li["models"].items()},
    }


def cmd_meta_add(a):
    """add the types of --llamacpp-info to an existing meta.json (all-MiniLM-L6-v2: its F32 /
    F16 / Q8_0 entries and files stay as they are)"""
    import numpy as np
    corpus = golden.read_corpus(CORPUS)
    n = len(corpus)
    li = json.load(open(a.llamacpp_info, encoding="utf-8"))
    global DIM
    DIM = li["dim"]
    path = os.path.join(a.out, "meta.json")
    meta = json.load(open(path, encoding="utf-8"))
    assert meta["dim"] == DIM and meta["count"] == n and meta["corpus_sha256"] == golden.sha256_file(CORPUS)
    si_trunc = {r["index"] for r in meta["sentence_transformers"]["truncated_texts"].values()}
    diffs = {d["index"] for d in meta["comparison"]["tokens"]["lists"]}
    same_tokens = set(range(n)) - diffs
    st = read_f16(os.path.join(a.out, "st.f16"), n)
    f32 = rows_f16(os.path.join(a.out, "llamacpp-F32.f16"), n, DIM)
    check_types = {spec.split("=", 1)[0] for spec in a.check}
    new_types = [w for w in li["models"] if w not in check_types]
    meta["files"]["llamacpp-<QUANT>.f16 (%s)" % " ".join(new_types)] = (
        "as llamacpp-F32.f16, for the llama-quantize'd files (gguf.<type>; quantized.batching says how the "
        "llama-embedding runs were made)")
    for w in new_types:
        m = li["models"][w]
        meta["gguf"][w] = gguf_entry(m)
        v = read_f16(os.path.join(a.out, "llamacpp-%s.f16" % w), n)
        failed = {f["index"] for f in m["failed"].values()}
        meta["comparison"]["per_type"][w] = st_comparison(v, st, failed, si_trunc, same_tokens, corpus)
        for key in ("failed", "float16_storage_min_cosine", "reruns_incomplete_output"):
            meta["llamacpp"][key][w] = m[key]
        meta["llamacpp"]["seconds"][w] = m["seconds"]
    checks = {}
    for spec in a.check:
        w, f = spec.split("=", 1)
        checks[w] = cos_stats(rows_f16(f, n, DIM), rows_f16(os.path.join(a.out, "llamacpp-%s.f16" % w), n, DIM),
                              corpus)
    for w in new_types:  # the types already there keep their entries
        assert w not in ("F32", "F16", "Q8_0"), w
    batching = batching_entry(li, "the quantized types")
    if checks:
        batching["full_corpus_check"] = {
            "note": "the committed one-per-run llamacpp-<TYPE>.f16 vs the same type run batched like the "
                    "quantized ones (not committed), every text", **checks}
    meta["quantized"] = {
        "fetch": a.fetch,
        "note": "llama-quantize of all-minilm-l6-v2-F32.gguf (no importance matrix). 384-wide rows are not "
                "multiples of 256, so the K-quants and IQ4_XS fall back for most matrices (Q4_K -> Q5_0, "
                "Q5_K -> Q5_1, Q6_K -> Q8_0, Q2_K/Q3_K -> Q4_0, IQ4_XS -> IQ4_NL: gguf.<type>.tensor_types); "
                "token_embd is Q8_0 in every file",
        "llamacpp_command": li["command"],
        "batching": batching,
        "vs_F32": {w: cos_stats(rows_f16(os.path.join(a.out, "llamacpp-%s.f16" % w), n, DIM), f32, corpus)
                   for w in new_types},
        "vs_F32_note": "llama.cpp's vectors of each quantized file vs its own F32 file's (llamacpp-F32.f16), "
                       "over the texts both embed (not the %d over 512 tokens)" % len(meta["llamacpp"]["failed"]["F32"]),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seconds": {"tokenize": li["seconds_tokenize"], **{w: m["seconds"] for w, m in li["models"].items()}},
    }
    write_json(path, meta, indent=1)
    for w in new_types:
        q = meta["quantized"]["vs_F32"][w]
        c = meta["comparison"]["per_type"][w]
        print("%-7s vs F32: mean %.6f min %.6f | vs ST: mean %.6f min(same tokens) %.6f"
              % (w, q["mean_cosine"], q["min_cosine"], c["mean_cosine"], c["same_tokens"]["min_cosine"]),
              file=sys.stderr)


def cmd_meta_new(a):
    """meta.json of a directory with llama.cpp's outputs only (no sentence-transformers)"""
    corpus = golden.read_corpus(CORPUS)
    n = len(corpus)
    li = json.load(open(a.llamacpp_info, encoding="utf-8"))
    dim = li["dim"]
    types = list(li["models"])
    rows = {w: rows_f16(os.path.join(a.out, "llamacpp-%s.f16" % w), n, dim) for w in types}
    m0 = li["models"][types[0]]
    bo = li["build_ok"]
    toks = read_tokens(os.path.join(a.out, "tokens.jsonl"))
    lens = [len(t["tokens"]) for t in toks]
    meta = {
        "generator": a.generator,
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "model": a.model_desc,
        "count": n,
        "dim": dim,
        "corpus": "tests/golden/corpus.jsonl",
        "corpus_sha256": golden.sha256_file(CORPUS),
        "files": {
            "tokens.jsonl": "{id, tokens}: llama-tokenize's ids per corpus text (special tokens as the file "
                            "adds them, never truncated)%s; llama-embedding fed exactly these (checked for every text "
                            "of every run of every type)" % (
                                ", taken from %s (golden.py's llama-tokenize run, the same vocabulary)" % li["tokens_from"]
                                if li.get("tokens_from") else ""),
            "llamacpp-<TYPE>.f16 (%s)" % " ".join(types):
                "count x dim float16 little-endian, row i = corpus text i, llama-embedding's L2-normalized "
                "vector; a row of NaN where llama.cpp failed (llamacpp.failed)",
        },
        "gguf": {w: gguf_entry(m) for w, m in li["models"].items()},
        "gguf_fetch": a.fetch,
        "tokens": {"min": min(lens), "max": max(lens), "total": sum(lens),
                   "over_context": li["over_context"], "n_ctx": li["n_ctx"],
                   "n_ctx_train": li["shape"]["n_ctx_train"]},
        "llamacpp": {
            "source": "PyPI sdist llama-cpp-python==%s, vendor/llama.cpp" % bo.get("llama-cpp-python", "?"),
            "commit": bo.get("llama.cpp.commit"), "build_number": bo.get("llama.cpp.build"),
            "build": "tests/reference/build-llamacpp.sh (Release, CPU only, isa=%s)" % bo.get("isa"),
            "version_output": li["version_output"],
            "commands": {
                "tokenize": "llama-tokenize -m MODEL --file TEXTFILE --no-escape --ids --log-disable",
                "embedding": "llama-embedding " + li["command"],
                "note": "TEXTFILE = the exact UTF-8 bytes of the corpus texts (no strip, no prompt); "
                        "-c/-b/-ub %d (golden.py's -c 2048, at most the file's context_length); flash "
                        "attention left at llama.cpp's default (auto)" % li["n_ctx"],
                "pooling": a.pooling_note or "from the file's metadata (log.pooling_type)",
            },
            "log": m0["log"],
            "last_token_warning": li.get("last_token_warning"),
            "failed": {w: m["failed"] for w, m in li["models"].items()},
            "float16_storage_min_cosine": {w: m["float16_storage_min_cosine"] for w, m in li["models"].items()},
            "reruns_incomplete_output": {w: m["reruns_incomplete_output"] for w, m in li["models"].items()},
            "incomplete_output": "this llama.cpp's logger is a singleton with its own thread, leaked on "
                                 "purpose (common/log.cpp common_log_main(), issue 22142): under load a run sometimes "
                                 "exits 0 with its stdout/stderr cut short. A run counts only when its stderr has the "
                                 "last log line ('llama_perf_context_print: graphs reused') and stdout ends in "
                                 "'\\n\\n'; otherwise it is run again (counts above)",
            "batching": batching_entry(li, "every type"),
            "seconds": {"tokenize": li["seconds_tokenize"], **{w: m["seconds"] for w, m in li["models"].items()}},
        },
    }
    if os.path.exists(os.path.join(a.out, "st.f16")):
        meta["files"]["st.f16 / st-tokens.jsonl"] = (
            "sentence-transformers' vectors and ids, not made by this generator: st_from_golden_st.py derives them "
            "from tests/golden/st (st_generate.sh)")
    if "F32" in rows:
        meta["vs_F32"] = {w: cos_stats(rows[w], rows["F32"], corpus) for w in types if w != "F32"}
        meta["vs_F32_note"] = "llama.cpp's vectors of each file vs its own F32 file's (llamacpp-F32.f16)"
    cmp = {}
    for spec in a.compare:
        label, rest = spec.split("=", 1)
        w, f = rest.split(":", 1)
        cmp[label] = {"type": w, **cos_stats(rows[w], rows_f32(f, n, dim), corpus)}
    for spec in a.compare_tokens:
        label, f = spec.split("=", 1)
        other = read_tokens(f)
        same = sum(1 for x, y in zip(toks, other) if x == y)
        cmp[label] = {"texts": len(other), "identical": same}
    if cmp:
        meta["comparisons"] = cmp
    write_json(os.path.join(a.out, "meta.json"), meta, indent=1)
    for w in types:
        if "vs_F32" in meta and w in meta["vs_F32"]:
            q = meta["vs_F32"][w]
            print("%-7s vs F32: mean %.6f min %.6f" % (w, q["mean_cosine"], q["min_cosine"]), file=sys.stderr)
    for label, c in cmp.items():
        print("%s: %s" % (label, {k: v for k, v in c.items() if k != "worst"}), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("llamacpp")
    g.add_argument("--bin", required=True)
    g.add_argument("--model", action="append", required=True, help="TYPE=FILE, the first one also tokenizes")
    g.add_argument("--out", required=True)
    g.add_argument("--info", required=True)
    g.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    g.add_argument("--threads", type=int, default=1)
    g.add_argument("--ctx", type=int, default=0,
                   help="-c/-b/-ub (default: the file's context_length, at most %d)" % MAX_CTX)
    g.add_argument("--pooling", choices=["mean", "cls", "last", "none"],
                   help="llama-embedding --pooling (default: the file's metadata)")
    g.add_argument("--texts-per-run", type=int, default=1,
                   help="texts per llama-embedding run, joined by the separator (default 1)")
    g.add_argument("--batch-check", type=int, default=20,
                   help="with --texts-per-run > 1: texts run again one per run and compared")
    g.add_argument("--batch-min-cos", type=float, default=BATCH_MIN_COS)
    g.add_argument("--batch-identical", action="store_true",
                   help="the batch check requires identical vectors (with --embedding-bin llama-embedding-seq)")
    g.add_argument("--embedding-bin", help="the llama-embedding binary of the runs with several texts "
                   "(build-embedding-seq.sh: one decode per text); one-text runs use BIN/llama-embedding")
    g.add_argument("--tokens", help="tokens.jsonl of an earlier llama-tokenize run (same vocabulary) instead "
                   "of running llama-tokenize")
    g.add_argument("--tok-jobs", type=int, default=os.cpu_count() or 2, help="parallel llama-tokenize runs")
    g.add_argument("--tok-model", help="the GGUF llama-tokenize loads (default: the first --model; a "
                   "small file of the same vocabulary loads faster)")
    g.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)  # first N texts (testing)
    ma = sub.add_parser("meta-add")
    ma.add_argument("--out", required=True)
    ma.add_argument("--llamacpp-info", required=True)
    ma.add_argument("--fetch", required=True, help="the command that makes the new files, for meta.json")
    ma.add_argument("--check", action="append", default=[],
                    help="NAME=FILE.f16: a batched run of a type already in meta.json, compared on every text")
    mn = sub.add_parser("meta-new")
    mn.add_argument("--out", required=True)
    mn.add_argument("--llamacpp-info", required=True)
    mn.add_argument("--model-desc", required=True)
    mn.add_argument("--fetch", required=True)
    mn.add_argument("--generator", required=True)
    mn.add_argument("--pooling-note", default=None)
    mn.add_argument("--compare", action="append", default=[],
                    help="LABEL=TYPE:FILE.f32: llamacpp-TYPE vs an N x dim float32 file (e.g. tests/golden/embeddings.f32)")
    mn.add_argument("--compare-tokens", action="append", default=[], help="LABEL=tokens.jsonl to compare tokens.jsonl with")
    s = sub.add_parser("st")
    s.add_argument("--model-dir", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--info", required=True)
    s.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    m = sub.add_parser("meta")
    m.add_argument("--model-dir", required=True)
    m.add_argument("--out", required=True)
    m.add_argument("--llamacpp-info", required=True)
    m.add_argument("--st-info", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    {"llamacpp": cmd_llamacpp, "st": cmd_st, "meta": cmd_meta, "meta-add": cmd_meta_add,
     "meta-new": cmd_meta_new}[a.cmd](a)


if __name__ == "__main__":
    main()
