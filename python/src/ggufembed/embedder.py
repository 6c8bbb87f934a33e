"""Embedder: a GGUF embedding model, numpy arrays out (sentence-transformers' encode)."""
from __future__ import annotations

import ctypes as C
import os
import threading
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

from . import _lib
from .errors import Error, InvalidArgumentError, from_status

TextOrTexts = Union[str, Sequence[str]]


def _raise(st: int, message: str) -> None:
    if st:
        raise from_status(st, message or _lib.status_string(st).decode())


class Embedder:
    """A model opened once and shared; each Python thread embeds with its own C context.

    ``Embedder(path_or_bytes, threads=None, repack=None)``: a GGUF file path, or the file's
    bytes (used in place and kept referenced; a bytearray or memoryview is copied once). ``threads``: worker threads per call (None: one per
    core). ``repack``: copy the weights once into the CPU kernels' fastest layout (default,
    like the CLI) or use them in place (False: zero-copy from the page cache).
    """

    def __init__(self, path_or_bytes: Union[str, "os.PathLike[str]", bytes, bytearray, memoryview],
                 threads: Optional[int] = None, repack: Optional[bool] = None):
        self._model = C.c_void_p()
        self._local = threading.local()
        self._contexts: List[C.c_void_p] = []
        self._lock = threading.Lock()
        self._buffer: Any = None
        if threads is not None and (not isinstance(threads, int) or isinstance(threads, bool) or not 0 <= threads <= 256):
            raise InvalidArgumentError("threads must be an int from 0 to 256 (0 or None: one per core)")
        self._threads = threads or 0
        flags = _lib.OPEN_REPACK if repack is None or repack else 0
        err = C.create_string_buffer(512)
        if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
            # The library keeps views into the buffer (no copy) for the model's lifetime, and
            # the buffer must not change: bytes are used as they are (immutable, kept
            # referenced here); a bytearray or memoryview is copied once into bytes.
            self._buffer = path_or_bytes if isinstance(path_or_bytes, bytes) else bytes(path_or_bytes)
            st = _lib.model_open_memory_v2(C.cast(C.c_char_p(self._buffer), C.c_void_p), len(self._buffer), flags,
                                           C.byref(self._model),
                                           err, len(err))
        elif isinstance(path_or_bytes, (str, os.PathLike)):
            st = _lib.model_open_file_v2(os.fsencode(os.fspath(path_or_bytes)), flags, C.byref(self._model), err,
                                         len(err))
        else:
            raise InvalidArgumentError("path_or_bytes must be a path (str, os.PathLike) or bytes, not %s"
                                       % type(path_or_bytes).__name__)
        _raise(st, err.value.decode(errors="replace"))
        self._info = _lib.ModelInfo()
        _raise(_lib.model_get_info(self._model, C.byref(self._info), C.sizeof(self._info)), "model info")

    @classmethod
    def from_pretrained(cls, repo_or_url: str, filename: Optional[str] = None, *, sha256: Optional[str] = None,
                        revision: str = "main", cache_dir: Optional[str] = None, show_progress: bool = False,
                        threads: Optional[int] = None, repack: Optional[bool] = None) -> "Embedder":
        """Downloads the file once (``ggufembed.download``: Hugging Face repository + file
        name, or a URL; verified by ``sha256``; cached) and opens it."""
        from .hub import download
        path = download(repo_or_url, filename, sha256=sha256, revision=revision, cache_dir=cache_dir,
                        show_progress=show_progress)
        return cls(path, threads=threads, repack=repack)

    # ---------------------------------------------------------------- lifetime
    def close(self) -> None:
        """Frees the model and every context (idempotent)."""
        with self._lock:
            for ctx in self._contexts:
                _lib.context_free(ctx)
            self._contexts.clear()
            if self._model:
                _lib.model_free(self._model)
                self._model = C.c_void_p()
            self._local = threading.local()

    def __enter__(self) -> "Embedder":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _ctx(self) -> C.c_void_p:
        if not self._model:
            raise InvalidArgumentError("this Embedder is closed")
        ctx = getattr(self._local, "ctx", None)
        if ctx is None:
            p = _lib.ContextParams()
            _lib.context_params_init(C.byref(p))
            p.n_threads = self._threads
            ctx = C.c_void_p()
            _raise(_lib.context_new(self._model, C.byref(p), C.byref(ctx)), "cannot create a context")
            with self._lock:
                self._contexts.append(ctx)
            self._local.ctx = ctx
        return ctx

    # ------------------------------------------------------------------- info
    @property
    def info(self) -> Dict[str, Any]:
        """What the model is: architecture, dimension, context length, pooling, tasks, ..."""
        i = self._info

        def s(b: Optional[bytes]) -> str:
            return b.decode() if b else ""
        return {"architecture": s(i.architecture), "name": s(i.name), "dimension": i.dimension,
                "context_length": i.context_length, "vocab_size": i.vocab_size, "n_layers": i.n_layers,
                "pooling": s(i.pooling), "tokenizer": s(i.tokenizer), "prompts": s(i.prompts),
                "tasks": [t.strip() for t in s(i.tasks).split(",") if t.strip()], "reranker": bool(i.reranker),
                "weight_types": s(i.weight_types), "file_size": i.file_size, "warning": s(i.warning)}

    @property
    def dimension(self) -> int:
        return int(self._info.dimension)

    # ------------------------------------------------------------------ embed
    def _options(self, task: Optional[str], title: Optional[str], dimensions: Optional[int], normalize: bool,
                 truncate: bool, prefix: Optional[str], instruction: Optional[str], keep: List[bytes]) -> _lib.EmbedOptions:
        o = _lib.EmbedOptions()
        _lib.embed_options_init(C.byref(o))
        if task is not None:
            t = C.c_int()
            if _lib.task_from_name(str(task).encode(), C.byref(t)):
                raise InvalidArgumentError("unknown task %r (this model has: %s)" % (task, ", ".join(self.info["tasks"])))
            o.task = t.value
        if dimensions is not None:
            if not isinstance(dimensions, (int, np.integer)) or not 1 <= dimensions <= self.dimension:
                raise InvalidArgumentError("dimensions must be an int from 1 to %d" % self.dimension)
            o.dimensions = int(dimensions)
        o.normalize = 1 if normalize else 0
        o.truncation = 1 if truncate else 0
        for name, v in (("title", title), ("prefix", prefix), ("instruction", instruction)):
            if v is not None:
                if not isinstance(v, str):
                    raise InvalidArgumentError("%s must be a str" % name)
                keep.append(v.encode())
                setattr(o, name, keep[-1])
        return o

    def embed(self, texts: TextOrTexts, task: Optional[str] = None, title: Optional[str] = None,
              dimensions: Optional[int] = None, normalize: bool = True, truncate: bool = False,
              batch_size: int = 256, show_progress: bool = False, prefix: Optional[str] = None,
              instruction: Optional[str] = None) -> np.ndarray:
        """Embeds one text -> float32 array (d,), or a list of texts -> (n, d). Texts of one
        call are packed into shared forward passes; ``batch_size`` texts go to the library
        at a time (the progress bar, when ``show_progress``, moves per batch)."""
        single = isinstance(texts, str)
        if not single and (isinstance(texts, (bytes, bytearray)) or not hasattr(texts, "__iter__")):
            raise InvalidArgumentError("texts must be a str or a sequence of str, not %s" % type(texts).__name__)
        items: List[Any] = [texts] if single else list(texts)
        for k, t in enumerate(items):
            if not isinstance(t, str):
                raise InvalidArgumentError("texts[%d] is %s, not str" % (k, type(t).__name__))
        if not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidArgumentError("batch_size must be a positive int")
        keep: List[bytes] = []
        o = self._options(task, title, dimensions, normalize, truncate, prefix, instruction, keep)
        ctx = self._ctx()
        dim = _lib.output_dimension(self._model, C.byref(o))
        out = np.empty((len(items), dim), dtype=np.float32)
        bar: Any = None
        if show_progress and len(items) > batch_size:
            try:
                from tqdm.auto import tqdm  # type: ignore[import-untyped]
                bar = tqdm(total=len(items), unit="text")
            except ImportError:
                bar = None
        try:
            for first in range(0, len(items), batch_size):
                chunk = [t.encode("utf-8", "surrogatepass") for t in items[first:first + batch_size]]
                n = len(chunk)
                arr = (C.c_char_p * n)(*chunk)
                lens = (C.c_size_t * n)(*[len(b) for b in chunk])
                view = out[first:first + n]
                st = _lib.embed_batch(ctx, arr, lens, n, C.byref(o), view.ctypes.data_as(C.POINTER(C.c_float)), n * dim)
                if st:
                    msg = _lib.context_last_error(ctx).decode(errors="replace")
                    _raise(st, "texts[%d:%d]: %s" % (first, first + n, msg) if len(items) > n else msg)
                if bar is not None:
                    bar.update(n)
        finally:
            if bar is not None:
                bar.close()
        return out[0] if single else out

    encode = embed  # sentence-transformers' name

    def tokenize(self, text: str, special: bool = True) -> List[int]:
        """Token ids as the model sees the text (BOS/EOS added, special tokens parsed, like
        llama-tokenize); ``special=False``: neither."""
        if not isinstance(text, str):
            raise InvalidArgumentError("text must be a str, not %s" % type(text).__name__)
        ctx = self._ctx()
        b = text.encode("utf-8", "surrogatepass")
        n = C.c_size_t()
        flags = _lib.TOKENIZE_DEFAULT if special else 0
        st = _lib.tokenize(ctx, b, len(b), flags, None, 0, C.byref(n))
        if st not in (0, 7):
            _raise(st, _lib.context_last_error(ctx).decode(errors="replace"))
        ids = (C.c_int32 * max(1, n.value))()
        _raise(_lib.tokenize(ctx, b, len(b), flags, ids, n.value, C.byref(n)), _lib.context_last_error(ctx).decode())
        return list(ids[:n.value])

    def rerank(self, query: str, documents: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Relevance of each document to the query (reranker models: ``info["reranker"]``),
        float32 (n,), in the documents' order. ``batch_size`` pairs go to the library at a time."""
        if not isinstance(query, str):
            raise InvalidArgumentError("query must be a str, not %s" % type(query).__name__)
        if isinstance(documents, (str, bytes)) or not hasattr(documents, "__iter__"):
            raise InvalidArgumentError("documents must be a sequence of str")
        docs = list(documents)
        for k, d in enumerate(docs):
            if not isinstance(d, str):
                raise InvalidArgumentError("documents[%d] is %s, not str" % (k, type(d).__name__))
        if not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidArgumentError("batch_size must be a positive int")
        ctx = self._ctx()
        q = query.encode("utf-8", "surrogatepass")
        out = np.empty(len(docs), dtype=np.float32)
        for first in range(0, len(docs), batch_size):
            chunk = [d.encode("utf-8", "surrogatepass") for d in docs[first:first + batch_size]]
            n = len(chunk)
            arr = (C.c_char_p * n)(*chunk)
            lens = (C.c_size_t * n)(*[len(d) for d in chunk])
            st = _lib.rerank(ctx, q, len(q), arr, lens, n, out[first:first + n].ctypes.data_as(C.POINTER(C.c_float)))
            _raise(st, _lib.context_last_error(ctx).decode(errors="replace"))
        return out
