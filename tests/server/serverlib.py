"""Helpers of the `ggufembed serve` test suite (tests/server; the fixtures are in conftest.py).

Every test talks to the real server binary over loopback:

  GGUFEMBED_CLI         the ggufembed binary (default: <repo>/build/bin/ggufembed)
  GGUFEMBED_MODEL_PATH  EmbeddingGemma-300M Q8_0 (scripts/fetch-model.sh); required

plus two tiny complete random-weight models committed under tests/fuzz/seeds/model
(tests/fuzz/make_seeds.py): an EmbeddingGemma-shaped embedder and a BERT reranker.
Nothing is skipped: a missing binary, model or `serve` command fails the tests.

Servers are started with `serve ... --host 127.0.0.1 --port 0`; the port is read from
the one "ggufembed serve: listening on http://HOST:PORT (models: ...)" line on stderr.
Each server is stopped with SIGTERM at teardown and must exit with status 0 (and print
"ggufembed serve: stopped") within a bounded time.
"""
import base64
import http.client
import json
import os
import re
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.environ.get("GGUFEMBED_CLI") or os.path.join(ROOT, "build", "bin", "ggufembed")
MODEL = os.environ.get("GGUFEMBED_MODEL_PATH", "")
SEEDS = os.path.join(ROOT, "tests", "fuzz", "seeds", "model")
TINY_EMBED = os.path.join(SEEDS, "gemma_embedding_spm.bin")   # gemma-embedding, SentencePiece, ctx 64
TINY_RERANK = os.path.join(SEEDS, "rerank_bert_ugm.bin")      # bert + unigram, rank pooling, ctx 48
TINY_NAME, RERANK_NAME = "tiny", "rr"

START_TIMEOUT = 120.0   # seconds from exec to the "listening" line
STOP_TIMEOUT = 60.0     # seconds from SIGTERM to exit
HTTP_TIMEOUT = 120.0    # one request's socket timeout

LISTEN_RE = re.compile(r"^ggufembed serve: listening on http://([^\s:/]+|\[[^\]]+\]):(\d+) \(models: (.*)\)$")
ERROR_TYPES = {"invalid_request_error", "authentication_error", "not_found_error", "server_error",
               "rate_limit_error"}


def model_name(path):
    """the server's default name for -m PATH: the basename without .gguf"""
    b = os.path.basename(path)
    return b[:-5] if b.endswith(".gguf") else b


def require_inputs():
    """fail (never skip) when what the suite needs is missing"""
    if not (os.path.isfile(CLI) and os.access(CLI, os.X_OK)):
        pytest.fail("no executable ggufembed at %s (set GGUFEMBED_CLI)" % CLI)
    if not MODEL or not os.path.isfile(MODEL):
        pytest.fail("GGUFEMBED_MODEL_PATH is not set to the EmbeddingGemma Q8_0 file (got %r)" % MODEL)
    for p in (TINY_EMBED, TINY_RERANK):
        if not os.path.isfile(p):
            pytest.fail("missing seed model %s (tests/fuzz/make_seeds.py writes it)" % p)


