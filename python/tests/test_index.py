"""ggufembed.Index: the C index through the wheel, on the real model's vectors: the
exact f32 top-k equals numpy's, int8/binary with re-scoring recover it, save/load,
ids replaced and removed, errors."""
import os

import numpy as np
import pytest

import ggufembed

MODEL = os.environ.get("GGUFEMBED_MODEL_PATH", "")
DOCS = ["Mars is known as the Red Planet.", "Venus is the hottest planet.", "Jupiter is the largest planet.",
        "Python is a programming language.", "The quick brown fox jumps over the lazy dog.",
        "Paris is the capital of France.", "Water boils at 100 degrees Celsius.", "Cats are small carnivorous mammals.",
        "The stock market fell on Monday.", "Photosynthesis turns light into chemical energy."] * 3


@pytest.fixture(scope="module")
def vectors():
    with ggufembed.Embedder(MODEL) as m:
        docs = [d + " (%d)" % i for i, d in enumerate(DOCS)]
        return m.embed(docs, task="document"), m.embed(["Which planet is red?", "a language for coding"], task="query")


def test_f32_equals_numpy(vectors):
    d, q = vectors
    with ggufembed.Index(768) as ix:
        ix.add(range(100, 100 + len(d)), d)
        assert len(ix) == len(d) and ix.dimension == 768 and ix.type == "f32" and ix.metric == "cosine"
        ids, scores = ix.search(q, k=5)
        assert ids.shape == (2, 5) and ids.dtype == np.uint64 and scores.dtype == np.float32
        ref = d @ q.T  # normalized vectors: cosine
        for j in range(2):
            want = np.argsort(-ref[:, j], kind="stable")[:5] + 100
            assert list(ids[j]) == list(want)
            np.testing.assert_allclose(scores[j], np.sort(ref[:, j])[::-1][:5], atol=1e-5)
        one_ids, one_scores = ix.search(q[0], k=3)
        assert one_ids.shape == (3,) and list(one_ids) == list(ids[0][:3])


@pytest.mark.parametrize("kind,dim", [("int8", 256), ("binary", 768)])
def test_codes_with_rescore_recover_exact(vectors, kind, dim):
    d, q = vectors
    exact = ggufembed.Index(dim)
    exact.add(range(len(d)), d)
    with ggufembed.Index(dim, type=kind, keep_f32=True) as ix:
        ix.add(range(len(d)), d)
        got, gs = ix.search(q, k=3, rescore=10)
        ref, rs = exact.search(q, k=3)
        assert (got == ref).all()
        assert np.array_equal(gs, rs), "re-scored in f32: the exact scores"
        assert ix.search(q[0], k=1)[0][0] % 10 == 0, "a Mars document, even from the codes alone"
        data = ix.save()
        with ggufembed.Index.load(data) as back:
            assert back.type == kind and back.dimension == dim and len(back) == len(d)
            b_ids, b_scores = back.search(q, k=3, rescore=10)
            assert (b_ids == got).all() and np.array_equal(b_scores, gs)


def test_save_load_replace_remove(vectors, tmp_path):
    d, q = vectors
    ix = ggufembed.Index(128, type="int8")
    ix.add([1, 2, 3], d[:3])
    ix.add([2], d[5:6])  # replaces id 2
    assert len(ix) == 3
    path = tmp_path / "x.geix"
    ix.save(path)
    back = ggufembed.Index.load(path)
    a = ix.search(d[5], k=1)
    assert a[0][0] == 2 and back.search(d[5], k=1)[0][0] == 2
    assert ix.remove([2, 99]) == 1 and len(ix) == 2 and 2 not in ix.search(d[5], k=3)[0]
    ix.close()
    ix.close()
    with pytest.raises(ggufembed.InvalidArgumentError):
        len(ix)


def test_errors(vectors, tmp_path):
    d, _ = vectors
    with pytest.raises(ggufembed.InvalidArgumentError):
        ggufembed.Index(0)
    with pytest.raises(ggufembed.InvalidArgumentError):
        ggufembed.Index(64, type="int4")
    with pytest.raises(ggufembed.InvalidArgumentError, match="binary"):
        ggufembed.Index(64, type="binary", metric="dot")
    ix = ggufembed.Index(768)
    with pytest.raises(ggufembed.InvalidArgumentError, match="NaN"):
        ix.add([1], np.full((1, 768), np.nan, dtype=np.float32))
    with pytest.raises(ggufembed.InvalidArgumentError):
        ix.add([1, 2], d[:1])
    with pytest.raises(ggufembed.InvalidArgumentError):
        ix.add([-1], d[:1])
    with pytest.raises(ggufembed.InvalidArgumentError):
        ix.add([1], d[:1, :100])  # fewer values than the index stores
    assert len(ix) == 0, "refused calls add nothing"
    with pytest.raises(ggufembed.InvalidArgumentError):
        ix.search(d[0], k=0)
    ix.add([1], d[:1])
    with pytest.raises(ggufembed.InvalidArgumentError, match="keep_f32|rescore"):
        _rescore_without_f32(d)
    data = ix.save()
    for bad in (data[:40], data[:-1], b"GEIX" + data[4:20] + b"\xff" + data[21:], b"nope"):
        with pytest.raises(ggufembed.FormatError) as e:
            ggufembed.Index.load(bad)
        assert "\n" not in str(e.value) and "index file" in str(e.value)


def _rescore_without_f32(d):
    ix = ggufembed.Index(768, type="int8")
    ix.add([1], d[:1])
    ix.search(d[0], rescore=2)
