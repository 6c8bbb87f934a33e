"""Every error path: the status code and OpenAI's error JSON (one-line message, type, param,
code); never a 500 for bad input, and the server stays up."""
import json
import random
import socket
import time

import pytest

from serverlib import (MODEL, RERANK_NAME, Server, TINY_EMBED, TINY_NAME, check_error, http_bytes, raw_connect, read_response,
                       wait_closed)

E = "/v1/embeddings"


def post_raw(server, body, path=E, headers=None):
    return server.request("POST", path, body, headers)


# ----------------------------------------------------------------------------- bodies
@pytest.mark.parametrize("body", [
    b'{"input": "x"', b'{"input": }', b'', b'{"input": "x"} trailing', b"{'input': 'x'}",
    b'{"input": "x",}', b'nul', b'{"input": "x" "model": "y"}', b'{"input": "\\q"}', b'{"input": "\\u12"}',
    b'{"input": "tab\there"}', b'{input: "x"}', b'{"input": 01}',
    b'{"input": "x", "dimensions": 1.}', b'{"input": "x", "dimensions": -}',
], ids=lambda b: repr(b)[:40])
def test_malformed_json(server, body):
    st, hd, resp = post_raw(server, body)
    check_error(st, hd, resp, 400, "invalid_json")


@pytest.mark.parametrize("body", [b'[1, 2]', b'"text"', b'42', b'null', b'true', b'["Hello world"]'])
def test_not_an_object(server, body):
    st, hd, resp = post_raw(server, body)
    check_error(st, hd, resp, 400, ("invalid_json", "invalid_value"))


@pytest.mark.parametrize("body", [
    b'{"input": "\xff"}', b'{"input": "abc\xc0\xaf"}', b'{"input": "\xed\xa0\x80 surrogate"}',
    b'{"input": "\xe6\x97"}', b'{"input": "\xf4\x90\x80\x80 > U+10FFFF"}', b'{"model": "\xfe", "input": "x"}',
    b'{"input": ["ok", "\x80"]}', b'{"\xff": 1, "input": "x"}',
], ids=lambda b: repr(b)[:40])
def test_invalid_utf8(server, body):
    st, hd, resp = post_raw(server, body)
    check_error(st, hd, resp, 400, "invalid_json")


@pytest.mark.parametrize("path", ["/tokenize", "/v1/rerank"])
def test_invalid_utf8_other_endpoints(server, path):
    body = b'{"content": "\xff\xfe", "query": "\xff", "documents": ["\xff"], "model": "rr"}'
    st, hd, resp = post_raw(server, body, path)
    check_error(st, hd, resp, 400, "invalid_json")


# ----------------------------------------------------------------------------- fields
WRONG = [
    ("input", 42), ("input", 1.5), ("input", True), ("input", {"a": 1}), ("input", [1.5]), ("input", [True]),
    ("input", [None]), ("input", [["a"]]), ("input", ["a", 1]), ("input", [[1, "a"]]), ("input", [[1], "a"]),
    ("input", [1, [2]]), ("input", [{"text": "a"}]),
    ("model", 42), ("model", ["x"]), ("model", {}),
    ("encoding_format", "hex"), ("encoding_format", 1),
    ("dimensions", "128"), ("dimensions", 0), ("dimensions", -1), ("dimensions", 1.5), ("dimensions", 769),
    ("dimensions", 100000), ("dimensions", True), ("dimensions", 1e300), ("dimensions", 2 ** 64),
    ("user", 42), ("user", ["u"]),
    ("task", 1), ("task", "nonsense"),
    ("title", 1), ("prefix", 1), ("prefix", ["p"]), ("instruction", 1),
    ("normalize", "yes"), ("normalize", 1), ("truncate", "no"), ("truncate", 0),
]


@pytest.mark.parametrize("field,value", WRONG, ids=lambda x: repr(x)[:30])
def test_wrong_field(server, field, value):
    req = {"input": "Hello world"}
    req[field] = value
    st, hd, body = server.post(E, req)
    check_error(st, hd, body, 400, "invalid_value", field)


