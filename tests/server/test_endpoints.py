"""Every endpoint's successful responses, against the CLI and the model's own tokens:
/health, /v1/models, /v1/embeddings (float, base64, dimensions, tasks, token ids, batches,
truncation, several models), /tokenize, /v1/rerank, /metrics."""
import json
import os
import re
import shutil
import time

import numpy as np
import pytest

from serverlib import (MODEL, RERANK_NAME, ROOT, TINY_EMBED, TINY_NAME, TINY_RERANK, assert_same_bits,
                       check_error, cli_embed, cli_info, cli_rerank, cli_tokenize, corpus, parse_prometheus,
                       same_bits, vector_of)

NUMBER_RE = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")
TEXTS = ["Hello world", "The cat sat on the mat.", "Paris is the capital of France.",
         "東京スカイツリーは高さ634メートルの電波塔です。", "I love pizza 🍕 and tacos 🌮!",
         "  surrounding whitespace  "]


def json_of(status, headers, body, want=200):
    assert status == want, "HTTP %d: %r" % (status, body[:500])
    assert headers.get("content-type", "").startswith("application/json"), headers.get("content-type")
    return json.loads(body)


def test_health(server):
    obj = json_of(*server.request("GET", "/health"))
    assert obj == {"status": "ok"}


def test_listening_line_names_the_models(server, main_name):
    assert server.models == [main_name, TINY_NAME, RERANK_NAME]


@pytest.mark.parametrize("path", ["/v1/models", "/models"])
def test_models(server, main_name, path):
    obj = json_of(*server.request("GET", path))
    assert obj["object"] == "list"
    assert [d["id"] for d in obj["data"]] == [main_name, TINY_NAME, RERANK_NAME]
    now = time.time()
    for d, file, reranker in zip(obj["data"], (MODEL, TINY_EMBED, TINY_RERANK), (False, False, True)):
        assert d["object"] == "model" and d["owned_by"] == "ggufembed", d
        assert isinstance(d["created"], int) and 0 < d["created"] <= now + 60, d
        info = cli_info(file)
        meta = d["meta"]
        assert meta["architecture"] == info["architecture"], (meta, info)
        assert meta["n_ctx"] == int(info["context length"]), (meta, info)
        assert meta["reranker"] is reranker, meta
        if not reranker:
            assert meta["dimension"] == int(info["output dimension"]), (meta, info)
        assert isinstance(meta["dimension"], int) and meta["dimension"] > 0
    main = obj["data"][0]["meta"]
    assert (main["dimension"], main["n_ctx"], main["architecture"]) == (768, 2048, "gemma-embedding")


# ----------------------------------------------------------------------------- /v1/embeddings
def test_embeddings_response_shape(server, main_name):
    st, hd, body = server.post("/v1/embeddings", {"input": TEXTS[:3], "model": main_name,
                                                  "encoding_format": "float"})
    obj = json_of(st, hd, body)
    assert obj["object"] == "list" and obj["model"] == main_name
    assert [d["index"] for d in obj["data"]] == [0, 1, 2]
    for d in obj["data"]:
        assert d["object"] == "embedding"
        assert isinstance(d["embedding"], list) and len(d["embedding"]) == 768
        assert all(isinstance(x, float) for x in d["embedding"])
        v = vector_of(d["embedding"])
        assert abs(float(np.linalg.norm(v.astype(np.float64))) - 1.0) < 1e-5
    # prompt_tokens: BOS + the text's tokens + EOS (task none: no prompt)
    want = sum(len(cli_tokenize(MODEL, t)) for t in TEXTS[:3])
    assert obj["usage"] == {"prompt_tokens": want, "total_tokens": want}