# ----------------------------------------------------------------------------- the server process
class Server:
    """One `ggufembed serve` process. args: everything after `serve` but --host/--port."""

    def __init__(self, args, env=None, host="127.0.0.1"):
        require_inputs()
        self.cmd = [CLI, "serve"] + list(args) + ["--host", host, "--port", "0"]
        self.lines = []
        self.cond = threading.Condition()
        self.eof = False
        self.returncode = None
        full_env = dict(os.environ)
        full_env.pop("GGUFEMBED_API_KEY", None)
        if env:
            full_env.update(env)
        self.stdout = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=self.stdout,
                                     stderr=subprocess.PIPE, env=full_env)
        self.pid = self.proc.pid
        self.reader = threading.Thread(target=self._read_stderr, daemon=True)
        self.reader.start()
        m = None
        deadline = time.monotonic() + START_TIMEOUT
        with self.cond:
            while True:
                for line in self.lines:
                    m = LISTEN_RE.match(line)
                    if m:
                        break
                if m or self.eof or time.monotonic() > deadline:
                    break
                self.cond.wait(timeout=0.5)
        if not m:
            self.kill()
            pytest.fail("server did not print its listening line within %.0f s: %s\nstderr:\n%s"
                        % (START_TIMEOUT, " ".join(self.cmd), self.stderr_text()))
        self.host = m.group(1).strip("[]")
        self.port = int(m.group(2))
        self.models = [s.strip() for s in m.group(3).split(",")]
        self.url = "http://%s:%d" % (m.group(1), self.port)
        listening = [l for l in self.lines if "listening on" in l]
        assert len(listening) == 1, "the listening line must be printed exactly once: %r" % listening

    def _read_stderr(self):
        for raw in iter(self.proc.stderr.readline, b""):
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def stderr_text(self):
        with self.cond:
            return "\n".join(self.lines[-200:])

    def alive(self):
        return self.proc.poll() is None

    def send_signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout=STOP_TIMEOUT):
        """the exit status, or None when the process has not exited within timeout"""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self.reader.join(timeout=10)
        return self.returncode

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """SIGTERM, then the exit status (None: still running after timeout, then killed)"""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.wait(timeout)
        if rc is None:
            self.kill()
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        self.reader.join(timeout=10)

    def check_stopped_cleanly(self):
        """teardown: SIGTERM (unless already exited), exit 0 within STOP_TIMEOUT, 'stopped' line"""
        rc = self.stop()
        assert rc is not None, "server did not exit within %.0f s of SIGTERM\nstderr:\n%s" % (
            STOP_TIMEOUT, self.stderr_text())
        assert rc == 0, "server exited with status %r after SIGTERM\nstderr:\n%s" % (rc, self.stderr_text())
        assert any(l == "ggufembed serve: stopped" for l in self.lines), \
            "no 'ggufembed serve: stopped' line on stderr:\n%s" % self.stderr_text()

    def proc_status(self):
        """VmRSS and VmHWM in bytes from /proc/PID/status"""
        out = {}
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0]) * 1024
        return out

    # conveniences bound to this server
    def request(self, method, path, body=None, headers=None, timeout=HTTP_TIMEOUT):
        return http_request(self.host, self.port, method, path, body, headers, timeout)

    def post(self, path, obj, headers=None, timeout=HTTP_TIMEOUT):
        body = obj if isinstance(obj, (bytes, bytearray)) else json.dumps(obj).encode()
        return self.request("POST", path, body, headers, timeout)

    def metrics(self):
        st, hd, body = self.request("GET", "/metrics")
        assert st == 200, (st, body[:300])
        return parse_prometheus(body.decode("utf-8"))

    def embed(self, texts, **opts):
        """texts (or token lists) embedded in one float request: (list of float32 arrays, response)"""
        req = dict(opts)
        req["input"] = texts
        req.setdefault("encoding_format", "float")
        st, hd, body = self.post("/v1/embeddings", req)
        assert st == 200, "embeddings %r -> %d %s" % (_short(req), st, body[:500])
        resp = json.loads(body)
        return [vector_of(d["embedding"]) for d in resp["data"]], resp


def _short(obj):
    s = json.dumps(obj)
    return s if len(s) < 300 else s[:300] + "..."


# ----------------------------------------------------------------------------- HTTP
def http_request(host, port, method, path, body=None, headers=None, timeout=HTTP_TIMEOUT):
    """one request on a new connection: (status, {lowercase header: value}, body bytes)"""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        h = {"Content-Type": "application/json"} if body is not None else {}
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def check_error(status, headers, body, want_status, want_code=None, want_param=None, want_type=None):
    """an error response: the status, JSON content, OpenAI's error shape; returns the error object"""
    assert status == want_status, "want HTTP %d, got %d: %r" % (want_status, status, body[:500])
    ctype = headers.get("content-type", "")
    assert ctype.startswith("application/json"), "error Content-Type %r" % ctype
    try:
        obj = json.loads(body)
    except ValueError:
        raise AssertionError("error body is not JSON: %r" % body[:500])
    assert isinstance(obj, dict) and isinstance(obj.get("error"), dict), "no error object: %r" % obj
    err = obj["error"]
    msg = err.get("message")
    assert isinstance(msg, str) and msg.strip(), "error.message must be a non-empty string: %r" % err
    assert "\n" not in msg and "\r" not in msg, "error.message must be one line: %r" % msg
    assert err.get("type") in ERROR_TYPES, "error.type %r" % err.get("type")
    for k in ("param", "code"):
        assert k in err, "error.%s missing: %r" % (k, err)
        assert err[k] is None or isinstance(err[k], str), "error.%s must be a string or null: %r" % (k, err)
    if want_type is None:
        want_type = {400: {"invalid_request_error"}, 413: {"invalid_request_error"},
                     # 401: OpenAI's own API answers a bad key with type invalid_request_error,
                     # code invalid_api_key (the client raises AuthenticationError from the status)
                     401: {"invalid_request_error"}, 404: {"not_found_error", "invalid_request_error"},
                     405: {"invalid_request_error", "not_found_error"}, 429: {"rate_limit_error"},
                     503: {"server_error"}}.get(want_status)
    elif isinstance(want_type, str):
        want_type = {want_type}
    if want_type:
        assert err["type"] in want_type, "error.type %r, want one of %r (%r)" % (err["type"], want_type, err)
    if want_code is not None:
        codes = {want_code} if isinstance(want_code, str) else set(want_code)
        assert err["code"] in codes, "error.code %r, want %r (%r)" % (err["code"], codes, err)
    if want_param is not None:
        assert err["param"] == want_param, "error.param %r, want %r (%r)" % (err["param"], want_param, err)
    return err