def test_unknown_task_names_the_task(server):
    st, hd, body = server.post(E, {"input": "x", "task": "frobnicate"})
    err = check_error(st, hd, body, 400, "invalid_value", "task")
    assert "frobnicate" in err["message"] or "task" in err["message"], err


@pytest.mark.parametrize("req", [{}, {"model": ""}, {"input": None}, {"inputs": "x"}], ids=repr)
def test_missing_input(server, req):
    st, hd, body = server.post(E, req)
    check_error(st, hd, body, 400, None, "input")


@pytest.mark.parametrize("value", [[], [[]], [[2, 1], []]], ids=repr)
def test_empty_input(server, value):
    st, hd, body = server.post(E, {"input": value})
    check_error(st, hd, body, 400, None, "input")


@pytest.mark.parametrize("value", [[999999999], [-1], [2, 262144], [[2, 9259], [262144]], [2 ** 31], [2 ** 40]],
                         ids=repr)
def test_token_ids_out_of_range(server, value):
    st, hd, body = server.post(E, {"input": value})
    check_error(st, hd, body, 400, None, "input")


def test_token_ids_out_of_range_second_model(server):
    """the tiny model's vocabulary has a few hundred tokens: an id valid for the real model is not"""
    st, hd, body = server.post(E, {"input": [2, 9259, 1], "model": TINY_NAME})
    check_error(st, hd, body, 400, None, "input")


def test_unknown_model(server):
    for path, req in ((E, {"input": "x", "model": "nope"}), ("/tokenize", {"content": "x", "model": "nope"}),
                      ("/v1/rerank", {"model": "nope", "query": "q", "documents": ["d"]})):
        st, hd, body = server.post(path, req)
        check_error(st, hd, body, 404, "model_not_found")


@pytest.mark.parametrize("method,path", [("GET", "/"), ("GET", "/nope"), ("POST", "/v1/nope"),
                                         ("GET", "/v2/embeddings"), ("POST", "/v1/embeddingsx"),
                                         ("GET", "/v1/models/extra/x"), ("GET", "/healthz")])
def test_unknown_path(server, method, path):
    st, hd, body = server.request(method, path, b"{}" if method == "POST" else None)
    check_error(st, hd, body, 404, "not_found")


@pytest.mark.parametrize("method,path", [("GET", E), ("GET", "/embeddings"), ("PUT", E), ("DELETE", E),
                                         ("POST", "/health"), ("POST", "/v1/models"), ("POST", "/metrics"),
                                         ("GET", "/tokenize"), ("GET", "/v1/rerank"), ("DELETE", "/v1/models")])
def test_wrong_method(server, method, path):
    st, hd, body = server.request(method, path, b"{}" if method in ("POST", "PUT") else None)
    check_error(st, hd, body, 405)


# ----------------------------------------------------------------------------- other endpoints' fields
@pytest.mark.parametrize("req,param", [
    ({}, "content"), ({"content": 1}, "content"), ({"content": ["a"]}, "content"),
    ({"content": "a", "add_special": "yes"}, "add_special"), ({"content": "a", "with_pieces": 1}, "with_pieces"),
    ({"content": "a", "model": 5}, "model"),
], ids=repr)
def test_tokenize_wrong_fields(server, req, param):
    st, hd, body = server.post("/tokenize", req)
    check_error(st, hd, body, 400, None, param)


def test_tokenize_malformed(server):
    st, hd, body = post_raw(server, b'{"content": ', "/tokenize")
    check_error(st, hd, body, 400, "invalid_json")


