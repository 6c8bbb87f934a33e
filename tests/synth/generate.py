#!/usr/bin/env python3
"""Write tests/synth/golden/<variant>.json with llama.cpp's own tools (stdlib only).

    generate.py --bin LLAMA_BIN_DIR [--out DIR] [--threads N] [--only GLOBS]

Builds the synthetic models (make_models.py and families.py, via synthlib) into a temporary
directory (only the variants matching --only, e.g. "bert_*,qwen3_last", if given), then for
every embedding variant and text:
  * llama-tokenize -m MODEL --file T --no-escape --ids --log-disable
      (BOS/EOS added per the metadata, special tokens parsed: the tool's defaults)
  * llama-embedding -m MODEL -bf T --no-escape --embd-separator SEP --embd-output-format raw
      --embd-normalize 2 --verbose-prompt -c 512 -b 512 -ub 512 -t N --no-warmup -lv 4
      (one text per run, read byte-exact; SEP never occurs so nothing is split; pooling comes
       from the model's pooling_type; the ids it printed must equal llama-tokenize's)
and records tokens, the L2-normalized embedding (llama.cpp prints 7 decimals) and the sha256 of
the model file. The models themselves are deleted; they are never committed.

For the families.py variants the recorded tokens are the ids llama-embedding fed the model
(its --verbose-prompt listing). llama-tokenize passes add_special = add_bos, so for a
vocabulary with add_bos false and add_eos true (Qwen3-Embedding) it leaves out the EOS that
llama-embedding appends; that one difference is allowed (and logged), any other is an error.

Rerankers (pooling_type 4) get query/document pairs instead of texts, one pair per run:
  * llama-embedding -m MODEL -bf P --pooling rank --embd-normalize -1 (same other flags), where
    P is "query<TAB>document" (--cls-separator default); llama-embedding fills the model's
    tokenizer.chat_template.rerank or joins query + EOS/SEP texts + document (embedding.cpp)
and records the prompt string that gives (rerank_format from families.py; llama-tokenize of it
must reproduce the fed ids), the fed ids, and the raw scores: n_cls_out values, softmax'ed for
qwen3 ([yes, no]); "score" is the first. Each pair is run three times: with the default flags
("score"/"scores"; llama.cpp resolves -fa auto to flash attention on CPU, which rounds K, V and
Q to fp16), with -fa off added ("score_fa_off"/"scores_fa_off"; f32 attention, but a causal
model's K/V still go through llama.cpp's f16 KV cache), and with -fa off -ctk f32 -ctv f32 added
("score_f32kv"/"scores_f32kv"; f32 attention and an f32 KV cache), all with the same ids.
The mode of every run is checked against llama.cpp's log and recorded in reference.flash_attn,
with the KV cache types each reading logged ("kv_cache": {reading: types}; "none" for the bert
reranker, which has no KV cache; "K f16, V f16" / "K f32, V f32" for qwen3).

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
# the reranker readings: golden key, extra llama-embedding flags, the flash-attention mode
# llama.cpp must log, the KV cache types it may log ("none" = no KV cache, non-causal models)
RERANK_READINGS = (
    ("score", (), "on", ("none", "K f16, V f16")),
    ("score_fa_off", ("-fa", "off"), "off", ("none", "K f16, V f16")),
    ("score_f32kv", ("-fa", "off", "-ctk", "f32", "-ctv", "f32"), "off", ("none", "K f32, V f32")),
)
# which attention path each reranker reading used (checked against llama.cpp's log per run);
# "kv_cache" is added per variant from the log: per reading "none", or the K/V types of the KV
# cache that a causal model's K and V pass through (f16 by default: -fa off does not change it)
RERANK_FLASH_ATTN = {"score": "on (default flags: -fa auto, resolved to enabled on CPU)",
                     "score_fa_off": "off (-fa off: attention computed in f32)",
                     "score_f32kv": "off (-fa off -ctk f32 -ctv f32: attention computed in f32, "
                                    "f32 KV cache)"}


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


_TOKEN_HEAD = re.compile(rb" *(-?\d+) -> '")
_NEXT_TOKEN = re.compile(rb"'\n *-?\d+ -> '")


def parse_verbose_tokens(out, n):
    """The n ids of a --verbose-prompt listing (no prior knowledge of them); returns (ids, rest)."""
    pos, ids = 0, []
    for i in range(n):
        m = _TOKEN_HEAD.match(out, pos)
        if not m:
            raise RuntimeError("token %d: no '<id> -> ' at byte %d: %r" % (i, pos, out[pos:pos + 40]))
        ids.append(int(m.group(1)))
        pos = m.end()
        if i + 1 < n:
            e = _NEXT_TOKEN.search(out, pos)
            nxt = e.start() if e else -1
        else:
            nxt = out.find(b"'\n\n\n", pos)
        if nxt < 0:
            raise RuntimeError("token %d (id %d): cannot find the end of its piece" % (i, ids[-1]))
        pos = nxt + 2
    rest = out[pos:]
    if re.search(rb"^ *\d+ -> '", rest, re.M):
        raise RuntimeError("llama-embedding listed more tokens than it said")
    return ids, rest


def flash_attn_mode(errs):
    """The attention path llama.cpp resolved, from its log: "on" or "off" (None if not logged).
    llama_context prints flash_attn = auto|enabled|disabled; for auto, resolve_fused_ops then
    logs "Flash Attention enabled" (or leaves it off)."""
    m = re.search(r"llama_context: flash_attn\s*=\s*(\w+)", errs)
    if m is None:
        return None
    if m.group(1) == "auto":
        return "on" if "Flash Attention enabled" in errs else "off"
    return {"enabled": "on", "disabled": "off"}.get(m.group(1))


def kv_cache_types(errs):
    """"K f16, V f16" from llama_kv_cache's size line, or "none" (non-causal models have no
    KV cache; causal ones keep K/V in it, f16 by default, whatever -fa says)."""
    m = re.search(r"llama_kv_cache: size = .*K \((\w+)\).*V \((\w+)\)", errs)
    return "K %s, V %s" % m.groups() if m else "none"


def embed(bin_dir, model, path, tokens, dim, threads, rank=False, extra=(), want_fa=None, info=None):
    """tokens: the expected ids (checked), or None to take them from --verbose-prompt.
    extra: more llama-embedding flags (e.g. -fa off); want_fa: the flash-attention mode
    ("on"/"off") llama.cpp must have logged for the run, or None for no check; info: a dict
    that gets the run's KV cache types ("kv_cache"). Returns (values, ids)."""
    cmd = [os.path.join(bin_dir, "llama-embedding"), "-m", model, "-bf", path, "--no-escape",
           "--embd-separator", SEP, "--embd-output-format", "raw",
           "--verbose-prompt", "-c", str(N_CTX), "-b", str(N_CTX), "-ub", str(N_CTX),
           "-t", str(threads), "--no-warmup", "-lv", "4"]
    cmd += ["--pooling", "rank", "--embd-normalize", "-1"] if rank else ["--embd-normalize", "2"]
    cmd += list(extra)
    last = ""
    for attempt in range(RETRIES):
        rc, out, err = run(cmd)
        errs = err.decode("utf-8", "replace")
        if rc != 0:
            raise RuntimeError("llama-embedding failed (rc=%d): %s" % (rc, errs[-3000:]))
        if "llama_perf_context_print:    graphs reused" not in errs:
            last = "output lost (attempt %d)" % (attempt + 1)
            continue
        if want_fa is not None and flash_attn_mode(errs) != want_fa:
            raise RuntimeError("llama-embedding %s: flash attention %s, expected %s"
                               % (" ".join(extra) or "(default flags)", flash_attn_mode(errs), want_fa))
        if info is not None:
            info["kv_cache"] = kv_cache_types(errs)
        ntok = re.search(r"number of tokens in prompt = (\d+)", errs)
        if ntok is None or (tokens is not None and int(ntok.group(1)) != len(tokens)):
            raise RuntimeError("token count: llama-embedding %s, llama-tokenize %d"
                               % (ntok and ntok.group(1), len(tokens)))
        if tokens is not None:
            rest, ids = check_verbose_tokens(out, tokens), tokens
        else:
            ids, rest = parse_verbose_tokens(out, int(ntok.group(1)))
        lines = [l for l in rest.split(b"\n") if l.strip()]
        if len(lines) != 1:
            raise RuntimeError("expected one embedding line, got %d" % len(lines))
        vals = [float(x) for x in lines[0].split()]
        if len(vals) != dim:
            raise RuntimeError("expected %d values, got %d" % (dim, len(vals)))
        return vals, ids
    raise RuntimeError("llama-embedding: %s after %d attempts" % (last, RETRIES))


