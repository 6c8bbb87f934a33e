"""The official `openai` Python client, unchanged, against the server; and the API key.

openai 3.x's embeddings.create: with encoding_format omitted it asks for base64 and decodes
the vectors itself (to lists of floats); with encoding_format="base64" given it returns the
base64 strings untouched; with "float" the server's float lists."""
import base64
import json

import numpy as np
import openai
import pytest
from openai import OpenAI

from serverlib import (TINY_EMBED, TINY_NAME, assert_same_bits, check_error, cli_embed, vector_of)

TEXTS = ["Hello world", "The quick brown fox jumps over the lazy dog", "東京スカイツリー"]


def client_for(server, key="sk-unused"):
    return OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=120.0)


def raw_vectors(server, texts, **opts):
    vecs, resp = server.embed(texts, **opts)
    return vecs


def test_client_float(server, main_name):
    c = client_for(server)
    r = c.embeddings.create(model=main_name, input=TEXTS, encoding_format="float")
    assert r.model == main_name and r.object == "list"
    assert [d.index for d in r.data] == [0, 1, 2]
    for d, want in zip(r.data, raw_vectors(server, TEXTS)):
        assert isinstance(d.embedding, list) and len(d.embedding) == 768
        assert_same_bits(np.array(d.embedding).astype(np.float32), want, "client float")
    assert r.usage.prompt_tokens == r.usage.total_tokens > 0


def test_client_base64_explicit(server, main_name):
    c = client_for(server)
    r = c.embeddings.create(model=main_name, input=TEXTS, encoding_format="base64")
    for d, want in zip(r.data, raw_vectors(server, TEXTS)):
        assert isinstance(d.embedding, str), type(d.embedding)   # the client leaves it alone
        v = np.frombuffer(base64.b64decode(d.embedding), dtype="<f4")
        assert_same_bits(v, want, "client base64")


def test_client_default_decodes_base64(server, main_name):
    """encoding_format omitted: the client requests base64 and decodes it"""
    c = client_for(server)
    raw = c.embeddings.with_raw_response.create(model=main_name, input=TEXTS)
    sent = json.loads(raw.http_request.content)
    assert sent["encoding_format"] == "base64"
    assert isinstance(json.loads(raw.content)["data"][0]["embedding"], str)
    r = raw.parse()
    for d, want in zip(r.data, raw_vectors(server, TEXTS)):
        assert isinstance(d.embedding, list)
        assert_same_bits(np.array(d.embedding, dtype=np.float64).astype(np.float32), want, "client default")


def test_client_single_string_and_tokens(server, main_name):
    c = client_for(server)
    r = c.embeddings.create(model=main_name, input="Hello world")
    assert len(r.data) == 1
    want = raw_vectors(server, ["Hello world"])[0]
    assert_same_bits(np.array(r.data[0].embedding).astype(np.float32), want, "client string")
    r = c.embeddings.create(model=main_name, input=[2, 9259, 1902, 1])
    assert_same_bits(np.array(r.data[0].embedding).astype(np.float32), want, "client token ids")
    r = c.embeddings.create(model=main_name, input=[[2, 9259, 1902, 1], [2, 9259, 1902, 1]])
    assert len(r.data) == 2 and r.usage.prompt_tokens == 8


def test_client_dimensions(server, main_name):
    c = client_for(server)
    for fmt in ("float", None):
        kw = {"encoding_format": fmt} if fmt else {}
        r = c.embeddings.create(model=main_name, input=TEXTS, dimensions=128, **kw)
        for d, want in zip(r.data, raw_vectors(server, TEXTS, dimensions=128)):
            assert len(d.embedding) == 128
            assert_same_bits(np.array(d.embedding).astype(np.float32), want, "client dimensions=128")


def test_client_extra_body_task(server, main_name):
    c = client_for(server)
    r = c.embeddings.create(model=main_name, input=TEXTS[:1], encoding_format="float",
                            extra_body={"task": "query"})
    assert_same_bits(np.array(r.data[0].embedding).astype(np.float32),
                     raw_vectors(server, TEXTS[:1], task="query")[0], "client extra_body task")


