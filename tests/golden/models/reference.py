#!/usr/bin/env python3
"""Reference outputs of all-MiniLM-L6-v2 for the golden corpus (run by generate.sh).

    reference.py llamacpp --bin DIR --model TYPE=FILE... --out DIR --info JSON [--jobs N] [--threads N]
    reference.py st       --model-dir DIR --out DIR --info JSON [--threads N]
    reference.py meta     --model-dir DIR --out DIR --llamacpp-info JSON --st-info JSON

llamacpp (stdlib only): for every text of tests/golden/corpus.jsonl (golden.py's
read_corpus), llama-tokenize on the first model (ids incl. the [CLS]/[SEP] llama-embedding
adds) -> tokens.jsonl, and for each TYPE=FILE one llama-embedding run per text, with
golden.py's flags except the context: -c/-b/-ub 512 = the model's n_ctx_train (pooling
from the file's metadata, flash attention at llama.cpp's default, --embd-normalize 2) ->
llamacpp-TYPE.f16 (count x 384 float16 LE, corpus order). The ids llama-embedding prints
with --verbose-prompt are checked against tokens.jsonl for every run. A text llama.cpp
fails on (more than 512 tokens: "exceeds batch size") gets a NaN row; the failures go to
--info. One probe run of the shortest over-long text with golden.py's -c 2048 records what
llama.cpp does past the 512 positions.

st (the cache venv + sentence-transformers 5.1.2): fp32 on the original safetensors, one
text per encode() call (batch_size=1, no padding), normalize_embeddings=True -> st.f16
(count x 384) and st-tokens.jsonl (the ids sentence-transformers feeds the model, i.e.
after str.strip() and truncation to max_seq_length 256; "untruncated" for the texts it cut).

meta (the cache venv: numpy, tokenizers): meta.json with checksums, versions, commands and
the comparison llama.cpp vs sentence-transformers (cosines per weight type, token lists).
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

DIM = 384
N_CTX = 512  # bert.context_length of the file = the 512 position embeddings
CORPUS = os.path.join(GOLDEN, "corpus.jsonl")
MAX_ATTEMPTS = 8
COMPLETE = re.compile(rb"llama_perf_context_print:\s+graphs reused")


def write_json(path, obj, indent=None):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(obj, ensure_ascii=False, indent=indent,
                           separators=None if indent else (",", ":")) + "\n")


def embedding_cmd(bin_dir, model, path, threads, n_ctx=N_CTX):
    return [os.path.join(bin_dir, "llama-embedding"), "-m", model, "-bf", path, "--no-escape",
            "--embd-separator", golden.SEP, "--embd-output-format", "raw", "--embd-normalize", "2",
            "--verbose-prompt", "-c", str(n_ctx), "-b", str(n_ctx), "-ub", str(n_ctx),
            "-t", str(threads), "--no-warmup", "-lv", "4"]


def parse_embedding(rest):
    lines = [l for l in rest.split(b"\n") if l.strip()]
    if len(lines) != 1:
        raise RuntimeError("expected exactly one embedding line, got %d" % len(lines))
    vals = [float(x) for x in lines[0].split()]
    if len(vals) != DIM:
        raise RuntimeError("expected %d values, got %d" % (DIM, len(vals)))
    return vals


def last_error_line(err):
    lines = [l for l in err.decode("utf-8", "replace").splitlines()
             if re.search(r"(^|\s)E |error|GGML_ASSERT|exceeds", l)]
    return re.sub(r"^\d+(\.\d+)+ ", "", lines[-1]).strip() if lines else None


# ------------------------------------------------------------------------------ llamacpp
def cmd_llamacpp(a):
    t_start = time.time()
    corpus = golden.read_corpus(CORPUS)
    n = len(corpus)
    models = []
    for spec in a.model:
        wtype, path = spec.split("=", 1)
        models.append((wtype, os.path.abspath(path)))
    tmp = tempfile.mkdtemp(prefix="ggufembed-minilm-")
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
    tok_model = models[0][1]
    with ThreadPoolExecutor(max_workers=a.jobs) as ex:
        tokens = list(ex.map(lambda p: golden.tokenize(a.bin, tok_model, p), paths))
    t_tok = time.time() - t0
    print("tokenized %d texts (%.1f s)" % (n, t_tok), file=sys.stderr)
    with open(os.path.join(a.out, "tokens.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for (ident, _), t in zip(corpus, tokens):
            f.write(json.dumps({"id": ident, "tokens": t}, separators=(",", ":")) + "\n")

    info = {"models": {}, "seconds_tokenize": round(t_tok, 1), "jobs": a.jobs, "threads": a.threads}
    for wtype, model in models:
        t0 = time.time()
        res = [None] * n

        def work(k):
            # llama.cpp's logger is a singleton with its own thread, leaked on purpose
            # (common/log.cpp common_log_main(), "may cause logs to be lost if not flushed
            # before the program exits", issue 22142): under load a run can exit 0 before all
            # of its output is written.
            # The last log line ("graphs reused") proves every earlier one, stdout's vector
            # included, was written (one queue, in order); a run without it is repeated.
            for attempt in range(MAX_ATTEMPTS):
                rc, out, err = golden.run(embedding_cmd(a.bin, model, paths[k], a.threads))
                if rc != 0:
                    fail = {"rc": rc, "error": last_error_line(err)}
                    if fail["error"]:
                        return fail, None, None, attempt
                elif COMPLETE.search(err) and out.endswith(b"\n\n"):
                    break
            else:
                raise RuntimeError("text %d: %d runs, none with complete output" % (k, MAX_ATTEMPTS))
            rest = golden.check_verbose_tokens(out, tokens[k])  # raises: a generator bug
            errs = err.decode("utf-8", "replace")
            ntok = golden.grep1(r"number of tokens in prompt = (\d+)", errs)
            if ntok is None or int(ntok) != len(tokens[k]):
                raise RuntimeError("text %d: llama-embedding counts %s tokens, llama-tokenize %d"
                                   % (k, ntok, len(tokens[k])))
            if "last token in the prompt is not SEP or EOS" in errs:
                raise RuntimeError("text %d: llama-embedding warns: last token is not SEP/EOS" % k)
            return None, parse_embedding(rest), errs, attempt

        with ThreadPoolExecutor(max_workers=a.jobs) as ex:
            res = list(ex.map(work, range(n)))
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
            "failed": failures,
            "float16_storage_min_cosine": worst,
            "reruns_incomplete_output": sum(r[3] for r in res),
            "seconds": round(time.time() - t0, 1),
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

    # what llama.cpp does past its 512 positions when the context allows more (golden.py's -c 2048)
    long_k = [k for k in range(n) if len(tokens[k]) > N_CTX]
    if long_k:
        k = min(long_k, key=lambda k: len(tokens[k]))
        cmd = embedding_cmd(a.bin, models[0][1], paths[k], a.threads, n_ctx=2048)
        rc, out, err = golden.run(cmd)
        info["probe_ctx_2048"] = {
            "text": corpus[k][0], "index": k, "n_tokens": len(tokens[k]), "model": models[0][0],
            "flags": "-c 2048 -b 2048 -ub 2048 (otherwise the same)", "rc": rc,
            "error": last_error_line(err),
        }
    rc, vout, verr = golden.run([os.path.join(a.bin, "llama-embedding"), "--version"])
    info["version_output"] = (vout + verr).decode("utf-8", "replace").strip()
    bo = os.path.join(os.path.dirname(a.bin.rstrip("/")), "BUILD_OK")
    info["build_ok"] = dict(l.strip().split("=", 1) for l in open(bo) if "=" in l) if os.path.exists(bo) else {}
    info["seconds_total"] = round(time.time() - t_start, 1)
    for p in paths:
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
    assert arr.shape == (len(corpus), DIM), arr.shape
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


def cmd_meta(a):
    import numpy as np
    from tokenizers import Tokenizer

    corpus = golden.read_corpus(CORPUS)
    n = len(corpus)
    li = json.load(open(a.llamacpp_info, encoding="utf-8"))
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
        both = [k for k in range(n) if k not in failed and k not in st_trunc]
        cos = {k: float(v[k] @ st[k] / (np.linalg.norm(v[k]) * np.linalg.norm(st[k]))) for k in both}
        same = [k for k in both if k in same_tokens]
        worst = sorted(both, key=lambda k: cos[k])[:5]
        comparison[wtype] = {
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
            comparison[wtype]["st_truncated_llamacpp_whole"] = {
                "texts": len(cut), "min_cosine": round(min(cc), 7), "mean_cosine": round(sum(cc) / len(cc), 7)}

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
    {"llamacpp": cmd_llamacpp, "st": cmd_st, "meta": cmd_meta}[a.cmd](a)


if __name__ == "__main__":
    main()