def test_float_json_has_nine_significant_digits(server):
    """plain JSON numbers of at most 9 significant digits (%.9g), which give back the float32
    exactly: the same bits as the base64 form"""
    st, hd, body = server.post("/v1/embeddings", {"input": "Hello world", "encoding_format": "float"})
    assert st == 200
    text = body.decode()
    start = text.index("[", text.index('"embedding"'))
    numbers = text[start + 1:text.index("]", start)].split(",")
    assert len(numbers) == 768
    longest = 0
    for s in numbers:
        s = s.strip()
        assert NUMBER_RE.match(s), "not a JSON number: %r" % s
        mantissa = s.lstrip("-").split("e")[0].split("E")[0].replace(".", "").lstrip("0")
        longest = max(longest, len(mantissa))
        assert len(mantissa) <= 9, s
    assert longest == 9, "no value printed with 9 significant digits"
    st, hd, body = server.post("/v1/embeddings", {"input": "Hello world", "encoding_format": "base64"})
    b64 = vector_of(json.loads(body)["data"][0]["embedding"])
    assert_same_bits(np.array([float(s) for s in numbers]).astype(np.float32), b64, "float text vs base64")


def test_embeddings_match_cli(server):
    """the server's vectors equal the CLI's (same library, same default options), bit for bit"""
    got, _ = server.embed(TEXTS)
    want = cli_embed(MODEL, TEXTS)
    for t, g, w in zip(TEXTS, got, want):
        assert_same_bits(g, w, "server vs CLI for %r" % t)


def test_float_and_base64_same_bits(server):
    f, _ = server.embed(TEXTS, encoding_format="float")
    st, hd, body = server.post("/v1/embeddings", {"input": TEXTS, "encoding_format": "base64"})
    obj = json_of(st, hd, body)
    assert [d["index"] for d in obj["data"]] == list(range(len(TEXTS)))
    for d, want in zip(obj["data"], f):
        assert isinstance(d["embedding"], str)
        v = vector_of(d["embedding"])
        assert v.size == 768
        assert_same_bits(v, want, "base64 vs float")


def test_default_encoding_is_float(server):
    st, hd, body = server.post("/v1/embeddings", {"input": "Hello world"})
    obj = json_of(st, hd, body)
    assert isinstance(obj["data"][0]["embedding"], list)


def test_string_and_one_element_list_and_alias_agree(server, main_name):
    a, _ = server.embed("Hello world")
    b, _ = server.embed(["Hello world"])
    st, hd, body = server.post("/embeddings", {"input": "Hello world", "encoding_format": "float"})
    c = vector_of(json_of(st, hd, body)["data"][0]["embedding"])
    assert len(a) == len(b) == 1
    assert_same_bits(a[0], b[0], "string vs [string]")
    assert_same_bits(a[0], c, "/embeddings alias")


def test_default_model_is_the_first(server, main_name):
    ref, _ = server.embed(["Hello world"], model=main_name)
    for extra in ({}, {"model": ""}):
        req = dict(extra, input=["Hello world"], encoding_format="float")
        st, hd, body = server.post("/v1/embeddings", req)
        obj = json_of(st, hd, body)
        assert obj["model"] == main_name, obj["model"]
        assert_same_bits(vector_of(obj["data"][0]["embedding"]), ref[0], "default model %r" % extra)


def test_batch_equals_each_alone(server, pool):
    texts = [pool["short"][0], pool["long"][1], pool["medium"][2], pool["short"][5], pool["long"][0],
             pool["short"][0]]
    together, resp = server.embed(texts)
    total = 0
    for i, t in enumerate(texts):
        alone, r1 = server.embed([t])
        assert_same_bits(together[i], alone[0], "text %d in a batch of %d vs alone" % (i, len(texts)))
        total += r1["usage"]["prompt_tokens"]
    assert resp["usage"]["prompt_tokens"] == total


def test_token_id_inputs(server):
    """token ids are embedded as given: BOS + ids + EOS of "Hello world" = the text's vector"""
    ids = cli_tokenize(MODEL, "Hello world")
    assert ids == [2, 9259, 1902, 1]
    text_vec, _ = server.embed(["Hello world"])
    one, r1 = server.embed(ids)
    assert len(one) == 1 and r1["usage"]["prompt_tokens"] == 4
    assert_same_bits(one[0], text_vec[0], "token ids vs text")
    ids2 = cli_tokenize(MODEL, "The cat sat on the mat.")
    two, r2 = server.embed([ids, ids2])
    assert len(two) == 2 and r2["usage"]["prompt_tokens"] == len(ids) + len(ids2)
    assert_same_bits(two[0], text_vec[0], "token lists [0]")
    cat, _ = server.embed(["The cat sat on the mat."])
    assert_same_bits(two[1], cat[0], "token lists [1]")
    # without BOS/EOS the model sees other tokens: another vector
    bare, r3 = server.embed([9259, 1902])
    assert r3["usage"]["prompt_tokens"] == 2
    assert not same_bits(bare[0], text_vec[0])


