"""Shared helpers for the synthetic-model comparison (python3 standard library only).

Finds a Python with numpy and llama.cpp's gguf-py, runs make_models.py and families.py with it,
hashes files. families.py also needs the vocabulary files (see its find_vocab).

Python with numpy, first that works:
  $GGUFEMBED_SYNTH_PYTHON, $GGUFEMBED_CACHE/venv/bin/python (made by scripts/fetch-model.sh),
  python3 on PATH.
gguf-py (the `gguf` package), first that exists:
  $GGUFEMBED_GGUF_PY                                    (a directory holding gguf/)
  $CACHE/llama.cpp-0.3.36/src/vendor/llama.cpp/gguf-py  (tests/reference/build-llamacpp.sh)
  $CACHE/llama.cpp-from-llama-cpp-python-0.3.36/gguf-py (scripts/fetch-model.sh, PyPI path)
  $CACHE/synth/gguf-0.19.0                              (installed by an earlier run, see below)
  otherwise gguf==0.19.0 from PyPI, hash-pinned, `pip install --target` into $CACHE/synth/
  (not into the shared venv); GGUFEMBED_SYNTH_OFFLINE=1 forbids this and fails instead.
All of these write byte-identical models (checked: the PyPI 0.19.0 wheel and the gguf-py
vendored in llama-cpp-python 0.3.36 give the same sha256 for every variant).
"""
import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_MODELS = os.path.join(HERE, "make_models.py")
FAMILIES = os.path.join(HERE, "families.py")
GENERATORS = (MAKE_MODELS, FAMILIES)
GOLDEN_DIR = os.path.join(HERE, "golden")

GGUF_PYPI_VERSION = "0.19.0"
GGUF_PYPI_WHEEL_SHA256 = "70bcd10edfe697fb2dad6e40af2234b9d8ece9a41a99761405121ebda1c3c1cd"


class SetupError(Exception):
    """A prerequisite is missing; the message says how to provide it."""


def cache_dir():
    c = os.environ.get("GGUFEMBED_CACHE")
    if not c:
        home = os.environ.get("HOME")
        if not home:
            raise SetupError("neither GGUFEMBED_CACHE nor HOME is set")
        c = os.path.join(home, ".cache", "ggufembed")
    return c


def _run(cmd, env=None, timeout=600):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def _env_with_path(gguf_py):
    env = dict(os.environ)
    env["PYTHONPATH"] = gguf_py + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def find_python(log=None):
    cands = []
    if os.environ.get("GGUFEMBED_SYNTH_PYTHON"):
        cands.append(os.environ["GGUFEMBED_SYNTH_PYTHON"])
    cands.append(os.path.join(cache_dir(), "venv", "bin", "python"))
    cands.append("python3")
    tried = []
    for py in cands:
        try:
            rc, out, _ = _run([py, "-c", "import numpy, yaml; print(numpy.__version__)"], timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            tried.append("%s (%s)" % (py, e.__class__.__name__))
            continue
        if rc == 0:
            if log:
                log("python: %s (numpy %s)" % (py, out.decode().strip()))
            return py
        tried.append("%s (no numpy/pyyaml)" % py)
    raise SetupError("no python with numpy and pyyaml (tried: %s); run scripts/fetch-model.sh "
                     "(creates $GGUFEMBED_CACHE/venv) or set GGUFEMBED_SYNTH_PYTHON" % ", ".join(tried))


def find_gguf_py(python, log=None):
    cache = cache_dir()
    cands = []
    if os.environ.get("GGUFEMBED_GGUF_PY"):
        cands.append(os.environ["GGUFEMBED_GGUF_PY"])
    cands += [os.path.join(cache, "llama.cpp-0.3.36", "src", "vendor", "llama.cpp", "gguf-py"),
              os.path.join(cache, "llama.cpp-from-llama-cpp-python-0.3.36", "gguf-py")]
    target = os.path.join(cache, "synth", "gguf-" + GGUF_PYPI_VERSION)
    cands.append(target)
    for d in cands:
        if os.path.isfile(os.path.join(d, "gguf", "gguf_writer.py")):
            if log:
                log("gguf-py: %s" % d)
            return d
    if os.environ.get("GGUFEMBED_SYNTH_OFFLINE") == "1":
        raise SetupError("gguf-py not found (looked in %s) and GGUFEMBED_SYNTH_OFFLINE=1; run "
                         "tests/reference/build-llamacpp.sh or set GGUFEMBED_GGUF_PY" % ", ".join(cands))
    # Hash-pinned install of the PyPI wheel into a private directory of the cache.
    if log:
        log("gguf-py not found locally: installing gguf==%s from PyPI into %s" % (GGUF_PYPI_VERSION, target))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    req = os.path.join(os.path.dirname(target), "gguf-requirements.txt")
    with open(req, "w") as f:
        f.write("gguf==%s --hash=sha256:%s\n" % (GGUF_PYPI_VERSION, GGUF_PYPI_WHEEL_SHA256))
    tmp = target + ".tmp"
    _run(["rm", "-rf", tmp])
    rc, out, err = _run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--only-binary", ":all:",
                         "--require-hashes", "--target", tmp, "-r", req])
    if rc != 0 or not os.path.isfile(os.path.join(tmp, "gguf", "gguf_writer.py")):
        raise SetupError("pip install gguf==%s failed: %s" % (GGUF_PYPI_VERSION, err.decode("utf-8", "replace")[-800:]))
    os.replace(tmp, target)
    return target