@pytest.mark.parametrize("req,param", [
    ({"documents": ["d"]}, "query"), ({"query": 1, "documents": ["d"]}, "query"),
    ({"query": "q"}, "documents"), ({"query": "q", "documents": "d"}, "documents"),
    ({"query": "q", "documents": [1]}, "documents"), ({"query": "q", "documents": [["d"]]}, "documents"),
    ({"query": "q", "documents": ["d"], "top_n": "2"}, "top_n"), ({"query": "q", "documents": ["d"], "top_n": 1.5},
                                                                  "top_n"),
    ({"query": "q", "documents": ["d"], "return_documents": "yes"}, "return_documents"),
], ids=repr)
def test_rerank_wrong_fields(server, req, param):
    st, hd, body = server.post("/v1/rerank", dict(req, model=RERANK_NAME))
    check_error(st, hd, body, 400, None, param)


def test_rerank_malformed(server):
    st, hd, body = post_raw(server, b'{"model": "rr", "query": "q", "documents": [', "/v1/rerank")
    check_error(st, hd, body, 400, "invalid_json")


# ----------------------------------------------------------------------------- nothing is a 500
def test_deep_nesting(server):
    """a recursive parser must not overflow its stack: deep arrays / objects are a 400"""
    for body in (b"[" * 200000, b'{"input": ' + b"[" * 200000 + b"]" * 200000 + b"}",
                 b'{"a":' * 100000 + b"1" + b"}" * 100000):
        st, hd, resp = post_raw(server, body)
        check_error(st, hd, resp, 400)
    assert server.request("GET", "/health")[0] == 200


def test_number_edge_cases(server):
    for body in (b'{"input": "x", "dimensions": 1e400}', b'{"input": "x", "dimensions": -0}',
                 b'{"input": "x", "dimensions": 12345678901234567890123}', b'{"input": [1e400]}',
                 b'{"input": [2, -0.0, 1]}', b'{"input": "x", "dimensions": NaN}', b'{"input": [Infinity]}'):
        st, hd, resp = post_raw(server, body)
        assert 400 <= st < 500, (body, st, resp[:300])
        check_error(st, hd, resp, st)


def test_mutated_bodies_never_500(server):
    """deterministic random mutations of valid requests: 200 or a 4xx error JSON, never 5xx"""
    rng = random.Random(1234)
    seeds = [json.dumps({"input": ["Hello world", "the cat"], "encoding_format": "base64", "dimensions": 128,
                         "task": "query"}).encode(),
             json.dumps({"input": [[2, 9259, 1902, 1]], "model": ""}).encode(),
             json.dumps({"input": "caf\u00e9 \u65e5\u672c", "truncate": True, "normalize": False},
                        ensure_ascii=False).encode()]
    t0 = time.monotonic()
    for i in range(150):
        b = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(4)
            pos = rng.randrange(len(b))
            if op == 0:
                b[pos] = rng.randrange(256)
            elif op == 1:
                del b[pos:pos + rng.randint(1, 8)]
            elif op == 2:
                b[pos:pos] = rng.choice([b'"', b"[", b"]", b"{", b"}", b",", b":", b"\\", b"\\u", b"-1",
                                         b"1e999", b"\xff", b"null", b"\x00"])
            else:
                b = b[:pos]
            if not b:
                b = bytearray(b"{")
        st, hd, resp = post_raw(server, bytes(b))
        assert st == 200 or 400 <= st < 500, "mutation %d %r -> %d %r" % (i, bytes(b), st, resp[:300])
        if st != 200:
            check_error(st, hd, resp, st)
        assert time.monotonic() - t0 < 120, "mutated bodies took over 2 minutes"
    assert server.request("GET", "/health")[0] == 200


# ----------------------------------------------------------------------------- sizes
def test_huge_content_length_is_413_without_the_body(server):
    """a Content-Length over --max-body (16 MiB by default) is refused at once: the server
    answers without waiting for (or reading) the body"""
    for n in (10 ** 12, 16 * 1024 * 1024 + 1):
        with raw_connect(server.port) as s:
            s.sendall(http_bytes("POST", E, headers={"Content-Length": str(n)}))
            st, hd, body = read_response(s, timeout=15)
            check_error(st, hd, body, 413, "body_too_large")


