#!/usr/bin/env python3
"""ggufembed vs llama.cpp on small synthetic models of every embedding family (ctest: synth).

    test_synth.py GGUFEMBED_BINARY [--only GLOBS]      GLOBS: e.g. "bert_*,qwen3_last"
                                                       (default $GGUFEMBED_SYNTH_ONLY, else all)

Regenerates the models of make_models.py (gemma-embedding) and families.py (bert, nomic-bert,
nomic-bert-moe, jina-bert-v2, qwen3, gemma3, rerankers) into a temporary directory
(deterministic; each file's sha256 must equal the one in tests/synth/golden/<variant>.json,
otherwise the generator, its numpy / gguf-py or a vocabulary file drifted and the goldens no
longer apply), then for every golden input:
  * `ggufembed tokenize -m MODEL TEXT` must give exactly llama.cpp's ids (the ids llama-embedding
    fed the model; where llama-tokenize prints other ids, those are accepted too), and
  * `ggufembed embed -m MODEL --format ndjson --threads 1 --keep-whitespace TEXT...` (all texts of
    a model in one call, so they are packed into one batch) must have cosine >= 0.999 with
    llama-embedding's;
  * for rerankers, `ggufembed tokenize` of the pair's prompt string must give the fed ids and
    `ggufembed rerank -m MODEL --query Q DOC...` (one call per query, one score per line) must
    be within 1e-3 relative (|ours - ref| <= 1e-3 |ref|; 1e-6 absolute where |ref| < 1e-3) of
    ANY of llama-embedding's three scores (`--pooling rank`, the first output): the one with its
    default flash attention ("score", fp16 K/V/Q), the one with -fa off ("score_fa_off"; a
    causal model's K/V still in an f16 KV cache) or the one with -fa off -ctk f32 -ctv f32
    ("score_f32kv").
A check = one model file or one input. Per variant one line `PASS|FAIL <variant> ...` with the
token agreement, the first token mismatch and the min cosine (or the max relative score error
to each llama.cpp reading). Missing
prerequisites (binary, goldens, python with numpy, gguf-py, vocabularies) FAIL the test, never
skip it. Last line: `synth: N passed, N failed`.
Environment: GGUFEMBED_CACHE (default ~/.cache/ggufembed) and the variables in synthlib.py.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synthlib  # noqa: E402

MIN_COSINE = 0.999
# a reranker score must be within SCORE_REL relative of one of llama.cpp's three readings (flash
# attention, its default; -fa off; -fa off -ctk f32 -ctv f32); only for |ref| < SCORE_TINY the
# tolerance is SCORE_FLOOR
SCORE_REL, SCORE_TINY, SCORE_FLOOR = 1e-3, 1e-3, 1e-6
READINGS = (("score", "flash attn"), ("score_fa_off", "-fa off"), ("score_f32kv", "-fa off -ctk f32 -ctv f32"))
MAX_TEXT_LINES = 4   # per variant, FAIL lines for single texts beyond these are counted only

passed = 0
failed = 0


def ok():
    global passed
    passed += 1


def bad(msg, quiet=False):
    global failed
    failed += 1
    if not quiet:
        print("FAIL: " + msg, flush=True)


def log(msg):
    print(msg, flush=True)


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


DENSE_SEEN = set()


def check_model(name, gold, model, inputs_now, key):
    """The generated file and the inputs must be the golden's. Returns False if not."""
    want = gold["model"]
    if model is None:
        bad("%s: no generator has such a variant (regenerate the goldens)" % name)
        return False
    if model["sha256"] != want["sha256"] or model["bytes"] != want["bytes"]:
        bad("%s: generated model differs from the golden record (sha256 %s, %d bytes; golden %s, %d "
            "bytes): the generator, numpy, gguf-py or a vocabulary file changed; rerun "
            "tests/synth/generate.sh" % (name, model["sha256"], model["bytes"], want["sha256"], want["bytes"]))
        return False
    if [key(it) for it in gold["items"]] != [key(x) if isinstance(x, dict) else x for x in inputs_now]:
        bad("%s: the generator's inputs differ from the golden ones; rerun tests/synth/generate.sh" % name)
        return False
    ok()
    return True


def check_dense_info(binary, name, path, embed_err):
    # a gemma-embedding file without dense_2/dense_3 opens, but never silently (issue #8):
    # info says so and embed warns on stderr, exactly then
    irc, iout, ierr = run([binary, "info", "-m", path])
    missing = "projections:     MISSING" in iout
    present = "projections:     dense_2/dense_3 present" in iout
    warned = "warning: this gemma-embedding file has no dense_2/dense_3 projections" in embed_err
    DENSE_SEEN.add("missing" if missing else "present" if present else "?")
    if irc != 0 or missing == present or warned != missing or ("warning:" in iout) != missing:
        bad("%s: info rc=%d, projections missing=%s present=%s, embed warned=%s" % (name, irc, missing, present, warned))
    else:
        ok()