def test_matryoshka_dimensions(server):
    texts = TEXTS[:3]
    full, _ = server.embed(texts)
    d128, resp = server.embed(texts, dimensions=128)
    cli = cli_embed(MODEL, texts, "--dim", "128")
    for t, f, d, c in zip(texts, full, d128, cli):
        assert d.size == 128
        head = f[:128].astype(np.float64)
        want = head / np.linalg.norm(head)
        assert np.allclose(d, want, rtol=0, atol=1e-6), float(np.max(np.abs(d - want)))
        assert abs(float(np.linalg.norm(d.astype(np.float64))) - 1) < 1e-5
        assert_same_bits(d, c, "dimensions=128 vs CLI --dim 128 for %r" % t)
    b64 = server.post("/v1/embeddings", {"input": texts, "dimensions": 128, "encoding_format": "base64"})
    for d, want in zip(json_of(*b64)["data"], d128):
        assert_same_bits(vector_of(d["embedding"]), want, "dimensions=128 base64")
    same, _ = server.embed(texts, dimensions=768)
    for a, b in zip(same, full):
        assert_same_bits(a, b, "dimensions=768 = the full vector")


def test_normalize_false(server):
    texts = TEXTS[:2]
    raw, _ = server.embed(texts, normalize=False)
    cli = cli_embed(MODEL, texts, "--no-normalize")
    unit, _ = server.embed(texts)
    for r, c, u in zip(raw, cli, unit):
        assert_same_bits(r, c, "normalize false vs CLI --no-normalize")
        n = float(np.linalg.norm(r.astype(np.float64)))
        assert abs(n - 1) > 1e-3, n
        assert np.allclose(r / n, u, atol=1e-6)
    explicit, _ = server.embed(texts, normalize=True)
    for a, b in zip(explicit, unit):
        assert_same_bits(a, b, "normalize true = the default")


@pytest.mark.parametrize("opts,flags", [
    ({"task": "query"}, ["--task", "query"]),
    ({"task": "document"}, ["--task", "document"]),
    ({"task": "document", "title": "A short title"}, ["--task", "document", "--title", "A short title"]),
    ({"task": "sentence-similarity"}, ["--task", "sentence-similarity"]),
    ({"task": "STS"}, ["--task", "STS"]),
    ({"prefix": "search_query: "}, ["--prefix", "search_query: "]),
    ({"task": "none"}, ["--task", "none"]),
])
def test_task_extras_match_cli(server, opts, flags):
    texts = ["Which planet is known as the Red Planet?", "Mars is often referred to as the Red Planet."]
    got, resp = server.embed(texts, **opts)
    want = cli_embed(MODEL, texts, *flags)
    plain, _ = server.embed(texts)
    for t, g, w, p in zip(texts, got, want, plain):
        assert_same_bits(g, w, "%r vs CLI %s for %r" % (opts, " ".join(flags), t))
        if opts.get("task") != "none":
            assert not same_bits(g, p), "%r did not change the vector" % opts


def test_task_prompt_counts_in_prompt_tokens(server):
    text = "Which planet is known as the Red Planet?"
    _, resp = server.embed([text], task="query")
    assert resp["usage"]["prompt_tokens"] == len(cli_tokenize(MODEL, "task: search result | query: " + text))
    _, resp = server.embed([text], task="document", title="T")
    assert resp["usage"]["prompt_tokens"] == len(cli_tokenize(MODEL, "title: T | text: " + text))
    # the document prompt is a prefix like any other: same vector as spelling it out
    a, _ = server.embed([text], task="document", title="T")
    b, _ = server.embed([text], prefix="title: T | text: ")
    assert_same_bits(a[0], b[0], "task document + title vs the same prefix")


