"""examples/spark_parquet.py on a local Spark (pyspark, local[2], the machine's Java 17):
the vectors equal the single-process ones bit for bit."""
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import ggufembed

MODEL = os.environ.get("GGUFEMBED_MODEL_PATH", "")
EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "spark_parquet.py")


def test_spark_example_equals_single_process(tmp_path):
    texts = ["row %d %s" % (i, "spark text " * (i % 5)) for i in range(30)]
    pq.write_table(pa.table({"id": list(range(30)), "text": texts}), tmp_path / "corpus.parquet")
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    run = subprocess.run([sys.executable, EXAMPLE, MODEL, str(tmp_path / "corpus.parquet"), str(tmp_path / "out"),
                          "--master", "local[2]"], capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    table = pq.read_table(tmp_path / "out").to_pandas().sort_values("id")
    got = np.stack([np.asarray(v, dtype=np.float32) for v in table["embedding"]])
    with ggufembed.Embedder(MODEL) as m:
        ref = m.embed(texts, task="document")
    assert list(table["id"]) == list(range(30))
    assert np.array_equal(got.view(np.uint32), ref.view(np.uint32))
