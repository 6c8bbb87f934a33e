"""Concurrency: 64 keep-alive clients at once (dynamic batching, exact vectors, nothing lost or
duplicated, bounded memory over two identical rounds), and a full queue (429 queue_full).

Sizing (2 cores, ~50-100 short texts/s for this model): a round is 64 clients x
LOAD_REQUESTS requests of 1..8 texts drawn mostly from short texts (70 %), some medium (25 %)
and a few long ones (5 %, 271 and 513 tokens): 128 requests, 549 texts, ~20k tokens a round.
Measured: 16 s a round on this machine with other jobs beside it, the whole test 32-65 s
(two rounds); GGUFEMBED_SERVER_LOAD_REQUESTS changes the requests per client."""
import http.client
import json
import os
import random
import threading
import time

import pytest

from serverlib import MODEL, Server, assert_same_bits, check_error, http_bytes, raw_connect, read_response, vector_of

N_CLIENTS = 64
LOAD_REQUESTS = int(os.environ.get("GGUFEMBED_SERVER_LOAD_REQUESTS", "2"))   # per client per round
ROUND_TIMEOUT = 240.0
HWM_GROWTH_LIMIT = 64 * 1024 * 1024


def make_plan(pool, seed):
    rng = random.Random(seed)
    plan = []
    for c in range(N_CLIENTS):
        reqs = []
        for r in range(LOAD_REQUESTS):
            texts = []
            for _ in range(rng.randint(1, 8)):
                x = rng.random()
                cls = "short" if x < 0.70 else "medium" if x < 0.95 else "long"
                texts.append(rng.choice(pool[cls]))
            reqs.append(texts)
        plan.append(reqs)
    return plan


def run_round(server, plan, main_name):
    """every client on its own keep-alive connection, all started together; returns
    {(client, request): (status, body)} and the errors raised in clients"""
    results, errors = {}, []
    barrier = threading.Barrier(len(plan), timeout=60)

    def client(ci):
        conn = http.client.HTTPConnection(server.host, server.port, timeout=ROUND_TIMEOUT)
        try:
            conn.connect()
            barrier.wait()
            for ri, texts in enumerate(plan[ci]):
                body = json.dumps({"model": main_name, "input": texts, "encoding_format": "base64"})
                conn.request("POST", "/v1/embeddings", body=body, headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                results[(ci, ri)] = (r.status, r.read(), r.getheader("Connection"))
        except Exception as e:   # reported by the test
            errors.append("client %d: %r" % (ci, e))
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(len(plan))]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, ROUND_TIMEOUT + 30 - (time.monotonic() - t0)))
    assert not any(t.is_alive() for t in threads), "clients still running after %.0f s" % ROUND_TIMEOUT
    return results, errors, time.monotonic() - t0


def check_round(plan, results, errors, refs):
    assert not errors, "%d clients failed: %s" % (len(errors), errors[:5])
    n_req = sum(len(r) for r in plan)
    assert len(results) == n_req, "%d responses for %d requests" % (len(results), n_req)
    for (ci, ri), (status, body, conn_hdr) in sorted(results.items()):
        texts = plan[ci][ri]
        assert status == 200, "client %d request %d: HTTP %d %r" % (ci, ri, status, body[:300])
        obj = json.loads(body)
        data = obj["data"]
        assert len(data) == len(texts), "client %d request %d: %d vectors for %d texts" % (
            ci, ri, len(data), len(texts))
        assert sorted(d["index"] for d in data) == list(range(len(texts))), [d["index"] for d in data]
        for d in data:
            t = texts[d["index"]]
            assert_same_bits(vector_of(d["embedding"]), refs[t][0],
                             "client %d request %d text %d under load vs alone" % (ci, ri, d["index"]))
        assert obj["usage"]["prompt_tokens"] == sum(refs[t][1] for t in texts), obj["usage"]
    return n_req, sum(len(t) for r in plan for t in r)


def embed_requests(m):
    return sum(v for l, v in m.select("ggufembed_requests_total",
                                      lambda l: "embed" in l.get("endpoint", "") and l.get("status") == "200"))


def test_load_rounds(server, refs, pool, main_name):
    plan = make_plan(pool, 42)
    status0 = server.proc_status()
    m0 = server.metrics()
    results, errors, secs1 = run_round(server, plan, main_name)
    m1 = server.metrics()
    status1 = server.proc_status()
    n_req, n_texts = check_round(plan, results, errors, refs)

    # dynamic batching: fewer batches than requests, more texts per batch than per request
    d = lambda name: m1.get(name) - m0.get(name)
    assert embed_requests(m1) - embed_requests(m0) == n_req
    assert d("ggufembed_texts_total") == n_texts
    batches = d("ggufembed_batches_total")
    assert 0 < batches < n_req, "%d batches for %d concurrent requests: no dynamic batching" % (batches, n_req)
    assert d("ggufembed_batch_texts_sum") / d("ggufembed_batch_texts_count") > n_texts / n_req
    b0, b1 = m0.buckets("ggufembed_batch_texts"), m1.buckets("ggufembed_batch_texts")
    low = [le for le in b1 if le < 2]
    if low:   # a bucket at 1: some batch had more than one text
        le = max(low)
        assert d("ggufembed_batch_texts_count") - (b1[le] - b0.get(le, 0)) > 0
    assert m1.get("ggufembed_queue_depth") == 0

    # the same round again: the peak resident set must not grow by more than 64 MiB
    results, errors, secs2 = run_round(server, plan, main_name)
    status2 = server.proc_status()
    check_round(plan, results, errors, refs)
    grow = status2["VmHWM"] - status1["VmHWM"]
    print("load: %d requests, %d texts a round; %.1f s + %.1f s; VmHWM %.0f -> %.0f -> %.0f MiB, VmRSS %.0f MiB"
          % (n_req, n_texts, secs1, secs2, status0["VmHWM"] / 2 ** 20, status1["VmHWM"] / 2 ** 20,
             status2["VmHWM"] / 2 ** 20, status2["VmRSS"] / 2 ** 20))
    assert grow <= HWM_GROWTH_LIMIT, "VmHWM grew by %.1f MiB in the second identical round" % (grow / 2 ** 20)
    assert status2["VmRSS"] - status1["VmRSS"] <= HWM_GROWTH_LIMIT, (status1, status2)


