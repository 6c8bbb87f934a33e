"""Index: exact top-k search over stored vectors (the C library's ggufembed_index).

    import ggufembed
    m = ggufembed.Embedder("embeddinggemma-300m-dense-Q8_0.gguf")
    ix = ggufembed.Index(256, type="int8", keep_f32=True)       # the first 256 dimensions
    ix.add(range(len(docs)), m.embed(docs, task="document"))
    ids, scores = ix.search(m.embed("which planet is red?", task="query"), k=5, rescore=4)
    ix.save("docs.geix"); ix = ggufembed.Index.load("docs.geix")

Vectors are stored as f32, int8 (one scale per vector) or binary (sign bits); ids are
uint64 and adding an id again replaces its vector. An Index is not thread-safe: one call
at a time (use a lock, or one Index per thread).
"""
from __future__ import annotations

import ctypes as C
import os
from typing import Any, Iterable, Tuple, Union

import numpy as np

from . import _lib
from .errors import InvalidArgumentError, from_status

_TYPES = {"f32": 0, "int8": 1, "binary": 2}
_METRICS = {"cosine": 0, "dot": 1}


class Index:
    """``Index(dimension, type="f32", metric="cosine", keep_f32=False)``: an empty index
    storing the first ``dimension`` values of each vector added (a Matryoshka prefix,
    renormalized for cosine). ``type``: "f32", "int8" or "binary"; ``keep_f32``: keep f32
    copies beside int8/binary codes so that ``search(..., rescore=R)`` can re-score."""

    def __init__(self, dimension: int, type: str = "f32", metric: str = "cosine", keep_f32: bool = False):
        self._h = C.c_void_p()
        if type not in _TYPES:
            raise InvalidArgumentError("type must be one of %s, not %r" % (", ".join(_TYPES), type))
        if metric not in _METRICS:
            raise InvalidArgumentError("metric must be one of %s, not %r" % (", ".join(_METRICS), metric))
        if not isinstance(dimension, (int, np.integer)) or isinstance(dimension, bool):
            raise InvalidArgumentError("dimension must be an int")
        p = _lib.IndexParams()
        _lib.index_params_init(C.byref(p))
        p.dimension, p.type, p.metric, p.keep_f32 = int(dimension), _TYPES[type], _METRICS[metric], int(bool(keep_f32))
        err = C.create_string_buffer(256)
        st = _lib.index_new(C.byref(p), C.byref(self._h), err, len(err))
        if st:
            raise from_status(st, err.value.decode(errors="replace"))

    @classmethod
    def load(cls, path_or_bytes: Union[str, "os.PathLike[str]", bytes]) -> "Index":
        """An index from a file saved by ``save`` (or its bytes); a file that is not a valid
        index raises ``FormatError`` naming the problem."""
        if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
            data = bytes(path_or_bytes)
        elif isinstance(path_or_bytes, (str, os.PathLike)):
            with open(path_or_bytes, "rb") as f:
                data = f.read()
        else:
            raise InvalidArgumentError("load takes a path or bytes, not %s" % type(path_or_bytes).__name__)
        self = cls.__new__(cls)
        self._h = C.c_void_p()
        err = C.create_string_buffer(256)
        st = _lib.index_load(C.cast(C.c_char_p(data), C.c_void_p), len(data), C.byref(self._h), err, len(err))
        if st:
            raise from_status(st, err.value.decode(errors="replace"))
        return self

    # ---------------------------------------------------------------- lifetime
    def close(self) -> None:
        """Frees the index (idempotent)."""
        if getattr(self, "_h", None):
            _lib.index_free(self._h)
            self._h = C.c_void_p()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _handle(self) -> C.c_void_p:
        if not self._h:
            raise InvalidArgumentError("this Index is closed")
        return self._h

    def _raise(self, st: int) -> None:
        if st:
            raise from_status(st, _lib.index_last_error(self._h).decode(errors="replace"))

    # -------------------------------------------------------------------- info
    def _params(self) -> "_lib.IndexParams":
        p = _lib.IndexParams()
        _lib.index_params_init(C.byref(p))
        _lib.index_get_info(self._handle(), C.byref(p))
        return p

    def __len__(self) -> int:
        return int(_lib.index_count(self._handle()))

    @property
    def dimension(self) -> int:
        return int(self._params().dimension)

    @property
    def type(self) -> str:
        t = self._params().type
        return next(k for k, v in _TYPES.items() if v == t)

    @property
    def metric(self) -> str:
        t = self._params().metric
        return next(k for k, v in _METRICS.items() if v == t)

    # ---------------------------------------------------------------- changes
    @staticmethod
    def _ids(ids: Iterable[int]) -> "np.ndarray[Any, Any]":
        try:
            a = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids)
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError("ids must be non-negative integers (%s)" % e) from None
        if a.size == 0:
            return np.zeros(0, dtype=np.uint64)
        if a.ndim != 1 or a.dtype.kind not in "iu" or (a.dtype.kind == "i" and (a < 0).any()):
            raise InvalidArgumentError("ids must be a 1-D sequence of non-negative integers")
        return np.ascontiguousarray(a, dtype=np.uint64)

    def add(self, ids: Iterable[int], vectors: Any) -> None:
        """Adds vectors (n, d) with d >= dimension, float32 (other float types are
        converted); an id already present is replaced. All or nothing: a NaN, an infinity
        or (cosine) a zero vector raises ``InvalidArgumentError`` and adds none."""
        h = self._handle()
        v = np.asarray(vectors)
        if v.ndim == 1:
            v = v[None, :]
        if v.ndim != 2 or v.dtype.kind not in "fiu":
            raise InvalidArgumentError("vectors must be a 2-D array of numbers, got shape %s" % (v.shape,))
        v = np.ascontiguousarray(v, dtype=np.float32)
        a = self._ids(ids)
        if len(a) != v.shape[0]:
            raise InvalidArgumentError("%d ids for %d vectors" % (len(a), v.shape[0]))
        if not len(a):
            return
        self._raise(_lib.index_add(h, a.ctypes.data_as(_lib.u64_p), v.ctypes.data_as(_lib.f32_p), len(a), v.shape[1]))

    def remove(self, ids: Iterable[int]) -> int:
        """Removes the ids present (absent ones are ignored); returns how many were removed."""
        h = self._handle()
        a = self._ids(ids)
        n = C.c_size_t()
        self._raise(_lib.index_remove(h, a.ctypes.data_as(_lib.u64_p), len(a), C.byref(n)))
        return int(n.value)

    # ----------------------------------------------------------------- search
    def search(self, query: Any, k: int = 10, rescore: int = 0
               ) -> Tuple["np.ndarray[Any, Any]", "np.ndarray[Any, Any]"]:
        """The k best matches of a query (d,) -> (ids uint64 (k',), scores float32 (k',)),
        best first (k' = min(k, len(self))); a batch of queries (q, d) -> arrays (q, k').
        ``rescore=R`` scores k*R candidates by their codes, then re-scores them in f32."""
        h = self._handle()
        q = np.asarray(query)
        single = q.ndim == 1
        if single:
            q = q[None, :]
        if q.ndim != 2 or q.dtype.kind not in "fiu":
            raise InvalidArgumentError("query must be a 1-D or 2-D array of numbers")
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise InvalidArgumentError("k must be a positive int")
        if not isinstance(rescore, (int, np.integer)) or rescore < 0:
            raise InvalidArgumentError("rescore must be a non-negative int")
        q = np.ascontiguousarray(q, dtype=np.float32)
        kk = min(int(k), len(self))
        ids = np.zeros((q.shape[0], kk), dtype=np.uint64)
        scores = np.zeros((q.shape[0], kk), dtype=np.float32)
        o = _lib.SearchOptions()
        _lib.search_options_init(C.byref(o))
        o.rescore = int(rescore)
        n = C.c_size_t()
        for i in range(q.shape[0]):
            self._raise(_lib.index_search(h, q[i].ctypes.data_as(_lib.f32_p), q.shape[1], kk, C.byref(o),
                                          ids[i].ctypes.data_as(_lib.u64_p), scores[i].ctypes.data_as(_lib.f32_p),
                                          C.byref(n)))
        return (ids[0], scores[0]) if single else (ids, scores)

    # ----------------------------------------------------------- save / load
    def save(self, path: Union[str, "os.PathLike[str]", None] = None) -> bytes:
        """The index as file bytes (version-1 format, core/index_format.h); written to
        ``path`` too when given (through a temporary file, renamed into place)."""
        h = self._handle()
        size = C.c_size_t()
        _lib.index_save(h, None, 0, C.byref(size))
        buf = C.create_string_buffer(size.value)
        self._raise(_lib.index_save(h, buf, size.value, C.byref(size)))
        data = buf.raw[:size.value]
        if path is not None:
            tmp = os.fspath(path) + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        return data
