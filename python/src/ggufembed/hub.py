"""Model download: a GGUF file from Hugging Face (or any https URL) into a local cache,
checked against its sha256, fetched once.

    path = ggufembed.download("ggml-org/embeddinggemma-300M-GGUF", "embeddinggemma-300M-Q8_0.gguf",
                              sha256="...")
    m = ggufembed.Embedder.from_pretrained("ggml-org/embeddinggemma-300M-GGUF",
                                           "embeddinggemma-300M-Q8_0.gguf", sha256="...")

Where files go: ``cache_dir``, else ``$GGUFEMBED_CACHE``, else ``~/.cache/ggufembed``, under
``hub/<repo>/<revision>/<filename>`` (a URL: ``url/<hash of the URL>/<its file name>``).
A download goes to a temporary file in the same directory and is renamed into place only
once its sha256 matched, so an interrupted or corrupted download never looks cached. A
cached file is trusted when its size and mtime match those recorded after its last
verification (a ``.sha256`` file beside it); otherwise it is hashed again.

``$HF_ENDPOINT`` replaces https://huggingface.co (mirrors, tests) and ``$HF_TOKEN`` is sent
as a bearer token (gated or private repositories), as huggingface_hub does.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Optional

from .errors import FileError, InvalidArgumentError

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SAFE = re.compile(r"^[A-Za-z0-9._-]+$")


class DownloadError(FileError):
    """The file could not be fetched (network, HTTP status) or its sha256 did not match."""


def default_cache_dir() -> str:
    """``$GGUFEMBED_CACHE``, else ``~/.cache/ggufembed`` (shared with the scripts and the CLI's fetch-model.sh)."""
    return os.environ.get("GGUFEMBED_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "ggufembed")


def hf_url(repo: str, filename: str, revision: str = "main") -> str:
    """The download URL of ``filename`` in the Hugging Face repository ``repo`` ("owner/name")."""
    endpoint = (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")
    return "%s/%s/resolve/%s/%s" % (endpoint, repo, urllib.parse.quote(revision, safe=""),
                                    urllib.parse.quote(filename))


def _check_parts(repo: str, filename: str, revision: str) -> None:
    parts = repo.split("/")
    if len(parts) != 2 or not all(_SAFE.match(p) and p not in (".", "..") for p in parts):
        raise InvalidArgumentError("repo must be 'owner/name' (letters, digits, '.', '_', '-'), got %r" % repo)
    fparts = filename.split("/")
    if not all(p and _SAFE.match(p) and p not in (".", "..") for p in fparts):
        raise InvalidArgumentError("filename must be a relative path inside the repository, got %r" % filename)
    if not _SAFE.match(revision) or revision in (".", ".."):
        raise InvalidArgumentError("revision must be a branch, tag or commit name, got %r" % revision)


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _stamp(path: str) -> str:
    st = os.stat(path)
    return "%d %d" % (st.st_size, st.st_mtime_ns)


def _cached_ok(path: str, sha256: Optional[str]) -> bool:
    """The cached file exists and is the one asked for (re-hashed only when it changed)."""
    if not os.path.isfile(path):
        return False
    record = path + ".sha256"
    try:
        with open(record) as f:
            digest, stamp = f.read().split("\n")[:2]
    except (OSError, ValueError):
        digest, stamp = "", ""
    if stamp != _stamp(path):
        digest = _sha256_file(path)
        _write_record(path, digest)
    return sha256 is None or digest == sha256


def _write_record(path: str, digest: str) -> None:
    tmp = path + ".sha256.tmp"
    with open(tmp, "w") as f:
        f.write("%s\n%s\n" % (digest, _stamp(path)))
    os.replace(tmp, path + ".sha256")


def _fetch(url: str, dest: str, sha256: Optional[str], show_progress: bool, timeout: float) -> None:
    headers = {"User-Agent": "ggufembed-python"}
    token = os.environ.get("HF_TOKEN")
    if token and urllib.parse.urlparse(url).netloc == urllib.parse.urlparse(hf_url("a/b", "c")).netloc:
        headers["Authorization"] = "Bearer " + token
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=".download-", suffix=".part", dir=os.path.dirname(dest))
    tmp: Optional[str] = tmp_path
    bar: Any = None
    try:
        try:
            resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
        except urllib.error.HTTPError as e:
            raise DownloadError("%s: HTTP %d %s" % (url, e.code, e.reason)) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            reason = getattr(e, "reason", e)
            raise DownloadError("%s: %s" % (url, reason)) from None
        total = int(resp.headers.get("Content-Length") or 0) or None
        if show_progress:
            try:
                from tqdm.auto import tqdm  # type: ignore[import-untyped]
                bar = tqdm(total=total, unit="B", unit_scale=True, desc=os.path.basename(dest))
            except ImportError:
                bar = None
        h = hashlib.sha256()
        got = 0
        with resp, os.fdopen(fd, "wb") as out:
            fd = -1
            while True:
                try:
                    block = resp.read(1 << 20)
                except (OSError, http.client.HTTPException) as e:
                    raise DownloadError("%s: connection lost after %d bytes (%s)" % (url, got, e)) from None
                if not block:
                    break
                out.write(block)
                h.update(block)
                got += len(block)
                if bar is not None:
                    bar.update(len(block))
        if total is not None and got != total:
            raise DownloadError("%s: %d of %d bytes received" % (url, got, total))
        digest = h.hexdigest()
        if sha256 is not None and digest != sha256:
            raise DownloadError("%s: sha256 is %s, expected %s (file not kept)" % (url, digest, sha256))
        os.replace(tmp_path, dest)
        tmp = None
        _write_record(dest, digest)
    finally:
        if bar is not None:
            bar.close()
        if fd >= 0:
            os.close(fd)
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def download(repo_or_url: str, filename: Optional[str] = None, *, sha256: Optional[str] = None,
             revision: str = "main", cache_dir: Optional[str] = None, show_progress: bool = False,
             timeout: float = 60.0) -> str:
    """Fetches a model file once and returns its local path.

    ``download("owner/name", "file.gguf", sha256=...)``: a Hugging Face repository file at
    ``revision``; ``download("https://.../file.gguf", sha256=...)``: any URL. With
    ``sha256`` (64 lowercase hex digits; recommended) the file is verified before it is kept
    and a cached file with another digest is fetched again; without it the first download
    is kept as is. Raises ``DownloadError`` (a ``FileError``) naming the URL and the problem.
    """
    if sha256 is not None:
        sha256 = sha256.lower()
        if not _HEX64.match(sha256):
            raise InvalidArgumentError("sha256 must be 64 hex digits, got %r" % sha256)
    root = os.path.abspath(cache_dir or default_cache_dir())
    if re.match(r"^https?://", repo_or_url):
        if filename is not None:
            raise InvalidArgumentError("filename goes with a repository name, not with a URL")
        url = repo_or_url
        base = os.path.basename(urllib.parse.urlparse(url).path) or "model.gguf"
        if not _SAFE.match(base):
            base = "model.gguf"
        key = hashlib.sha256(url.encode()).hexdigest()[:16]
        dest = os.path.join(root, "url", key, base)
    else:
        if filename is None:
            raise InvalidArgumentError("download(repo, filename): the file name in the repository is missing")
        _check_parts(repo_or_url, filename, revision)
        url = hf_url(repo_or_url, filename, revision)
        dest = os.path.join(root, "hub", *repo_or_url.split("/"), revision, *filename.split("/"))
    if not _cached_ok(dest, sha256):
        _fetch(url, dest, sha256, show_progress, timeout)
    return dest