# ----------------------------------------------------------------------------- raw sockets
def raw_connect(port, host="127.0.0.1", timeout=30.0):
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(sock, timeout=HTTP_TIMEOUT):
    """one HTTP response from a raw socket: (status, headers, body); raises on EOF/timeout"""
    deadline = time.monotonic() + timeout
    buf = b""

    def more():
        nonlocal buf
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no complete response within %.0f s (have %r)" % (timeout, buf[:200]))
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed after %d bytes: %r" % (len(buf), buf[:200]))
        buf += chunk

    while b"\r\n\r\n" not in buf:
        more()
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    buf = rest
    while len(buf) < n:
        more()
    return status, headers, buf[:n]


def wait_closed(sock, timeout):
    """seconds until the peer closed the connection (EOF or reset), reading and discarding
    whatever it sends; None if still open after timeout"""
    t0 = time.monotonic()
    deadline = t0 + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            continue
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - t0
        if not chunk:
            return time.monotonic() - t0


def http_bytes(method, path, body=b"", headers=None):
    """a request's bytes (Content-Length set from body unless headers give one)"""
    h = {"Host": "127.0.0.1", "Content-Type": "application/json"}
    h.update(headers or {})
    if body and not any(k.lower() == "content-length" for k in h):
        h["Content-Length"] = str(len(body))
    head = "%s %s HTTP/1.1\r\n" % (method, path) + "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
    return head.encode("latin-1") + body


# ----------------------------------------------------------------------------- vectors
def vector_of(embedding):
    """a response's embedding (float list or base64 string) as a float32 array"""
    if isinstance(embedding, str):
        return np.frombuffer(base64.b64decode(embedding, validate=True), dtype="<f4").copy()
    assert isinstance(embedding, list), type(embedding)
    return np.array(embedding, dtype=np.float64).astype(np.float32)


def same_bits(a, b):
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def assert_same_bits(got, want, what=""):
    got = np.asarray(got, dtype=np.float32)
    want = np.asarray(want, dtype=np.float32)
    assert got.shape == want.shape, "%s: shape %s, want %s" % (what, got.shape, want.shape)
    if got.tobytes() != want.tobytes():
        d = np.flatnonzero(got.view(np.uint32) != want.view(np.uint32))
        raise AssertionError("%s: %d of %d floats differ, first at %d: %r vs %r (max |diff| %.3g)" % (
            what, d.size, got.size, d[0], float(got[d[0]]), float(want[d[0]]),
            float(np.max(np.abs(got.astype(np.float64) - want)))))


