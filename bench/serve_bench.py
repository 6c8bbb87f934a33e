#!/usr/bin/env python3
"""Load generator for OpenAI-style embedding servers (ggufembed serve, llama-server).

Standard library only. C client threads, each with one keep-alive HTTP/1.1 connection,
send POST /v1/embeddings requests; request i carries texts i*k .. i*k+k-1 (mod the text
count) of the texts file, so every run walks the texts round-robin in the same order
whatever the server. Before the timed phase every client sends --warmup requests of its
own (not counted); then all clients start together (a barrier) and share one request
counter until --requests requests are done.

Prints one JSON line per run on stdout:
  texts_per_s = requests*k / wall time of the timed phase (first send to last response),
  p50_ms / p90_ms / p99_ms / mean_ms / max_ms = request latency (send -> whole response
  read and parsed), errors, prompt_tokens (the servers' usage totals), dim, ...
Exit status 1 (and a message on stderr) if any request fails, or a response is not the
expected number of vectors of one dimension: a benchmark of a broken server must not
print a number.

  serve_bench.py --url http://127.0.0.1:8080 --model NAME --clients 8 --requests 200 \\
                 --texts bench/texts/batch-short.txt [--per-request 1] [--warmup 2] [--label X]

--compare URL2 [--compare-model NAME2]: no load; embeds the first --compare-texts texts
(one request per text) on both servers and prints one JSON line with the cosine of the two
servers' vectors per text (min / mean) and both servers' prompt_tokens; exits 1 when the
min cosine is below --min-cosine (default 0.99) or the dimensions differ.
"""
import argparse
import base64
import http.client
import json
import math
import os
import socket
import statistics
import struct
import sys
import threading
import time
import urllib.parse


def read_texts(path):
    with open(path, encoding="utf-8") as f:
        texts = [ln.rstrip("\n") for ln in f]
    texts = [t for t in texts if t.strip()]
    if not texts:
        sys.exit(f"serve_bench: {path}: no texts")
    return texts


class Client:
    """One keep-alive connection; reconnects (and counts it) when the server closed it."""

    def __init__(self, url, timeout, api_key=None):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "http":
            sys.exit(f"serve_bench: only http:// URLs ({url})")
        self.host, self.port = u.hostname, u.port or 80
        self.path = (u.path.rstrip("/") or "") + "/v1/embeddings"
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
        if api_key:
            self.headers["Authorization"] = "Bearer " + api_key
        self.conn = None
        self.reconnects = -1  # the first connect is not a reconnect

    def _connect(self):
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reconnects += 1

    def post(self, body):
        """-> (status, parsed JSON or raw bytes). Retries once on a dropped keep-alive connection."""
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            try:
                self.conn.request("POST", self.path, body=body, headers=self.headers)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                    http.client.CannotSendRequest, http.client.BadStatusLine):
                self.close()
                if attempt == 1:
                    raise
        try:
            return r.status, json.loads(data)
        except ValueError:
            return r.status, data

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def make_body(model, texts, encoding, extra):
    req = {"input": texts[0] if len(texts) == 1 and not extra.get("_list") else texts}
    if model:
        req["model"] = model
    if encoding != "float":
        req["encoding_format"] = encoding
    for k, v in extra.items():
        if not k.startswith("_"):
            req[k] = v
    return json.dumps(req).encode()


def check_response(status, resp, k):
    """-> (dim, prompt_tokens) or raises ValueError with a one-line reason."""
    if status != 200:
        msg = resp if isinstance(resp, (bytes, str)) else json.dumps(resp)
        raise ValueError(f"HTTP {status}: {str(msg)[:300]}")
    if not isinstance(resp, dict) or not isinstance(resp.get("data"), list):
        raise ValueError(f"no data list in the response: {str(resp)[:300]}")
    data = resp["data"]
    if len(data) != k:
        raise ValueError(f"{len(data)} vectors for {k} texts")
    dim = None
    for d in data:
        e = d.get("embedding")
        n = len(base64.b64decode(e)) // 4 if isinstance(e, str) else len(e) if isinstance(e, list) else 0
        if n == 0 or (dim is not None and n != dim):
            raise ValueError(f"bad embedding (dimension {n}, expected {dim})")
        dim = n
    usage = resp.get("usage") or {}
    return dim, int(usage.get("prompt_tokens") or 0)


