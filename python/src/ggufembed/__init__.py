"""ggufembed: text embeddings with GGUF models (EmbeddingGemma, bert, nomic, qwen3, rerankers)
through the portable C runtime, numpy arrays out.

    from ggufembed import Embedder
    with Embedder("embeddinggemma-300m-dense-Q8_0.gguf") as m:
        v = m.embed(["Mars is red.", "Venus is hot."], task="document")   # (2, 768) float32

    m = Embedder.from_pretrained("owner/repo", "model-Q8_0.gguf", sha256="...")  # downloaded once, cached
"""
from . import _lib
from .embedder import Embedder
from .errors import (CancelledError, Error, FileError, FormatError, InvalidArgumentError, OutOfMemoryError,
                     TooLongError, UnsupportedError)
from .hub import DownloadError, default_cache_dir, download, hf_url

__version__ = _lib.version_string().decode()
__all__ = ["Embedder", "Error", "InvalidArgumentError", "FileError", "OutOfMemoryError", "FormatError",
           "UnsupportedError", "TooLongError", "CancelledError", "DownloadError",
           "download", "hf_url", "default_cache_dir", "__version__", "kernels"]


def kernels() -> str:
    """The kernel table chosen for this CPU ("avx512-vnni", "avx2", "scalar")."""
    return str(_lib.kernels().decode())