def tokens_of(binary, path, text):
    rc, out, err = run([binary, "tokenize", "-m", path, text])
    try:
        return (json.loads(out) if rc == 0 else None), "rc=%d: %s" % (rc, err.strip()[-300:])
    except ValueError:
        return None, "unparsable output %r" % out[:200]


class Summary:
    def __init__(self, name, n):
        self.name, self.n, self.tok_ok, self.first_mismatch, self.fails, self.notes = name, n, 0, None, 0, []

    def compare_tokens(self, k, got, err, want, alt=None):
        """Returns a problem string or None."""
        if got is None:
            return "tokenize failed (%s)" % err
        if got == want or (alt is not None and got == alt):
            self.tok_ok += 1
            return None
        first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        msg = "input %d at %d: ggufembed %s vs llama.cpp %s" % (k, first, got[first:first + 6], want[first:first + 6])
        if self.first_mismatch is None:
            self.first_mismatch = msg
        return "tokens differ at %d: ggufembed %s vs llama.cpp %s" % (first, got[first:first + 8], want[first:first + 8])

    def problem(self, k, label, problems):
        bad("%s input %d %r: %s" % (self.name, k, label[:40], "; ".join(problems)), quiet=self.fails >= MAX_TEXT_LINES)
        self.fails += 1

    def report(self, metric):
        status = "PASS" if self.fails == 0 and not self.notes else "FAIL"
        extra = "" if self.fails <= MAX_TEXT_LINES else " (%d failing inputs, first %d shown)" % (self.fails, MAX_TEXT_LINES)
        log("%s %-16s %2d inputs: tokens identical %d/%d%s, %s%s%s" % (
            status, self.name, self.n, self.tok_ok, self.n,
            "" if self.first_mismatch is None else " (first mismatch: %s)" % self.first_mismatch,
            metric, "".join("; " + x for x in self.notes), extra))


def check_embed_variant(binary, gold, model):
    name, items, path = gold["variant"], gold["items"], model["path"]
    S = Summary(name, len(items))
    # llama.cpp embeds the bytes as given: --keep-whitespace (the default strips, as
    # sentence-transformers does)
    rc, out, err = run([binary, "embed", "-m", path, "--format", "ndjson", "--threads", "1", "--keep-whitespace"]
                       + [it["text"] for it in items])
    if "arch" not in gold["model"]["config"]:     # make_models.py: gemma-embedding
        check_dense_info(binary, name, path, err)
    embs = None
    if rc != 0:
        bad("%s: ggufembed embed failed (rc=%d): %s" % (name, rc, err.strip()[-500:]))
        S.notes.append("embed failed (rc=%d): %s" % (rc, (err.strip().splitlines() or [""])[-1][:120]))
    else:
        try:
            embs = [json.loads(l) for l in out.splitlines() if l.strip()]
            if len(embs) != len(items):
                raise ValueError("%d embeddings for %d texts" % (len(embs), len(items)))
        except ValueError as e:
            bad("%s: cannot parse ggufembed embed output: %s" % (name, e))
            S.notes.append("embed output unparsable")
            embs = None

    min_cos = 1.0
    for k, it in enumerate(items):
        got, terr = tokens_of(binary, path, it["text"])
        p = S.compare_tokens(k, got, terr, it["tokens"], it.get("llama_tokenize"))
        problems = [p] if p else []
        if embs is None:
            problems.append("no embedding")
        elif len(embs[k]) != len(it["embedding"]):
            problems.append("dimension %d, llama.cpp %d" % (len(embs[k]), len(it["embedding"])))
            min_cos = float("nan")
        else:
            c = synthlib.cosine(embs[k], it["embedding"])
            min_cos = min(min_cos, c)
            if not c >= MIN_COSINE:
                problems.append("cosine %.6f < %.3f" % (c, MIN_COSINE))
        if problems:
            S.problem(k, it["text"], problems)
        else:
            ok()
    S.report("min cosine %s" % ("%.7f" % min_cos if embs is not None else "n/a"))


