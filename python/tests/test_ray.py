"""Ray Data on a local cluster (ray.init(num_cpus=2), loopback): the vectors of a Parquet
corpus embedded by two actors equal the single-process ones bit for bit."""
import os

import numpy as np

import ray
import pyarrow as pa
import pyarrow.parquet as pq

import ggufembed
from ggufembed.ray import embed_dataset

MODEL = os.environ.get("GGUFEMBED_MODEL_PATH", "")


def test_ray_parquet_equals_single_process(tmp_path):
    texts = ["text %d: %s" % (i, "the quick brown fox " * (1 + i % 5)) for i in range(40)]
    pq.write_table(pa.table({"id": list(range(40)), "text": texts}), tmp_path / "corpus.parquet")
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True)
    try:
        ds = ray.data.read_parquet(str(tmp_path / "corpus.parquet"), override_num_blocks=4)  # work for both actors
        # two actors of half a CPU each: the read and write tasks need the other CPU
        embed_dataset(ds, MODEL, concurrency=2, num_cpus=0.5, batch_size=8, task="document").write_parquet(str(tmp_path / "out"))
    finally:
        ray.shutdown()
    table = pq.read_table(tmp_path / "out").to_pandas().sort_values("id")
    got = np.stack([np.asarray(v, dtype=np.float32) for v in table["embedding"]])
    assert list(table["id"]) == list(range(40)), "every row once"
    with ggufembed.Embedder(MODEL) as m:
        ref = m.embed(texts, task="document")
    assert got.shape == ref.shape and np.array_equal(got.view(np.uint32), ref.view(np.uint32))