def test_bad_content_length(server):
    for value in ("abc", "-5", "1 2", "99999999999999999999999999"):
        with raw_connect(server.port) as s:
            s.sendall(http_bytes("POST", E, b'{"input": "x"}', headers={"Content-Length": value}))
            try:
                st, hd, body = read_response(s, timeout=15)
            except (EOFError, ConnectionResetError):
                continue   # closing the connection is an answer too
            assert 400 <= st < 500, (value, st, body[:200])
    assert server.request("GET", "/health")[0] == 200


@pytest.fixture(scope="module")
def small_server():
    """the tiny model with a 4096-byte --max-body, a 2 s --timeout and --max-inputs 4"""
    s = Server(["-m", "%s=%s" % (TINY_NAME, TINY_EMBED), "--max-body", "4096", "--timeout", "2",
                "--max-inputs", "4"])
    try:
        yield s
        s.check_stopped_cleanly()
    finally:
        s.kill()


def body_of_size(n, **extra):
    """a valid embeddings request of exactly n bytes"""
    req = dict(extra, input="")
    base = len(json.dumps(req).encode())
    req["input"] = "fox " * ((n - base) // 4) + "x" * ((n - base) % 4)
    b = json.dumps(req).encode()
    assert len(b) == n, (len(b), n)
    return b


def test_body_over_max_body(small_server):
    with raw_connect(small_server.port) as s:
        s.sendall(http_bytes("POST", E, body_of_size(5000, truncate=True)))
        st, hd, body = read_response(s, timeout=15)
        check_error(st, hd, body, 413, "body_too_large")
    st, hd, body = small_server.post(E, body_of_size(4097, truncate=True))
    check_error(st, hd, body, 413, "body_too_large")
    # at the limit: accepted (the text is over the tiny model's context: truncated)
    st, hd, body = small_server.post(E, body_of_size(4096, truncate=True))
    assert st == 200, body[:300]
    st, hd, body = small_server.post(E, body_of_size(4096))
    check_error(st, hd, body, 413, "context_length_exceeded", "input")


def test_max_inputs(small_server):
    """--max-inputs (README: texts per request, default 2048 as OpenAI's)"""
    vecs, _ = small_server.embed(["fox"] * 4)
    assert len(vecs) == 4
    st, hd, body = small_server.post(E, {"input": ["fox"] * 5})
    check_error(st, hd, body, 400, None, "input")
    st, hd, body = small_server.post(E, {"input": [[2, 1]] * 5})
    check_error(st, hd, body, 400, None, "input")


def test_default_max_inputs(server):
    vecs, _ = server.embed(["fox"] * 2048, model=TINY_NAME)
    assert len(vecs) == 2048
    st, hd, body = server.post(E, {"input": ["fox"] * 2049, "model": TINY_NAME})
    check_error(st, hd, body, 400, None, "input")


def test_small_server_still_serves(small_server):
    st, hd, body = small_server.post(E, {"input": "the quick brown fox"})
    assert st == 200, body[:300]


def test_deadline_passed_is_503(start_server, pool):
    """--timeout is a request's deadline: a request that cannot finish in time gets 503 timeout"""
    s = start_server(["-m", MODEL, "--timeout", "2"])
    texts = [pool["long"][1]] * 15   # ~7700 tokens: several seconds on 2 cores
    t0 = time.monotonic()
    st, hd, body = s.post(E, {"input": texts}, timeout=120)
    check_error(st, hd, body, 503, "timeout")
    assert time.monotonic() - t0 < 60
    st, hd, body = s.post(E, {"input": "Hello world"})
    assert st == 200, body[:300]


def test_server_alive_after_all_errors(server):
    st, hd, body = server.request("GET", "/health")
    assert st == 200
    st, hd, body = server.post(E, {"input": "Hello world"})
    assert st == 200
