"""The installed wheel against the native CLI (GGUFEMBED_CLI) on the real model
(GGUFEMBED_MODEL_PATH): the same float32 bits, options, threads, errors."""
import json
import os
import subprocess
import threading
import time

import numpy as np
import pytest

import ggufembed

MODEL = os.environ.get("GGUFEMBED_MODEL_PATH", "")
CLI = os.environ.get("GGUFEMBED_CLI", "")
TEXTS = ["Hello world", "The quick brown fox jumps over the lazy dog.", "Les marchés ont baissé lundi.", ""]


def cli_vectors(texts, *args):
    out = subprocess.run([CLI, "embed", "-m", MODEL, "--format", "ndjson", *args, "--", *texts], check=True,
                         capture_output=True, text=True).stdout
    return np.array([json.loads(line) for line in out.splitlines()], dtype=np.float32)


@pytest.fixture(scope="module")
def model():
    assert MODEL and os.path.exists(MODEL), "GGUFEMBED_MODEL_PATH must name the model"
    assert CLI and os.access(CLI, os.X_OK), "GGUFEMBED_CLI must name the ggufembed CLI"
    with ggufembed.Embedder(MODEL) as m:
        yield m


def test_installed_not_source_tree():
    assert "site-packages" in ggufembed.__file__, ggufembed.__file__


def test_bits_equal_cli(model):
    v = model.embed(TEXTS[:3])
    assert v.dtype == np.float32 and v.shape == (3, 768)
    assert np.array_equal(v.view(np.uint32), cli_vectors(TEXTS[:3]).view(np.uint32))
    one = model.encode(TEXTS[0])
    assert one.shape == (768,) and np.array_equal(one, v[0])


def test_options_equal_cli(model):
    v = model.embed(TEXTS[:2], task="document", title="Animals", dimensions=128)
    assert v.shape == (2, 128)
    ref = cli_vectors(TEXTS[:2], "--task", "document", "--title", "Animals", "--dim", "128")
    assert np.array_equal(v.view(np.uint32), ref.view(np.uint32))
    raw = model.embed(TEXTS[1], normalize=False)
    assert abs(float(np.linalg.norm(raw)) - 1.0) > 1e-3


def test_batch_size_and_threads(model):
    ref = model.embed(TEXTS * 5)
    assert np.array_equal(model.embed(TEXTS * 5, batch_size=3), ref)
    results = [None] * 4

    def work(k):
        results[k] = model.embed(TEXTS * 5)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert all(r is not None and np.array_equal(r, ref) for r in results)


def test_tokenize_and_info(model):
    assert model.tokenize("Hello world") == [2, 9259, 1902, 1]
    assert model.tokenize("Hello world", special=False) == [9259, 1902]
    info = model.info
    assert info["architecture"] == "gemma-embedding" and info["dimension"] == 768 and "query" in info["tasks"]


def test_bytes_equal_path(model):
    with open(MODEL, "rb") as f:
        data = f.read()
    with ggufembed.Embedder(data, repack=False) as m:
        assert np.array_equal(m.embed(TEXTS[:2]), model.embed(TEXTS[:2]))
    with ggufembed.Embedder(memoryview(bytearray(data))) as m:  # copied once, then the same
        assert np.array_equal(m.embed(TEXTS[:2]), model.embed(TEXTS[:2]))


def test_errors(model, tmp_path):
    with pytest.raises(ggufembed.FileError):
        ggufembed.Embedder(tmp_path / "missing.gguf")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file at all")
    with pytest.raises(ggufembed.FormatError) as e:
        ggufembed.Embedder(bad)
    assert e.value.status == "FORMAT" and e.value.code == 4 and "\n" not in str(e.value)
    with pytest.raises(ggufembed.InvalidArgumentError):
        model.embed("x", task="no-such-task")
    with pytest.raises(ggufembed.InvalidArgumentError):
        model.embed("x", dimensions=0)
    with pytest.raises(ggufembed.InvalidArgumentError):
        model.embed(["x", 3])
    with pytest.raises(ggufembed.TooLongError):
        model.embed("word " * 5000)
    assert model.embed("word " * 5000, truncate=True).shape == (768,)
    with pytest.raises(ggufembed.UnsupportedError):
        model.rerank("q", ["d"])
    m = ggufembed.Embedder(MODEL)
    m.close()
    m.close()
    with pytest.raises(ggufembed.Error):
        m.embed("x")


SEEDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fuzz", "seeds", "model")