def test_queue_full(start_server, refs, pool, main_name):
    """--max-queue 1 and 16 simultaneous requests: some 429 queue_full (with Retry-After), the
    others 200 with exact vectors"""
    s = start_server(["-m", MODEL, "--max-queue", "1"])
    texts = pool["medium"][:8]
    body = json.dumps({"input": texts, "encoding_format": "base64"}).encode()
    socks = [raw_connect(s.port) for _ in range(16)]
    barrier = threading.Barrier(len(socks), timeout=60)
    results, errors = [None] * len(socks), []

    def client(i):
        try:
            barrier.wait()
            socks[i].sendall(http_bytes("POST", "/v1/embeddings", body))
            results[i] = read_response(socks[i], timeout=180)
        except Exception as e:
            errors.append("client %d: %r" % (i, e))
        finally:
            socks[i].close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(len(socks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not errors, errors
    statuses = sorted(r[0] for r in results)
    assert set(statuses) <= {200, 429}, statuses
    assert 429 in statuses and 200 in statuses, statuses
    for st, hd, resp in results:
        if st == 429:
            check_error(st, hd, resp, 429, "queue_full")
            assert "retry-after" in hd and hd["retry-after"].strip().isdigit(), hd
        else:
            data = json.loads(resp)["data"]
            assert [d["index"] for d in data] == list(range(len(texts)))
            for d in data:
                assert_same_bits(vector_of(d["embedding"]), refs[texts[d["index"]]][0], "200 beside 429s")
    m = s.metrics()
    rejected = sum(v for l, v in m.select("ggufembed_requests_total", lambda l: l.get("status") == "429"))
    assert rejected == statuses.count(429), (rejected, statuses)
    vecs, _ = s.embed([texts[0]])
    assert_same_bits(vecs[0], refs[texts[0]][0], "after the burst")


OPTION_SETS = [{}, {"dimensions": 128}, {"task": "query"}, {"normalize": False},
               {"task": "document", "title": "A title"}, {"model": "tiny"}, {"dimensions": 256, "task": "query"},
               {"model": "tiny", "task": "query", "truncate": True}, {"truncate": True}]


def test_concurrent_mixed_options_and_models(server, pool, main_name):
    """32 clients at once, each request with one of several option sets and two models: the
    batcher packs only compatible requests, so every vector equals that text's vector with the
    same options embedded without concurrency"""
    texts = pool["short"][:20]   # English (the tiny model's byte-level pieces: 64 tokens of context)
    rng = random.Random(7)
    plan = [[(rng.randrange(len(OPTION_SETS)), [rng.choice(texts) for _ in range(rng.randint(1, 4))])
             for _ in range(2)] for _ in range(32)]
    # the references: per option set, one sequential request with every text it needs (a text's
    # vector does not depend on its batch: test_endpoints.py::test_batch_equals_each_alone)
    want = {}
    for oi, opts in enumerate(OPTION_SETS):
        need = sorted({t for reqs in plan for o, ts in reqs if o == oi for t in ts})
        if need:
            vecs, _ = server.embed(need, **opts)
            want.update({(oi, t): v for t, v in zip(need, vecs)})
    results, errors = {}, []
    barrier = threading.Barrier(len(plan), timeout=60)

    def client(ci):
        conn = http.client.HTTPConnection(server.host, server.port, timeout=120)
        try:
            conn.connect()
            barrier.wait()
            for ri, (oi, ts) in enumerate(plan[ci]):
                req = dict(OPTION_SETS[oi], input=ts, encoding_format="base64")
                conn.request("POST", "/v1/embeddings", body=json.dumps(req),
                             headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                results[(ci, ri)] = (r.status, r.read())
        except Exception as e:
            errors.append("client %d: %r" % (ci, e))
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(len(plan))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not errors, errors[:5]
    assert len(results) == sum(len(r) for r in plan)
    for (ci, ri), (status, body) in results.items():
        oi, ts = plan[ci][ri]
        assert status == 200, (OPTION_SETS[oi], status, body[:300])
        obj = json.loads(body)
        assert obj["model"] == OPTION_SETS[oi].get("model", main_name)
        assert sorted(d["index"] for d in obj["data"]) == list(range(len(ts)))
        for d in obj["data"]:
            assert_same_bits(vector_of(d["embedding"]), want[(oi, ts[d["index"]])],
                             "options %r text %d under concurrency" % (OPTION_SETS[oi], d["index"]))