def version(bin_dir):
    rc, out, err = run([os.path.join(bin_dir, "llama-embedding"), "--version"])
    return (out + err).decode("utf-8", "replace").strip().splitlines()[0] if rc == 0 else "?"


def write_text(tmp, name, k, text):
    p = os.path.join(tmp, "%s-%02d.txt" % (name, k))
    with open(p, "wb") as f:
        f.write(text.encode("utf-8"))
    return p


def check_len(name, k, toks, cfg):
    if len(toks) >= cfg["n_ctx"] or len(toks) > N_CTX:
        raise SystemExit("%s input %d: %d tokens, context %d" % (name, k, len(toks), cfg["n_ctx"]))


def embedding_items(a, tmp, name, m, texts):
    cfg, items, notes = m["config"], [], []
    family = "arch" in cfg   # families.py variant (make_models.py's gemma-embedding ones have none)
    for k, text in enumerate(texts):
        p = write_text(tmp, name, k, text)
        toks = tokenize(a.bin, m["path"], p)
        check_len(name, k, toks, cfg)
        if not family:
            emb, fed = embed(a.bin, m["path"], p, toks, cfg["n_embd"], a.threads)
        else:
            emb, fed = embed(a.bin, m["path"], p, None, cfg["n_embd"], a.threads)
            if fed != toks:
                if fed[:-1] == toks and cfg.get("tok") == "qwen3-embedding":
                    notes.append(k)   # llama-tokenize: add_special = add_bos (false) -> no EOS
                else:
                    raise RuntimeError("%s text %d: llama-embedding fed %s, llama-tokenize gives %s"
                                       % (name, k, fed, toks))
            check_len(name, k, fed, cfg)
        it = {"text": text, "tokens": fed, "embedding": emb}
        if fed != toks:
            it["llama_tokenize"] = toks
        items.append(it)
    if notes:
        log("%s: llama-tokenize omits the appended EOS on texts %s (add_bos false, add_eos true); "
            "the goldens keep llama-embedding's ids" % (name, notes))
    # random weights must still separate the texts
    worst = max((synthlib.cosine(x["embedding"], y["embedding"]), i, j)
                for i, x in enumerate(items) for j, y in enumerate(items) if i < j and x["tokens"] != y["tokens"])
    log("%s: highest cosine between two different texts %.4f (texts %d, %d)" % ((name,) + worst))
    if family and worst[0] > 0.99:
        raise RuntimeError("%s: texts %d and %d give nearly the same embedding (%.4f)" % (name, worst[1], worst[2], worst[0]))
    tool = ("llama-embedding --embd-normalize 2 (one text per run; tokens = its --verbose-prompt ids, "
            "checked against llama-tokenize)" if family else
            "llama-tokenize / llama-embedding --embd-normalize 2 (one text per run)")
    return items, tool


