"""Fixtures of the `ggufembed serve` test suite (helpers: serverlib.py).

  server         the shared server (session): the real model (first, the default), then the
                 tiny seed embedder as "tiny" and the tiny seed reranker as "rr"
  start_server   start_server(args, env=None) -> Server, for servers with their own options;
                 each one is sent SIGTERM at teardown and must exit 0 within a bounded time
"""
import pytest

from serverlib import MODEL, RERANK_NAME, TINY_EMBED, TINY_NAME, TINY_RERANK, Server, model_name, text_pool


@pytest.fixture
def start_server():
    """start_server(args, env=None) -> Server; each is stopped (and checked) at teardown"""
    started = []

    def start(args, env=None):
        s = Server(args, env=env)
        started.append(s)
        return s

    yield start
    errors = []
    for s in started:
        try:
            s.check_stopped_cleanly()
        except AssertionError as e:
            errors.append(str(e))
        finally:
            s.kill()
    assert not errors, "\n\n".join(errors)


@pytest.fixture(scope="session")
def server():
    """the shared server: the real model first (the default), then the two tiny models"""
    s = Server(["-m", MODEL, "-m", "%s=%s" % (TINY_NAME, TINY_EMBED), "-m", "%s=%s" % (RERANK_NAME, TINY_RERANK)])
    try:
        yield s
        s.check_stopped_cleanly()
    finally:
        s.kill()


@pytest.fixture(scope="session")
def main_name():
    return model_name(MODEL)




@pytest.fixture(scope="session")
def pool():
    return text_pool()


@pytest.fixture(scope="session")
def refs(server, pool):
    """{text: (float32 vector, prompt_tokens)}: every pool text embedded alone, one request each,
    sequentially, on the shared server (the real model, default options)"""
    out = {}
    for cls in ("short", "medium", "long"):
        for t in pool[cls]:
            vecs, resp = server.embed([t])
            assert len(vecs) == 1
            out[t] = (vecs[0], resp["usage"]["prompt_tokens"])
    return out
