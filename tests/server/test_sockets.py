"""Misbehaving clients on raw sockets: half a request then gone, gone while queued or running,
byte-by-byte, silent (closed after --timeout), a huge Content-Length. The server stays up and
keeps answering correctly."""
import json
import socket
import threading
import time

import pytest

from serverlib import (TINY_EMBED, TINY_NAME, Server, assert_same_bits, check_error, http_bytes, raw_connect,
                       read_response, vector_of, wait_closed)

E = "/v1/embeddings"


def embed_body(texts, **extra):
    return json.dumps(dict(extra, input=texts, encoding_format="base64")).encode()


def healthy_and_correct(server, refs, text):
    st, hd, body = server.request("GET", "/health")
    assert st == 200 and json.loads(body) == {"status": "ok"}, (st, body)
    vecs, resp = server.embed([text])
    assert_same_bits(vecs[0], refs[text][0], "after misbehaving clients")


def test_half_body_then_disconnect(server, refs, pool):
    body = embed_body(pool["medium"][:4])
    cases = [
        http_bytes("POST", E, body)[:-(len(body) // 2)],           # headers + half the body
        http_bytes("POST", E, body)[:-1],                          # all but the last byte
        http_bytes("POST", E, body).split(b"\r\n\r\n")[0],         # headers without the blank line
        b"POST /v1/embeddings HTTP/1.1\r\nContent-Le",            # half a header
        http_bytes("POST", E, body, {"Content-Length": str(len(body) + 1000)}),  # CL promises more
    ]
    for data in cases:
        with raw_connect(server.port) as s:
            s.sendall(data)
        # and the same with a reset instead of a FIN
        s = raw_connect(server.port)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.sendall(data)
        s.close()
    healthy_and_correct(server, refs, pool["short"][3])


def test_disconnect_while_queued_or_running(server, refs, pool):
    """complete requests whose clients leave at once (some queued behind others, one running):
    the server drops them, its queue drains, and the next client gets a correct answer"""
    socks = []
    for i in range(8):
        s = raw_connect(server.port)
        s.sendall(http_bytes("POST", E, embed_body(pool["medium"] + pool["long"])))
        socks.append(s)
    for i, s in enumerate(socks):
        if i % 2:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    healthy_and_correct(server, refs, pool["short"][4])
    deadline = time.monotonic() + 90
    while server.metrics().get("ggufembed_queue_depth") != 0:
        assert time.monotonic() < deadline, "the queue did not drain within 90 s"
        time.sleep(0.05)
    healthy_and_correct(server, refs, pool["medium"][0])


def test_disconnect_with_a_keep_alive_connection_mid_stream(server, refs, pool):
    """one good request on a connection, then half a second one, then gone"""
    with raw_connect(server.port) as s:
        text = pool["short"][6]
        s.sendall(http_bytes("POST", E, embed_body([text])))
        st, hd, body = read_response(s)
        assert st == 200
        assert_same_bits(vector_of(json.loads(body)["data"][0]["embedding"]), refs[text][0], "keep-alive 1")
        s.sendall(http_bytes("POST", E, embed_body([text]))[:40])
    healthy_and_correct(server, refs, text)


def test_slow_client_byte_by_byte(server, refs, pool):
    """the whole request one byte at a time, 10 ms apart (~2.5 s, well within --timeout 60)"""
    text = pool["short"][7]
    data = http_bytes("POST", E, embed_body([text], model=""))
    assert len(data) < 300
    with raw_connect(server.port) as s:
        for i in range(len(data)):
            s.sendall(data[i:i + 1])
            time.sleep(0.01)
        st, hd, body = read_response(s)
    assert st == 200, body[:300]
    obj = json.loads(body)
    assert_same_bits(vector_of(obj["data"][0]["embedding"]), refs[text][0], "byte-by-byte request")


def test_two_requests_in_one_write(server, refs, pool):
    """pipelined: both answered, in order, on the same connection"""
    a, b = pool["short"][8], pool["medium"][1]
    with raw_connect(server.port) as s:
        s.sendall(http_bytes("POST", E, embed_body([a])) + http_bytes("POST", E, embed_body([b])))
        for t in (a, b):
            st, hd, body = read_response(s)
            assert st == 200, body[:300]
            assert_same_bits(vector_of(json.loads(body)["data"][0]["embedding"]), refs[t][0], "pipelined")


@pytest.fixture(scope="module")
def timeout_server():
    s = Server(["-m", "%s=%s" % (TINY_NAME, TINY_EMBED), "--timeout", "2"])
    try:
        yield s
        s.check_stopped_cleanly()
    finally:
        s.kill()


def test_silent_client_closed_after_timeout(timeout_server):
    """--timeout 2: a connection that sends nothing, one that stops mid-headers and an idle
    keep-alive connection are all closed by the server, not before ~the timeout, within 20 s"""
    s = timeout_server
    silent = raw_connect(s.port)
    partial = raw_connect(s.port)
    partial.sendall(b"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\n")
    idle = raw_connect(s.port)
    idle.sendall(http_bytes("POST", E, embed_body(["the quick brown fox"])))
    st, hd, body = read_response(idle)
    assert st == 200
    results = {}

    def watch(name, sock):
        results[name] = wait_closed(sock, 20)

    threads = [threading.Thread(target=watch, args=a) for a in (("silent", silent), ("partial", partial),
                                                                  ("idle", idle))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for sock in (silent, partial, idle):
        sock.close()
    for name in ("silent", "partial", "idle"):
        assert results.get(name) is not None, "%s connection still open 20 s after --timeout 2" % name
        assert results[name] >= 1.0, "%s connection closed after %.2f s, before --timeout 2" % (name, results[name])
    st, hd, body = s.post(E, {"input": "the quick brown fox"})
    assert st == 200


def test_huge_content_length_not_read(server, refs, pool):
    """Content-Length 1 TB with a few bytes of body: an immediate 413, the server does not wait
    for the rest"""
    with raw_connect(server.port) as s:
        s.sendall(http_bytes("POST", E, b'{"input": "x"', {"Content-Length": str(10 ** 12)}))
        t0 = time.monotonic()
        st, hd, body = read_response(s, timeout=15)
        assert time.monotonic() - t0 < 15
        check_error(st, hd, body, 413, "body_too_large")
    healthy_and_correct(server, refs, pool["short"][9])


def test_many_idle_connections_do_not_block(server, refs, pool):
    """64 connected, silent clients do not keep others from being served"""
    socks = [raw_connect(server.port) for _ in range(64)]
    try:
        healthy_and_correct(server, refs, pool["short"][10])
    finally:
        for s in socks:
            s.close()


# ----------------------------------------------------------------------------- HTTP/1.x details
def read_final_response(sock, timeout=60):
    """the next non-1xx response"""
    while True:
        st, hd, body = read_response(sock, timeout)
        if st >= 200:
            return st, hd, body


def test_error_then_keep_alive(server, refs, pool):
    """an error answer does not spoil the connection: the next request on it is served (or the
    error said Connection: close and the server closed it)"""
    text = pool["short"][11]
    with raw_connect(server.port) as s:
        s.sendall(http_bytes("POST", E, b'{"input": '))
        st, hd, body = read_response(s)
        check_error(st, hd, body, 400, "invalid_json")
        if hd.get("connection", "").lower() == "close":
            assert wait_closed(s, 10) is not None
            return
        s.sendall(http_bytes("POST", E, embed_body([text])))
        st, hd, body = read_response(s)
        assert st == 200, body[:300]
        assert_same_bits(vector_of(json.loads(body)["data"][0]["embedding"]), refs[text][0], "after an error")


def test_http_1_0_request(server, refs, pool):
    text = pool["short"][12]
    body = embed_body([text])
    req = (b"POST /v1/embeddings HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
           % len(body)) + body
    with raw_connect(server.port) as s:
        s.sendall(req)
        st, hd, resp = read_response(s)
        assert st == 200, resp[:300]
        assert_same_bits(vector_of(json.loads(resp)["data"][0]["embedding"]), refs[text][0], "HTTP/1.0")
        assert wait_closed(s, 10) is not None, "HTTP/1.0 without keep-alive: the server must close"


def test_chunked_request_body(server, refs, pool):
    """Transfer-Encoding: chunked: served (or refused with an error JSON), never hung"""
    text = pool["short"][13]
    body = embed_body([text])
    half = len(body) // 2
    chunks = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (half, body[:half], len(body) - half, body[half:])
    head = (b"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    with raw_connect(server.port) as s:
        s.sendall(head + chunks)
        st, hd, resp = read_response(s, timeout=30)
    if st == 200:
        assert_same_bits(vector_of(json.loads(resp)["data"][0]["embedding"]), refs[text][0], "chunked body")
    else:
        assert st in (400, 411, 413, 501), (st, resp[:300])
        check_error(st, hd, resp, st)


def test_expect_100_continue(server, refs, pool):
    """curl's way for bodies over 1 KiB: headers with Expect: 100-continue, the body after the
    interim 100 (or after curl's 1 s wait when none comes)"""
    text = pool["long"][0]
    body = embed_body([text])
    assert len(body) > 1024
    with raw_connect(server.port) as s:
        s.sendall(http_bytes("POST", E, b"", {"Content-Length": str(len(body)), "Expect": "100-continue"}))
        interim = None
        try:
            interim = read_response(s, timeout=2)
        except TimeoutError:
            pass
        if interim is not None:
            assert interim[0] == 100, interim
        s.sendall(body)
        st, hd, resp = read_final_response(s)
    assert st == 200, resp[:300]
    assert_same_bits(vector_of(json.loads(resp)["data"][0]["embedding"]), refs[text][0], "Expect: 100-continue")


def test_abandoned_queued_requests_are_dropped(start_server, refs, pool):
    """six requests whose clients leave right after sending them, one request per batch
    (--max-batch-tokens 600, ~360 tokens each): at most the running one (and one more the
    worker may have taken before the hang-up was seen) is computed; the others are dropped
    from the queue. Counted by the texts that went through forward passes (batch_texts_sum)."""
    from serverlib import MODEL
    s = start_server(["-m", MODEL, "--max-batch-tokens", "600"])
    texts = pool["medium"][:8]
    m0 = s.metrics()
    socks = [raw_connect(s.port) for _ in range(6)]
    for sk in socks:
        sk.sendall(http_bytes("POST", E, embed_body(texts)))
    for sk in socks:
        sk.close()
    # a request queued behind them: when it is answered, they are done with
    follow = pool["short"][14]
    vecs, _ = s.embed([follow])
    assert_same_bits(vecs[0], refs[follow][0], "after abandoned requests")
    m1 = s.metrics()
    computed = m1.get("ggufembed_batch_texts_sum") - m0.get("ggufembed_batch_texts_sum")
    assert computed <= 2 * len(texts) + 1, \
        "%d texts computed: the abandoned requests were not dropped from the queue" % computed
    assert m1.get("ggufembed_queue_depth") == 0