def variant_selector(patterns):
    """None (every variant) or a predicate for a comma/space-separated list of fnmatch globs
    ("bert_*,qwen3_last"), e.g. from test_synth.py --only or $GGUFEMBED_SYNTH_ONLY."""
    import fnmatch
    pats = [p for p in (patterns or "").replace(",", " ").split() if p]
    if not pats:
        return None
    return lambda name: any(fnmatch.fnmatchcase(name, p) for p in pats)


def build_models(out_dir, log=None, select=None):
    """Runs make_models.py (gemma-embedding) and families.py (the other families) into out_dir,
    for the variants select(name) accepts (all if None). Returns
    ({variant: {path, config, sha256, bytes}}, {variant: inputs}, info)."""
    py = find_python(log)
    gp = find_gguf_py(py, log)
    env = _env_with_path(gp)
    models, texts, numpy_version = {}, {}, None
    for script in GENERATORS:
        rc, out, err = _run([py, script, "--texts"], env=env)
        if rc != 0:
            raise SetupError("%s --texts failed: %s" % (os.path.basename(script), err.decode("utf-8", "replace")[-2000:]))
        inputs = json.loads(out.decode("utf-8"))
        names = [n for n in inputs if select is None or select(n)]
        if not names:
            continue
        rc, out, err = _run([py, script, out_dir] + names, env=env, timeout=1800)
        if rc != 0:
            raise SetupError("%s failed: %s" % (os.path.basename(script), err.decode("utf-8", "replace")[-2000:]))
        man = json.loads(out)
        numpy_version = man["numpy"]
        for name, m in man["models"].items():
            m["sha256"] = sha256_file(m["path"])
            m["bytes"] = os.path.getsize(m["path"])
            models[name] = m
            texts[name] = inputs[name]
    info = {"python": py, "numpy": numpy_version, "gguf_py": gp, "gguf_py_label": gguf_py_label(gp)}
    return models, texts, info


def gguf_py_label(path):
    """A machine-independent name for the gguf-py copy used (recorded in the goldens)."""
    p = os.path.normpath(path)
    if os.path.basename(p) == "gguf-" + GGUF_PYPI_VERSION:
        return "gguf %s wheel from PyPI" % GGUF_PYPI_VERSION
    if "0.3.36" in p:
        return "gguf-py vendored in llama-cpp-python 0.3.36"
    return "gguf-py from GGUFEMBED_GGUF_PY"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cosine(a, b):
    import math
    dot = math.fsum(x * y for x, y in zip(a, b))
    na = math.sqrt(math.fsum(x * x for x in a))
    nb = math.sqrt(math.fsum(y * y for y in b))
    return dot / (na * nb) if na > 0 and nb > 0 else 0.0


def golden_files():
    if not os.path.isdir(GOLDEN_DIR):
        return []
    return sorted(os.path.join(GOLDEN_DIR, f) for f in os.listdir(GOLDEN_DIR) if f.endswith(".json"))