def check_rerank_variant(binary, gold, model):
    name, items, path = gold["variant"], gold["items"], model["path"]
    S = Summary(name, len(items))
    got_scores, errors = {}, []
    queries = []
    for it in items:
        if it["query"] not in queries:
            queries.append(it["query"])
    for q in queries:
        docs = [it["document"] for it in items if it["query"] == q]
        rc, out, err = run([binary, "rerank", "-m", path, "--query", q] + docs)
        vals = None
        if rc == 0:
            try:
                vals = [float(l.split()[0]) for l in out.splitlines() if l.strip()]
            except ValueError:
                vals = None
            if vals is not None and len(vals) != len(docs):
                vals = None
        if vals is None:
            errors.append("rerank failed (rc=%d): %s" % (rc, (err.strip().splitlines() or [out.strip()[:120]])[-1][:160]))
        else:
            for d, v in zip(docs, vals):
                got_scores[(q, d)] = v
    if errors:
        bad("%s: %s" % (name, errors[0]))
        S.notes.append(errors[0])
    worst = {key: 0.0 for key, _ in READINGS}
    if any(key not in it for it in items for key, _ in READINGS):
        S.notes.append("golden lacks a llama.cpp reading (%s); rerun tests/synth/generate.sh"
                       % "/".join(key for key, _ in READINGS))
        bad("%s: %s" % (name, S.notes[-1]))
    for k, it in enumerate(items):
        got, terr = tokens_of(binary, path, it["prompt"])
        p = S.compare_tokens(k, got, terr, it["tokens"])
        problems = [p] if p else []
        v = got_scores.get((it["query"], it["document"]))
        refs = [(key, label, it[key]) for key, label in READINGS if key in it]
        if v is None:
            problems.append("no score")
        elif refs:
            close = False
            for key, label, ref in refs:
                e = abs(v - ref)
                worst[key] = max(worst[key], e / abs(ref) if ref != 0 else (0.0 if e == 0 else float("inf")))
                tol = SCORE_REL * abs(ref) if abs(ref) >= SCORE_TINY else SCORE_FLOOR
                close = close or e <= tol
            if not close:
                problems.append("score %.7f, llama.cpp %s (relative %s; want <= %.0e to one)" % (
                    v, " / ".join("%.7f (%s)" % (ref, label) for _, label, ref in refs),
                    " / ".join("%.2e" % (abs(v - ref) / abs(ref) if ref else float("inf")) for _, _, ref in refs),
                    SCORE_REL))
        if problems:
            S.problem(k, it["query"] + " | " + it["document"], problems)
        else:
            ok()
    S.report("max relative score error %s" % (
        ", ".join("%.2e (%s)" % (worst[key], label) for key, label in READINGS) if got_scores else "n/a"))


def main(argv):
    args, only = [], os.environ.get("GGUFEMBED_SYNTH_ONLY", "")
    i = 1
    while i < len(argv):
        if argv[i] == "--only" and i + 1 < len(argv):
            only = argv[i + 1]
            i += 2
        elif argv[i].startswith("--only="):
            only = argv[i][len("--only="):]
            i += 1
        else:
            args.append(argv[i])
            i += 1
    if len(args) != 1:
        bad("usage: test_synth.py GGUFEMBED_BINARY [--only GLOBS]")
        return
    binary = args[0]
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        bad("ggufembed binary %s not found" % binary)
        return
    select = synthlib.variant_selector(only)
    golds = [g for g in synthlib.golden_files() if select is None or select(os.path.basename(g)[:-5])]
    if not golds:
        bad("no goldens%s in %s (run tests/synth/generate.sh)" % (" matching %r" % only if only else "", synthlib.GOLDEN_DIR))
        return
    if only:
        log("variants: %s" % " ".join(os.path.basename(g)[:-5] for g in golds))
    tmp = tempfile.mkdtemp(prefix="ggufembed-synth-")
    try:
        try:
            models, texts, info = synthlib.build_models(tmp, log, select)
        except (synthlib.SetupError, OSError, subprocess.SubprocessError, ValueError) as e:
            bad("cannot build the synthetic models: %s" % e)
            return
        for g in golds:
            try:
                with open(g, encoding="utf-8") as f:
                    gold = json.load(f)
            except (OSError, ValueError) as e:
                bad("%s: %s" % (g, e))
                continue
            name = gold.get("variant", "?")
            rank = gold["model"]["config"].get("pooling") == 4
            key = (lambda it: [it["query"], it["document"]]) if rank else (lambda it: it["text"])
            now = texts.get(name)
            if rank and now is not None:
                now = [[x["query"], x["document"]] for x in now]
            if not check_model(name, gold, models.get(name), now, key):
                log("FAIL %-16s (model or inputs do not match the golden)" % name)
                continue
            if rank:
                check_rerank_variant(binary, gold, models[name])
            else:
                check_embed_variant(binary, gold, models[name])
        # the gemma-embedding variants include files with and without dense_2/dense_3
        if select is None and DENSE_SEEN != {"missing", "present"}:
            bad("the variants should include files with and without dense_2/dense_3, saw %s" % sorted(DENSE_SEEN))
        missing = sorted(set(models) - {os.path.basename(g)[:-5] for g in golds})
        for name in missing:
            bad("%s: no golden file (run tests/synth/generate.sh)" % name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except Exception as e:  # anything unexpected is a failure, reported like the others
        bad("unexpected error: %r" % (e,))
    print("synth: %d passed, %d failed" % (passed, failed))
    sys.exit(0 if failed == 0 and passed > 0 else 1)