def test_text_over_context_truncate(server):
    long = "word " * 2500
    st, hd, body = server.post("/v1/embeddings", {"input": long})
    check_error(st, hd, body, 413, "context_length_exceeded", "input")
    got, resp = server.embed([long], truncate=True)
    assert resp["usage"]["prompt_tokens"] == 2048, resp["usage"]
    want = cli_embed(MODEL, [long], "--truncate")
    assert_same_bits(got[0], want[0], "truncate true vs CLI --truncate")
    # a batch with one over-long text fails as a whole without truncate
    st, hd, body = server.post("/v1/embeddings", {"input": ["short", long]})
    check_error(st, hd, body, 413, "context_length_exceeded", "input")


# ----------------------------------------------------------------------------- several models
def test_second_model_matches_cli(server):
    texts = ["the quick brown fox", "what is the search result", "日本 語 ñ"]
    got, resp = server.embed(texts, model=TINY_NAME)
    assert resp["model"] == TINY_NAME
    want = cli_embed(TINY_EMBED, texts)
    dim = int(cli_info(TINY_EMBED)["output dimension"])
    for g, w in zip(got, want):
        assert g.size == dim
        assert_same_bits(g, w, "tiny model vs CLI")
    q, _ = server.embed(texts[:1], model=TINY_NAME, task="query")
    assert_same_bits(q[0], cli_embed(TINY_EMBED, texts[:1], "--task", "query")[0], "tiny --task query")
    # the models are kept apart: the same text in the real model has 768 values
    big, _ = server.embed(texts[:1])
    assert big[0].size == 768


def test_second_model_over_its_context(server):
    long = "fox " * 200   # the tiny model's context is 64
    st, hd, body = server.post("/v1/embeddings", {"input": long, "model": TINY_NAME})
    check_error(st, hd, body, 413, "context_length_exceeded", "input")
    got, resp = server.embed([long], model=TINY_NAME, truncate=True)
    assert resp["usage"]["prompt_tokens"] == int(cli_info(TINY_EMBED)["context length"])
    assert_same_bits(got[0], cli_embed(TINY_EMBED, [long], "--truncate")[0], "tiny truncate vs CLI")


def test_default_model_name_is_the_basename(start_server, tmp_path):
    path = tmp_path / "tiny-embed.gguf"
    shutil.copyfile(TINY_EMBED, path)
    s = start_server(["-m", str(path), "-m", "named=%s" % TINY_EMBED])
    assert s.models == ["tiny-embed", "named"]
    obj = json.loads(s.request("GET", "/v1/models")[2])
    assert [d["id"] for d in obj["data"]] == ["tiny-embed", "named"]
    a, resp = s.embed(["the quick brown fox"], model="tiny-embed")
    assert resp["model"] == "tiny-embed"
    b, _ = s.embed(["the quick brown fox"], model="named")
    assert_same_bits(a[0], b[0], "one file under two names")
    st, hd, body = s.post("/v1/embeddings", {"input": "x", "model": "tiny-embed.gguf"})
    check_error(st, hd, body, 404, "model_not_found")


# ----------------------------------------------------------------------------- /tokenize
TOKENIZE_TEXTS = ["Hello world", "The cat sat on the mat.", "東京スカイツリーは高さ634メートル",
                  "  two  spaces\tand a tab\n", "def f(x):\n    return x ** 2"]


def test_tokenize_matches_cli(server):
    for t in TOKENIZE_TEXTS:
        obj = json_of(*server.post("/tokenize", {"content": t}))
        assert obj == {"tokens": cli_tokenize(MODEL, t)}, t
        obj = json_of(*server.post("/tokenize", {"content": t, "add_special": False}))
        assert obj["tokens"] == cli_tokenize(MODEL, t, "--no-special"), t
        obj = json_of(*server.post("/tokenize", {"content": t, "add_special": True}))
        assert obj["tokens"] == cli_tokenize(MODEL, t), t
    assert json_of(*server.post("/tokenize", {"content": "Hello world"}))["tokens"] == [2, 9259, 1902, 1]
    assert json_of(*server.post("/tokenize", {"content": ""}))["tokens"] == [2, 1]