def vectors(resp):
    out = []
    for d in sorted(resp["data"], key=lambda d: d.get("index", 0)):
        e = d["embedding"]
        if isinstance(e, str):
            raw = base64.b64decode(e)
            e = list(struct.unpack("<%df" % (len(raw) // 4), raw))
        out.append(e)
    return out


def percentile(sorted_vals, q):
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_vals:
        return None
    pos = (len(sorted_vals) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (pos - lo)


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def proc_cpu_s(pid):
    """utime + stime of a process (all its threads), seconds; None when unknown."""
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        hz = os.sysconf("SC_CLK_TCK")
        return (int(rest[11]) + int(rest[12])) / hz
    except (OSError, ValueError, IndexError):
        return None


def cpu_busy_s():
    """System-wide busy CPU seconds so far (all CPUs, /proc/stat, everything but idle and iowait)."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def wait_quiet(max_wait, cores):
    """Wait (at most max_wait s) until the machine is idle: busy < cores over a 1 s window.
    -> (seconds waited, busy cores of the last window)."""
    t0 = time.monotonic()
    busy = None
    while True:
        b0 = cpu_busy_s()
        time.sleep(1.0)
        b1 = cpu_busy_s()
        if b0 is None or b1 is None:
            return 0.0, None
        busy = b1 - b0
        waited = time.monotonic() - t0
        if busy < cores or waited >= max_wait:
            return round(waited, 1), round(busy, 3)


def run_load(a, texts):
    C, N, k = a.clients, a.requests, a.per_request
    extra = json.loads(a.extra) if a.extra else {}
    if k > 1:
        extra["_list"] = True
    bodies = [make_body(a.model, [texts[(i * k + j) % len(texts)] for j in range(k)], a.encoding, extra)
              for i in range(min(N, len(texts)) if k == 1 else N)]
    # with k == 1 request i uses text i mod len(texts): the bodies repeat
    body_of = (lambda i: bodies[i % len(bodies)])

    lock = threading.Lock()
    next_req = [0]
    lat = []            # seconds, timed requests
    errors = []
    dims = set()
    tokens = [0]
    clients = []
    barrier = threading.Barrier(C + 1)
    done_at = [0.0]
    stop = threading.Event()

    def worker(w):
        cl = Client(a.url, a.timeout, a.api_key)
        clients.append(cl)
        try:
            for j in range(a.warmup):
                st, resp = cl.post(body_of((w * a.warmup + j) % len(bodies)))
                check_response(st, resp, k)
        except Exception as e:  # noqa: BLE001 - report any failure, then stop everyone
            errors.append(f"warm-up: {type(e).__name__}: {e}")
            stop.set()
        try:
            barrier.wait(timeout=a.timeout * (a.warmup + 1) + 60)
        except threading.BrokenBarrierError:
            return
        my_lat = []
        my_tokens = 0
        while not stop.is_set():
            with lock:
                i = next_req[0]
                next_req[0] += 1
            if i >= N:
                break
            t0 = time.perf_counter()
            try:
                st, resp = cl.post(body_of(i))
                dim, nt = check_response(st, resp, k)
            except Exception as e:  # noqa: BLE001
                with lock:
                    errors.append(f"request {i}: {type(e).__name__}: {e}")
                if len(errors) >= a.max_errors:
                    stop.set()
                continue
            t1 = time.perf_counter()
            my_lat.append(t1 - t0)
            my_tokens += nt
            with lock:
                dims.add(dim)
                if t1 > done_at[0]:
                    done_at[0] = t1
        with lock:
            lat.extend(my_lat)
            tokens[0] += my_tokens

    waited, busy_before = wait_quiet(a.quiet_wait, a.quiet_cores) if a.quiet_wait > 0 else (0.0, None)
    if a.quiet_wait > 0 and busy_before is not None and busy_before >= a.quiet_cores:
        print(f"serve_bench: {a.label or a.url}: the machine is busy ({busy_before:.2f} cores used by others "
              f"after waiting {waited:.0f} s): measuring anyway", file=sys.stderr)
    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(C)]
    for t in threads:
        t.start()
    try:
        barrier.wait(timeout=a.timeout * (a.warmup + 1) + 60)
    except threading.BrokenBarrierError:
        pass
    la0 = loadavg()
    srv0 = proc_cpu_s(a.pid)
    cli0 = time.process_time()
    sys0 = cpu_busy_s()
    t_start = time.perf_counter()
    for t in threads:
        t.join()
    cli1 = time.process_time()
    srv1 = proc_cpu_s(a.pid)
    sys1 = cpu_busy_s()
    for cl in clients:
        cl.close()
    wall = (done_at[0] or time.perf_counter()) - t_start
    lat.sort()
    ms = [x * 1000.0 for x in lat]
    res = {
        "label": a.label or a.url,
        "url": a.url,
        "model": a.model,
        "texts_file": a.texts,
        "clients": C,
        "requests": N,
        "per_request": k,
        "texts": len(lat) * k,
        "warmup_per_client": a.warmup,
        "encoding": a.encoding,
        "wall_s": round(wall, 4),
        "texts_per_s": round(len(lat) * k / wall, 3) if wall > 0 and lat else 0.0,
        "requests_per_s": round(len(lat) / wall, 3) if wall > 0 and lat else 0.0,
        "p50_ms": round(percentile(ms, 50), 3) if ms else None,
        "p90_ms": round(percentile(ms, 90), 3) if ms else None,
        "p99_ms": round(percentile(ms, 99), 3) if ms else None,
        "mean_ms": round(statistics.fmean(ms), 3) if ms else None,
        "max_ms": round(ms[-1], 3) if ms else None,
        "prompt_tokens": tokens[0],
        "dim": sorted(dims),
        "reconnects": sum(max(cl.reconnects, 0) for cl in clients),
        "errors": len(errors),
        # CPU seconds used during the timed phase: the server process (--pid) and this
        # load generator (all its threads)
        "server_cpu_s": round(srv1 - srv0, 3) if srv0 is not None and srv1 is not None else None,
        "client_cpu_s": round(cli1 - cli0, 3),
        "loadavg_1m": [la0, loadavg()],
        # everything else the machine ran meanwhile (other processes), in cores on average
        "other_cores": (round(max(0.0, (sys1 - sys0 - (srv1 - srv0) - (cli1 - cli0)) / wall), 3)
                        if None not in (sys0, sys1, srv0, srv1) and wall > 0 else None),
        "quiet_wait_s": waited,
        "busy_before_cores": busy_before,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if a.latencies:
        res["latencies_ms"] = [round(x, 3) for x in ms]
    print(json.dumps(res), flush=True)
    bad = errors[:]
    if not bad and len(lat) != N:
        bad.append(f"{len(lat)} of {N} requests completed")
    if not bad and len(dims) != 1:
        bad.append(f"embedding dimensions {sorted(dims)}")
    if bad:
        print(f"serve_bench: {a.label or a.url}: {len(errors)} failed request(s); first: {bad[0]}",
              file=sys.stderr)
        return 1
    return 0


def run_compare(a, texts):
    n = min(a.compare_texts, len(texts))
    sides = [(a.url, a.model), (a.compare, a.compare_model if a.compare_model is not None else a.model)]
    vecs, toks = [], []
    for url, model in sides:
        cl = Client(url, a.timeout, a.api_key)
        vs, nt = [], 0
        for t in texts[:n]:
            st, resp = cl.post(make_body(model, [t], "float", {}))
            try:
                _, ntok = check_response(st, resp, 1)
            except ValueError as e:
                print(f"serve_bench --compare: {url}: {e}", file=sys.stderr)
                return 1
            vs.append(vectors(resp)[0])
            nt += ntok
        cl.close()
        vecs.append(vs)
        toks.append(nt)
    cos = []
    for x, y in zip(*vecs):
        if len(x) != len(y):
            print(f"serve_bench --compare: dimensions differ: {len(x)} vs {len(y)}", file=sys.stderr)
            return 1
        dot = sum(p * q for p, q in zip(x, y))
        nx = math.sqrt(sum(p * p for p in x))
        ny = math.sqrt(sum(q * q for q in y))
        cos.append(dot / (nx * ny) if nx and ny else 0.0)
    norms = [[math.sqrt(sum(p * p for p in v)) for v in vs] for vs in vecs]
    res = {
        "compare": [a.url, a.compare],
        "texts_file": a.texts,
        "texts": n,
        "dim": len(vecs[0][0]),
        "cos_min": round(min(cos), 6),
        "cos_mean": round(statistics.fmean(cos), 6),
        "prompt_tokens": toks,
        "norm_range": [[round(min(ns), 4), round(max(ns), 4)] for ns in norms],
    }
    print(json.dumps(res), flush=True)
    if min(cos) < a.min_cosine:
        print(f"serve_bench --compare: min cosine {min(cos):.4f} < {a.min_cosine}", file=sys.stderr)
        return 1
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:8080")
    p.add_argument("--model", default="", help='the request\'s "model" ("" = leave it out)')
    p.add_argument("--texts", required=True, help="one text per line")
    p.add_argument("--clients", "-c", type=int, default=1)
    p.add_argument("--requests", "-n", type=int, default=100, help="timed requests (all clients together)")
    p.add_argument("--per-request", "-k", type=int, default=1, help="texts per request (k > 1: input is a list)")
    p.add_argument("--warmup", type=int, default=2, help="untimed requests per client first")
    p.add_argument("--encoding", choices=["float", "base64"], default="float")
    p.add_argument("--extra", default="", help='JSON object merged into each request, e.g. \'{"task":"document"}\'')
    p.add_argument("--api-key", default=None)
    p.add_argument("--timeout", type=float, default=300.0, help="socket timeout per request, s")
    p.add_argument("--max-errors", type=int, default=5, help="stop the run after this many failures")
    p.add_argument("--label", default="")
    p.add_argument("--pid", type=int, default=0, help="server process id: report its CPU seconds")
    p.add_argument("--quiet-wait", type=float, default=0.0,
                   help="first wait up to this many seconds for the machine to be idle")
    p.add_argument("--quiet-cores", type=float, default=0.15,
                   help="idle = fewer busy cores than this over 1 s (with --quiet-wait)")
    p.add_argument("--latencies", action="store_true", help="include every latency in the JSON line")
    p.add_argument("--compare", default=None, metavar="URL2", help="compare vectors with a second server")
    p.add_argument("--compare-model", default=None)
    p.add_argument("--compare-texts", type=int, default=8)
    p.add_argument("--min-cosine", type=float, default=0.99)
    a = p.parse_args()
    if a.clients < 1 or a.requests < 1 or a.per_request < 1 or a.warmup < 0:
        p.error("--clients, --requests, --per-request must be >= 1, --warmup >= 0")
    texts = read_texts(a.texts)
    sys.exit(run_compare(a, texts) if a.compare else run_load(a, texts))


if __name__ == "__main__":
    main()