def test_client_second_model(server):
    c = client_for(server)
    r = c.embeddings.create(model=TINY_NAME, input=["the quick brown fox"])
    assert r.model == TINY_NAME
    assert_same_bits(np.array(r.data[0].embedding).astype(np.float32),
                     cli_embed(TINY_EMBED, ["the quick brown fox"])[0], "client tiny model vs CLI")


def test_client_models_list(server, main_name):
    c = client_for(server)
    ids = [m.id for m in c.models.list()]
    assert ids == server.models and ids[0] == main_name


def test_client_errors(server, main_name):
    c = client_for(server)
    with pytest.raises(openai.NotFoundError) as e:
        c.embeddings.create(model="no-such-model", input="x")
    assert e.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as e:
        c.embeddings.create(model=main_name, input=[])
    with pytest.raises(openai.BadRequestError) as e:
        c.embeddings.create(model=main_name, input="x", dimensions=0)
    assert e.value.param == "dimensions"


# ----------------------------------------------------------------------------- the API key
KEY = "test-key-0123456789"


@pytest.fixture(scope="module")
def key_server():
    from serverlib import Server
    s = Server(["-m", "%s=%s" % (TINY_NAME, TINY_EMBED), "--api-key", KEY])
    try:
        yield s
        s.check_stopped_cleanly()
    finally:
        s.kill()


def test_api_key_client(key_server):
    want = cli_embed(TINY_EMBED, ["the quick brown fox"])[0]
    r = client_for(key_server, KEY).embeddings.create(model=TINY_NAME, input="the quick brown fox")
    assert_same_bits(np.array(r.data[0].embedding).astype(np.float32), want, "with the key")
    r = client_for(key_server, KEY).embeddings.create(model=TINY_NAME, input="the quick brown fox",
                                                      encoding_format="float")
    assert_same_bits(np.array(r.data[0].embedding).astype(np.float32), want, "with the key, float")
    assert [m.id for m in client_for(key_server, KEY).models.list()] == [TINY_NAME]
    with pytest.raises(openai.AuthenticationError) as e:
        client_for(key_server, "wrong-key").embeddings.create(model=TINY_NAME, input="x")
    assert e.value.status_code == 401 and e.value.code == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        client_for(key_server, KEY + "x").embeddings.create(model=TINY_NAME, input="x")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY},
                                     {"Authorization": "Basic " + KEY}, {"Authorization": "Bearer "},
                                     {"Authorization": "Bearer " + KEY[:-1]}], ids=repr)
def test_api_key_raw_401(key_server, headers):
    for path, req in (("/v1/embeddings", {"input": "x"}), ("/embeddings", {"input": "x"}),
                      ("/tokenize", {"content": "x"}), ("/v1/rerank", {"query": "q", "documents": ["d"]})):
        st, hd, body = key_server.post(path, req, headers=headers)
        check_error(st, hd, body, 401, "invalid_api_key")
    st, hd, body = key_server.request("GET", "/v1/models", headers=headers)
    check_error(st, hd, body, 401, "invalid_api_key")


def test_api_key_not_needed_for_health_and_metrics(key_server):
    st, hd, body = key_server.request("GET", "/health")
    assert st == 200 and json.loads(body) == {"status": "ok"}
    st, hd, body = key_server.request("GET", "/metrics")
    assert st == 200 and b"ggufembed_requests_total" in body


def test_api_key_raw_ok(key_server):
    st, hd, body = key_server.post("/v1/embeddings", {"input": "x"}, headers={"Authorization": "Bearer " + KEY})
    assert st == 200, body[:300]


def test_api_key_from_environment(start_server):
    s = start_server(["-m", "%s=%s" % (TINY_NAME, TINY_EMBED)], env={"GGUFEMBED_API_KEY": "env-key"})
    st, hd, body = s.post("/v1/embeddings", {"input": "x"})
    check_error(st, hd, body, 401, "invalid_api_key")
    st, hd, body = s.post("/v1/embeddings", {"input": "x"}, headers={"Authorization": "Bearer env-key"})
    assert st == 200, body[:300]
    r = client_for(s, "env-key").embeddings.create(model=TINY_NAME, input="x")
    assert len(r.data) == 1