def test_tokenize_parse_special(server):
    """README: parse_special (default true) as llama-server; false = the CLI's --no-parse-special"""
    t = "Hello <start_of_turn>user world<eos>"
    got = json_of(*server.post("/tokenize", {"content": t}))["tokens"]
    assert got == cli_tokenize(MODEL, t)
    assert json_of(*server.post("/tokenize", {"content": t, "parse_special": True}))["tokens"] == got
    plain = json_of(*server.post("/tokenize", {"content": t, "parse_special": False}))["tokens"]
    assert plain == cli_tokenize(MODEL, t, "--no-parse-special") and plain != got


def test_tokenize_golden_corpus(server):
    """every corpus text against llama.cpp's ids (tests/golden/tokens.jsonl: BOS/EOS added,
    special tokens parsed, the text as given)"""
    texts = corpus()
    bad = []
    with open(os.path.join(ROOT, "tests", "golden", "tokens.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(l) for l in f]
    assert len(rows) > 400
    for r in rows:
        obj = json_of(*server.post("/tokenize", {"content": texts[r["id"]]}))
        if obj["tokens"] != r["tokens"]:
            bad.append(r["id"])
    assert not bad, "%d texts tokenized unlike llama.cpp: %s" % (len(bad), bad[:20])


def test_tokenize_with_pieces(server):
    ids = cli_tokenize(MODEL, "Hello world", "--no-special")
    obj = json_of(*server.post("/tokenize", {"content": "Hello world", "add_special": False, "with_pieces": True}))
    toks = obj["tokens"]
    assert [t["id"] for t in toks] == ids
    assert all(isinstance(t["piece"], str) and t["piece"] for t in toks), toks
    assert "".join(t["piece"] for t in toks) == "Hello world", toks
    obj = json_of(*server.post("/tokenize", {"content": "Hello world", "with_pieces": False}))
    assert obj["tokens"] == cli_tokenize(MODEL, "Hello world")


def test_tokenize_second_model(server):
    for t in ("the quick brown fox", "Hello <bos> wörld"):
        obj = json_of(*server.post("/tokenize", {"content": t, "model": TINY_NAME}))
        assert obj["tokens"] == cli_tokenize(TINY_EMBED, t), t


# ----------------------------------------------------------------------------- /v1/rerank
QUERY = "the quick brown fox"
DOCS = ["the lazy dog", "quick brown fox jumps", "a document of text", "yes no yes", "日本 語"]


def rerank(server, path="/v1/rerank", **kw):
    req = {"model": RERANK_NAME, "query": QUERY, "documents": DOCS}
    req.update(kw)
    return json_of(*server.post(path, req))


def test_rerank_matches_cli(server):
    want = cli_rerank(TINY_RERANK, QUERY, DOCS)
    obj = rerank(server)
    assert obj["object"] == "list" and obj["model"] == RERANK_NAME
    res = obj["results"]
    assert sorted(r["index"] for r in res) == list(range(len(DOCS)))
    scores = [r["relevance_score"] for r in res]
    assert scores == sorted(scores, reverse=True), scores
    for r in res:
        assert "document" not in r, r
        assert np.float32(r["relevance_score"]) == want[r["index"]], (r, want)
    u = obj["usage"]
    assert isinstance(u["prompt_tokens"], int) and u["prompt_tokens"] > 0 and u["total_tokens"] == u["prompt_tokens"]


def test_rerank_top_n_and_documents(server):
    full = rerank(server)["results"]
    top = rerank(server, top_n=2, return_documents=True)["results"]
    assert len(top) == 2
    for a, b in zip(top, full[:2]):
        assert a["index"] == b["index"] and a["relevance_score"] == b["relevance_score"]
        assert a["document"] == {"text": DOCS[a["index"]]}, a
    no_docs = rerank(server, return_documents=False)["results"]
    assert all("document" not in r for r in no_docs)
    assert len(rerank(server, top_n=100)["results"]) == len(DOCS)


@pytest.mark.parametrize("path", ["/rerank", "/v1/reranking"])
def test_rerank_aliases(server, path):
    assert rerank(server, path)["results"] == rerank(server)["results"]


def test_rerank_on_an_embedding_model_is_400(server, main_name):
    for model in (main_name, TINY_NAME):
        st, hd, body = server.post("/v1/rerank", {"model": model, "query": "q", "documents": ["d"]})
        check_error(st, hd, body, 400)
    st, hd, body = server.post("/v1/rerank", {"query": "q", "documents": ["d"]})   # the default model
    check_error(st, hd, body, 400)


# ----------------------------------------------------------------------------- /metrics
FAMILIES = {"ggufembed_requests_total": "counter", "ggufembed_prompt_tokens_total": "counter",
            "ggufembed_texts_total": "counter", "ggufembed_batches_total": "counter",
            "ggufembed_queue_depth": "gauge", "ggufembed_batch_texts": "histogram",
            "ggufembed_batch_tokens": "histogram", "ggufembed_request_duration_seconds": "histogram"}


def embed_requests(m, status):
    return sum(v for l, v in m.select("ggufembed_requests_total",
                                      lambda l: "embed" in l.get("endpoint", "") and l.get("status") == status))


def check_histogram(m, family):
    b = m.buckets(family)
    assert b and float("inf") in b, "%s has no +Inf bucket" % family
    counts = list(b.values())
    assert counts == sorted(counts), "%s buckets are not cumulative: %r" % (family, b)
    assert b[float("inf")] == m.get(family + "_count"), family
    assert m.select(family + "_sum"), "%s_sum missing" % family


def test_metrics_format(server):
    server.embed(["Hello world"])
    st, hd, body = server.request("GET", "/metrics")
    assert st == 200
    assert hd.get("content-type", "").startswith("text/plain"), hd.get("content-type")
    m = parse_prometheus(body.decode("utf-8"))
    for fam, typ in FAMILIES.items():
        declared = m.types.get(fam, m.types.get(fam[:-6] if fam.endswith("_total") else fam))
        assert declared == typ, "%s: TYPE %r, want %r" % (fam, declared, typ)
    for l, v in m.select("ggufembed_requests_total"):
        assert set(l) >= {"endpoint", "status"}, l
    for fam, typ in FAMILIES.items():
        if typ == "histogram":
            check_histogram(m, fam)
        else:
            assert m.select(fam), "no sample of %s" % fam
    assert m.get("ggufembed_queue_depth") == 0


def test_metrics_count_requests(server):
    texts = [["Hello world"], ["The cat sat on the mat.", "Paris is the capital of France."],
             ["one", "two", "three"]]
    m0 = server.metrics()
    tokens = 0
    for t in texts:
        _, resp = server.embed(t)
        tokens += resp["usage"]["prompt_tokens"]
    st, hd, body = server.post("/v1/embeddings", {"input": []})
    assert st == 400
    m1 = server.metrics()
    n_texts = sum(len(t) for t in texts)
    assert embed_requests(m1, "200") - embed_requests(m0, "200") == len(texts)
    assert embed_requests(m1, "400") - embed_requests(m0, "400") == 1
    d = lambda name: m1.get(name) - m0.get(name)
    assert d("ggufembed_texts_total") == n_texts
    assert d("ggufembed_prompt_tokens_total") == tokens
    nb = d("ggufembed_batches_total")
    assert 1 <= nb <= n_texts
    assert d("ggufembed_batch_texts_count") == nb
    assert d("ggufembed_batch_texts_sum") == n_texts
    assert d("ggufembed_batch_tokens_count") == nb
    assert d("ggufembed_batch_tokens_sum") == tokens
    assert d("ggufembed_request_duration_seconds_count") >= len(texts) + 1
    assert d("ggufembed_request_duration_seconds_sum") > 0
    for fam in ("ggufembed_batch_texts", "ggufembed_batch_tokens", "ggufembed_request_duration_seconds"):
        check_histogram(m1, fam)