def rerank_items(a, tmp, name, m, pairs):
    cfg, items = m["config"], []
    fmt = cfg["rerank_format"]
    n_out = len(cfg.get("labels") or [None])
    kv = {key: set() for key, _, _, _ in RERANK_READINGS}
    for k, pr in enumerate(pairs):
        q, d = pr["query"], pr["document"]
        if "\t" in q + d or SEP in q + d:
            raise SystemExit("%s pair %d: no TAB or separator allowed" % (name, k))
        if "template" in fmt:
            prompt = fmt["template"].replace("{query}", q).replace("{document}", d)
        else:
            prompt = q + fmt["join"] + d
        pp = write_text(tmp, name + "-prompt", k, prompt)
        toks = tokenize(a.bin, m["path"], pp)
        p = write_text(tmp, name, k, q + "\t" + d)
        # llama.cpp's default here is flash attention (K/V/Q rounded to fp16 on CPU); the same
        # run with -fa off computes attention in f32 (K/V of a causal model still in an f16 KV
        # cache), and with -fa off -ctk f32 -ctv f32 also the KV cache is f32. All are kept.
        fed, reading = None, {}
        for key, extra, want_fa, kv_ok in RERANK_READINGS:
            i = {}
            vals, ids = embed(a.bin, m["path"], p, fed, n_out, a.threads, rank=True,
                              extra=extra, want_fa=want_fa, info=i)
            if i["kv_cache"] not in kv_ok:
                raise RuntimeError("%s pair %d, %s: KV cache %s, expected one of %s"
                                   % (name, k, " ".join(extra) or "(default flags)", i["kv_cache"], kv_ok))
            kv[key].add(i["kv_cache"])
            fed = ids if fed is None else fed
            reading[key] = vals
        if fed != toks:
            raise RuntimeError("%s pair %d: llama-embedding fed %s, llama-tokenize of the prompt %r gives %s"
                               % (name, k, fed, prompt, toks))
        check_len(name, k, fed, cfg)
        it = {"query": q, "document": d, "prompt": prompt, "tokens": fed}
        for key, _, _, _ in RERANK_READINGS:
            it[key] = reading[key][0]
            it["scores" + key[len("score"):]] = reading[key]
        items.append(it)
    sc = [it["score"] for it in items]
    log("%s: scores %s" % (name, " ".join("%.4f" % x for x in sc)))
    for key, extra, _, _ in RERANK_READINGS[1:]:
        log("%s: max relative difference default flags vs %s %.2e" % (name, " ".join(extra), max(
            abs(it["score"] - it[key]) / max(abs(it[key]), 1e-30) for it in items)))
    if max(sc) - min(sc) < 0.05:
        raise RuntimeError("%s: the scores hardly differ (%s)" % (name, sc))
    for key, types in kv.items():
        if len(types) != 1:
            raise RuntimeError("%s: KV cache types differ between %s runs: %s" % (name, key, sorted(types)))
    fa = dict(RERANK_FLASH_ATTN, kv_cache={key: types.pop() for key, types in kv.items()})
    return items, fa, ("llama-embedding --pooling rank --embd-normalize -1 (one query<TAB>document pair per "
                   "run; tokens = its --verbose-prompt ids = llama-tokenize of prompt); score/scores with "
                   "the default flags, score_fa_off/scores_fa_off with -fa off, score_f32kv/scores_f32kv "
                   "with -fa off -ctk f32 -ctv f32 (see flash_attn)")


