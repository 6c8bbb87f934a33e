"""ggufembed.download / Embedder.from_pretrained against a real HTTP server on loopback
(http.server, serving the committed seed models under Hugging Face's /resolve/ paths, with
a redirect as the Hub does): verified, cached, refused on a wrong sha256 or HTTP error."""
import hashlib
import http.server
import os
import threading

import numpy as np
import pytest

import ggufembed

SEEDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fuzz", "seeds", "model")
SEED = os.path.join(SEEDS, "gemma_embedding_spm.bin")


class Hub(http.server.BaseHTTPRequestHandler):
    files: dict = {}
    hits: list = []

    def do_GET(self):
        Hub.hits.append(self.path)
        if self.path.startswith("/owner/repo/resolve/main/"):  # the Hub redirects to its CDN
            self.send_response(302)
            self.send_header("Location", "/cdn/" + self.path.rsplit("/", 1)[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        name = self.path.rsplit("/", 1)[1]
        body = Hub.files.get(name)
        if body is None or not self.path.startswith("/cdn/"):
            self.send_error(404, "Entry not found")
            return
        if name == "short.gguf":  # promises more than it sends
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) + 100))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


@pytest.fixture(scope="module")
def hub():
    with open(SEED, "rb") as f:
        data = f.read()
    Hub.files = {"tiny.gguf": data, "short.gguf": data}
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    old = os.environ.get("HF_ENDPOINT")
    os.environ["HF_ENDPOINT"] = "http://127.0.0.1:%d" % srv.server_address[1]
    yield data
    srv.shutdown()
    if old is None:
        os.environ.pop("HF_ENDPOINT", None)
    else:
        os.environ["HF_ENDPOINT"] = old


def test_download_verifies_and_caches(hub, tmp_path):
    sha = hashlib.sha256(hub).hexdigest()
    Hub.hits.clear()
    p = ggufembed.download("owner/repo", "tiny.gguf", sha256=sha, cache_dir=str(tmp_path))
    assert p == str(tmp_path / "hub" / "owner" / "repo" / "main" / "tiny.gguf")
    assert open(p, "rb").read() == hub
    assert Hub.hits == ["/owner/repo/resolve/main/tiny.gguf", "/cdn/tiny.gguf"]
    assert ggufembed.download("owner/repo", "tiny.gguf", sha256=sha, cache_dir=str(tmp_path)) == p
    assert len(Hub.hits) == 2, "the second call is served from the cache"
    # a cached file that changed is hashed again and fetched again
    with open(p, "r+b") as f:
        f.write(b"XXXX")
    ggufembed.download("owner/repo", "tiny.gguf", sha256=sha, cache_dir=str(tmp_path))
    assert len(Hub.hits) == 4 and open(p, "rb").read() == hub
    # a URL works the same way
    url = os.environ["HF_ENDPOINT"] + "/cdn/tiny.gguf"
    q = ggufembed.download(url, sha256=sha, cache_dir=str(tmp_path))
    assert q.endswith("/tiny.gguf") and open(q, "rb").read() == hub


def test_from_pretrained_embeds_like_the_file(hub, tmp_path):
    sha = hashlib.sha256(hub).hexdigest()
    with ggufembed.Embedder.from_pretrained("owner/repo", "tiny.gguf", sha256=sha, cache_dir=str(tmp_path)) as m, \
            ggufembed.Embedder(SEED) as ref:
        assert np.array_equal(m.embed(["a b c", "hello"]), ref.embed(["a b c", "hello"]))


def test_download_refusals(hub, tmp_path):
    with pytest.raises(ggufembed.DownloadError, match="sha256 is .* expected 0{64}"):
        ggufembed.download("owner/repo", "tiny.gguf", sha256="0" * 64, cache_dir=str(tmp_path))
    assert not any(f for _, _, fs in os.walk(tmp_path) for f in fs), "nothing kept, no partial file"
    with pytest.raises(ggufembed.DownloadError, match="HTTP 404") as e:
        ggufembed.download("owner/repo", "missing.gguf", cache_dir=str(tmp_path))
    assert isinstance(e.value, ggufembed.FileError) and "\n" not in str(e.value) and "missing.gguf" in str(e.value)
    with pytest.raises(ggufembed.DownloadError, match="bytes received|connection lost"):
        ggufembed.download("owner/repo", "short.gguf", cache_dir=str(tmp_path), timeout=5)
    assert not any(f for _, _, fs in os.walk(tmp_path) for f in fs)
    with pytest.raises(ggufembed.DownloadError, match="127.0.0.1:1"):
        ggufembed.download("http://127.0.0.1:1/x.gguf", cache_dir=str(tmp_path), timeout=5)
    for bad in (dict(repo_or_url="../x", filename="a.gguf"), dict(repo_or_url="a/b", filename="../a.gguf"),
                dict(repo_or_url="a/b", filename=None), dict(repo_or_url="a/b", filename="a.gguf", sha256="xyz"),
                dict(repo_or_url="a/b", filename="a.gguf", revision="../main")):
        with pytest.raises(ggufembed.InvalidArgumentError):
            ggufembed.download(cache_dir=str(tmp_path), **bad)
