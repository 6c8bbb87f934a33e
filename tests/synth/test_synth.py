#!/usr/bin/env python3
"""ggufembed vs llama.cpp on small synthetic gemma-embedding models (ctest: synth).

    test_synth.py GGUFEMBED_BINARY

Regenerates the models of make_models.py into a temporary directory (deterministic; each file's
sha256 must equal the one in tests/synth/golden/<variant>.json, otherwise the generator or its
numpy / gguf-py drifted and the goldens no longer apply), then for every golden text:
  * `ggufembed tokenize -m MODEL TEXT` must give exactly llama-tokenize's ids, and
  * `ggufembed embed -m MODEL --format ndjson --threads 1 TEXT...` (all texts of a model in one
    call, so they are packed into one batch) must have cosine >= 0.999 with llama-embedding's.
A check = one model file or one text. Missing prerequisites (binary, goldens, python with numpy,
gguf-py) FAIL the test, never skip it. Last line: `synth: N passed, N failed`.
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

passed = 0
failed = 0


def ok():
    global passed
    passed += 1


def bad(msg):
    global failed
    failed += 1
    print("FAIL: " + msg, flush=True)


def log(msg):
    print(msg, flush=True)


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


DENSE_SEEN = set()


def check_variant(binary, gold, model, texts_now):
    name = gold["variant"]
    want = gold["model"]
    if model is None:
        bad("%s: make_models.py has no such variant (regenerate the goldens)" % name)
        return
    if model["sha256"] != want["sha256"] or model["bytes"] != want["bytes"]:
        bad("%s: generated model differs from the golden record (sha256 %s, %d bytes; golden %s, %d "
            "bytes): make_models.py, numpy or gguf-py changed; rerun tests/synth/generate.sh"
            % (name, model["sha256"], model["bytes"], want["sha256"], want["bytes"]))
        return
    items = gold["items"]
    if [it["text"] for it in items] != texts_now:
        bad("%s: make_models.py texts differ from the golden texts; rerun tests/synth/generate.sh" % name)
        return
    ok()
    path = model["path"]

    # llama.cpp embeds the bytes as given: --keep-whitespace (the default strips, as
    # sentence-transformers does)
    rc, out, err = run([binary, "embed", "-m", path, "--format", "ndjson", "--threads", "1", "--keep-whitespace"]
                       + [it["text"] for it in items])
    # a gemma-embedding file without dense_2/dense_3 opens, but never silently (issue #8):
    # info says so and embed warns on stderr, exactly then
    irc, iout, ierr = run([binary, "info", "-m", path])
    missing = "projections:     MISSING" in iout
    present = "projections:     dense_2/dense_3 present" in iout
    warned = "warning: this gemma-embedding file has no dense_2/dense_3 projections" in err
    DENSE_SEEN.add("missing" if missing else "present" if present else "?")
    if irc != 0 or missing == present or warned != missing or ("warning:" in iout) != missing:
        bad("%s: info rc=%d, projections missing=%s present=%s, embed warned=%s" % (name, irc, missing, present, warned))
    else:
        ok()
    embs = None
    if rc != 0:
        bad("%s: ggufembed embed failed (rc=%d): %s" % (name, rc, err.strip()[-500:]))
    else:
        try:
            embs = [json.loads(l) for l in out.splitlines() if l.strip()]
            if len(embs) != len(items):
                raise ValueError("%d embeddings for %d texts" % (len(embs), len(items)))
        except ValueError as e:
            bad("%s: cannot parse ggufembed embed output: %s" % (name, e))
            embs = None

    min_cos, tok_ok = 1.0, 0
    for k, it in enumerate(items):
        problems = []
        rc, out, err = run([binary, "tokenize", "-m", path, it["text"]])
        try:
            toks = json.loads(out) if rc == 0 else None
        except ValueError:
            toks = None
        if toks is None:
            problems.append("tokenize failed (rc=%d): %s" % (rc, err.strip()[-300:]))
        elif toks != it["tokens"]:
            first = next((i for i, (a, b) in enumerate(zip(toks, it["tokens"])) if a != b),
                         min(len(toks), len(it["tokens"])))
            problems.append("tokens differ at %d: ggufembed %s vs llama.cpp %s" %
                            (first, toks[first:first + 8], it["tokens"][first:first + 8]))
        else:
            tok_ok += 1
        if embs is None:
            problems.append("no embedding")
        elif len(embs[k]) != len(it["embedding"]):
            problems.append("dimension %d, llama.cpp %d" % (len(embs[k]), len(it["embedding"])))
        else:
            c = synthlib.cosine(embs[k], it["embedding"])
            min_cos = min(min_cos, c)
            if not c >= MIN_COSINE:
                problems.append("cosine %.6f < %.3f" % (c, MIN_COSINE))
        if problems:
            bad("%s text %d %r: %s" % (name, k, it["text"][:40], "; ".join(problems)))
        else:
            ok()
    log("%-14s %2d texts: tokens identical %d/%d, min cosine %.7f" %
        (name, len(items), tok_ok, len(items), min_cos if embs is not None else float("nan")))


def main(argv):
    if len(argv) != 2:
        bad("usage: test_synth.py GGUFEMBED_BINARY")
        return
    binary = argv[1]
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        bad("ggufembed binary %s not found" % binary)
        return
    golds = synthlib.golden_files()
    if not golds:
        bad("no goldens in %s (run tests/synth/generate.sh)" % synthlib.GOLDEN_DIR)
        return
    tmp = tempfile.mkdtemp(prefix="ggufembed-synth-")
    try:
        try:
            models, texts, info = synthlib.build_models(tmp, log)
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
            check_variant(binary, gold, models.get(name), texts.get(name))
        if DENSE_SEEN != {"missing", "present"}:
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