def write_golden(path, rec):
    items = rec["items"]
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        # one item per line keeps diffs readable
        head = {k: v for k, v in rec.items() if k != "items"}
        s = json.dumps(head, ensure_ascii=False, sort_keys=True)
        f.write(s[:-1] + ',\n "items": [\n')
        f.write(",\n".join("  " + json.dumps(it, ensure_ascii=False, separators=(",", ":")) for it in items))
        f.write("\n ]}\n")
    json.load(open(path, encoding="utf-8"))  # must parse back


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="directory with llama-tokenize and llama-embedding")
    ap.add_argument("--out", default=synthlib.GOLDEN_DIR)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", default=os.environ.get("GGUFEMBED_SYNTH_ONLY", ""),
                    help="comma-separated variant globs (default: all; env GGUFEMBED_SYNTH_ONLY)")
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="ggufembed-synth-gen-")
    try:
        models, texts, info = synthlib.build_models(tmp, log, synthlib.variant_selector(a.only))
        if not models:
            raise SystemExit("no variant matches --only %r" % a.only)
        ver = version(a.bin)
        os.makedirs(a.out, exist_ok=True)
        for name, m in models.items():
            fa = None
            if m["config"].get("pooling") == 4:
                items, fa, tool = rerank_items(a, tmp, name, m, texts[name])
            else:
                items, tool = embedding_items(a, tmp, name, m, texts[name])
            rec = {
                "variant": name,
                "model": {"sha256": m["sha256"], "bytes": m["bytes"], "config": m["config"],
                          "made_with": {"numpy": info["numpy"], "gguf_py": info["gguf_py_label"]}},
                "reference": {"tool": tool, "version": ver},
                "items": items,
            }
            if fa is not None:
                rec["reference"]["flash_attn"] = fa
            path = os.path.join(a.out, name + ".json")
            write_golden(path, rec)
            ntok = sum(len(it["tokens"]) for it in items)
            log("%s: %d inputs, %d tokens, sha256 %s -> %s" % (name, len(items), ntok, m["sha256"][:16], path))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except synthlib.SetupError as e:
        log("ERROR: %s" % e)
        sys.exit(1)
