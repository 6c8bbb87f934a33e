"""Ray Data: embed a dataset's text column with ``Dataset.map_batches``.

    import ray
    from ggufembed.ray import EmbedBatch
    ds = ray.data.read_parquet("corpus/")
    ds = ds.map_batches(EmbedBatch, fn_constructor_kwargs={"model": "embeddinggemma-300m-dense-Q8_0.gguf",
                        "task": "document"}, concurrency=2, batch_size=64)
    ds.write_parquet("vectors/")

One model per actor, opened zero-copy (``repack=False``): the actors of a node map the same
file, so its pages are in memory once (the page cache), not once per actor. Each actor
embeds with ``threads`` threads (default 1: one actor per core is the usual layout).
"""
from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np

from .embedder import Embedder


class EmbedBatch:
    """A callable class for ``map_batches`` (batch_format "numpy" or "pandas"): reads
    ``column`` (str texts), adds ``output_column`` (float32 vectors, one row per text)."""

    def __init__(self, model: str, column: str = "text", output_column: str = "embedding", threads: int = 1,
                 repack: bool = False, **embed_options: Any):
        self.model = Embedder(model, threads=threads, repack=repack)
        self.column, self.output_column = column, output_column
        self.options = embed_options

    def __call__(self, batch: Any) -> Any:
        texts = batch[self.column]
        texts = [str(t) for t in (texts.tolist() if hasattr(texts, "tolist") else texts)]
        vectors = self.model.embed(texts, **self.options)
        if isinstance(batch, dict):
            out: Dict[str, Any] = dict(batch)
            out[self.output_column] = vectors
            return out
        batch = batch.copy()  # pandas
        batch[self.output_column] = list(vectors)
        return batch


def embed_dataset(ds: Any, model: str, column: str = "text", output_column: str = "embedding",
                  concurrency: Optional[int] = None, batch_size: int = 64, num_cpus: Optional[float] = None,
                  threads: int = 1, repack: bool = False, **embed_options: Any) -> Any:
    """``ds.map_batches(EmbedBatch, ...)`` with settings that work on any cluster size.

    Each actor embeds with ``threads`` threads and reserves ``num_cpus`` CPUs (default:
    ``threads``). ``concurrency`` (default: as many actors as fit) leaves one CPU of the
    cluster free, because Ray Data's read and write tasks need a CPU too: actors that
    reserve every CPU starve them and the job waits forever. On a 1-CPU cluster the single
    actor reserves half of it. The vectors come back in ``output_column`` as float32 rows.
    """
    cpus = 1.0
    if concurrency is None or num_cpus is None:
        import ray
        cpus = float(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]
    if num_cpus is None:
        num_cpus = float(threads) if cpus - 1 >= threads else max(cpus - 1, cpus / 2)
    if concurrency is None:
        concurrency = max(1, int((cpus - 1) // num_cpus)) if cpus > num_cpus else 1
    return ds.map_batches(EmbedBatch, fn_constructor_kwargs=dict(model=model, column=column, output_column=output_column,
                                                                 threads=threads, repack=repack, **embed_options),
                          concurrency=concurrency, num_cpus=num_cpus, batch_size=batch_size, batch_format="numpy")
