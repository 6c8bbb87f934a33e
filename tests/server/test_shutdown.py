"""Graceful shutdown: SIGTERM/SIGINT while requests are queued and running finishes them (200,
exact vectors), refuses new work (connection refused or 503), exits 0 and says "stopped"."""
import json
import signal
import socket
import threading
import time

import pytest

from serverlib import (MODEL, TINY_EMBED, TINY_NAME, assert_same_bits, check_error, http_bytes, http_request,
                       raw_connect, read_response, vector_of)

N_INFLIGHT = 6


def try_new_request(server, method, path, body=None):
    """(status, headers, body) of a request on a new connection, or None when the server
    refused or dropped the connection"""
    try:
        return http_request(server.host, server.port, method, path, body, timeout=30)
    except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
        return None
    except Exception as e:   # http.client.RemoteDisconnected, BadStatusLine on an empty reply
        if "RemoteDisconnected" in type(e).__name__ or "BadStatusLine" in type(e).__name__:
            return None
        raise


def check_refused_or_503(server):
    r = try_new_request(server, "POST", "/v1/embeddings", json.dumps({"input": "late"}).encode())
    if r is not None:
        check_error(*r, 503, "shutting_down")
    r = try_new_request(server, "GET", "/health")
    if r is not None:
        st, hd, body = r
        assert st == 503 and json.loads(body) == {"status": "shutting down"}, (st, body)


@pytest.mark.parametrize("sig", [signal.SIGTERM])
def test_shutdown_drains_in_flight(start_server, refs, pool, sig):
    # one request per batch (8 medium texts, ~360 tokens; two would be over 600), so the
    # others stay queued while one runs
    s = start_server(["-m", MODEL, "--max-batch-tokens", "600"])
    texts = pool["medium"][:8]
    body = json.dumps({"input": texts, "encoding_format": "base64"}).encode()
    socks = [raw_connect(s.port) for _ in range(N_INFLIGHT)]
    for sk in socks:
        sk.sendall(http_bytes("POST", "/v1/embeddings", body))
    # all of them accepted and read: one running, the others waiting
    deadline = time.monotonic() + 30
    seen = []
    while True:
        depth = s.metrics().get("ggufembed_queue_depth")
        seen.append(depth)
        if depth >= N_INFLIGHT - 1:
            break
        assert time.monotonic() < deadline, "queue depth never reached %d: %r" % (N_INFLIGHT - 1, seen[-20:])
        time.sleep(0.005)
    # an idle keep-alive connection, open across the shutdown
    idle = raw_connect(s.port)
    s.send_signal(sig)
    results, errors = [None] * N_INFLIGHT, []

    def reader(i):
        try:
            results[i] = read_response(socks[i], timeout=120)
        except Exception as e:
            errors.append("in-flight request %d: %r" % (i, e))

    threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(N_INFLIGHT)]
    for t in threads:
        t.start()
    check_refused_or_503(s)
    # a request on the connection opened before the signal: 503 or closed, never served
    try:
        idle.sendall(http_bytes("POST", "/v1/embeddings", json.dumps({"input": "late"}).encode()))
        st, hd, b = read_response(idle, timeout=60)
        check_error(st, hd, b, 503, "shutting_down")
    except (EOFError, ConnectionResetError, BrokenPipeError):
        pass
    for t in threads:
        t.join(timeout=150)
    assert not errors, errors
    for st, hd, resp in results:
        assert st == 200, (st, resp[:300])
        data = json.loads(resp)["data"]
        assert [d["index"] for d in data] == list(range(len(texts)))
        for d in data:
            assert_same_bits(vector_of(d["embedding"]), refs[texts[d["index"]]][0], "drained request")
    rc = s.wait(60)
    assert rc == 0, "exit status %r after %s\n%s" % (rc, sig, s.stderr_text())
    assert "ggufembed serve: stopped" in s.lines, s.stderr_text()
    for sk in socks + [idle]:
        sk.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((s.host, s.port), timeout=5).close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_idle_server_stops_promptly(start_server, sig):
    """with an idle keep-alive connection open (and --timeout at its 60 s default), the server
    exits within 20 s of the signal"""
    s = start_server(["-m", "%s=%s" % (TINY_NAME, TINY_EMBED)])
    idle = raw_connect(s.port)
    idle.sendall(http_bytes("POST", "/v1/embeddings", json.dumps({"input": "the fox"}).encode()))
    st, hd, body = read_response(idle)
    assert st == 200
    silent = raw_connect(s.port)
    t0 = time.monotonic()
    s.send_signal(sig)
    rc = s.wait(20)
    elapsed = time.monotonic() - t0
    idle.close()
    silent.close()
    assert rc == 0, "exit status %r %.1f s after %s (None: still running)\n%s" % (rc, elapsed, sig, s.stderr_text())
    assert "ggufembed serve: stopped" in s.lines, s.stderr_text()


def test_bad_model_fails_to_start(tmp_path):
    """a model that cannot be opened: non-zero exit, one message, no listening line"""
    import subprocess
    from serverlib import CLI
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file")
    for model in (str(bad), str(tmp_path / "missing.gguf")):
        p = subprocess.run([CLI, "serve", "-m", model, "--port", "0"], capture_output=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        assert p.returncode != 0
        err = p.stderr.decode("utf-8", "replace")
        assert err.strip() and "listening" not in err, err