def test_rerank_equals_cli():
    """a reranker (the committed tiny bert + unigram seed, rank pooling): the scores of the
    CLI's rerank command, as float32"""
    path = os.path.join(SEEDS, "rerank_bert_ugm.bin")
    docs = ["a b c", "hello world", "", "the quick brown fox"]
    out = subprocess.run([CLI, "rerank", "-m", path, "--query", "hello", "--", *docs], check=True,
                         capture_output=True, text=True).stdout
    ref = np.array([float(x) for x in out.split()], dtype=np.float32)
    with ggufembed.Embedder(path) as rr:
        assert rr.info["reranker"]
        got = rr.rerank("hello", docs)
        assert got.dtype == np.float32 and got.shape == (4,) and np.array_equal(got, ref)
        assert rr.rerank("hello", []).shape == (0,)
        with pytest.raises(ggufembed.InvalidArgumentError):
            rr.rerank("hello", ["ok", None])


def test_bad_input_never_crashes(model):
    """odd Python values come back as ggufembed errors or valid vectors, never a crash"""
    v = model.embed(["\udcff lone surrogate", "nul \x00 inside", "\U0001F600" * 50])
    assert v.shape == (3, 768) and np.isfinite(v).all()
    for bad in (None, 3, b"bytes", [b"bytes"], [None]):
        with pytest.raises(ggufembed.InvalidArgumentError):
            model.embed(bad)
    for kw in (dict(batch_size=0), dict(dimensions=769), dict(dimensions="64"), dict(title=3), dict(task=3)):
        with pytest.raises(ggufembed.InvalidArgumentError):
            model.embed("x", **kw)
    with pytest.raises(ggufembed.InvalidArgumentError):
        ggufembed.Embedder(MODEL, threads=-1)
    with pytest.raises(ggufembed.Error):
        ggufembed.Embedder(b"")
    for bad in (3, None, ["a.gguf"]):
        with pytest.raises(ggufembed.InvalidArgumentError):
            ggufembed.Embedder(bad)
    with pytest.raises(ggufembed.InvalidArgumentError):
        ggufembed.Embedder(MODEL, threads=True)
    assert model.embed([]).shape == (0, 768)


def test_shared_library_is_self_contained():
    """the wheel's libggufembed.so needs nothing beyond the C library (utf8proc is inside)"""
    lib = os.path.join(os.path.dirname(ggufembed.__file__), "libggufembed.so")
    dyn = subprocess.run(["readelf", "-d", lib], check=True, capture_output=True, text=True).stdout
    needed = sorted(line.split("[")[1].rstrip("]") for line in dyn.splitlines() if "(NEEDED)" in line)
    assert all(n.startswith(("libc.so", "libm.so", "libpthread.so")) for n in needed), needed
    syms = subprocess.run(["nm", "-D", "--defined-only", lib], check=True, capture_output=True, text=True).stdout
    names = [line.split()[-1] for line in syms.splitlines() if line.strip()]
    assert names and all(n.startswith("ggufembed_") for n in names), [n for n in names if not n.startswith("ggufembed_")]


def test_progress_bar(model, capsys):
    """show_progress: tqdm's bar on stderr, moving per batch, and the same vectors"""
    texts = TEXTS * 3
    v = model.embed(texts, batch_size=4, show_progress=True)
    err = capsys.readouterr().err
    assert "12/12" in err, err
    assert np.array_equal(v, model.embed(texts))


def test_gil_released_while_embedding():
    """another Python thread runs while an embed call is inside the C library.

    The main thread counts its loop turns while a worker thread is in one embed call
    (batch_size covers every text: one C call, no Python between batches; the model on
    one thread, so the main thread has the other core). Released, the main thread turns
    for the whole call; held, only for the switch intervals around it (~5 ms each), a
    few percent of the call. The turns are compared with the main thread's own rate,
    measured just before."""
    texts = ["the quick brown fox jumps over the lazy dog %d" % i for i in range(96)]
    with ggufembed.Embedder(MODEL, threads=1) as m:
        m.embed(texts[:2])  # the context exists: only the call itself is measured
        state = {"phase": "before", "seconds": 0.0}

        def work():
            state["phase"] = "in call"
            t0 = time.perf_counter()
            m.embed(texts, batch_size=len(texts))
            state["seconds"] = time.perf_counter() - t0
            state["phase"] = "after"

        # the loop's rate alone (same body)
        turns, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 0.2:
            if state["phase"] == "before":
                turns += 1
        rate = turns / (time.perf_counter() - t0) * 2  # the timing call costs about one turn
        t = threading.Thread(target=work)
        inside = 0
        t.start()
        while state["phase"] != "after":
            if state["phase"] == "in call":
                inside += 1
        t.join()
    share = inside / (rate * state["seconds"])
    assert share > 0.25, "the main thread ran %.1f%% of the call's %.2f s" % (100 * share, state["seconds"])