# ----------------------------------------------------------------------------- the CLI
def run_cli(args, timeout=300):
    require_inputs()
    p = subprocess.run([CLI] + list(args), stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    assert p.returncode == 0, "ggufembed %s -> %d: %s" % (" ".join(args)[:300], p.returncode,
                                                           p.stderr.decode("utf-8", "replace"))
    return p.stdout.decode("utf-8")


def cli_embed(model, texts, *flags):
    """the CLI's vectors (%.9g, parsed back to the exact float32s), one per text"""
    out = run_cli(["embed", "-m", model, "--format", "ndjson"] + list(flags) + ["--"] + list(texts))
    rows = [json.loads(l) for l in out.splitlines() if l.strip()]
    assert len(rows) == len(texts), (len(rows), len(texts))
    return [np.array(r, dtype=np.float64).astype(np.float32) for r in rows]


def cli_tokenize(model, text, *flags):
    return json.loads(run_cli(["tokenize", "-m", model] + list(flags) + ["--", text]))


def cli_rerank(model, query, docs):
    out = run_cli(["rerank", "-m", model, "--query", query, "--"] + list(docs))
    return [np.float32(float(l)) for l in out.split()]


def cli_info(model):
    out = run_cli(["info", "-m", model])
    info = {}
    for line in out.splitlines():
        m = re.match(r"^(architecture|output dimension|context length):?\s+(\S+)", line)
        if m:
            info[m.group(1)] = m.group(2)
    return info


# ----------------------------------------------------------------------------- texts
def corpus():
    """tests/golden/corpus.jsonl as {id: text}"""
    out = {}
    with open(os.path.join(ROOT, "tests", "golden", "corpus.jsonl"), encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            out[r["id"]] = r["text"]
    return out


def bench_text(name):
    with open(os.path.join(ROOT, "bench", "texts", name), encoding="utf-8") as f:
        return f.read().strip()


def bench_lines(name):
    with open(os.path.join(ROOT, "bench", "texts", name), encoding="utf-8") as f:
        return [l.strip() for l in f if l.strip()]


# ----------------------------------------------------------------------------- Prometheus text
_SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$')
_LABEL_RE = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')


class Metrics:
    def __init__(self):
        self.types = {}     # family -> type
        self.samples = []   # (name, {labels}, value)

    def get(self, name, **labels):
        """the sum of the samples called name whose labels include labels"""
        return sum(v for n, l, v in self.samples
                   if n == name and all(l.get(k) == want for k, want in labels.items()))

    def select(self, name, pred=lambda labels: True):
        return [(l, v) for n, l, v in self.samples if n == name and pred(l)]

    def buckets(self, family, pred=lambda labels: True):
        """{le: cumulative count} of a histogram (summed over its other labels)"""
        out = {}
        for l, v in self.select(family + "_bucket", pred):
            le = float(l["le"])
            out[le] = out.get(le, 0) + v
        return dict(sorted(out.items()))


def parse_prometheus(text):
    """text format 0.0.4; raises AssertionError on a line that is not valid"""
    m = Metrics()
    for ln, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 4 and parts[1] == "TYPE":
                assert parts[3] in ("counter", "gauge", "histogram", "summary", "untyped"), line
                assert parts[2] not in m.types, "second TYPE line for %s" % parts[2]
                m.types[parts[2]] = parts[3]
            continue
        s = _SAMPLE_RE.match(line)
        assert s, "metrics line %d is not a sample: %r" % (ln, line)
        labels = {}
        if s.group(3):
            rest = s.group(3)
            pos = 0
            while pos < len(rest):
                lm = _LABEL_RE.match(rest, pos)
                assert lm, "metrics line %d: bad labels %r" % (ln, rest)
                labels[lm.group(1)] = re.sub(r'\\(.)', lambda x: {"n": "\n"}.get(x.group(1), x.group(1)), lm.group(2))
                pos = lm.end()
        v = s.group(4)
        value = {"+Inf": float("inf"), "-Inf": float("-inf"), "NaN": float("nan")}.get(v)
        if value is None:
            value = float(v)
        m.samples.append((s.group(1), labels, value))
    return m


# ----------------------------------------------------------------------------- the load-test texts
def text_pool():
    """distinct texts of mixed lengths, by class: short (4-35 tokens, some non-ASCII and code),
    medium (28-66 tokens), long (271 and 513 tokens)"""
    c = corpus()
    short = [c["short-en-%03d" % i] for i in range(1, 21)] + [c[k] for k in (
        "lang-zh-002", "lang-ja-002", "emoji-002", "code-001")]
    medium = [c["long-en-%03d" % i] for i in range(1, 7)] + [c["para-en-%03d" % i] for i in range(1, 4)]
    long_ = [c["long-doc-001"], c["long-doc-003"]]
    assert len(set(short + medium + long_)) == len(short) + len(medium) + len(long_)
    return {"short": short, "medium": medium, "long": long_}
